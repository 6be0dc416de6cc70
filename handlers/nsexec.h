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
 * Run @fn(@arg) in a child that shares our memory, while the calling thread
 * waits (CLONE_VM | CLONE_VFORK: nothing is copied, and the child is never
 * the OOM killer's victim); the child gets its own signal state, fd table and
 * filesystem context. It is killed after @timeout_ms (> 0). Cloned with
 * clone3, CLONE_PIDFD and no exit signal, so a SIGCHLD reaper elsewhere in
 * the daemon never steals it. Returns 0, the child's -errno, -ETIMEDOUT, or
 * -EIO for an abnormal exit. Thread-safe; no allocation.
 */
int nsexec_run(nsexec_fn *fn, const void *arg, int timeout_ms);

/*
 * The same, with the child created inside the cgroup2 directory @cgroup_fd
 * (CLONE_INTO_CGROUP, Linux 5.7), or where we are when @cgroup_fd < 0. When
 * cgroup2 holds the memory controller (cgroup_mounts_host(); also when no
 * cgroup2 is found there), a child placed in a cgroup gets a copy of our
 * memory (as nsexec_fork_in_cgroup()): a group OOM kill there
 * (memory.oom.group) would kill every process sharing its memory, the daemon.
 */
int nsexec_run_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms);

/*
 * As nsexec_run(), but the child also shares our fd table (CLONE_FILES):
 * what it opens without closing stays open for us. For a step that must hand
 * back an fd; the child must close everything else it opens, on every path.
 * -EOPNOTSUPP where the architecture has no vfork trampoline.
 */
int nsexec_run_sharing_fds(nsexec_fn *fn, const void *arg, int timeout_ms);

/*
 * The same, but the child has its own copy of our memory and the calling
 * thread polls its pidfd meanwhile: for a helper that forks or execs, which
 * a child sharing our memory must never do.
 */
int nsexec_fork_in_cgroup(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms);

/*
 * In a child sharing our memory (raw syscalls only): make this task alone
 * exempt from the OOM killer (oom_score_adj -1000), before it joins a
 * container's memory cgroup. A group OOM kill (memory.oom.group) spares only
 * such tasks, and would otherwise take every process sharing the child's
 * memory, the daemon, with it. The kernel keeps a vfork child's value its own
 * (it is not spread to the other users of the memory). Needs
 * CAP_SYS_RESOURCE. 0 or an errno.
 */
int nsexec_child_oom_exempt(void);
