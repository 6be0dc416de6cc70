/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forked helpers for namespace-bound steps (the mknod bind-mount fallback,
 * mount's superblock and FUSE helpers).
 * Any worker thread may call these; they touch no shared state. Children are
 * created with a raw clone3 (no glibc fork handlers, no SIGCHLD) and only run
 * the caller's async-signal-safe function before exiting.
 *
 * Two shapes. nsexec_run*() shares our memory and suspends the calling
 * thread until the child is gone (CLONE_VM | CLONE_VFORK), on a stack carved
 * from that thread's own: no page tables are copied, and none torn down at
 * exit, which was most of what an emulated mount cost. Its deadline is its
 * own ITIMER_REAL, as its parent thread cannot watch. A task in its vfork is
 * never chosen as the OOM killer's victim (oom_badness() skips in_vfork()),
 * but a group OOM kill (cgroup2's memory.oom.group) kills every task of the
 * cgroup and every process sharing the memory of one it kills: a child
 * sharing ours must never be in a cgroup2 memory cgroup, so where cgroup2
 * holds the memory controller, nsexec_run_in_cgroup() forks instead.
 * nsexec_fork_in_cgroup() gives the child its own copy of our memory, for a
 * helper that must fork and exec (the FUSE one) and so may not share it.
 */
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "daemon/macro.h"
#include "handlers/cgroup.h"
#include "handlers/nsexec.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#if defined(__SANITIZE_ADDRESS__)
#define NSEXEC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NSEXEC_ASAN 1
#endif
#endif
#ifdef NSEXEC_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Enough for the helpers' raw-syscall steps; carved from the calling thread's stack. */
#define VFORK_STACK_SIZE (32u * 1024u)

/*
 * Reap @pidfd; 0, the child's -errno, -ETIMEDOUT when killed by @timeout_signal
 * (0: none), or -EIO.
 */
static int reap(int pidfd, int timeout_signal)
{
	siginfo_t info = {};

	/* __WALL: a child without exit signal counts as a "clone" child */
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0)
		if (errno != EINTR)
			return negative_errno();
	if (info.si_code == CLD_EXITED)
		return -info.si_status;
	if (info.si_code == CLD_KILLED && info.si_status == timeout_signal)
		return -ETIMEDOUT;
	return -EIO;
}

int nsexec_fork_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct clone_args args = {
		.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
		.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
	};
	struct pollfd pfd;
	bool is_late;
	long pid;
	int r;

	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return negative_errno();
	if (pid == 0)
		_exit(fn(arg) & 0xff);

	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	is_late = r <= 0;
	if (is_late)
		(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	/* no timeout signal: a SIGKILL from anyone else (cgroup.kill, OOM) is no timeout of ours */
	r = reap(pidfd, 0);
	/* killed by us on the deadline: a timeout even if it died of something else meanwhile */
	return r == -EIO && is_late ? -ETIMEDOUT : r;
}

#if defined(__x86_64__)

struct vfork_job {
	nsexec_fn *fn;
	const void *arg;
	int timeout_ms;
};

/* The kernel's struct sigaction for rt_sigaction(2); glibc's differs. */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/*
 * In the child, on its own stack: arm the deadline and run the step. Our
 * signal handlers and mask are copies (no CLONE_SIGHAND), so changing them
 * here changes nothing for the daemon; errno is the suspended thread's.
 */
static int vfork_child(const struct vfork_job *j)
{
	struct kernel_sigaction dfl = { .handler = SIG_DFL };
	uint64_t alarm_bit = 1ull << (SIGALRM - 1);
	struct itimerval deadline = {
		.it_value = { .tv_sec = j->timeout_ms / 1000,
			      .tv_usec = (j->timeout_ms % 1000) * 1000 },
	};

	if (syscall(SYS_rt_sigaction, SIGALRM, &dfl, NULL, sizeof(uint64_t)) < 0 ||
	    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &alarm_bit, NULL, sizeof(uint64_t)) < 0 ||
	    syscall(SYS_setitimer, ITIMER_REAL, &deadline, NULL) < 0)
		return EIO;
	return j->fn(j->arg);
}

