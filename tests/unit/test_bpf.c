/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure half of the bpf handler: the attr's size and tail,
 * every field rule per command, the instruction scan, who may call, the
 * subtree rule, program ownership, the attr we build for the kernel and the
 * strict reading of /proc/PID/cgroup.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <linux/capability.h>

#include "handlers/bpf.h"

#define CAP(c) ((uint64_t)1 << (c))

static struct bpf_attr_copy attr_of(uint32_t size)
{
	return (struct bpf_attr_copy){ .size = size };
}

static void put32(struct bpf_attr_copy *a, unsigned off, uint32_t v)
{
	memcpy(a->bytes + off, &v, sizeof(v));
}

static void put64(struct bpf_attr_copy *a, unsigned off, uint64_t v)
{
	memcpy(a->bytes + off, &v, sizeof(v));
}

/* ---- size and tail ---- */

static void test_bpf_attr_take_sizes(void **state)
{
	static uint8_t page[BPF_ATTR_SIZE_MAX];
	struct bpf_attr_copy a;

	(void)state;
	memset(page, 0, sizeof(page));
	page[0] = 15;
	assert_int_equal(bpf_attr_take(page, 0, BPF_ATTR_SIZE_MAX + 1, &a), -E2BIG);
	assert_int_equal(bpf_attr_take(page, 8, 8, &a), 0);
	assert_int_equal(a.bytes[0], 15);
	assert_int_equal(a.size, 8);
	/* a zero tail of a whole page is fine, as the kernel says */
	assert_int_equal(bpf_attr_take(page, sizeof(page), sizeof(page), &a), 0);
	page[BPF_ATTR_SIZE_MAX - 1] = 1;
	assert_int_equal(bpf_attr_take(page, sizeof(page), sizeof(page), &a), -E2BIG);
	page[BPF_ATTR_SIZE_MAX - 1] = 0;
	page[BPF_ATTR_SIZE] = 1; /* the first byte past the kernel's union */
	assert_int_equal(bpf_attr_take(page, BPF_ATTR_SIZE + 1, BPF_ATTR_SIZE + 1, &a), -E2BIG);
	page[BPF_ATTR_SIZE - 1] = 1; /* the last byte inside it: the command's rules decide */
	page[BPF_ATTR_SIZE] = 0;
	assert_int_equal(bpf_attr_take(page, BPF_ATTR_SIZE + 1, BPF_ATTR_SIZE + 1, &a), 0);
	assert_int_equal(a.bytes[BPF_ATTR_SIZE - 1], 1);
}

/* ---- BPF_PROG_LOAD ---- */

static struct bpf_attr_copy load_attr(void)
{
	struct bpf_attr_copy a = attr_of(offsetof(union bpf_attr, core_relo_rec_size) + 4);

	put32(&a, 0, BPF_PROG_TYPE_CGROUP_DEVICE);
	put32(&a, 4, 11);
	put64(&a, 8, 0x1000);
	put64(&a, 16, 0x2000);
	return a;
}

static struct decision parse(int cmd, const struct bpf_attr_copy *a, struct bpf_req *req)
{
	return bpf_parse(cmd, a, req);
}

#define assert_errno(d, e)                                                                         \
	do {                                                                                       \
		struct decision _d = (d);                                                          \
		assert_int_equal(_d.kind, DECISION_ERRNO);                                         \
		assert_int_equal(_d.error, (e));                                                   \
	} while (0)

