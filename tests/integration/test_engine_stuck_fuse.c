/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGTERM against a worker waiting for a FUSE server that never answers: a
 * caller's argument in a page of its own FUSE file system. Once the daemon is
 * told to stop, the kernel waits for the server whatever the signal (SIGKILL
 * included), so the process could not end before the server answers or goes
 * away. The daemon must still stop within 5 s, cleanly: it aborts the FUSE
 * connection that holds the worker (found from the range the worker reads in
 * the caller, also once the caller is gone), and never one the host mounts,
 * whatever the caller maps over that range meanwhile. Real daemon, real notify
 * fds, FUSE servers spoken over /dev/fuse (fuse_peer.h); root only.
 */
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fuse_peer.h"
#include "stopwatch.h"
#include "stuck_peers.h"

static struct fuse_peer fuse = { .reads = -EBADF, .ns_fd = -EBADF };
/* A FUSE server the host mounts (lxcfs, say). */
static struct fuse_peer shared = { .reads = -EBADF, .ns_fd = -EBADF };
/* The mount namespace this program started in: the host init's, when run on the host. */
static int start_ns = -EBADF;

/* A container beside the caller: its listener is the daemon's alone. */
struct victim {
	struct child c;
	int sock;
};

/* Start the FUSE server (first: no child may hold /dev/fuse), the victim and the caller. */
static void fuse_setup(struct victim *v, struct hostile *fuser)
{
	unsigned long total;
	int r = fuse_peer_start(&fuse);

	if (r < 0) {
		fprintf(stderr, "# FUSE is not available: %s\n", strerror(-r));
		skip();
	}
	api("POST", "/1.0/containers",
	    "{\"name\":\"victim\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&v->c);
	v->sock = oci_handoff_child(&v->c, "victim");
	close(v->c.listener); /* the daemon's copy is now the only one */
	v->c.listener = -1;
	assert_int_equal(child_sysinfo(&v->c, &total), 0);
	hostile_start(fuser, "fuser");
}

/* The caller's next mknodat has its path in the FUSE file: a worker waits for the server. */
static void fuse_block(struct hostile *fuser)
{
	assert_int_equal(write(fuser->c.ctl, "F", 1), 1);
	assert_int_equal(write(fuser->c.ctl, fuse.file, strlen(fuse.file) + 1),
			 (ssize_t)strlen(fuse.file) + 1);
	assert_true(fuse_peer_wait_read(&fuse, 5000));
}

/*
 * SIGTERM: the daemon must exit within 5 s (the old one never did while the
 * server lived: do not wait for it long), with @reason in the log; the
 * victim's trapped syscalls then fail with ENOSYS instead of hanging.
 */
static void sigterm_exits(struct victim *v, const char *reason)
{
	struct stopwatch sw;
	unsigned long total;
	int r;

	stopwatch_start(&sw, H.pid, 0);
	assert_int_equal(kill(H.pid, SIGTERM), 0);
	r = harness_wait_exit(&H, 10000);
	fprintf(stderr, "# SIGTERM with a worker waiting for FUSE: %s\n",
		r == 0 ? "exited" : "process left until the server goes");
	assert_int_equal(r, 0);
	assert_true(stopwatch_unstalled_s(&sw, "SIGTERM with a worker waiting for FUSE, to the exit") <
		    5.0);
	assert_true(log_has(reason, 0));
	assert_int_equal(child_sysinfo(&v->c, &total), ENOSYS);
}

static void fuse_cleanup(struct victim *v, struct hostile *fuser)
{
	fuse_peer_stop(&fuse);
	child_stop(&fuser->c);
	close(fuser->sock);
	child_stop(&v->c);
	close(v->sock);
}

/* Told to stop soon after the caller blocked (before the watchdog's look). */
static void test_sigterm_aborts_fuse_connection_holding_a_worker(void **state)
{
	struct hostile fuser;
	struct victim v;
	unsigned long total;

	(void)state;
	fuse_setup(&v, &fuser);
	fuse_block(&fuser);
	assert_int_equal(child_sysinfo(&v.c, &total), 0);
	sigterm_exits(&v, "reading a mapping of one of its files");
	fuse_cleanup(&v, &fuser);
}

/*
 * The caller dies (and is reaped) once its worker is held: its /proc entry is
 * gone, but the maps the watchdog kept at the hold still reach its memory,
 * which the waiting worker keeps alive. The old code could not tell what the
 * worker waited on.
 */
static void test_sigterm_aborts_fuse_connection_of_a_dead_caller(void **state)
{
	struct hostile fuser;
	struct victim v;

	(void)state;
	fuse_setup(&v, &fuser);
	fuse_block(&fuser);
	assert_true(log_has("in a notification of 'fuser'", EVENT_WAIT_MS)); /* held */
	child_stop(&fuser.c);
	sigterm_exits(&v, "the caller is gone: found in the maps kept");
	fuse_cleanup(&v, &fuser);
}

/* Whether within @ms the main thread of @pid exited (a zombie until every thread has). */
static bool main_thread_exited(pid_t pid, long ms)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (long waited = 0; waited <= ms; waited += 20) {
		char *stat = harness_read_file(path, NULL), *end = stat ? strrchr(stat, ')') : NULL;
		bool exited = end && strncmp(end, ") Z", 3) == 0;

		free(stat);
		if (exited)
			return true;
		sleep_ms(20);
	}
	return false;
}

