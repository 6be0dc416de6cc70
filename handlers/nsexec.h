/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Run one emulation step that needs another mount namespace in a short-lived
 * child, so that no pool thread ever changes namespace.
 *
 * @fn runs in the child between clone and _exit: it may only make raw,
 * async-signal-safe system calls (no malloc, no stdio, no locks, no logging).
 * It returns 0 or a positive errno, which becomes the child's exit status.
 */
typedef int nsexec_fn(const void *arg);

/*
 * Clone a child (clone3 with CLONE_PIDFD and no exit signal, so a SIGCHLD
 * reaper elsewhere in the daemon never steals it), run @fn(@arg) there and
 * wait at most @timeout_ms; on timeout the child is killed.
 * Returns 0, the child's -errno, -ETIMEDOUT, or -EIO for an abnormal exit.
 * Thread-safe; no allocation.
 */
int nsexec_run(nsexec_fn *fn, const void *arg, int timeout_ms);

/*
 * The same, with the child created inside the cgroup2 directory @cgroup_fd
 * (CLONE_INTO_CGROUP, Linux 5.7), or where we are when @cgroup_fd < 0.
 */
int nsexec_run_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms);
