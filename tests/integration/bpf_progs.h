/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Device-cgroup programs for the bpf tests: the privileged tests, the e2e
 * probe inside containers (built static, it includes this header too) and
 * the benchmark. Each builder fills @out and returns the instruction count.
 */
#include <linux/bpf.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BPFT_INSN(c, d, s, o, i)                                                                   \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define BPFT_LDX_W(d, s, o) BPFT_INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define BPFT_AND_K(d, k) BPFT_INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, k)
#define BPFT_JNE_K(d, k, o) BPFT_INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, k)
#define BPFT_MOV_K(d, k) BPFT_INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define BPFT_MOV_X(d, s) BPFT_INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define BPFT_ADD_K(d, k) BPFT_INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, k)
#define BPFT_CALL(src, imm) BPFT_INSN(BPF_JMP | BPF_CALL, 0, src, 0, imm)
#define BPFT_EXIT() BPFT_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor */
#define BPFT_DEVCG_DEV_CHAR 2
#define BPFT_HELPER_PROBE_READ_KERNEL 113
#define BPFT_HELPER_SET_RETVAL 187

enum bpft_prog {
	BPFT_DENY_DEV,     /* deny one char device (major, minor), allow the rest */
	BPFT_ALLOW_ALL,    /* return 1 */
	BPFT_PROBE_READ,   /* calls bpf_probe_read_kernel(): refused without CAP_PERFMON */
	BPFT_MAP_REF,      /* BPF_LD_IMM64 of a map fd */
	BPFT_KFUNC,        /* a kfunc call */
	BPFT_LINEAR,       /* @n instructions: moves, then exit */
	BPFT_SET_RETVAL,   /* bpf_set_retval(0), then allow: clears an earlier program's denial */
};

/* Fill @out (room for @n when BPFT_LINEAR, else 16) and return the count. */
static inline uint32_t bpft_build(enum bpft_prog kind, unsigned major, unsigned minor, uint32_t n,
				  struct bpf_insn *out)
{
	const struct bpf_insn deny[] = {
		BPFT_LDX_W(2, 1, 0), BPFT_AND_K(2, 0xffff), BPFT_LDX_W(3, 1, 4), BPFT_LDX_W(4, 1, 8),
		BPFT_JNE_K(2, BPFT_DEVCG_DEV_CHAR, 4), BPFT_JNE_K(3, (int32_t)major, 3),
		BPFT_JNE_K(4, (int32_t)minor, 2), BPFT_MOV_K(0, 0), BPFT_EXIT(), BPFT_MOV_K(0, 1),
		BPFT_EXIT(),
	};
	const struct bpf_insn probe[] = {
		BPFT_MOV_X(1, 10), BPFT_ADD_K(1, -8), BPFT_MOV_K(2, 8), BPFT_MOV_K(3, 0),
		BPFT_CALL(0, BPFT_HELPER_PROBE_READ_KERNEL), BPFT_MOV_K(0, 1), BPFT_EXIT(),
	};
	const struct bpf_insn map_ref[] = {
		BPFT_INSN(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 3), BPFT_INSN(0, 0, 0, 0, 0),
		BPFT_MOV_K(0, 1), BPFT_EXIT(),
	};
	const struct bpf_insn kfunc[] = { BPFT_CALL(BPF_PSEUDO_KFUNC_CALL, 1), BPFT_MOV_K(0, 1),
					  BPFT_EXIT() };
	const struct bpf_insn set_retval[] = { BPFT_MOV_K(1, 0),
					       BPFT_CALL(0, BPFT_HELPER_SET_RETVAL),
					       BPFT_MOV_K(0, 1), BPFT_EXIT() };
	const struct bpf_insn *src = deny;
	size_t len = sizeof(deny);