/*
 * The caller's path is in a page of its own FUSE file, whose server holds the
 * read; while the worker waits (with the caller's mm unlocked) the caller maps
 * over that page a file of a FUSE server that mount namespace @host_ns
 * mounts. The range the worker reads then shows the host's server, which the
 * worker does not wait on and others use: shutdown must not abort it. The
 * worker is left behind until the caller's server goes.
 */
static void spares_host_fuse_mapped_over_the_range(int host_ns)
{
	struct hostile fuser;
	struct victim v;
	struct stat st;
	char byte = 0;
	int r = fuse_peer_start_in(&shared, host_ns);

	close(host_ns);
	if (r < 0) {
		fprintf(stderr, "# cannot mount FUSE in the host's namespace: %s\n", strerror(-r));
		skip();
	}
	fuse_setup(&v, &fuser);
	assert_int_equal(write(fuser.c.ctl, "M", 1), 1);
	assert_int_equal(write(fuser.c.ctl, fuse.file, strlen(fuse.file) + 1),
			 (ssize_t)strlen(fuse.file) + 1);
	assert_int_equal(write(fuser.c.ctl, shared.file, strlen(shared.file) + 1),
			 (ssize_t)strlen(shared.file) + 1);
	assert_true(fuse_peer_wait_read(&fuse, 5000));
	assert_int_equal(write(fuser.c.ctl, "g", 1), 1);
	assert_int_equal(read(fuser.c.ctl, &byte, 1), 1);
	assert_int_equal(byte, 'm');
	assert_int_equal(kill(H.pid, SIGTERM), 0);
	assert_true(log_has("Not aborting FUSE connection", 10000));
	/* the host's server still runs and answers */
	assert_int_equal(waitpid(shared.pid, NULL, WNOHANG), 0);
	assert_int_equal(stat(shared.file, &st), 0);
	/* freed before the daemon's exit, the read would start again in the page
	 * now there, which the host's server never serves */
	assert_true(main_thread_exited(H.pid, EVENT_WAIT_MS));
	fuse_peer_stop(&fuse); /* frees the worker: the daemon ends */
	assert_int_equal(harness_wait_exit(&H, 10000), 0);
	fuse_cleanup(&v, &fuser);
	fuse_peer_stop(&shared);
}

/* A FUSE file system the daemon's own namespace mounts (the old code aborted it). */
static void test_sigterm_spares_host_fuse_mapped_over_the_range(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)H.pid);
	spares_host_fuse_mapped_over_the_range(open(path, O_RDONLY | O_CLOEXEC));
}

/* Whether the mount table of the host's init (PID 1) has a mount on @dir. */
static bool init_mounts(const char *dir)
{
	char *text = harness_read_file("/proc/1/mountinfo", NULL), needle[128];
	bool found;

	snprintf(needle, sizeof(needle), " %s ", dir);
	found = text && strstr(text, needle);
	free(text);
	return found;
}

/*
 * One that the host's init mounts and the daemon's namespace does not: the
 * unit's ProtectHome= unmounts everything under /home, /root and /run/user
 * from it (a user's sshfs, gvfs), though a container may have it bind-mounted.
 * The daemon here runs in a mount namespace of its own (daemon_up_apart()).
 */
static void test_sigterm_spares_fuse_only_the_hosts_init_mounts(void **state)
{
	(void)state;
	if (fuse_peer_start_in(&shared, start_ns) < 0 || !init_mounts(shared.dir)) {
		fprintf(stderr, "# the test does not start in the host init's mount namespace\n");
		skip();
	}
	fuse_peer_stop(&shared);
	spares_host_fuse_mapped_over_the_range(fcntl(start_ns, F_DUPFD_CLOEXEC, 3));
}

static int daemon_up(void **state)
{
	(void)state;
	return stuck_daemon_up("2");
}

/* The daemon in a mount namespace that new mounts of the host's init do not reach. */
static int daemon_up_apart(void **state)
{
	(void)state;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	return stuck_daemon_up("2");
}

/* The FUSE server first: while it lives, a worker waiting for it keeps the daemon. */
static int daemon_down(void **state)
{
	(void)state;
	fuse_peer_stop(&fuse);
	fuse_peer_stop(&shared);
	return stuck_daemon_down();
}

int main(void)
{
	start_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sigterm_aborts_fuse_connection_holding_a_worker,
						daemon_up, daemon_down),
		cmocka_unit_test_setup_teardown(test_sigterm_aborts_fuse_connection_of_a_dead_caller,
						daemon_up, daemon_down),
		cmocka_unit_test_setup_teardown(test_sigterm_spares_host_fuse_mapped_over_the_range,
						daemon_up, daemon_down),
		cmocka_unit_test_setup_teardown(test_sigterm_spares_fuse_only_the_hosts_init_mounts,
						daemon_up_apart, daemon_down),
	};

	return stuck_run(tests, ARRAY_SIZE(tests));
}
