/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A hostile container against handle_bpf() (bpf_child.h: a real
 * user-namespace "container" with CAP_SYS_ADMIN in its own namespace, real
 * notify fds): what a device program could do to the programs of its runtime,
 * and how the arguments of a compat (i386) call are read. Each of the first
 * four failed on the code it came with; the last two keep what the fast path
 * (programs read to the stack, the user namespace read once per call) must
 * not lose.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf_child.h"

#define B bpfc_env

static long call(struct bpfc_cmd c)
{
	return bpfc_call(&B, &c).ret;
}

static long load(int kind, unsigned major, unsigned minor, uint32_t expected_attach_type)
{
	return call((struct bpfc_cmd){ .op = BPFC_LOAD, .kind = kind, .major = major,
				       .minor = minor,
				       .expected_attach_type = expected_attach_type });
}

static long attach_op(int op, const char *target, long prog)
{
	struct bpfc_cmd c = { .op = op, .prog_fd = (int)prog,
			      .flags = op == BPFC_ATTACH ? BPF_F_ALLOW_MULTI : 0 };

	snprintf(c.target, sizeof(c.target), "%s", target);
	return call(c);
}

static void close_in_child(long fd)
{
	if (fd >= 0)
		(void)call((struct bpfc_cmd){ .op = BPFC_CLOSE, .prog_fd = (int)fd });
}

/*
 * The runtime denies /dev/null with a MULTI program at the container's
 * cgroup. The kernel runs a cgroup's programs in the order they were
 * attached, and a program attached after the runtime's that calls
 * bpf_set_retval(0) clears the -EPERM the runtime's program left: the device
 * opens. The container's cgroup is inside its subtree, so only the program's
 * content can keep this out.
 */
static void test_set_retval_cannot_undo_runtime_denial(void **state)
{
	int runtime = bpfc_host_load(BPFT_DENY_DEV, 1, 3), cg = bpfc_open_dir(B.c);
	long mine, attached = -1, link = -1, opened_attached = -EPERM, opened_linked = -EPERM;

	(void)state;
	assert_true(runtime >= 0 && cg >= 0);
	assert_int_equal(bpft_attach(cg, runtime, BPF_F_ALLOW_MULTI, 0, 0), 0);
	assert_int_equal(bpfc_open_dev(&B, B.c, "/dev/null"), -EPERM);
	mine = load(BPFT_SET_RETVAL, 0, 0, BPF_CGROUP_DEVICE);
	if (mine >= 0) {
		attached = attach_op(BPFC_ATTACH, B.c, mine);
		opened_attached = bpfc_open_dev(&B, B.c, "/dev/null");
		if (attached == 0)
			(void)attach_op(BPFC_DETACH, B.c, mine);
		link = attach_op(BPFC_LINK, B.c, mine);
		opened_linked = bpfc_open_dev(&B, B.child, "/dev/null");
		close_in_child(link);
	}
	close_in_child(mine);
	for (int i = 0; i < 100 && bpfc_host_query(B.c, NULL, NULL) > 1; i++)
		usleep(10000); /* a link goes after an RCU grace period */
	(void)bpft_attach(cg, runtime, 0, 0, 1);
	close(runtime);
	close(cg);
	print_message("# load %ld attach %ld (open %ld) link %ld (open %ld)\n", mine, attached,
		      opened_attached, link, opened_linked);
	assert_int_equal(mine, -EINVAL);
	assert_int_equal(opened_attached, -EPERM);
	assert_int_equal(opened_linked, -EPERM);
}

/*
 * A runtime that attached its program without BPF_F_ALLOW_MULTI (exclusive or
 * OVERRIDE): for such a cgroup the kernel's PROG_DETACH removes its one
 * program whatever program fd comes with it. A program of the container's
 * own, never attached, must not take the runtime's with it.
 */
static void detach_leaves_runtime_program(uint32_t runtime_flags)
{
	int runtime = bpfc_host_load(BPFT_DENY_DEV, 1, 3), cg = bpfc_open_dir(B.c);
	long mine = load(BPFT_DENY_DEV, 1, 5, 0), r, denied;
	int left;

	assert_true(runtime >= 0 && cg >= 0 && mine >= 0);
	assert_int_equal(bpft_attach(cg, runtime, runtime_flags, 0, 0), 0);
	r = attach_op(BPFC_DETACH, B.c, mine);
	left = bpfc_host_query(B.c, NULL, NULL);
	denied = bpfc_open_dev(&B, B.child, "/dev/null");
	(void)bpft_attach(cg, runtime, 0, 0, 1);
	close_in_child(mine);
	close(runtime);
	close(cg);
	print_message("# runtime flags %u: detach %ld, programs left %d, /dev/null %ld\n",
		      runtime_flags, r, left, denied);
	assert_int_equal(r, -ENOENT);
	assert_int_equal(left, 1);
	assert_int_equal(denied, -EPERM);
}

static void test_detach_leaves_exclusive_runtime_program(void **state)
{
	(void)state;
	detach_leaves_runtime_program(0);
}

static void test_detach_leaves_override_runtime_program(void **state)
{
	(void)state;
	detach_leaves_runtime_program(BPF_F_ALLOW_OVERRIDE);
}

#if defined(__x86_64__)
#define IA32_NR_BPF 357
#define IA32_NR_GETPID 20

/* A system call through int 0x80 (the i386 ABI) from 64-bit code. */
static long ia32_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a0), "c"(a1), "d"(a2)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* Does this kernel run i386 system calls (CONFIG_IA32_EMULATION, not disabled at boot)? */
static bool ia32_available(void)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(ia32_syscall(IA32_NR_GETPID, 0, 0, 0) == getpid() ? 0 : 1);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

