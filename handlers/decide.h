/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "handlers/target.h"

/*
 * The pure halves of the mknod, setxattr and sched_setscheduler handlers:
 * parsed arguments + caller facts -> decision. No system calls, no state;
 * covered by table tests in tests/unit/.
 */

/* ---- mknod / mknodat ---- */

/* @mode as the kernel sees it (umode_t), @dev as the 32-bit encoded dev the syscall takes. */
bool mknod_device_allowed(unsigned mode, uint32_t dev);

/* Is this the console, char 5:1? A node with those numbers would open the host's console. */
bool mknod_is_console(unsigned mode, uint32_t dev);

/*
 * Does the container have a console of its own, given what fstat() and
 * fstatfs() say of its /dev/console? Yes for a pty (char, major 136-143) on
 * devpts, as runc, crun and LXC bind one there; no for anything else,
 * the host's console (5:1) included. Only then is 5:1 emulated, as a bind of it.
 */
bool mknod_console_is_own(mode_t st_mode, dev_t rdev, long fs_type);

/*
 * @path_r: 0 or the error from reading the path (-EFAULT, -ENAMETOOLONG).
 * CONTINUE for anything but the allowlisted character devices (whiteouts
 * included: the kernel creates those unprivileged), and for callers in the
 * daemon's own user namespace; EPERM unless the caller is in the container's
 * initial user namespace with CAP_MKNOD; else EMULATE.
 */
struct decision mknod_decide(unsigned mode, uint32_t dev, int path_r, enum target_userns userns,
			     uint64_t cap_eff);

/* How mknod's path splits into the directory to open and the name to create. */
struct mknod_path {
	char parent[PATH_MAX];  /* "." for a bare name */
	char last[NAME_MAX + 1];
	bool is_special;        /* "/", "." or "..": the kernel answers EEXIST */
	bool has_trailing_slash; /* "name/": EEXIST if it exists, else ENOENT */
};

/* 0, -ENOENT for "", -ENAMETOOLONG for a last component over NAME_MAX. */
int mknod_path_split(const char *path, struct mknod_path *ret);

/*
 * What @c knows about the superblock behind the mount with unique id
 * @mnt_id: 1 it refuses device nodes (SB_I_NODEV), 0 devices work there,
 * -ENOENT not known (also for @mnt_id 0).
 */
int mknod_nodev_lookup(const struct nodev_cache *c, uint64_t mnt_id);

/* Remember the answer for @mnt_id (not 0), overwriting the oldest slot when full. */
void mknod_nodev_record(struct nodev_cache *c, uint64_t mnt_id, bool is_nodev_sb);

/* ---- setxattr / lsetxattr / fsetxattr ---- */

/*
 * Is this the one request we emulate: name "trusted.overlay.opaque" read
 * fine (@name_r == 0), value "y" of size 1, flags 0/XATTR_CREATE/XATTR_REPLACE?
 */
bool setxattr_request_matches(int name_r, const char *name, uint64_t size, int value_r,
			      const char *value, uint64_t flags);

/*
 * CONTINUE unless the request matches and the caller holds CAP_SYS_ADMIN in
 * the container's initial user namespace (not in a nested one, not in the
 * daemon's); then @path_r (0, -EFAULT, -ENAMETOOLONG) as ERRNO, else EMULATE.
 */
struct decision setxattr_decide(bool matches, int path_r, enum target_userns userns,
				uint64_t cap_eff);

/* ---- sched_setscheduler ---- */

/*
 * CONTINUE unless the caller is in the container's initial user namespace
 * with CAP_SYS_NICE. Then, in the kernel's order: negative policy, NULL
 * param or negative pid -> EINVAL; unreadable param (@param_r) -> EFAULT;
 * else EMULATE (the pid is translated next; ESRCH comes from there).
 */
struct decision sched_decide(int pid, int policy, bool has_param, int param_r,
			     enum target_userns userns, uint64_t cap_eff);

/* After translation, as the kernel validates: 0 or -EINVAL. */
int sched_validate(int policy, int priority);

/* Where the target of an emulated sched_setscheduler stands (read through its pinned pidfd). */
struct sched_target_facts {
	bool is_caller;            /* the target is the trapped thread itself */
	bool caller_in_host_pidns; /* the caller shares the daemon's pid namespace */
	bool userns_in_container;  /* the target's user ns is the container's or nested below it */
	bool pidns_in_container;   /* the target's pid ns is the container's or nested below it */
};

/*
 * EMULATE only when the target belongs to the container (both namespaces
 * within the container's) and the caller is not in the daemon's pid
 * namespace (it would name host tasks). Otherwise ESRCH, as for a host pid;
 * but the caller's own task is left to the kernel (CONTINUE), which applies
 * the caller's own rights to it. Pure.
 */
struct decision sched_target_decide(const struct sched_target_facts *f);
