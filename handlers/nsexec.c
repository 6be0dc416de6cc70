/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forked helpers for namespace-bound steps (the mknod bind-mount fallback,
 * mount's superblock and FUSE helpers).
 * Any worker thread may call nsexec_run(); it touches no shared state. The
 * child is created with a raw clone3 (no glibc fork handlers, no SIGCHLD) and
 * only runs the caller's async-signal-safe function before _exit.
 */
#include <linux/sched.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "daemon/macro.h"
#include "handlers/nsexec.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int nsexec_run(nsexec_fn *fn, const void *arg, int timeout_ms)
{
	return nsexec_run_in_cgroup(fn, arg, -EBADF, timeout_ms);
}

int nsexec_run_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct clone_args args = {
		.flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
		.cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
	};
	struct pollfd pfd;
	siginfo_t info = {};
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
	if (r <= 0)
		(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
	/* __WALL: a child without exit signal counts as a "clone" child */
	while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0)
		if (errno != EINTR)
			return negative_errno();
	if (r == 0)
		return -ETIMEDOUT;
	if (info.si_code != CLD_EXITED)
		return -EIO;
	return -info.si_status;
}