static void test_bpf_parse_load_device(void **state)
{
	struct bpf_attr_copy a = load_attr();
	struct bpf_req req;

	(void)state;
	put32(&a, 24, 1);        /* log_level */
	put32(&a, 28, 4096);     /* log_size */
	put64(&a, 32, 0x3000);   /* log_buf */
	put32(&a, 44, BPF_F_STRICT_ALIGNMENT);
	memcpy(a.bytes + 48, "runc_dev", 8);
	put32(&a, 68, BPF_CGROUP_DEVICE);
	put32(&a, BPF_LOAD_LOG_TRUE_SIZE_OFF, 77); /* an output: its input is ignored */
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.load.insn_cnt, 11);
	assert_int_equal(req.load.insns, 0x1000);
	assert_int_equal(req.load.license, 0x2000);
	assert_int_equal(req.load.log_buf, 0x3000);
	assert_int_equal(req.load.log_size, 4096);
	assert_memory_equal(req.load.prog_name, "runc_dev", 8);
	assert_false(req.load.wants_log_true_size);
	a.size = BPF_LOAD_LOG_TRUE_SIZE_OFF + 4;
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_EMULATE);
	assert_true(req.load.wants_log_true_size);
}

static void test_bpf_parse_load_other_types_continue(void **state)
{
	struct bpf_attr_copy a = load_attr();
	struct bpf_req req;

	(void)state;
	put32(&a, 0, BPF_PROG_TYPE_SOCKET_FILTER);
	put32(&a, 72, 5); /* even with a BTF fd: the kernel answers, with the caller's rights */
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_CONTINUE);
	put32(&a, 0, BPF_PROG_TYPE_KPROBE);
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_CONTINUE);
}

/* cilium/ebpf's probe for BPF_PROG_ATTACH: a two-instruction CGROUP_SKB program, decided on once read. */
static void test_bpf_parse_load_feature_probe(void **state)
{
	struct bpf_attr_copy a = load_attr();
	struct bpf_req req;

	(void)state;
	put32(&a, 0, BPF_PROG_TYPE_CGROUP_SKB);
	put32(&a, 4, 2);
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.load.prog_type, BPF_PROG_TYPE_CGROUP_SKB);
	put32(&a, 68, BPF_CGROUP_INET_EGRESS);
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_CONTINUE);
	put32(&a, 68, 0);
	put32(&a, 4, 3);
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_CONTINUE);
	put32(&a, 4, 2);
	put32(&a, 72, 5); /* not ours to refuse: the kernel answers */
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_CONTINUE);
}

/* Every byte from prog_btf_fd on (BTF, func/line info, attach ids, fd_array, tokens, signatures). */
static void test_bpf_parse_load_refs_einval(void **state)
{
	static const unsigned offsets[] = { 72, 76, 80, 88, 92, 96, 104, 108, 112, 116, 120,
					    128, 136, 144, 148, 152, 160, 164, BPF_ATTR_SIZE - 1 };
	struct bpf_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct bpf_attr_copy a = load_attr();

		print_message("# offset %u\n", offsets[i]);
		a.bytes[offsets[i]] = 1;
		assert_errno(parse(BPF_CMD_PROG_LOAD, &a, &req), -EINVAL);
	}
}

static void test_bpf_parse_load_fields(void **state)
{
	static const struct {
		const char *what;
		unsigned off;
		uint32_t v;
		int error;
	} cases[] = {
		{ "offload to a device", 64, 1, -EINVAL },
		{ "any alignment", 44, BPF_F_ANY_ALIGNMENT, -EINVAL },
		{ "sleepable", 44, 1u << 4, -EINVAL },
		{ "other expected attach type", 68, BPF_CGROUP_INET_EGRESS, -EINVAL },
		{ "no instructions", 4, 0, -E2BIG },
		{ "over a million instructions", 4, BPF_INSNS_MAX + 1, -E2BIG },
		{ "log level without a buffer", 24, 1, 0 },
		{ "log level with unknown bits", 24, 1u << 4, -EINVAL },
		{ "log size without a buffer", 28, 100, -EINVAL },
		{ "kern_version is ignored", 40, 0x60000, 0 },
	};
	struct bpf_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpf_attr_copy a = load_attr();
		struct decision d;

		print_message("# %s\n", cases[i].what);
		put32(&a, cases[i].off, cases[i].v);
		d = parse(BPF_CMD_PROG_LOAD, &a, &req);
		if (cases[i].error)
			assert_errno(d, cases[i].error);
		else
			assert_int_equal(d.kind, DECISION_EMULATE);
	}
}