/*
 * clone3(@args) where the child starts on args->stack: it calls
 * vfork_child(@j) and exits with its status (low 8 bits). In C the child
 * would return through a frame that is not on its stack, hence the asm.
 * Returns what clone3 returns to the parent.
 */
static long clone3_vfork(struct clone_args *args, const struct vfork_job *j)
{
	register long rax __asm__("rax") = SYS_clone3;
	register struct clone_args *rdi __asm__("rdi") = args;
	register long rsi __asm__("rsi") = (long)sizeof(*args);
	register int (*r12)(const struct vfork_job *) __asm__("r12") = vfork_child;
	register const struct vfork_job *r13 __asm__("r13") = j;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "movzbl %%al, %%edi\n\t"
			 "mov %[nr_exit], %%eax\n\t"
			 "syscall\n\t"
			 "ud2\n"
			 "1:"
			 : "+r"(rax)
			 : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13), [nr_exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory", "cc");
	return rax;
}

static int vfork_run(nsexec_fn *fn, const void *arg, int cgroup_fd, uint64_t extra_flags,
		     int timeout_ms)
{
	unsigned char stack[VFORK_STACK_SIZE] __attribute__((aligned(16)));
	const struct vfork_job j = { .fn = fn, .arg = arg, .timeout_ms = timeout_ms };
	_cleanup_close_ int pidfd = -EBADF;
	struct clone_args args = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | extra_flags |
			 (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
		.stack = (uint64_t)(uintptr_t)stack,
		.stack_size = sizeof(stack),
		.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
	};
	long pid;

	if (timeout_ms <= 0)
		return -EINVAL;
	pid = clone3_vfork(&args, &j);
#ifdef NSEXEC_ASAN
	/* a child cut short by its deadline leaves its frames' redzones poisoned */
	__asan_unpoison_memory_region(stack, sizeof(stack));
#endif
	if (pid < 0)
		return (int)pid; /* the raw syscall's -errno */
	/* back here: the child has exited (or is exiting); wait until it is gone */
	return reap(pidfd, SIGALRM);
}

int nsexec_run_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms)
{
	/*
	 * A memory cgroup's group OOM kill (memory.oom.group) spares no task
	 * of the cgroup, a vfork child included, and kills every process that
	 * shares the memory of one it kills: a child sharing ours would take
	 * the daemon with it. So with the memory controller on cgroup2 (where
	 * CLONE_INTO_CGROUP places the child), it gets a copy; also when no
	 * cgroup2 was found at /sys/fs/cgroup, where nothing says it lacks one.
	 */
	const struct cgroup_mounts *m = cgroup_mounts_host();

	if (cgroup_fd >= 0 && (!m->v2 || m->v2_memory))
		return nsexec_fork_in_cgroup(fn, arg, cgroup_fd, timeout_ms);
	return vfork_run(fn, arg, cgroup_fd, 0, timeout_ms);
}

int nsexec_run_sharing_fds(nsexec_fn *fn, const void *arg, int timeout_ms)
{
	return vfork_run(fn, arg, -EBADF, CLONE_FILES, timeout_ms);
}

#else /* no vfork trampoline for this architecture: a copy of our memory */

int nsexec_run_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms)
{
	return nsexec_fork_in_cgroup(fn, arg, cgroup_fd, timeout_ms);
}

int nsexec_run_sharing_fds(nsexec_fn *fn, const void *arg, int timeout_ms)
{
	(void)fn;
	(void)arg;
	(void)timeout_ms;
	return -EOPNOTSUPP;
}

#endif

int nsexec_child_oom_exempt(void)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/oom_score_adj",
			  O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (syscall(SYS_write, fd, "-1000", 5) != 5)
		err = errno ? errno : EIO;
	(void)syscall(SYS_close, fd);
	return err;
}

int nsexec_run(nsexec_fn *fn, const void *arg, int timeout_ms)
{
	return nsexec_run_in_cgroup(fn, arg, -EBADF, timeout_ms);
}
