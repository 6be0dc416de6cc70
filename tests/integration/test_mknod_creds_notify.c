/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged test: the mknod handler run from a worker-like thread with
 * credentials of its own puts them back exactly after every call, whatever
 * the caller's fsuid, fsgid, groups and umask (the rig of handlers_rig.h).
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "handlers_rig.h"

/* ---- the worker thread's own credentials ---- */

struct creds_snapshot {
	uint32_t eff[2], prm[2], inh[2];
	long n_groups;
	gid_t groups[64];
	uid_t fsuid;
	gid_t fsgid;
	mode_t umask;
};

static void creds_snapshot(struct creds_snapshot *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };

	memset(s, 0, sizeof(*s));
	(void)syscall(SYS_capget, &hdr, d);
	for (int i = 0; i < 2; i++) {
		s->eff[i] = d[i].effective;
		s->prm[i] = d[i].permitted;
		s->inh[i] = d[i].inheritable;
	}
	s->n_groups = syscall(SYS_getgroups, 64, s->groups);
	s->fsuid = (uid_t)syscall(SYS_setfsuid, -1);
	s->fsgid = (gid_t)syscall(SYS_setfsgid, -1);
	s->umask = umask(0);
	(void)umask(s->umask);
}

#define CREDS_CALLS 24
#define OWN_GROUP (HOST_ID + 7) /* the worker's own group list; one caller below has the same */

struct creds_run {
	int n_ok;      /* emulated, node as the caller would have made it */
	int n_exact;   /* thread credentials equal to before afterwards */
	char why[160]; /* the first failure */
};

static void creds_case(int i, struct cmd *c)
{
	static const mode_t umasks[] = { 022, 077, 0, 002 };

	*c = (struct cmd){ .op = OP_MKNOD_AS, .mode = S_IFCHR | 0666, .dev = makedev(1, 3),
			   .fsuid = (uid_t)(i % 5) * 1000, .fsgid = (gid_t)(i % 3) * 1000,
			   .n_groups = i % 4, .umask = umasks[i % 4] };
	if (i % 6 == 5) { /* host groups { OWN_GROUP }: equal to the worker's, no setgroups */
		c->fsgid = OWN_GROUP - HOST_ID - 1;
		c->n_groups = 1;
	}
	snprintf(c->path, sizeof(c->path), "/tmp/anyone/n%d", i);
}

static bool node_as_expected(const struct cmd *c, struct result *res, char *why, size_t size)
{
	char p[512];
	struct stat st;

	host_path(p, sizeof(p), c->path);
	if (res->ret != 0 || h.last_flags != 0 || stat(p, &st) < 0) {
		snprintf(why, size, "%.64s: ret %ld errno %d flags %u", c->path, res->ret, res->err,
			 h.last_flags);
		return false;
	}
	if (st.st_uid != HOST_ID + c->fsuid || st.st_gid != HOST_ID + c->fsgid ||
	    (st.st_mode & 07777) != (0666 & ~c->umask)) {
		snprintf(why, size, "%.64s: owner %u:%u mode %o", c->path, st.st_uid, st.st_gid,
			 st.st_mode & 07777);
		return false;
	}
	return true;
}

/*
 * The worker's own credentials: groups { OWN_GROUP }, and CAP_FSETID permitted
 * but not effective, so that setfsuid(0) on the way back raises more than the
 * thread had.
 */
static int become_worker(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const gid_t own_group = OWN_GROUP;

	if (syscall(SYS_setgroups, 1, &own_group) < 0 || syscall(SYS_capget, &hdr, d) < 0)
		return -1;
	d[0].effective &= ~(1u << CAP_FSETID);
	return (int)syscall(SYS_capset, &hdr, d);
}

/* A worker-like thread; no cmocka asserts off the main thread. */
static void *serve_as_worker(void *arg)
{
	struct creds_run *run = arg;
	struct creds_snapshot before, after;
	struct handler_cache cache = { .init_started_at = -1 };

	if (become_worker() < 0) {
		snprintf(run->why, sizeof(run->why), "becoming a worker: %m");
		return NULL;
	}
	creds_snapshot(&before);
	h.cache = &cache;
	for (int i = 0; i < CREDS_CALLS; i++) {
		char why[sizeof(run->why)];
		struct result res;
		struct cmd c;

		creds_case(i, &c);
		if (!try_call(&c, &res)) {
			snprintf(run->why, sizeof(run->why), "%.64s: the RPC broke", c.path);
			break;
		}
		if (node_as_expected(&c, &res, why, sizeof(why)))
			run->n_ok++;
		else if (!run->why[0])
			memcpy(run->why, why, sizeof(why));
		creds_snapshot(&after);
		if (memcmp(&before, &after, sizeof(before)) == 0)
			run->n_exact++;
		else if (!run->why[0])
			snprintf(run->why, sizeof(run->why), "call %d: thread credentials changed", i);
	}
	h.cache = NULL;
	return NULL;
}

static void test_mknod_worker_creds_restored_exactly(void **state)
{
	struct creds_run run = { .why = "" };
	pthread_t th;

	(void)state;
	host_mkdir("/tmp/anyone", HOST_ID);
	host_chmod("/tmp/anyone", 01777);
	assert_int_equal(pthread_create(&th, NULL, serve_as_worker, &run), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	if (run.why[0])
		print_message("# %s\n", run.why);
	assert_int_equal(run.n_ok, CREDS_CALLS);
	assert_int_equal(run.n_exact, CREDS_CALLS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mknod_worker_creds_restored_exactly),
	};

	if (geteuid() != 0)
		return 77;
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, rig_setup, rig_teardown);
}
