/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * bpf(2) for nested runtimes: device-cgroup programs only. Shared by
 * handlers/bpf*.c and the unit tests; no other module includes it.
 *
 * bpf.c reads the caller's attr once and decides (the pure half lives in
 * bpf_attr.c); bpf_prog.c loads a program; bpf_attach.c attaches, detaches,
 * links and queries; bpf_cgroup.c finds the container's cgroup and checks a
 * target against it.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/macro.h"
#include "handlers/handler.h"
#include "handlers/target.h"

/* The kernel's union bpf_attr (Linux 6.18: 168 bytes); non-zero bytes past it: E2BIG. */
#define BPF_ATTR_SIZE 168u
/* Attrs larger than a page: E2BIG before anything is read (bpf_check_uarg_tail_zero). */
#define BPF_ATTR_SIZE_MAX 4096u
/* BPF_COMPLEXITY_LIMIT_INSNS: the most instructions a privileged loader may pass. */
#define BPF_INSNS_MAX 1000000u
/* The verifier log we keep for the caller; larger requests are cut to this. */
#define BPF_LOG_MAX (16u << 20)
/* BPF_CGROUP_MAX_PROGS per cgroup; an effective query sums them over the ancestors. */
#define BPF_QUERY_IDS_MAX 4096u

#ifndef BPF_F_QUERY_EFFECTIVE
#define BPF_F_QUERY_EFFECTIVE (1U << 0)
#endif

/* Command numbers (enum bpf_cmd), spelled out for the policies and the tests. */
enum {
	BPF_CMD_PROG_LOAD = 5,
	BPF_CMD_PROG_ATTACH = 8,
	BPF_CMD_PROG_DETACH = 9,
	BPF_CMD_PROG_QUERY = 16,
	BPF_CMD_LINK_CREATE = 28,
};

/* The caller's attr, copied once: the first BPF_ATTR_SIZE bytes, zero-padded. */
struct bpf_attr_copy {
	uint8_t bytes[BPF_ATTR_SIZE];
	uint32_t size; /* as the caller passed it, at most BPF_ATTR_SIZE_MAX */
};

struct bpf_load_req {
	uint32_t prog_type; /* CGROUP_DEVICE, or CGROUP_SKB for a feature probe */
	uint32_t insn_cnt;
	uint64_t insns, license, log_buf;
	uint32_t log_level, log_size; /* log_size as the caller asked, before BPF_LOG_MAX */
	uint32_t kern_version, prog_flags, expected_attach_type;
	char prog_name[16];
	bool wants_log_true_size; /* the caller's attr reaches log_true_size: written back */
};

struct bpf_attach_req {
	int target_fd, prog_fd;
	int replace_fd; /* BPF_F_REPLACE only, else -EBADF */
	uint32_t caller_flags; /* as asked; the attach itself is always BPF_F_ALLOW_MULTI */
};

struct bpf_query_req {
	int target_fd;
	uint32_t query_flags;
	uint64_t prog_ids, prog_attach_flags; /* caller arrays; 0 = not wanted */
	uint32_t prog_cnt;
	bool wants_revision; /* the caller's attr reaches revision: written back */
};

struct bpf_link_req {
	int prog_fd, target_fd;
};

struct bpf_req {
	int cmd;
	union {
		struct bpf_load_req load;
		struct bpf_attach_req attach; /* PROG_ATTACH and PROG_DETACH */
		struct bpf_query_req query;
		struct bpf_link_req link;
	};
};

/* Offsets in the attr of what is written back to the caller. */
#define BPF_LOAD_LOG_TRUE_SIZE_OFF 140u
#define BPF_QUERY_ATTACH_FLAGS_OFF 12u
#define BPF_QUERY_PROG_CNT_OFF 24u
#define BPF_QUERY_REVISION_OFF 56u

/* ---- pure (bpf_attr.c) ---- */

/*
 * Take @n bytes of a caller's attr (@n = min(size, BPF_ATTR_SIZE_MAX), the
 * caller's size being @size) into @ret. -E2BIG when @size exceeds a page or a
 * byte past BPF_ATTR_SIZE is not zero, as the kernel says.
 */
int bpf_attr_take(const uint8_t *bytes, size_t n, uint32_t size, struct bpf_attr_copy *ret);