static void test_bpf_parse_load_log(void **state)
{
	struct bpf_attr_copy a = load_attr();
	struct bpf_req req;

	(void)state;
	put64(&a, 32, 0x3000); /* a buffer without a size */
	assert_errno(parse(BPF_CMD_PROG_LOAD, &a, &req), -EINVAL);
	put32(&a, 28, 64); /* with a size, but level 0 */
	assert_errno(parse(BPF_CMD_PROG_LOAD, &a, &req), -EINVAL);
	put32(&a, 24, 2);
	assert_int_equal(parse(BPF_CMD_PROG_LOAD, &a, &req).kind, DECISION_EMULATE);
	put32(&a, 28, (UINT32_MAX >> 2) + 1);
	assert_errno(parse(BPF_CMD_PROG_LOAD, &a, &req), -EINVAL);
}

/* ---- attach, detach ---- */

static struct bpf_attr_copy attach_attr(uint32_t flags)
{
	struct bpf_attr_copy a = attr_of(offsetof(union bpf_attr, replace_bpf_fd) + 4);

	put32(&a, 0, 3);
	put32(&a, 4, 4);
	put32(&a, 8, BPF_CGROUP_DEVICE);
	put32(&a, 12, flags);
	return a;
}

static void test_bpf_parse_attach(void **state)
{
	struct bpf_attr_copy a = attach_attr(BPF_F_ALLOW_MULTI);
	struct bpf_req req;

	(void)state;
	assert_int_equal(parse(BPF_CMD_PROG_ATTACH, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.attach.target_fd, 3);
	assert_int_equal(req.attach.prog_fd, 4);
	assert_int_equal(req.attach.replace_fd, -EBADF);
	/* no flags or OVERRIDE: emulated, and attached MULTI all the same */
	a = attach_attr(0);
	assert_int_equal(parse(BPF_CMD_PROG_ATTACH, &a, &req).kind, DECISION_EMULATE);
	a = attach_attr(BPF_F_ALLOW_OVERRIDE);
	assert_int_equal(parse(BPF_CMD_PROG_ATTACH, &a, &req).kind, DECISION_EMULATE);
	a = attach_attr(BPF_F_ALLOW_MULTI | BPF_F_REPLACE);
	put32(&a, 16, 9);
	assert_int_equal(parse(BPF_CMD_PROG_ATTACH, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.attach.replace_fd, 9);
}

static void test_bpf_parse_attach_errors(void **state)
{
	static const struct {
		const char *what;
		uint32_t flags;
		unsigned off;
		uint32_t v;
		int error;
	} cases[] = {
		{ "other attach type: never CONTINUE", BPF_F_ALLOW_MULTI, 8, BPF_CGROUP_INET_EGRESS, -EPERM },
		{ "override and multi", BPF_F_ALLOW_OVERRIDE | BPF_F_ALLOW_MULTI, 0, 3, -EINVAL },
		{ "replace without multi", BPF_F_REPLACE, 0, 3, -EINVAL },
		{ "replace fd without replace", BPF_F_ALLOW_MULTI, 16, 5, -EINVAL },
		{ "unknown flag", BPF_F_ALLOW_MULTI | (1u << 3), 0, 3, -EINVAL },
		{ "relative_fd", BPF_F_ALLOW_MULTI, 20, 1, -EINVAL },
		{ "expected_revision", BPF_F_ALLOW_MULTI, 24, 1, -EINVAL },
		{ "last byte of the union", BPF_F_ALLOW_MULTI, BPF_ATTR_SIZE - 4, 1u << 24, -EINVAL },
	};
	struct bpf_req req;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpf_attr_copy a = attach_attr(cases[i].flags);

		print_message("# %s\n", cases[i].what);
		put32(&a, cases[i].off, cases[i].v);
		assert_errno(parse(BPF_CMD_PROG_ATTACH, &a, &req), cases[i].error);
	}
}

static void test_bpf_parse_detach(void **state)
{
	struct bpf_attr_copy a = attach_attr(0);
	struct bpf_req req;

	(void)state;
	assert_int_equal(parse(BPF_CMD_PROG_DETACH, &a, &req).kind, DECISION_EMULATE);
	a = attach_attr(BPF_F_ALLOW_MULTI);
	assert_errno(parse(BPF_CMD_PROG_DETACH, &a, &req), -EINVAL);
	a = attach_attr(0);
	put32(&a, 16, 5);
	assert_errno(parse(BPF_CMD_PROG_DETACH, &a, &req), -EINVAL);
	put32(&a, 16, 0);
	put32(&a, 8, BPF_CGROUP_SOCK_OPS);
	assert_errno(parse(BPF_CMD_PROG_DETACH, &a, &req), -EPERM);
}

/* ---- query ---- */

static struct bpf_attr_copy query_attr(void)
{
	struct bpf_attr_copy a = attr_of(offsetof(union bpf_attr, query.prog_cnt) + 4);

	put32(&a, 0, 3);
	put32(&a, 4, BPF_CGROUP_DEVICE);
	put64(&a, 16, 0x4000);
	put32(&a, 24, 64);
	return a;
}

static void test_bpf_parse_query(void **state)
{
	struct bpf_attr_copy a = query_attr();
	struct bpf_req req;

	(void)state;
	put32(&a, 12, 0xffff); /* attach_flags: an output */
	assert_int_equal(parse(BPF_CMD_PROG_QUERY, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.query.target_fd, 3);
	assert_int_equal(req.query.prog_ids, 0x4000);
	assert_int_equal(req.query.prog_cnt, 64);
	assert_false(req.query.wants_revision);
	put32(&a, 8, BPF_F_QUERY_EFFECTIVE);
	put64(&a, 32, 0x5000);
	a.size = 64;
	assert_int_equal(parse(BPF_CMD_PROG_QUERY, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.query.prog_attach_flags, 0x5000);
	assert_true(req.query.wants_revision);
	put32(&a, 8, 2);
	assert_errno(parse(BPF_CMD_PROG_QUERY, &a, &req), -EINVAL);
	a = query_attr();
	put64(&a, 40, 0x6000); /* link_ids */
	assert_errno(parse(BPF_CMD_PROG_QUERY, &a, &req), -EINVAL);
	a = query_attr();
	a.bytes[64] = 1;
	assert_errno(parse(BPF_CMD_PROG_QUERY, &a, &req), -EINVAL);
	a = query_attr();
	put32(&a, 4, BPF_CGROUP_INET_EGRESS); /* needs CAP_NET_ADMIN: the kernel says EPERM */
	assert_int_equal(parse(BPF_CMD_PROG_QUERY, &a, &req).kind, DECISION_CONTINUE);
}

/* ---- link_create, other commands ---- */

static void test_bpf_parse_link_and_others(void **state)
{
	struct bpf_attr_copy a = attr_of(16);
	struct bpf_req req;

	(void)state;
	put32(&a, 0, 4);
	put32(&a, 4, 3);
	put32(&a, 8, BPF_CGROUP_DEVICE);
	assert_int_equal(parse(BPF_CMD_LINK_CREATE, &a, &req).kind, DECISION_EMULATE);
	assert_int_equal(req.link.prog_fd, 4);
	assert_int_equal(req.link.target_fd, 3);
	put32(&a, 12, 1);
	assert_errno(parse(BPF_CMD_LINK_CREATE, &a, &req), -EINVAL);
	put32(&a, 12, 0);
	put32(&a, 16, 7); /* cgroup.relative_fd */
	assert_errno(parse(BPF_CMD_LINK_CREATE, &a, &req), -EINVAL);
	put32(&a, 16, 0);
	put32(&a, 8, BPF_TRACE_ITER);
	assert_errno(parse(BPF_CMD_LINK_CREATE, &a, &req), -EPERM);
	assert_int_equal(parse(BPF_MAP_CREATE, &a, &req).kind, DECISION_CONTINUE);
	assert_int_equal(parse(BPF_PROG_TEST_RUN, &a, &req).kind, DECISION_CONTINUE);
}

/* ---- instructions ---- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV0(k) INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, k)
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define LDDW(src, imm) INSN(BPF_LD | BPF_IMM | BPF_DW, 1, src, 0, imm)
#define CALL(src, imm) INSN(BPF_JMP | BPF_CALL, 0, src, 0, imm)

static void test_bpf_attr_pointer(void **state)
{
	const uint64_t arg = UINT64_C(0xdead000000401000);

	(void)state;
	assert_int_equal(bpf_attr_pointer(AUDIT_ARCH_X86_64, arg), arg);
	assert_int_equal(bpf_attr_pointer(AUDIT_ARCH_AARCH64, arg), arg);
	/* an i386 or arm caller: the kernel reads the register's low half only */
	assert_int_equal(bpf_attr_pointer(AUDIT_ARCH_I386, arg), 0x401000);
	assert_int_equal(bpf_attr_pointer(AUDIT_ARCH_ARM, arg), 0x401000);
}

static void test_bpf_insns_check(void **state)
{
	struct bpf_insn plain[] = { LDDW(0, 7), INSN(0, 0, 0, 0, 0), CALL(0, 5), CALL(1, 1),
				    MOV0(1), EXIT };
	struct bpf_insn refs[] = { MOV0(0), LDDW(0, 0), INSN(0, 0, 0, 0, 0), EXIT };

	(void)state;
	assert_int_equal(bpf_insns_check(plain, sizeof(plain) / sizeof(plain[0])), 0);
	/* map fd, map value, BTF id, function, map index, map index value, unknown */
	for (uint8_t src = 1; src <= 7; src++) {
		print_message("# ld_imm64 src %u\n", src);
		refs[1].src_reg = src & 0xf;
		assert_int_equal(bpf_insns_check(refs, 4), -EINVAL);
	}
	refs[1] = CALL(BPF_PSEUDO_KFUNC_CALL, 1);
	assert_int_equal(bpf_insns_check(refs, 4), -EINVAL);
	refs[1] = CALL(3, 1);
	assert_int_equal(bpf_insns_check(refs, 4), -EINVAL);
	/* bpf_set_retval() would clear the denial of a program that ran before */
	refs[1] = CALL(0, BPF_FUNC_set_retval);
	assert_int_equal(bpf_insns_check(refs, 4), -EINVAL);
	refs[1] = CALL(0, BPF_FUNC_get_retval);
	assert_int_equal(bpf_insns_check(refs, 4), 0);
	refs[1] = CALL(BPF_PSEUDO_CALL, BPF_FUNC_set_retval); /* a subprogram at that offset */
	assert_int_equal(bpf_insns_check(refs, 4), 0);
	/* the second half of a constant is skipped, not read as an instruction */
	refs[1] = LDDW(0, 0);
	refs[2] = CALL(BPF_PSEUDO_KFUNC_CALL, 1);
	assert_int_equal(bpf_insns_check(refs, 4), 0);
	/* a constant cut by the end of the program is left to the verifier */
	refs[3] = LDDW(0, 0);
	assert_int_equal(bpf_insns_check(refs, 4), 0);
}

static void test_bpf_insns_is_probe(void **state)
{
	struct bpf_insn probe[] = { MOV0(0), EXIT };
	struct bpf_insn other[] = { INSN(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 0), EXIT };

	(void)state;
	assert_true(bpf_insns_is_probe(probe, 2));
	probe[0] = INSN(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1);
	assert_true(bpf_insns_is_probe(probe, 2));
	assert_false(bpf_insns_is_probe(probe, 1));
	assert_false(bpf_insns_is_probe(other, 2)); /* reads the packet */
	probe[0] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0); /* r1, not r0 */
	assert_false(bpf_insns_is_probe(probe, 2));
	probe[0] = MOV0(0);
	probe[1] = CALL(0, 1);
	assert_false(bpf_insns_is_probe(probe, 2));
}

/* ---- callers, subtrees, ownership ---- */

static void test_bpf_caller_decide(void **state)
{
	(void)state;
	assert_int_equal(bpf_caller_decide(TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN)).kind,
			 DECISION_EMULATE);
	assert_errno(bpf_caller_decide(TARGET_USERNS_CONTAINER, CAP(CAP_BPF) | CAP(CAP_NET_ADMIN)),
		     -EPERM);
	assert_errno(bpf_caller_decide(TARGET_USERNS_OTHER, ~0ULL), -EPERM);
	assert_int_equal(bpf_caller_decide(TARGET_USERNS_HOST, 0).kind, DECISION_CONTINUE);
}

