/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of the bpf handler: the caller's attr (copied once by
 * bpf.c) → what the call asks and whether it may be emulated; the
 * instruction scan; the rules for callers, cgroup subtrees and program
 * ownership. No system calls, no state; covered by tests/unit/test_bpf.c.
 *
 * Offsets are those of the kernel's union bpf_attr (a stable ABI): the
 * build's <linux/bpf.h> may predate the fields of newer kernels, so the
 * layout is spelled out here and checked against the header where it can be.
 */
#include <linux/audit.h>
#include <linux/capability.h>
#include <string.h>

#include "daemon/macro.h"
#include "handlers/bpf.h"
#include "handlers/cgroup.h"

/* BPF_PROG_LOAD */
#define LOAD_PROG_TYPE 0u
#define LOAD_INSN_CNT 4u
#define LOAD_INSNS 8u
#define LOAD_LICENSE 16u
#define LOAD_LOG_LEVEL 24u
#define LOAD_LOG_SIZE 28u
#define LOAD_LOG_BUF 32u
#define LOAD_KERN_VERSION 40u
#define LOAD_PROG_FLAGS 44u
#define LOAD_PROG_NAME 48u
#define LOAD_PROG_IFINDEX 64u
#define LOAD_EXPECTED_ATTACH_TYPE 68u
/* prog_btf_fd ... core_relo_rec_size: BTF, func/line info, attach targets, fd_array */
#define LOAD_REFS 72u
/* prog_token_fd, fd_array_cnt, signature, keyring_id, and whatever comes next */
#define LOAD_KNOWN_END 144u

/* BPF_PROG_ATTACH, BPF_PROG_DETACH */
#define ATTACH_TARGET_FD 0u
#define ATTACH_BPF_FD 4u
#define ATTACH_TYPE 8u
#define ATTACH_FLAGS 12u
#define ATTACH_REPLACE_FD 16u
#define ATTACH_KNOWN_END 20u /* relative_fd/id and expected_revision: multi-prog API */

/* BPF_PROG_QUERY */
#define QUERY_TARGET_FD 0u
#define QUERY_ATTACH_TYPE 4u
#define QUERY_FLAGS 8u
#define QUERY_PROG_IDS 16u
#define QUERY_PROG_CNT 24u
#define QUERY_PROG_ATTACH_FLAGS 32u
#define QUERY_LINK_IDS 40u
#define QUERY_LINK_ATTACH_FLAGS 48u
#define QUERY_END 64u

/* BPF_LINK_CREATE */
#define LINK_PROG_FD 0u
#define LINK_TARGET_FD 4u
#define LINK_ATTACH_TYPE 8u
#define LINK_FLAGS 12u
#define LINK_KNOWN_END 16u /* the per-type union: cgroups use only relative_fd and revision */

_Static_assert(offsetof(union bpf_attr, expected_attach_type) == LOAD_EXPECTED_ATTACH_TYPE,
	       "union bpf_attr layout");
_Static_assert(offsetof(union bpf_attr, core_relo_rec_size) + 4 == BPF_LOAD_LOG_TRUE_SIZE_OFF,
	       "union bpf_attr layout");
_Static_assert(offsetof(union bpf_attr, replace_bpf_fd) == ATTACH_REPLACE_FD,
	       "union bpf_attr layout");
_Static_assert(offsetof(union bpf_attr, query.prog_cnt) == QUERY_PROG_CNT,
	       "union bpf_attr layout");
_Static_assert(offsetof(union bpf_attr, link_create.flags) == LINK_FLAGS,
	       "union bpf_attr layout");

/* BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS | BPF_LOG_FIXED */
#define LOG_LEVEL_MASK 15u
#define ATTACH_FLAGS_KNOWN (BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI | BPF_F_REPLACE)

static uint32_t get_u32(const struct bpf_attr_copy *a, unsigned off)
{
	uint32_t v;

	memcpy(&v, a->bytes + off, sizeof(v));
	return v;
}

