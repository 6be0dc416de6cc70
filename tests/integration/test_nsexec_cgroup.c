/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests: what a container can do to a helper placed in its
 * cgroup2 cgroup (nsexec_run_in_cgroup(), which shares our memory where it
 * can) must not harm the daemon or hold its worker past the deadline.
 *
 * Freezing the cgroup (cgroup.freeze) stops the helper; its deadline still
 * kills it (a fatal signal thaws a cgroup2-frozen task). Killing the cgroup
 * (cgroup.kill) kills the helper: an error, the daemon unharmed.
 *
 * Running the cgroup out of memory must not take the daemon down. With
 * memory.oom.group set (Kubernetes sets it on every container's cgroup, and a
 * container that owns a delegated cgroup may set it), the kernel kills every
 * task of the cgroup, a vfork child included (oom_kill_memcg_member() skips
 * only oom_score_adj -1000), and every process sharing the memory of a task
 * it kills (__oom_kill_process()): a helper sharing ours would take the
 * daemon with it.
 *
 * The "daemon" is a child process that runs nsexec_run_in_cgroup() with a
 * step that holds the helper in the cgroup for a while; meanwhile a hog in
 * the same cgroup fills its memory.max. The daemon must survive. That test
 * needs the memory controller enabled for the cgroup2 root's children and
 * skips otherwise, as on a hybrid host, where memory is a v1 controller and
 * the helpers never join the container's v1 memory cgroup.
 *
 * Needs root and cgroup2 (skips otherwise, in TAP).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/macro.h"
#include "handlers/cgroup_join.h"
#include "handlers/nsexec.h"

#define CGROUP_LIMIT "33554432"              /* 32 MiB */
#define HOG_BYTES ((size_t)256 * 1024 * 1024) /* far past the limit */
#define HOLD_SECONDS 3
#define HELPER_DEADLINE_MS 10000
#define SHORT_DEADLINE_MS 500

static char v2_root[PATH_MAX / 4]; /* as struct cgroup_join_mount holds it */
static char cgroup_dir[PATH_MAX];