#define ID(i) ((struct ns_ident){ .dev = 30, .ino = (i) })

static void test_bpf_subtree_decide(void **state)
{
	/* target 5, its parent 4 = the container, 2, then the root 1 */
	struct bpf_cgroup_level chain[] = { { ID(5), 0, 0 }, { ID(4), 1, BPF_F_ALLOW_MULTI },
					    { ID(2), 0, 0 }, { ID(1), 0, 0 } };
	struct bpf_container_cgroup c = { .id = ID(4) };

	(void)state;
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, true), 0);
	assert_int_equal(bpf_subtree_decide(chain, 2, &c, false), 0);
	assert_int_equal(bpf_subtree_decide(chain + 1, 3, &c, true), 0); /* the container's own */
	assert_int_equal(bpf_subtree_decide(chain + 2, 2, &c, true), -EPERM); /* above it */
	c.id = ID(9);
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, true), -EPERM); /* elsewhere */
	c.id = ID(4);
	c.is_shared = true;
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, false), -EPERM);
	c.is_shared = false;
	c.is_root = true;
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, false), -EPERM);
	c.is_root = false;
	assert_int_equal(bpf_subtree_decide(chain, 0, &c, false), -EPERM);
	/* an OVERRIDE program anywhere up the chain, or an exclusive one at the target */
	chain[2] = (struct bpf_cgroup_level){ ID(2), 1, BPF_F_ALLOW_OVERRIDE };
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, true), -EPERM);
	assert_int_equal(bpf_subtree_decide(chain, 2, &c, false), 0); /* queries and detaches */
	chain[2] = (struct bpf_cgroup_level){ ID(2), 0, BPF_F_ALLOW_OVERRIDE };
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, true), 0); /* flags without programs */
	chain[0] = (struct bpf_cgroup_level){ ID(5), 1, 0 };
	assert_int_equal(bpf_subtree_decide(chain, 4, &c, true), -EPERM);
}