/*
 * In the container: an i386 BPF_PROG_LOAD of an allow-all device program, its
 * attr below 4 GiB, with garbage in the high halves of the registers. The
 * kernel takes each argument's low 32 bits; seccomp reports all 64.
 */
static long run_ia32_load(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	uint8_t *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	union bpf_attr *a = (union bpf_attr *)low;
	struct bpf_insn *insns = (struct bpf_insn *)(low + 1024);
	struct bpf_prog_info info;
	long r;

	(void)c;
	if (low == MAP_FAILED)
		return -ENOMEM;
	strcpy((char *)low + 2048, "GPL");
	a->prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a->insn_cnt = bpft_build(BPFT_ALLOW_ALL, 0, 0, 0, insns);
	a->insns = (uintptr_t)insns;
	a->license = (uintptr_t)(low + 2048);
	r = ia32_syscall(IA32_NR_BPF, UINT64_C(0x100000000) | BPF_PROG_LOAD,
			 UINT64_C(0xdead000000000000) | (uintptr_t)a,
			 UINT64_C(0x7700000000) | sizeof(*a));
	if (r >= 0 && bpft_info((int)r, &info) == 0) {
		res->fdinfo_type = (int)info.type;
		res->cloexec = (fcntl((int)r, F_GETFD) & FD_CLOEXEC) != 0;
	}
	munmap(low, 4096);
	return r;
}

/* The attr is where the kernel would read it: the pointer's low 32 bits, not all 64. */
static void test_ia32_attr_pointer_read_as_the_kernel_does(void **state)
{
	struct bpfc_result r;
	int n_notif;

	(void)state;
	if (!ia32_available())
		skip();
	r = bpfc_call(&B, &(struct bpfc_cmd){ .op = BPFC_RUN, .run = run_ia32_load });
	n_notif = B.n_notif;
	close_in_child(r.ret);
	print_message("# i386 load: %ld\n", r.ret);
	assert_int_equal(n_notif, 1); /* trapped, as the policies trap it */
	assert_true(r.ret >= 0);
	assert_int_equal(r.fdinfo_type, BPF_PROG_TYPE_CGROUP_DEVICE);
	assert_true(r.cloexec);
}
#else
static void test_ia32_attr_pointer_read_as_the_kernel_does(void **state)
{
	(void)state;
	skip();
}
#endif

/*
 * Programs of up to 512 instructions are read to the stack, longer ones to a
 * mapping: at either side of that edge every instruction must reach the
 * kernel, none more. Each program ends in its only exit, so a lost or stray
 * instruction fails the verifier.
 */
static void test_programs_at_the_stack_edge_load_whole(void **state)
{
	static const uint32_t counts[] = { 511, 512, 513 };

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct bpfc_result r = bpfc_call(&B, &(struct bpfc_cmd){ .op = BPFC_LOAD,
									 .kind = BPFT_LINEAR,
									 .n = counts[i] });

		int n_continue = B.n_continue;

		close_in_child(r.ret);
		print_message("# %u instructions: %ld\n", counts[i], r.ret);
		assert_true(r.ret >= 0);
		assert_int_equal(r.fdinfo_type, BPF_PROG_TYPE_CGROUP_DEVICE);
		assert_int_equal(n_continue, 0); /* loaded by us, not left to the kernel */
	}
}

/*
 * In the container, one thread: load, unshare a user namespace of its own,
 * load again. res->n_ok: the first load's answer; ret: the second's.
 */
static long run_load_unshare_load(const struct bpfc_cmd *c, struct bpfc_result *res)
{
	struct bpf_insn insns[16];
	uint32_t n = bpft_build(BPFT_DENY_DEV, 1, 3, 0, insns);
	long first = bpft_load(insns, n), second;

	(void)c;
	if (first >= 0)
		close((int)first);
	res->n_ok = (int)first;
	if (unshare(CLONE_NEWUSER) < 0)
		return -1000 - errno;
	second = bpft_load(insns, n);
	if (second >= 0)
		close((int)second);
	return second;
}

/*
 * The caller's user namespace is read once per call and kept for it. A
 * caller that leaves the container's initial user namespace between two
 * calls, on the very thread whose /proc/TID the daemon keeps open between
 * calls, acts in a namespace of its own the next time: the daemon refuses
 * (what the kernel would say there too). Leaves the container's init in
 * that namespace: the last test of the group.
 */
static void test_caller_that_unshared_is_not_the_container(void **state)
{
	struct bpfc_result r;

	(void)state;
	r = bpfc_call(&B, &(struct bpfc_cmd){ .op = BPFC_RUN, .run = run_load_unshare_load });
	print_message("# load %d, after unshare(CLONE_NEWUSER) %ld (%d trapped)\n", r.n_ok,
		      r.ret, B.n_notif);
	assert_true(r.n_ok >= 0);
	assert_int_equal(B.n_notif, 2);
	assert_int_equal(r.ret, -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_retval_cannot_undo_runtime_denial),
		cmocka_unit_test(test_detach_leaves_exclusive_runtime_program),
		cmocka_unit_test(test_detach_leaves_override_runtime_program),
		cmocka_unit_test(test_ia32_attr_pointer_read_as_the_kernel_does),
		cmocka_unit_test(test_programs_at_the_stack_edge_load_whole),
		cmocka_unit_test(test_caller_that_unshared_is_not_the_container), /* the last */
	};

	return bpfc_run_group(tests, sizeof(tests) / sizeof(tests[0]));
}
