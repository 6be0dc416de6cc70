/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the namespace helpers' two shapes (handlers/nsexec.c): the
 * child that shares our memory while the calling thread waits, with its own
 * deadline, signal state and fd table (or ours, on request), and the child
 * with its own copy of our memory. Unprivileged: no namespace is entered.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/macro.h"
#include "handlers/nsexec.h"

#define DEADLINE_MS 200

struct scratch {
	int value;
	int fd;
};

static int fail_with_eperm(const void *arg)
{
	(void)arg;
	return EPERM;
}

static int write_value(const void *arg)
{
	((struct scratch *)arg)->value = 42;
	return 0;
}

static int block_forever(const void *arg)
{
	(void)arg;
	for (;;)
		(void)syscall(SYS_pause);
	return 0;
}

static int open_and_keep(const void *arg)
{
	long fd = syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	((struct scratch *)arg)->fd = (int)fd;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_child_errno_comes_back_negative(void **state)
{
	(void)state;
	assert_int_equal(nsexec_run(fail_with_eperm, NULL, DEADLINE_MS), -EPERM);
	assert_int_equal(nsexec_fork_in_cgroup(fail_with_eperm, NULL, -EBADF, DEADLINE_MS),
			 -EPERM);
}

static void test_run_shares_our_memory(void **state)
{
	struct scratch s = { 0 };

	(void)state;
	assert_int_equal(nsexec_run(write_value, &s, DEADLINE_MS), 0);
	assert_int_equal(s.value, 42);
}

static void test_fork_child_has_its_own_copy(void **state)
{
	struct scratch s = { 0 };

	(void)state;
	assert_int_equal(nsexec_fork_in_cgroup(write_value, &s, -EBADF, DEADLINE_MS), 0);
	assert_int_equal(s.value, 0);
}

/* The deadline kills a child that never returns, and the thread's stack is fine afterwards. */
static void test_deadline_kills_a_stuck_child(void **state)
{
	struct scratch s = { 0 };
	uint64_t start = now_ms();

	(void)state;
	assert_int_equal(nsexec_run(block_forever, NULL, DEADLINE_MS), -ETIMEDOUT);
	assert_true(now_ms() - start >= DEADLINE_MS - 10);
	assert_true(now_ms() - start < 5000);
	assert_int_equal(nsexec_run(write_value, &s, DEADLINE_MS), 0);
	assert_int_equal(s.value, 42);
	assert_int_equal(nsexec_fork_in_cgroup(block_forever, NULL, -EBADF, DEADLINE_MS),
			 -ETIMEDOUT);
}

/* The child's SIGALRM default and unblocking never reach our own signal state. */
static void test_our_signal_state_is_untouched(void **state)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, now;
	sigset_t block, mask;

	(void)state;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	assert_int_equal(sigaction(SIGALRM, &ignore, NULL), 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	assert_int_equal(nsexec_run(write_value, &(struct scratch){ 0 }, DEADLINE_MS), 0);
	assert_int_equal(sigaction(SIGALRM, NULL, &now), 0);
	assert_ptr_equal(now.sa_handler, SIG_IGN);
	assert_int_equal(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
	assert_true(sigismember(&mask, SIGALRM));
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &block, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &(struct sigaction){ .sa_handler = SIG_DFL }, NULL), 0);
}

static void test_fds_stay_the_childs_unless_shared(void **state)
{
	struct scratch s = { .fd = -1 };

	(void)state;
	assert_int_equal(nsexec_run(open_and_keep, &s, DEADLINE_MS), 0);
	assert_true(s.fd >= 0);
	assert_int_equal(fcntl(s.fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	s.fd = -1;
	assert_int_equal(nsexec_run_sharing_fds(open_and_keep, &s, DEADLINE_MS), 0);
	assert_true(s.fd >= 0);
	assert_true(fcntl(s.fd, F_GETFD) >= 0);
	assert_int_equal(close(s.fd), 0);
}

static int read_oom_score_adj(const char *path)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : -9999;
}

/* In the child: exempt itself, then report what it has (or the errno). */
static int exempt_and_report(const void *arg)
{
	struct scratch *s = (struct scratch *)arg;
	int err = nsexec_child_oom_exempt();

	s->fd = err; /* reused as the errno */
	s->value = read_oom_score_adj("/proc/thread-self/oom_score_adj");
	return 0;
}

/*
 * The bpf loader relies on this: a child sharing our memory exempts itself
 * from the OOM killer before it joins a container's memory cgroup, and the
 * kernel keeps that value the child's own; the daemon's stays as it was.
 * Without CAP_SYS_RESOURCE the exemption is refused (EACCES), never faked.
 */
static void test_oom_exemption_is_the_childs_own(void **state)
{
	struct scratch s = { .value = 0, .fd = -1 };
	int ours = read_oom_score_adj("/proc/self/oom_score_adj");

	(void)state;
	assert_int_equal(nsexec_run(exempt_and_report, &s, DEADLINE_MS), 0);
	if (s.fd == 0)
		assert_int_equal(s.value, -1000);
	else
		assert_int_equal(s.fd, EACCES), assert_int_equal(s.value, ours);
	assert_int_equal(read_oom_score_adj("/proc/self/oom_score_adj"), ours);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_errno_comes_back_negative),
		cmocka_unit_test(test_run_shares_our_memory),
		cmocka_unit_test(test_fork_child_has_its_own_copy),
		cmocka_unit_test(test_deadline_kills_a_stuck_child),
		cmocka_unit_test(test_our_signal_state_is_untouched),
		cmocka_unit_test(test_fds_stay_the_childs_unless_shared),
		cmocka_unit_test(test_oom_exemption_is_the_childs_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
