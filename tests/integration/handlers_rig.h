/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rig of the handler tests: a child unshares a user namespace (0 -> 100000),
 * then mount and pid namespaces, chroots into a scratch rootfs and installs a
 * NOTIFY filter on mknod, mknodat, the setxattr family and sched_setscheduler;
 * the test process is the supervisor and calls the handlers directly. The child
 * runs one command at a time from us (a tiny RPC), so every test sees the
 * trapped call's real result in the child.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "handlers/handler.h"
#include "userns_child.h"

#define HOST_ID USERNS_CHILD_HOST_ID

enum op {
	OP_MKNOD,
	OP_MKNODAT,      /* dir: opened O_PATH as dirfd ("" = AT_FDCWD, "BAD" = 999, else path) */
	OP_MKNOD_NOCAP,  /* CAP_MKNOD dropped from the effective set */
	OP_MKNOD_PTR,    /* prio: 0 bad pointer, 1 unterminated before an unmapped page, 2 over-long */
	OP_MKNOD_KILLED, /* in a grandchild the supervisor kills */
	OP_CHDIR,
	OP_RW,           /* open path O_RDWR, write, read */
	OP_STAT,
	OP_SETXATTR,     /* prio: 0 setxattr, 1 lsetxattr, 2 fsetxattr */
	OP_SCHED,        /* prio param, pid, policy; mode 1: NULL param, 2: bad param */
	OP_SCHED_GET,
	OP_MKNOD_AS,     /* in a grandchild with fsuid, fsgid, groups and umask from the cmd */
	OP_EXIT,
};

struct cmd {
	int op;
	char dir[256];
	char path[256];
	char name[64];
	unsigned mode, dev;
	int pid, policy, prio;
	uid_t fsuid;
	gid_t fsgid;
	int n_groups; /* groups fsgid + 1 ... fsgid + n_groups */
	mode_t umask;
};

struct result {
	long ret;
	int err;
	unsigned mode;
	unsigned long rdev;
};

struct rig {
	char tmp[64], root[96], outside[96];
	int sock;       /* to the child */
	int notify_fd;
	pid_t c1, init_pid;
	bool kill_next; /* supervisor kills the next caller before handling */
	struct handler_cache *cache; /* what the handlers get as ctx->cache (NULL by default) */
	int n_notif, last_handler_r;
	uint32_t last_flags;
	int nr_mknod, nr_mknodat, nr_setxattr, nr_lsetxattr, nr_fsetxattr, nr_sched;
};

extern struct rig h;

/* Run @c in the child, serving its notifications on this thread. false: the RPC broke. */
bool try_call(const struct cmd *c, struct result *res);
/* try_call() that must succeed (cmocka assert). */
struct result call(const struct cmd *c);
struct result do_mknod(const char *path, unsigned mode, unsigned dev);
struct result do_op(int op, const char *dir, const char *path);
bool host_exists(const char *rel_to_tmp);
void host_path(char *buf, size_t size, const char *rel_to_root);
void host_mkdir(const char *rel, uid_t uid);
void host_chmod(const char *rel, mode_t mode);

/* cmocka group setup and teardown: the child, its namespaces and the scratch rootfs */
int rig_setup(void **state);
int rig_teardown(void **state);

#define assert_result(res, want_ret, want_err)                                                     \
	do {                                                                                       \
		struct result _r = (res);                                                          \
		assert_int_equal(_r.err, (want_err));                                              \
		assert_int_equal(_r.ret, (want_ret));                                              \
	} while (0)