	switch (kind) {
	case BPFT_ALLOW_ALL:
		out[0] = BPFT_MOV_K(0, 1);
		out[1] = BPFT_EXIT();
		return 2;
	case BPFT_PROBE_READ:
		src = probe, len = sizeof(probe);
		break;
	case BPFT_MAP_REF:
		src = map_ref, len = sizeof(map_ref);
		break;
	case BPFT_KFUNC:
		src = kfunc, len = sizeof(kfunc);
		break;
	case BPFT_SET_RETVAL:
		src = set_retval, len = sizeof(set_retval);
		break;
	case BPFT_LINEAR:
		for (uint32_t i = 0; i + 1 < n; i++)
			out[i] = BPFT_MOV_K(0, 1);
		out[n - 1] = BPFT_EXIT();
		return n;
	case BPFT_DENY_DEV:
	default:
		break;
	}
	memcpy(out, src, len);
	return (uint32_t)(len / sizeof(*src));
}

/* bpf(2) returning the fd/0 or -errno. */
static inline long bpft_sys(int cmd, void *attr, unsigned size)
{
	long r = syscall(SYS_bpf, cmd, attr, size);

	return r < 0 ? -(long)errno : r;
}

/* Load @insns as a device program (natively, or trapped in a container). */
static inline long bpft_load(const struct bpf_insn *insns, uint32_t cnt)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = cnt;
	a.license = (uintptr_t)"GPL";
	return bpft_sys(BPF_PROG_LOAD, &a, sizeof(a));
}

/* PROG_ATTACH (@detach false) or PROG_DETACH of @prog at the cgroup @target. */
static inline long bpft_attach(int target, int prog, uint32_t flags, int replace, int detach)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)target;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	a.replace_bpf_fd = (uint32_t)replace;
	return bpft_sys(detach ? BPF_PROG_DETACH : BPF_PROG_ATTACH, &a, sizeof(a));
}

/* LINK_CREATE of @prog at the cgroup @target as @attach_type: the link's fd or -errno. */
static inline long bpft_link_create(int target, int prog, uint32_t attach_type)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_fd = (uint32_t)target;
	a.link_create.attach_type = attach_type;
	return bpft_sys(BPF_LINK_CREATE, &a, sizeof(a));
}

/* PROG_QUERY of device programs at @target: the count, the ids in @ids (room for @room). */
static inline long bpft_query(int target, uint32_t *ids, uint32_t room, uint32_t *ret_cnt,
			      uint32_t *ret_flags)
{
	union bpf_attr a;
	long r;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)target;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = room;
	r = bpft_sys(BPF_PROG_QUERY, &a, sizeof(a));
	*ret_cnt = a.query.prog_cnt;
	if (ret_flags)
		*ret_flags = a.query.attach_flags;
	return r;
}

/* The kernel's facts about a program fd: id and created_by_uid. */
static inline long bpft_info(int fd, struct bpf_prog_info *info)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	memset(info, 0, sizeof(*info));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(*info);
	a.info.info = (uintptr_t)info;
	return bpft_sys(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

/* A thread rewriting *word between @a and @b until stopped: a caller changing its attr mid-call. */
struct bpft_flipper {
	volatile int stop;
	uint32_t *word;
	uint32_t a, b;
	pthread_t thread;
};

static inline void *bpft_flip_loop(void *arg)
{
	struct bpft_flipper *f = arg;

	while (!f->stop) {
		__atomic_store_n(f->word, f->a, __ATOMIC_RELAXED);
		__atomic_store_n(f->word, f->b, __ATOMIC_RELAXED);
	}
	return NULL;
}

static inline int bpft_flip_start(struct bpft_flipper *f, uint32_t *word, uint32_t a, uint32_t b)
{
	*f = (struct bpft_flipper){ .word = word, .a = a, .b = b };
	return pthread_create(&f->thread, NULL, bpft_flip_loop, f);
}

static inline void bpft_flip_stop(struct bpft_flipper *f)
{
	f->stop = 1;
	(void)pthread_join(f->thread, NULL);
}
