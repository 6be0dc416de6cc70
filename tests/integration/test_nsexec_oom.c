/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged test: a helper placed in a container's cgroup must not take the
 * daemon down with it when that cgroup runs out of memory. With
 * memory.oom.group set (Kubernetes sets it on every container's cgroup, and a
 * container that owns a delegated cgroup may set it), the kernel kills every
 * task of the cgroup, a vfork child included (oom_kill_memcg_member() skips
 * only oom_score_adj -1000), and every process sharing the memory of a task
 * it kills (__oom_kill_process()): a helper sharing ours would take the
 * daemon with it.
 *
 * The "daemon" is a child process that runs nsexec_run_in_cgroup() with a
 * step that holds the helper in the cgroup for a while; meanwhile a hog in
 * the same cgroup fills its memory.max. The daemon must survive.
 *
 * Needs root and a cgroup2 hierarchy holding the memory controller, enabled
 * for its root's children; skips otherwise (TAP), as on a hybrid host, where
 * memory is a v1 controller and the helpers never join the container's v1
 * memory cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

static int read_text(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, size - 1);
	(void)close(fd);
	if (n < 0)
		return negative_errno();
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	n = write(fd, text, strlen(text));
	(void)close(fd);
	return n < 0 ? negative_errno() : 0;
}

/* Why this host cannot run the test, or NULL. */
static const char *missing_feature(void)
{
	char text[512];

	if (geteuid() != 0)
		return "not root";
	if (find_v2_root() < 0)
		return "no cgroup2 mount";
	if (read_text(v2_root, "cgroup.subtree_control", text, sizeof(text)) < 0 ||
	    !strstr(text, "memory"))
		return "the cgroup2 root does not enable the memory controller (hybrid host?)";
	return NULL;
}

/* In the helper: tell the test it is in the cgroup, then stay there. Raw syscalls. */
static int hold_in_cgroup(const void *arg)
{
	const int *ready_fd = arg;
	struct timespec ts = { .tv_sec = HOLD_SECONDS };

	if (syscall(SYS_write, *ready_fd, "x", 1) != 1)
		return EIO;
	(void)syscall(SYS_nanosleep, &ts, NULL);
	return 0;
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

static int setup(void **state)
{
	(void)state;
	snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/interceptd-test-oom-%d", v2_root,
		 (int)getpid());
	if (mkdir(cgroup_dir, 0755) < 0)
		return -1;
	(void)write_text(cgroup_dir, "memory.swap.max", "0"); /* absent without swap accounting */
	if (write_text(cgroup_dir, "memory.max", CGROUP_LIMIT) < 0 ||
	    write_text(cgroup_dir, "memory.oom.group", "1") < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* every task in it is dead and reaped; the last exits may still be settling */
	for (int i = 0; i < 100 && rmdir(cgroup_dir) < 0 && errno == EBUSY; i++)
		(void)usleep(20 * 1000);
	return 0;
}

static void test_group_oom_kill_spares_the_daemon(void **state)
{
	_cleanup_close_ int cgroup_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ready[2], daemon_status, hog_status;
	struct pollfd pfd;
	pid_t daemon, hog;
	char byte, events[1024], *group_kills;

	(void)state;
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
		cmocka_unit_test_setup_teardown(test_group_oom_kill_spares_the_daemon, setup,
						teardown),
	};
	const char *why = missing_feature();

	if (why) {
		/* meson's TAP runner counts status 77 as an error: the skip is said in TAP */
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