/*
 * The attr's address from bpf()'s second argument as seccomp reports it for
 * @arch (an AUDIT_ARCH_*): a compat (32-bit) caller's kernel uses only the
 * low half of the register, whatever its high half holds. Pure.
 */
uint64_t bpf_attr_pointer(uint32_t arch, uint64_t arg);

/*
 * What the attr of command @cmd asks, in the kernel's order of checks:
 * CONTINUE for other program types (load: but a two-instruction
 * CGROUP_SKB program may be the feature probe, decided on once its
 * instructions are read) and attach types (query), where
 * the kernel answers with the caller's own rights; EPERM for other attach
 * types of attach, detach and link_create (a CONTINUE would let the kernel
 * re-read an attr whose attach type was swapped meanwhile, and attach one
 * of our programs anywhere); EINVAL/E2BIG for fields this handler does not
 * understand or that the kernel would refuse; else EMULATE with @ret filled.
 */
struct decision bpf_parse(int cmd, const struct bpf_attr_copy *a, struct bpf_req *ret);

/*
 * Is this the feature probe of cilium/ebpf (runc 1.1): a BPF_PROG_TYPE_CGROUP_SKB
 * program that only returns a constant ("r0 = K; exit")? It reads nothing,
 * calls nothing, and cannot be attached through us; cilium/ebpf refuses
 * BPF_PROG_ATTACH unless loading it works. Pure.
 */
bool bpf_insns_is_probe(const struct bpf_insn *insns, uint32_t cnt);

/*
 * Instructions that reference anything outside the program: map fds and
 * values, BTF ids, kfuncs, subprogram addresses as values, fd_array slots
 * (BPF_LD_IMM64 with a pseudo source, calls to kfuncs); and calls to
 * bpf_set_retval(), which would overrule the programs of the runtime. 0 or
 * -EINVAL.
 */
int bpf_insns_check(const struct bpf_insn *insns, uint32_t cnt);

/*
 * Who may have the call emulated: CONTINUE for a caller in the daemon's own
 * user namespace (the kernel decides with its rights), EMULATE for one with
 * CAP_SYS_ADMIN in the container's initial user namespace, EPERM for
 * everybody else.
 */
struct decision bpf_caller_decide(enum target_userns userns, uint64_t cap_eff);

/* One cgroup on the way from an attach target up to the root of the hierarchy. */
struct bpf_cgroup_level {
	/* (st_dev, st_ino) of its directory; { 0, 0 } between the container's and the root */
	struct ns_ident id;
	uint32_t prog_cnt;  /* device programs attached to it (not inherited ones) */
	uint32_t attach_flags; /* as BPF_PROG_QUERY reports them */
};

/* What is known about the container's cgroup. */
struct bpf_container_cgroup {
	struct ns_ident id;
	bool is_root;   /* its 0:: path is "/" */
	bool is_shared; /* tasks outside the container are in it */
	unsigned depth; /* the components of its 0:: path: its levels below the root */
};

/*
 * May a device program go to the first cgroup of @chain (ordered from the
 * target up to the root, at most the @n levels the caller collected)? Only
 * inside the container's own subtree (the container's cgroup must be on the
 * chain), never for a container whose cgroup is the root or shared, and, when
 * @needs_multi, only if every level holding device programs holds them with
 * BPF_F_ALLOW_MULTI: then the kernel ANDs them, and a program of the
 * container can only narrow what its runtime allowed. 0 or -EPERM.
 */
int bpf_subtree_decide(const struct bpf_cgroup_level *chain, size_t n,
		       const struct bpf_container_cgroup *c, bool needs_multi);

/*
 * Is a program interceptd loaded for the caller: created by a uid other than
 * the host's root (interceptd loads with the caller's host uid as real uid)
 * that the caller's user namespace maps (@uid_is_mapped)? Pure.
 */
bool bpf_prog_is_callers(uint32_t created_by_uid, bool uid_is_mapped);

/*
 * The attr interceptd passes to the kernel for @r: the caller's values, our
 * own copies of the instructions (@insns), license and log (@log_buf of
 * @log_size bytes, 0 for none); every other byte zero. Pure.
 */
