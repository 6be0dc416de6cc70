/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the floor supervisors that emulate a call as the caller share
 * (floor.c): who we are, who the caller is, acting with its identity, and its
 * /proc/TID kept between calls. Single-threaded supervisor only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define GROUPS_MAX 64

/* The supervisor's own credentials, and the container's user namespace. */
struct floor_self {
	uint32_t cap_eff[2], cap_prm[2], cap_inh[2];
	uid_t fsuid;
	gid_t fsgid;
	size_t n_groups;
	gid_t groups[GROUPS_MAX];
	uint64_t own_userns;       /* nsfs inode numbers */
	uint64_t container_userns; /* the owner of the init's pid namespace */
	uint64_t own_pidns;
	uint64_t container_pidns;  /* the init's pid namespace */
};

/* The caller's identity, from /proc/TID/status. */
struct caller {
	unsigned seen;
	uid_t fsuid;
	gid_t fsgid;
	mode_t umask;
	uint64_t cap_eff;
	size_t n_groups;
	gid_t groups[GROUPS_MAX];
};

/* Once, before the first notification: our credentials; the container's user namespace. */
int floor_self_init(struct floor_self *s, pid_t init_pid);
/* "@type:[4026531837]" of the ns link @path at @dfd → the inode number. */
int ns_inode_of(int dfd, const char *path, const char *type, uint64_t *ret);
/* The same for a user namespace. */
int userns_of(int dfd, const char *path, uint64_t *ret);
/* The fields of /proc/TID/status a decision and the switch of identity need. */
int caller_read(int status_fd, struct caller *c);
/* The caller's fs identity, @eff the only effective capabilities; *ret_groups: setgroups() ran. */
int creds_enter(const struct floor_self *s, const struct caller *c, const uint32_t eff[2],
		bool *ret_groups);
/* Back to ourselves; exits the supervisor if that fails. */
void creds_leave(const struct floor_self *s, bool groups);
/*
 * /proc/TID (kept for the caller's next call), its status file and root:
 * *ret_proc < 0 if gone. @ret_root NULL: no root, and what was kept is not
 * proven alive (pin_checked() is the way to use it then).
 */
void pin_caller(unsigned tid, int *ret_proc, int *ret_status, int *ret_root);
struct seccomp_notif;
/*
 * pin_caller() without the root, ID_VALID, then the caller's status read
 * through what is pinned; a kept /proc/TID that names a reaped task is
 * dropped and the tid opened afresh. 0, or -ESRCH when the caller is gone.
 */
int pin_checked(int fd, const struct seccomp_notif *req, int *ret_proc, int *ret_status,
		struct caller *c);
/* Close what pin_caller() gave and did not keep. */
void pin_release(unsigned tid, int proc, int status, int root);

/* floor_mount.c: the cgroup mounts and the staging namespace, once; then one call answered. */
int floor_mount_init(void);
struct seccomp_notif_resp;
void answer_mount(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		  struct seccomp_notif_resp *resp);

/* floor_setxattr.c: trusted.overlay.opaque=y on the caller's directory, every safe step. */
void answer_setxattr(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		     struct seccomp_notif_resp *resp);
/* floor_sched.c: the caller's own scheduling policy, every safe step. */
void answer_sched(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		  struct seccomp_notif_resp *resp);