static void test_bpf_prog_is_callers(void **state)
{
	(void)state;
	assert_true(bpf_prog_is_callers(100000, true));
	assert_false(bpf_prog_is_callers(100000, false));
	assert_false(bpf_prog_is_callers(0, true)); /* host root: a runtime's */
}

/* ---- the attr we build ---- */

static void test_bpf_load_attr_build(void **state)
{
	struct bpf_load_req r = { .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE, .insn_cnt = 11,
				  .log_level = 1, .log_size = 999,
				  .kern_version = 5, .prog_flags = BPF_F_STRICT_ALIGNMENT,
				  .expected_attach_type = BPF_CGROUP_DEVICE, .prog_name = "dev" };
	uint8_t out[BPF_ATTR_SIZE];
	union bpf_attr a;

	(void)state;
	memset(out, 0xaa, sizeof(out));
	bpf_load_attr_build(&r, 0x1000, 0x2000, 0x3000, 512, out);
	memcpy(&a, out, sizeof(a) < sizeof(out) ? sizeof(a) : sizeof(out));
	assert_int_equal(a.prog_type, BPF_PROG_TYPE_CGROUP_DEVICE);
	assert_int_equal(a.insn_cnt, 11);
	assert_int_equal(a.insns, 0x1000);
	assert_int_equal(a.license, 0x2000);
	assert_int_equal(a.log_buf, 0x3000);
	assert_int_equal(a.log_size, 512); /* ours, not the caller's */
	assert_int_equal(a.log_level, 1);
	assert_int_equal(a.kern_version, 5);
	assert_int_equal(a.prog_flags, BPF_F_STRICT_ALIGNMENT);
	assert_string_equal(a.prog_name, "dev");
	assert_int_equal(a.expected_attach_type, BPF_CGROUP_DEVICE);
	for (size_t i = offsetof(union bpf_attr, prog_btf_fd); i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	bpf_load_attr_build(&r, 0x1000, 0x2000, 0, 512, out);
	memcpy(&a, out, sizeof(a) < sizeof(out) ? sizeof(a) : sizeof(out));
	assert_int_equal(a.log_size, 0);
}

/* ---- /proc/PID/cgroup ---- */

static int parse_cg(const char *text, char *v2, char *mem)
{
	return bpf_cgroup_parse(text, v2, PATH_MAX, mem, PATH_MAX);
}

static void test_bpf_cgroup_parse(void **state)
{
	char v2[PATH_MAX], mem[PATH_MAX];

	(void)state;
	assert_int_equal(parse_cg("9:name=systemd:/\n4:memory:/c1\n1:cpu,cpuacct:/\n0::/c1\n", v2, mem),
			 0);
	assert_string_equal(v2, "/c1");
	assert_string_equal(mem, "/c1");
	assert_int_equal(parse_cg("0::/\n", v2, mem), 0);
	assert_string_equal(v2, "/");
	assert_string_equal(mem, "");
	assert_int_equal(parse_cg("4:memory:/c1\n", v2, mem), -ENOENT);
	assert_int_equal(parse_cg("0::/a/b/../c\n", v2, mem), -EPERM);
	assert_int_equal(parse_cg("0::/a/..\n", v2, mem), -EPERM);
	assert_int_equal(parse_cg("0::/a/..b\n", v2, mem), 0);
}

/* A cgroup name with a newline writes lines of its own into the file. */
static void test_bpf_cgroup_parse_forged_lines(void **state)
{
	char v2[PATH_MAX], mem[PATH_MAX];

	(void)state;
	/* "x\n0::/other" as a name: a second 0:: entry */
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\n0::/other\n", v2, mem), -EPERM);
	/* "x\n7:memory:/victim": the memory controller twice */
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\n7:memory:/victim\n", v2, mem), -EPERM);
	/* "x\n4:pids:/" repeats hierarchy 4 */
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\n4:pids:/\n", v2, mem), -EPERM);
	/* "x\nhello": no line the kernel writes looks like that */
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\nhello\n", v2, mem), -EPERM);
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\n:memory:/\n", v2, mem), -EPERM);
	assert_int_equal(parse_cg("4:memory:/c1\n0::/c1/x\n999:a:/\n", v2, mem), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpf_attr_take_sizes),
		cmocka_unit_test(test_bpf_parse_load_device),
		cmocka_unit_test(test_bpf_parse_load_other_types_continue),
		cmocka_unit_test(test_bpf_parse_load_feature_probe),
		cmocka_unit_test(test_bpf_parse_load_refs_einval),
		cmocka_unit_test(test_bpf_parse_load_fields),
		cmocka_unit_test(test_bpf_parse_load_log),
		cmocka_unit_test(test_bpf_parse_attach),
		cmocka_unit_test(test_bpf_parse_attach_errors),
		cmocka_unit_test(test_bpf_parse_detach),
		cmocka_unit_test(test_bpf_parse_query),
		cmocka_unit_test(test_bpf_parse_link_and_others),
		cmocka_unit_test(test_bpf_attr_pointer),
		cmocka_unit_test(test_bpf_insns_check),
		cmocka_unit_test(test_bpf_insns_is_probe),
		cmocka_unit_test(test_bpf_caller_decide),
		cmocka_unit_test(test_bpf_subtree_decide),
		cmocka_unit_test(test_bpf_prog_is_callers),
		cmocka_unit_test(test_bpf_load_attr_build),
		cmocka_unit_test(test_bpf_cgroup_parse),
		cmocka_unit_test(test_bpf_cgroup_parse_forged_lines),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