/* The cgroup2 mount of the hierarchy's root, from our mountinfo. */
static int find_v2_root(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = -ENOENT;

	if (!f)
		return negative_errno();
	while (found < 0 && fgets(line, sizeof(line), f)) {
		struct cgroup_join_mount m;

		line[strcspn(line, "\n")] = '\0';
		if (cgroup_join_parse_mount(line, &m) == 1 && m.is_v2) {
			snprintf(v2_root, sizeof(v2_root), "%s", m.path);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* The file @name of cgroup @dir opened with @flags: an fd or a negative errno. */
static int open_in(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

static int read_text(const char *dir, const char *name, char *buf, size_t size)
{
	int fd = open_in(dir, name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, size - 1);
	(void)close(fd);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *dir, const char *name, const char *text)
{
	int fd = open_in(dir, name, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = write(fd, text, strlen(text));
	(void)close(fd);
	return n < 0 ? negative_errno() : 0;
}

/* Why this host cannot run the tests, or NULL. */
static const char *missing_feature(void)
{
	if (geteuid() != 0)
		return "not root";
	if (find_v2_root() < 0)
		return "no cgroup2 mount";
	return NULL;
}

static bool v2_root_enables_memory(void)
{
	char text[512];

	return read_text(v2_root, "cgroup.subtree_control", text, sizeof(text)) == 0 &&
	       strstr(text, "memory");
}

/* In the helper: tell the test it is in the cgroup, then stay there a while. Raw syscalls. */
static int hold_in_cgroup(const void *arg)
{
	const int *ready_fd = arg;
	struct timespec ts = { .tv_sec = HOLD_SECONDS };

	if (syscall(SYS_write, *ready_fd, "x", 1) != 1)
		return EIO;
	(void)syscall(SYS_nanosleep, &ts, NULL);
	return 0;
}

/* In the helper: tell the test it is in the cgroup, then never return. Raw syscalls. */
static int stay_in_cgroup(const void *arg)
{
	const int *ready_fd = arg;

	if (syscall(SYS_write, *ready_fd, "x", 1) != 1)
		return EIO;
	for (;;)
		(void)syscall(SYS_pause);
	return 0;
}

/* A process of the "container": once the helper is in, writes 1 to @file of cgroup @dir. */
static pid_t start_cgroup_writer(int ready_fd, const char *dir, const char *file)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct pollfd pfd = { .fd = ready_fd, .events = POLLIN };
		char byte;

		if (poll(&pfd, 1, 5000) != 1 || read(ready_fd, &byte, 1) != 1)
			_exit(2);
		_exit(write_text(dir, file, "1") < 0 ? 3 : 0);
	}
	return pid;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The "daemon": runs the helper; exits 0 whatever became of it, if it lives. */
static pid_t start_daemon(int cgroup_fd, int ready_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		int r = nsexec_run_in_cgroup(hold_in_cgroup, &ready_fd, cgroup_fd,
					     HELPER_DEADLINE_MS);

		fprintf(stderr, "# helper returned %d\n", r);
		_exit(0);
	}
	return pid;
}

/* A process of the "container": joins the cgroup and touches memory until killed. */
static pid_t start_hog(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *p;

		if (write_text(cgroup_dir, "cgroup.procs", "0") < 0)
			_exit(2);
		p = mmap(NULL, HOG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		for (size_t i = 0; i < HOG_BYTES; i += 4096)
			p[i] = 1;
		_exit(4); /* the limit did not hold */
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int status = -1;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static void remove_cgroup(const char *dir)
{
	/* every task in it is dead and reaped; the last exits may still be settling */
	for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
		(void)usleep(20 * 1000);
}

static int setup(void **state)
{
	(void)state;
	snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/interceptd-test-helper-%d", v2_root,
		 (int)getpid());
	return mkdir(cgroup_dir, 0755) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	(void)write_text(cgroup_dir, "cgroup.freeze", "0");
	remove_cgroup(cgroup_dir);
	return 0;
}

/* The container freezes its cgroup with the helper in it: the deadline still ends it. */
static void test_frozen_cgroup_cannot_hold_the_helper(void **state)
{
	_cleanup_close_ int cgroup_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ready[2], r, status;
	uint64_t start;
	pid_t writer;

	(void)state;
	assert_true(cgroup_fd >= 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	writer = start_cgroup_writer(ready[0], cgroup_dir, "cgroup.freeze");
	assert_true(writer > 0);
	start = now_ms();
	r = nsexec_run_in_cgroup(stay_in_cgroup, &ready[1], cgroup_fd, SHORT_DEADLINE_MS);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(now_ms() - start < 3000);
	status = status_of(writer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* it was frozen */
	(void)close(ready[0]);
	(void)close(ready[1]);
}

typedef int helper_runner(nsexec_fn *fn, const void *arg, int cgroup_fd, int timeout_ms);

/*
 * Run a helper with @run in a new cgroup @name below ours, which the
 * container kills: what @run returns. (A new one each time: here a task
 * cloned into a cgroup after its cgroup.kill was killed at birth.)
 */
static int run_killed_helper(helper_runner *run, const char *name)
{
	char dir[PATH_MAX + 16];
	int ready[2], cgroup_fd, r, status;
	pid_t writer;

	snprintf(dir, sizeof(dir), "%s/%s", cgroup_dir, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(cgroup_fd >= 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	writer = start_cgroup_writer(ready[0], dir, "cgroup.kill");
	assert_true(writer > 0);
	r = run(stay_in_cgroup, &ready[1], cgroup_fd, HELPER_DEADLINE_MS);
	status = status_of(writer);
	(void)close(ready[0]);
	(void)close(ready[1]);
	(void)close(cgroup_fd);
	remove_cgroup(dir);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return r;
}

/*
 * The container kills every task of its cgroup, the helper included: an
 * error for us, in either shape of helper, and no timeout of ours.
 */
static void test_killed_helper_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(run_killed_helper(nsexec_run_in_cgroup, "shared"), -EIO);
	assert_int_equal(run_killed_helper(nsexec_fork_in_cgroup, "copied"), -EIO);
}

static void test_group_oom_kill_spares_the_daemon(void **state)
{
	_cleanup_close_ int cgroup_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ready[2], daemon_status, hog_status;
	struct pollfd pfd;
	pid_t daemon, hog;
	char byte, events[1024], *group_kills;

	(void)state;
	(void)write_text(cgroup_dir, "memory.swap.max", "0"); /* absent without swap accounting */
	assert_int_equal(write_text(cgroup_dir, "memory.max", CGROUP_LIMIT), 0);
	assert_int_equal(write_text(cgroup_dir, "memory.oom.group", "1"), 0);
	assert_true(cgroup_fd >= 0);
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	daemon = start_daemon(cgroup_fd, ready[1]);
	assert_true(daemon > 0);
	(void)close(ready[1]);
	pfd = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(ready[0], &byte, 1), 1); /* the helper is in the cgroup */
	(void)close(ready[0]);

	hog = start_hog();
	assert_true(hog > 0);
	hog_status = status_of(hog);
	daemon_status = status_of(daemon);

	/* the group kill happened: else this test proved nothing */
	assert_true(WIFSIGNALED(hog_status) && WTERMSIG(hog_status) == SIGKILL);
	assert_int_equal(read_text(cgroup_dir, "memory.events", events, sizeof(events)), 0);
	assert_non_null(group_kills = strstr(events, "oom_group_kill "));
	assert_true(strtoul(group_kills + strlen("oom_group_kill "), NULL, 10) > 0);
	/* and it did not reach the process whose helper was in the cgroup */
	if (WIFSIGNALED(daemon_status))
		fail_msg("the daemon was killed by signal %d with its helper",
			 WTERMSIG(daemon_status));
	assert_true(WIFEXITED(daemon_status) && WEXITSTATUS(daemon_status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frozen_cgroup_cannot_hold_the_helper, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_helper_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_oom_kill_spares_the_daemon, setup,
						teardown),
	};
	const char *why = missing_feature();
	size_t n = ARRAY_SIZE(tests);

	if (why) {
		/* meson's TAP runner counts status 77 as an error: the skip is said in TAP */
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	/* (cmocka's skip() prints "not ok", which meson counts as a failure) */
	if (!v2_root_enables_memory()) {
		printf("# skipping test_group_oom_kill_spares_the_daemon: the cgroup2 root does "
		       "not enable the memory controller (a hybrid host?)\n");
		n--;
	}
	return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