static uint64_t get_u64(const struct bpf_attr_copy *a, unsigned off)
{
	uint64_t v;

	memcpy(&v, a->bytes + off, sizeof(v));
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Is [from, to) of the attr all zero? */
static bool zero_range(const struct bpf_attr_copy *a, unsigned from, unsigned to)
{
	return all_zero(a->bytes + from, to - from);
}

int bpf_attr_take(const uint8_t *bytes, size_t n, uint32_t size, struct bpf_attr_copy *ret)
{
	if (size > BPF_ATTR_SIZE_MAX)
		return -E2BIG;
	if (n > BPF_ATTR_SIZE && !all_zero(bytes + BPF_ATTR_SIZE, n - BPF_ATTR_SIZE))
		return -E2BIG;
	*ret = (struct bpf_attr_copy){ .size = size };
	memcpy(ret->bytes, bytes, n < BPF_ATTR_SIZE ? n : BPF_ATTR_SIZE);
	return 0;
}

uint64_t bpf_attr_pointer(uint32_t arch, uint64_t arg)
{
	switch (arch) {
	case AUDIT_ARCH_I386:
	case AUDIT_ARCH_ARM:
		/* seccomp reports all 64 bits: int 0x80 from 64-bit code keeps the high half */
		return (uint32_t)arg;
	default:
		return arg;
	}
}

/* The kernel's bpf_verifier_log_attr_valid(), on the caller's values. */
static bool log_attr_valid(uint32_t level, uint64_t buf, uint32_t size)
{
	if (!!buf != !!size)
		return false;
	if (buf && level == 0)
		return false;
	if (level & ~LOG_LEVEL_MASK)
		return false;
	return size <= UINT32_MAX >> 2;
}

/* A cilium/ebpf feature probe: CGROUP_SKB, two instructions, for ingress; read and checked later. */
static bool maybe_probe(const struct bpf_attr_copy *a)
{
	return get_u32(a, LOAD_PROG_TYPE) == BPF_PROG_TYPE_CGROUP_SKB &&
	       get_u32(a, LOAD_INSN_CNT) == 2 &&
	       get_u32(a, LOAD_EXPECTED_ATTACH_TYPE) == BPF_CGROUP_INET_INGRESS;
}

static struct decision parse_load(const struct bpf_attr_copy *a, struct bpf_load_req *r)
{
	uint32_t type = get_u32(a, LOAD_PROG_TYPE);
	bool is_device = type == BPF_PROG_TYPE_CGROUP_DEVICE;

	if (!is_device && !maybe_probe(a))
		return DECIDE_CONTINUE;
	/* tokens, signatures, fd arrays, BTF: never for a device program of a container */
	if (!zero_range(a, LOAD_KNOWN_END, BPF_ATTR_SIZE) ||
	    !zero_range(a, LOAD_REFS, BPF_LOAD_LOG_TRUE_SIZE_OFF))
		return is_device ? DECIDE_ERRNO(-EINVAL) : DECIDE_CONTINUE;
	*r = (struct bpf_load_req){
		.prog_type = type,
		.insn_cnt = get_u32(a, LOAD_INSN_CNT),
		.insns = get_u64(a, LOAD_INSNS),
		.license = get_u64(a, LOAD_LICENSE),
		.log_level = get_u32(a, LOAD_LOG_LEVEL),
		.log_size = get_u32(a, LOAD_LOG_SIZE),
		.log_buf = get_u64(a, LOAD_LOG_BUF),
		.kern_version = get_u32(a, LOAD_KERN_VERSION),
		.prog_flags = get_u32(a, LOAD_PROG_FLAGS),
		.expected_attach_type = get_u32(a, LOAD_EXPECTED_ATTACH_TYPE),
		.wants_log_true_size = a->size >= BPF_LOAD_LOG_TRUE_SIZE_OFF + 4,
	};
	memcpy(r->prog_name, a->bytes + LOAD_PROG_NAME, sizeof(r->prog_name));
	/* offload to a device; alignment games other than strict; other attach types */
	if (get_u32(a, LOAD_PROG_IFINDEX) != 0 || (r->prog_flags & ~BPF_F_STRICT_ALIGNMENT) ||
	    (is_device && r->expected_attach_type != 0 &&
	     r->expected_attach_type != BPF_CGROUP_DEVICE))
		return is_device ? DECIDE_ERRNO(-EINVAL) : DECIDE_CONTINUE;
	if (r->insn_cnt == 0 || r->insn_cnt > BPF_INSNS_MAX)
		return DECIDE_ERRNO(-E2BIG);
	if (!log_attr_valid(r->log_level, r->log_buf, r->log_size))
		return DECIDE_ERRNO(-EINVAL);
	return DECIDE_EMULATE;
}

static struct decision parse_attach(int cmd, const struct bpf_attr_copy *a,
				    struct bpf_attach_req *r)
{
	uint32_t flags = get_u32(a, ATTACH_FLAGS);
	uint32_t replace_fd = get_u32(a, ATTACH_REPLACE_FD);

	if (get_u32(a, ATTACH_TYPE) != BPF_CGROUP_DEVICE)
		return DECIDE_ERRNO(-EPERM);
	if (!zero_range(a, ATTACH_KNOWN_END, BPF_ATTR_SIZE))
		return DECIDE_ERRNO(-EINVAL);
	if (cmd == BPF_CMD_PROG_DETACH) {
		if (flags != 0 || replace_fd != 0)
			return DECIDE_ERRNO(-EINVAL);
	} else if ((flags & ~ATTACH_FLAGS_KNOWN) ||
		   ((flags & BPF_F_ALLOW_OVERRIDE) && (flags & BPF_F_ALLOW_MULTI)) ||
		   ((flags & BPF_F_REPLACE) && !(flags & BPF_F_ALLOW_MULTI)) ||
		   (!(flags & BPF_F_REPLACE) && replace_fd != 0)) {
		return DECIDE_ERRNO(-EINVAL);
	}
	*r = (struct bpf_attach_req){
		.target_fd = (int)get_u32(a, ATTACH_TARGET_FD),
		.prog_fd = (int)get_u32(a, ATTACH_BPF_FD),
		.replace_fd = (flags & BPF_F_REPLACE) ? (int)replace_fd : -EBADF,
		.caller_flags = flags,
	};
	return DECIDE_EMULATE;
}

static struct decision parse_query(const struct bpf_attr_copy *a, struct bpf_query_req *r)
{
	if (get_u32(a, QUERY_ATTACH_TYPE) != BPF_CGROUP_DEVICE)
		return DECIDE_CONTINUE;
	/* link ids: links are counted among the programs; we hand out no link ids */
	if (!zero_range(a, QUERY_END, BPF_ATTR_SIZE) || get_u64(a, QUERY_LINK_IDS) != 0 ||
	    get_u64(a, QUERY_LINK_ATTACH_FLAGS) != 0)
		return DECIDE_ERRNO(-EINVAL);
	*r = (struct bpf_query_req){
		.target_fd = (int)get_u32(a, QUERY_TARGET_FD),
		.query_flags = get_u32(a, QUERY_FLAGS),
		.prog_ids = get_u64(a, QUERY_PROG_IDS),
		.prog_attach_flags = get_u64(a, QUERY_PROG_ATTACH_FLAGS),
		.prog_cnt = get_u32(a, QUERY_PROG_CNT),
		.wants_revision = a->size >= BPF_QUERY_REVISION_OFF + 8,
	};
	if (r->query_flags & ~BPF_F_QUERY_EFFECTIVE)
		return DECIDE_ERRNO(-EINVAL);
	return DECIDE_EMULATE;
}

static struct decision parse_link(const struct bpf_attr_copy *a, struct bpf_link_req *r)
{
	if (get_u32(a, LINK_ATTACH_TYPE) != BPF_CGROUP_DEVICE)
		return DECIDE_ERRNO(-EPERM);
	if (get_u32(a, LINK_FLAGS) != 0 || !zero_range(a, LINK_KNOWN_END, BPF_ATTR_SIZE))
		return DECIDE_ERRNO(-EINVAL);
	*r = (struct bpf_link_req){ .prog_fd = (int)get_u32(a, LINK_PROG_FD),
				    .target_fd = (int)get_u32(a, LINK_TARGET_FD) };
	return DECIDE_EMULATE;
}

struct decision bpf_parse(int cmd, const struct bpf_attr_copy *a, struct bpf_req *ret)
{
	ret->cmd = cmd;
	switch (cmd) {
	case BPF_CMD_PROG_LOAD:
		return parse_load(a, &ret->load);
	case BPF_CMD_PROG_ATTACH:
	case BPF_CMD_PROG_DETACH:
		return parse_attach(cmd, a, &ret->attach);
	case BPF_CMD_PROG_QUERY:
		return parse_query(a, &ret->query);
	case BPF_CMD_LINK_CREATE:
		return parse_link(a, &ret->link);
	default:
		return DECIDE_CONTINUE; /* not one the policies trap */
	}
}

bool bpf_insns_is_probe(const struct bpf_insn *insns, uint32_t cnt)
{
	const struct bpf_insn *mov = &insns[0], *ret = &insns[1];

	return cnt == 2 &&
	       (mov->code == (BPF_ALU64 | BPF_MOV | BPF_K) || mov->code == (BPF_ALU | BPF_MOV | BPF_K)) &&
	       mov->dst_reg == BPF_REG_0 && mov->src_reg == 0 && mov->off == 0 &&
	       ret->code == (BPF_JMP | BPF_EXIT) && ret->dst_reg == 0 && ret->src_reg == 0 &&
	       ret->off == 0 && ret->imm == 0;
}

int bpf_insns_check(const struct bpf_insn *insns, uint32_t cnt)
{
	for (uint32_t i = 0; i < cnt; i++) {
		const struct bpf_insn *in = &insns[i];

		if (in->code == (BPF_LD | BPF_IMM | BPF_DW)) {
			/* a plain 64-bit constant only: no map, BTF, function or fd_array reference */
			if (in->src_reg != 0)
				return -EINVAL;
			i++; /* its second half holds the upper 32 bits; the verifier checks it */
		} else if (in->code == (BPF_JMP | BPF_CALL)) {
			/* helpers (0) and subprograms (1); kfuncs (2) need BTF */
			if (in->src_reg != 0 && in->src_reg != BPF_PSEUDO_CALL)
				return -EINVAL;
			/*
			 * bpf_set_retval() overwrites the verdict the programs run before
			 * it left: attached after the runtime's program on the
			 * container's own cgroup, it would clear the runtime's denial
			 */
			if (in->src_reg == 0 && in->imm == BPF_FUNC_set_retval)
				return -EINVAL;
		}
	}
	return 0;
}

struct decision bpf_caller_decide(enum target_userns userns, uint64_t cap_eff)
{
	if (userns == TARGET_USERNS_HOST)
		return DECIDE_CONTINUE;
	if (userns == TARGET_USERNS_CONTAINER && (cap_eff & ((uint64_t)1 << CAP_SYS_ADMIN)))
		return DECIDE_EMULATE;
	return DECIDE_ERRNO(-EPERM);
}

int bpf_subtree_decide(const struct bpf_cgroup_level *chain, size_t n,
		       const struct bpf_container_cgroup *c, bool needs_multi)
{
	bool inside = false;

	if (n == 0 || c->is_root || c->is_shared)
		return -EPERM;
	for (size_t i = 0; i < n; i++) {
		if (ns_ident_equal(&chain[i].id, &c->id))
			inside = true;
		/* OVERRIDE or exclusive programs above would let ours replace them */
		if (needs_multi && chain[i].prog_cnt > 0 &&
		    !(chain[i].attach_flags & BPF_F_ALLOW_MULTI))
			return -EPERM;
	}
	return inside ? 0 : -EPERM;
}

bool bpf_prog_is_callers(uint32_t created_by_uid, bool uid_is_mapped)
{
	return created_by_uid != 0 && uid_is_mapped;
}

static void put_u32(uint8_t *out, unsigned off, uint32_t v)
{
	memcpy(out + off, &v, sizeof(v));
}

static void put_u64(uint8_t *out, unsigned off, uint64_t v)
{
	memcpy(out + off, &v, sizeof(v));
}

void bpf_load_attr_build(const struct bpf_load_req *r, uint64_t insns, uint64_t license,
			 uint64_t log_buf, uint32_t log_size, uint8_t out[BPF_ATTR_SIZE])
{
	memset(out, 0, BPF_ATTR_SIZE);
	put_u32(out, LOAD_PROG_TYPE, r->prog_type);
	put_u32(out, LOAD_INSN_CNT, r->insn_cnt);
	put_u64(out, LOAD_INSNS, insns);
	put_u64(out, LOAD_LICENSE, license);
	put_u32(out, LOAD_LOG_LEVEL, r->log_level);
	put_u32(out, LOAD_LOG_SIZE, log_buf ? log_size : 0);
	put_u64(out, LOAD_LOG_BUF, log_buf);
	put_u32(out, LOAD_KERN_VERSION, r->kern_version);
	put_u32(out, LOAD_PROG_FLAGS, r->prog_flags);
	memcpy(out + LOAD_PROG_NAME, r->prog_name, sizeof(r->prog_name));
	put_u32(out, LOAD_EXPECTED_ATTACH_TYPE, r->expected_attach_type);
}

/* ---- /proc/PID/cgroup ---- */

struct cgroup_line {
	const char *id, *ctrls, *path; /* id and ctrls end at ':', path at the line's end */
	size_t id_len, ctrls_len, path_len;
};

static bool split_line(const char *l, size_t len, struct cgroup_line *ret)
{
	const char *c1 = memchr(l, ':', len), *c2;

	if (!c1)
		return false;
	c2 = memchr(c1 + 1, ':', (size_t)(l + len - c1 - 1));
	if (!c2)
		return false;
	*ret = (struct cgroup_line){ .id = l, .id_len = (size_t)(c1 - l), .ctrls = c1 + 1,
				     .ctrls_len = (size_t)(c2 - c1 - 1), .path = c2 + 1,
				     .path_len = (size_t)(l + len - c2 - 1) };
	return true;
}

static bool has_dotdot(const char *p, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++)
		if (p[i] == '/' && p[i + 1] == '.' && p[i + 2] == '.' &&
		    (i + 3 == len || p[i + 3] == '/'))
			return true;
	return false;
}

