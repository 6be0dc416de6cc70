/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Placing a forked helper in a caller's cgroups: its cgroup2 directory (for
 * clone3's CLONE_INTO_CGROUP) and each of its v1 hierarchies (the helper,
 * single-threaded, writes itself into their "tasks"). The device cgroup of the task that
 * opens a block device, and of a FUSE daemon, is then the container's: v2
 * device programs and v1 devices.list apply to it as to the caller.
 *
 * The host's cgroup mounts are read from /proc/self/mountinfo once
 * (pthread_once) and immutable afterwards; everything else is per call, on
 * the stack. Any worker thread; cgroup_join_v1() is for the helper child.
 */

#define CGROUP_JOIN_V1_MAX 16

struct cgroup_join {
	int v2_fd;   /* the caller's cgroup2 directory; -EBADF without cgroup2 */
	size_t n_v1;
	int v1_fd[CGROUP_JOIN_V1_MAX]; /* its v1 cgroup directories but the freezer's */
	int freezer_fd; /* its v1 freezer cgroup directory; -EBADF when not opened */
};

#define CGROUP_JOIN_INIT ((struct cgroup_join){ .v2_fd = -EBADF, .freezer_fd = -EBADF })

/* One cgroup hierarchy mounted on the host, as mountinfo describes it. */
struct cgroup_join_mount {
	bool is_v2;
	char options[256];       /* v1: the super options (controllers, name=...) */
	char path[PATH_MAX / 4]; /* the mount point, unescaped */
};

/*
 * Parse one line of mountinfo: 1 and @ret filled for a cgroup or cgroup2
 * mount of a hierarchy's root, 0 for any other line, -EINVAL when malformed.
 * Pure.
 */
int cgroup_join_parse_mount(const char *line, struct cgroup_join_mount *ret);

/*
 * Does the v1 mount with super options @options hold the hierarchy named by
 * @controllers, the middle field of a /proc/PID/cgroup line ("cpu,cpuacct",
 * "name=systemd")? Pure.
 */
bool cgroup_join_matches(const char *options, const char *controllers);

/*
 * Open the cgroups of the task behind @proc_dfd (its /proc/TID directory)
 * into @ret (initialised with CGROUP_JOIN_INIT): its cgroup2 cgroup, and of
 * the v1 hierarchies the one holding controller @v1_only ("devices"), or all
 * when NULL. A v1 freezer cgroup goes to ret->freezer_fd, not to the ones
 * cgroup_join_v1() joins: a frozen v1 cgroup holds its tasks even against
 * SIGKILL, so a helper the daemon waits for must never be in one that the
 * container can freeze.
 * Hierarchies that are not mounted on the host, and paths outside our cgroup
 * namespace, are skipped. 0 or a negative errno; on failure @ret holds what
 * was opened so far.
 */
int cgroup_join_open(int proc_dfd, const char *v1_only, struct cgroup_join *ret);

void cgroup_join_close(struct cgroup_join *j);

/*
 * In the helper child, single-threaded (raw syscalls only): join every v1
 * cgroup but the freezer's. 0 or a positive errno.
 */
int cgroup_join_v1(const struct cgroup_join *j);

/*
 * In the helper child, while it is still root (raw syscalls only): the
 * freezer cgroup's "tasks" opened for writing, -EBADF when there is none, or
 * another negative errno.
 * Writing "0" to it later moves the writer in, whatever its credentials
 * then: the kernel checks those that opened the file.
 */
int cgroup_join_freezer_open(const struct cgroup_join *j);