void bpf_load_attr_build(const struct bpf_load_req *r, uint64_t insns, uint64_t license,
			 uint64_t log_buf, uint32_t log_size, uint8_t out[BPF_ATTR_SIZE]);

/*
 * The 0:: path and the memory controller's path (v1, "" when none) from the
 * text of /proc/PID/cgroup. -EPERM when a hierarchy id, the 0:: entry or the
 * memory controller appears twice: a cgroup name with a newline in it made
 * that line up, and no line can be trusted. -ENOENT without a 0:: line,
 * -ENAMETOOLONG for a path that does not fit. Pure.
 */
int bpf_cgroup_parse(const char *text, char *v2, size_t v2_size, char *mem, size_t mem_size);

/* ---- acting (bpf_prog.c, bpf_attach.c) ---- */

static inline int sys_bpf(int cmd, void *attr, unsigned size)
{
	return RET_NERRNO((int)syscall(SYS_bpf, cmd, attr, size));
}

/*
 * Install @fd (ours) in the caller, close-on-exec, with
 * SECCOMP_IOCTL_NOTIF_ADDFD, and answer with its number: by the install
 * itself (SECCOMP_ADDFD_FLAG_SEND, reply->is_answered set) where
 * ctx->may_answer, else in @reply. EMFILE/ENFILE go to @reply as bpf()
 * would say them. < 0 for internal failures (-ENOENT: the caller is gone).
 * @fd stays ours.
 */
int bpf_reply_fd(const struct notif_ctx *ctx, int fd, struct notif_reply *reply);

/* The caller, pinned by target_open(), and what acting needs of the notification. */
struct bpf_call {
	const struct notif_ctx *ctx;
	struct target *t;
	int pidfd;   /* the caller's (target_pidfd()), for the fds in its attr; -EBADF: none */
	int mem_fd;  /* the caller's memory, through its pinned /proc/TID: for the write-backs */
	int maps_fd; /* its maps: write-backs stop where the caller could not write (procmem_write()) */
	const struct bpf_attr_copy *attr;
	uint64_t attr_addr;
};

/*
 * The caller's fd @fd, as target_getfd() takes it, through the pidfd of
 * @call when there is one: the attr of one call names up to three fds.
 */
int bpf_caller_fd(const struct bpf_call *call, int fd);

/* Each fills @reply (an errno for the caller or the value) and returns < 0 only for internal failures. */
int bpf_prog_load_act(const struct bpf_call *call, const struct bpf_load_req *req,
		      struct notif_reply *reply);
int bpf_attach_act(const struct bpf_call *call, const struct bpf_attach_req *req,
		   struct notif_reply *reply);
int bpf_detach_act(const struct bpf_call *call, const struct bpf_attach_req *req,
		   struct notif_reply *reply);
int bpf_link_create_act(const struct bpf_call *call, const struct bpf_link_req *req,
			struct notif_reply *reply);
int bpf_query_act(const struct bpf_call *call, const struct bpf_query_req *req,
		  struct notif_reply *reply);

/* ---- the container's cgroup (bpf_cgroup.c) ---- */

/*
 * Find the container's cgroup (its init's 0:: path, else the caller's) and
 * check @target_fd, a cgroup directory the caller handed over, against it
 * with bpf_subtree_decide(). On success *ret_fd is a new fd of the target,
 * opened through the host's cgroup2 mount (O_RDONLY|O_DIRECTORY), for the
 * kernel call. -EBADF when @target_fd is not a cgroup2 directory (the
 * kernel's answer), -EPERM outside the subtree; other errors are internal.
 */
int bpf_cgroup_check(const struct bpf_call *call, int target_fd, bool needs_multi, int *ret_fd);

/* The device programs attached to the cgroup @fd itself: prog_cnt and attach_flags of @ret. */
int bpf_cgroup_query_level(int fd, struct bpf_cgroup_level *ret);

/*
 * Open the memory cgroup's "tasks" (v1) or "cgroup.procs" (v2) file of the
 * caller for writing: where a loader is placed so that the program is charged
 * to the container. -ENOENT when the host has no memory controller.
 * *ret_is_v2: the cgroup2 one (where memory.oom.group exists).
 */
int bpf_cgroup_open_memcg(const struct target *t, bool *ret_is_v2);