static int take_path(const struct cgroup_line *l, char *out, size_t size, bool *seen)
{
	if (*seen)
		return -EPERM; /* a second entry for one hierarchy: forged by a newline */
	*seen = true;
	if (l->path_len == 0 || l->path[0] != '/' || has_dotdot(l->path, l->path_len))
		return -EPERM; /* ".." leads out of our cgroup namespace: not for us */
	if (l->path_len >= size)
		return -ENAMETOOLONG;
	memcpy(out, l->path, l->path_len);
	out[l->path_len] = '\0';
	return 0;
}

/* Hierarchy ids seen so far, as a bitmap: the kernel numbers them from 0 up, a few dozen at most. */
#define HIERARCHY_IDS_MAX 256

static int check_id(const struct cgroup_line *l, uint8_t seen_ids[HIERARCHY_IDS_MAX / 8])
{
	unsigned id = 0;

	if (l->id_len == 0 || l->id_len > 3)
		return -EPERM;
	for (size_t i = 0; i < l->id_len; i++) {
		if (l->id[i] < '0' || l->id[i] > '9')
			return -EPERM;
		id = id * 10 + (unsigned)(l->id[i] - '0');
	}
	if (id >= HIERARCHY_IDS_MAX || (seen_ids[id / 8] & (1u << (id % 8))))
		return -EPERM;
	seen_ids[id / 8] |= (uint8_t)(1u << (id % 8));
	return 0;
}

int bpf_cgroup_parse(const char *text, char *v2, size_t v2_size, char *mem, size_t mem_size)
{
	uint8_t seen_ids[HIERARCHY_IDS_MAX / 8] = { 0 };
	bool seen_v2 = false, seen_mem = false;

	mem[0] = '\0';
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		struct cgroup_line cl;
		int r = 0;

		if (!split_line(l, len, &cl) || check_id(&cl, seen_ids) < 0)
			return -EPERM; /* every line the kernel writes has this shape */
		if (cl.id_len == 1 && cl.id[0] == '0' && cl.ctrls_len == 0)
			r = take_path(&cl, v2, v2_size, &seen_v2);
		else if (cgroup_list_has(cl.ctrls, cl.ctrls_len, "memory"))
			r = take_path(&cl, mem, mem_size, &seen_mem);
		if (r < 0)
			return r;
		if (!nl)
			break;
		l = nl + 1;
	}
	return seen_v2 ? 0 : -ENOENT;
}
