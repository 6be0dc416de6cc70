/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged test: the caller's /proc directory and status file that
 * target_close() keeps open for the next call of the same tid (handlers/
 * target.c). The status is read afresh on every call, and a kept entry whose
 * task was reaped is not trusted when a new task gets the same tid.
 *
 * To hand a tid on to a new task on purpose, the whole test runs as pid 1 of
 * a pid namespace of its own (with its own /proc), where nothing else forks
 * and /proc/sys/kernel/ns_last_pid picks the next pid. The rig of
 * handlers_rig.h runs inside it.
 */
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "handlers_rig.h"

#define LAST_PID "/proc/sys/kernel/ns_last_pid"

static void node_owned_by(const char *path, uid_t uid, gid_t gid, mode_t perm)
{
	char p[256];
	struct stat st;

	host_path(p, sizeof(p), path);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(st.st_mode & 07777, perm);
}

static pid_t last_pid(void)
{
	char buf[32] = "";
	int fd = open(LAST_PID, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return (pid_t)atoi(buf);
}

static void set_last_pid(pid_t pid)
{
	char buf[32];
	int fd = open(LAST_PID, O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	close(fd);
}

static struct cmd mknod_as(const char *path, uid_t fsuid, gid_t fsgid, mode_t umask_)
{
	struct cmd c = { .op = OP_MKNOD_AS, .mode = S_IFCHR | 0666, .dev = makedev(1, 3),
			 .fsuid = fsuid, .fsgid = fsgid, .umask = umask_ };

	snprintf(c.path, sizeof(c.path), "%s", path);
	return c;
}

/*
 * The same task, twice: without CAP_MKNOD (EPERM), then with it (made). A
 * status kept from the first call, or read on from where the first read
 * ended, would refuse the second.
 */
static void test_kept_status_read_afresh(void **state)
{
	struct result r;

	(void)state;
	r = do_op(OP_MKNOD_NOCAP, "", "/tmp/afresh-1");
	assert_result(r, -1, EPERM);
	assert_int_equal(h.last_flags, 0); /* refused by the handler, not continued */
	r = do_op(OP_MKNOD, "", "/tmp/afresh-2");
	assert_result(r, 0, 0);
	assert_int_equal(h.last_flags, 0);
	node_owned_by("/tmp/afresh-2", HOST_ID, HOST_ID, 0644);
	assert_false(host_exists("root/tmp/afresh-1"));
}

/*
 * A caller's tid handed on: task A makes a node and is reaped, then task B
 * gets A's tid and makes one with other credentials. B's node must be B's:
 * what was kept for A names a reaped task and must be opened afresh (not
 * trusted, and not given up on as "the caller went away").
 */
static void test_kept_tid_reused_by_new_task(void **state)
{
	struct cmd a = mknod_as("/tmp/anyone/by-a", 1000, 1000, 022);
	struct cmd b = mknod_as("/tmp/anyone/by-b", 2000, 3000, 077);
	pid_t tid_a;

	(void)state;
	host_mkdir("/tmp/anyone", HOST_ID);
	host_chmod("/tmp/anyone", 01777);
	assert_result(call(&a), 0, 0);
	assert_int_equal(h.last_flags, 0);
	tid_a = last_pid(); /* A, forked by the container's init: nothing else forks here */
	set_last_pid(tid_a - 1);
	assert_result(call(&b), 0, 0);
	assert_int_equal(last_pid(), tid_a); /* B had A's tid */
	assert_int_equal(h.last_flags, 0);
	node_owned_by("/tmp/anyone/by-a", HOST_ID + 1000, HOST_ID + 1000, 0644);
	node_owned_by("/tmp/anyone/by-b", HOST_ID + 2000, HOST_ID + 3000, 0600);
}

static int run_kept_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_status_read_afresh),
		cmocka_unit_test(test_kept_tid_reused_by_new_task),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, rig_setup, rig_teardown);
}

/* Wait for @pid; its exit status, or 1. */
static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/*
 * In a child, so that we keep forking into a live pid namespace (LeakSanitizer
 * clones a thread at exit): a pid and mount namespace, and their pid 1 with
 * its own /proc runs the tests.
 */
static _Noreturn void in_own_pid_namespace(void)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("1..0 # SKIP cannot make a pid and mount namespace: %m\n");
		_exit(77);
	}
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			_exit(1);
		_exit(run_kept_tests());
	}
	_exit(wait_status(pid));
}

int main(void)
{
	pid_t pid;

	if (geteuid() != 0)
		return 77;
	signal(SIGPIPE, SIG_IGN);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		in_own_pid_namespace();
	return wait_status(pid);
}
