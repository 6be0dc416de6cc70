/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's last connection slots are kept for root and the admin group,
 * against the real daemon over its real socket (mode 0666, --admin-group
 * nogroup): several unprivileged uids each open their per-uid maximum of
 * connections that never finish their request, until every slot outside the
 * reserve is taken. Then
 *  - one more ordinary uid is refused at once with a 503 that says why;
 *  - root gets its GET answered within 100 ms;
 *  - a uid that is not root but has the admin group among its supplementary
 *    groups (SO_PEERGROUPS) gets its GET answered too.
 * Every check is made before the request deadline cuts the dawdlers. Root
 * only (the peers drop to other uids in children); skips otherwise.
 */
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/server.h"
#include "harness.h"
#include "rawhttp.h"
#include "stopwatch.h"

#define ADMIN_GROUP "nogroup"
/* enough uids of the per-uid maximum to take every slot outside the reserve */
#define N_DAWDLER_UIDS ((API_CONNECTIONS_MAX - API_CONNECTIONS_RESERVED) / API_CONNECTIONS_PER_UID)
#define N_DAWDLING (N_DAWDLER_UIDS * API_CONNECTIONS_PER_UID)
/* unprivileged uids no account uses: the dawdlers, then the two single clients */
#define FIRST_DAWDLER_UID 61001
#define ORDINARY_UID 61100
#define ADMIN_MEMBER_UID 61101
/* a request that never ends: the blank line that would finish its headers never comes */
#define PARTIAL "GET /1.0 HTTP/1.1\r\nHost: localhost\r\n"

_Static_assert(N_DAWDLING == API_CONNECTIONS_MAX - API_CONNECTIONS_RESERVED,
	       "the dawdlers must take exactly the slots outside the reserve");

static struct harness H;

/* What one dawdling uid saw: its connections made, and those answered at once. */
struct dawdle_report {
	unsigned n_connected;
	unsigned n_answered; /* refused (or cut) before the checks: none should be */
};

/* Become @uid with primary group @gid and the supplementary groups @groups (@n). */
static bool become(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	return setgroups(n, groups) == 0 && setgid(gid) == 0 && setuid(uid) == 0;
}

/*
 * Child: as @uid, open API_CONNECTIONS_PER_UID connections that send part
 * of a request, report, and hold them until @hold_fd is closed (or the
 * deadline has cut them all).
 */
static _Noreturn void dawdle(uid_t uid, int report_fd, int hold_fd)
{
	struct raw_conn c[API_CONNECTIONS_PER_UID];
	struct dawdle_report rep = { 0 };
	char byte;

	if (!become(uid, uid, NULL, 0))
		_exit(2);
	for (size_t i = 0; i < API_CONNECTIONS_PER_UID; i++) {
		int r;

		/* a full backlog is tried again, as a persistent client would, for up to 2 s */
		for (int tries = 0; (r = raw_connect(&c[i], H.api_socket, PARTIAL)) == -EAGAIN &&
				    tries < 2000; tries++)
			usleep(1000);
		rep.n_connected += r == 0;
	}
	/* send the partial requests; a refusal would come at once */
	(void)raw_run(c, API_CONNECTIONS_PER_UID, raw_now_ns() + 300000000ULL);
	for (size_t i = 0; i < API_CONNECTIONS_PER_UID; i++)
		rep.n_answered += c[i].is_done;
	if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	(void)!read(hold_fd, &byte, 1); /* EOF: the parent is done */
	_exit(0);
}

/* What a single client saw of its GET /1.0. */
struct get_report {
	long status;
	char head[sizeof(((struct raw_conn *)0)->head)];
};

/* Child: as @uid (primary group @uid, supplementary @supp if not 0), one GET /1.0. */
static _Noreturn void get_as(uid_t uid, gid_t supp, int report_fd)
{
	struct get_report rep = { 0 };
	struct raw_conn c;

	if (!become(uid, uid, &supp, supp ? 1 : 0))
		_exit(2);
	(void)raw_connect(&c, H.api_socket, RAW_GET("/1.0"));
	(void)raw_run(&c, 1, raw_now_ns() + 2000000000ULL);
	raw_close(&c);
	rep.status = c.status;
	memcpy(rep.head, c.head, sizeof(rep.head));
	_exit(write(report_fd, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 3);
}

/* Run get_as() in a child; its report. */
static void get_in_child(uid_t uid, gid_t supp, struct get_report *rep)
{
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		get_as(uid, supp, p[1]);
	}
	close(p[1]);
	assert_int_equal(read(p[0], rep, sizeof(*rep)), sizeof(*rep));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
}

/* The daemon's fds with no connection open: the fewest over 100 ms (earlier ones closing). */
static int settled_fds(void)
{
	int fewest = raw_count_fds(H.pid);

	for (int i = 0; i < 10; i++) {
		int now;

		usleep(10000);
		now = raw_count_fds(H.pid);
		fewest = now < fewest ? now : fewest;
	}
	return fewest;
}

/*
 * Wait until the daemon holds @n fds more than @base (the dawdlers admitted),
 * or the count stays put for 200 ms; 3 s at most. Returns how many more.
 */
static int wait_admitted(int base, int n)
{
	int now = raw_count_fds(H.pid), last = now, n_same = 0;

	for (int i = 0; i < 300 && now < base + n && n_same < 20; i++) {
		usleep(10000);
		now = raw_count_fds(H.pid);
		n_same = now == last ? n_same + 1 : 0;
		last = now;
	}
	return now - base;
}

/*
 * Root's GET /1.0 on a fresh connection: its status; its time in *ret_ms and,
 * less the time the host kept the processes waiting, in *ret_unstalled_ms.
 */
static long root_get(double *ret_ms, double *ret_unstalled_ms)
{
	struct stopwatch sw;
	struct raw_conn c;

	stopwatch_start(&sw, H.pid, 0);
	(void)raw_connect(&c, H.api_socket, RAW_GET("/1.0"));
	(void)raw_run(&c, 1, raw_now_ns() + 2000000000ULL);
	raw_close(&c);
	*ret_unstalled_ms = stopwatch_unstalled_s(&sw, "root GET /1.0, unreserved slots taken") * 1e3;
	*ret_ms = (double)((c.t_done_ns ? c.t_done_ns : raw_now_ns()) - c.t_start_ns) / 1e6;
	return c.status;
}

/* The checks once every unreserved slot is taken (before the request deadline cuts them). */
static void check_reserve(void)
{
	char busy[160];
	struct get_report rep;
	double ms, unstalled_ms;
	long st;

	get_in_child(ORDINARY_UID, 0, &rep);
	fprintf(stderr, "# uid %d: HTTP %ld\n", ORDINARY_UID, rep.status);
	assert_int_equal(rep.status, 503);
	snprintf(busy, sizeof(busy), "the server is busy: %d connections open, the last %d are "
		 "kept for root and the admin group", N_DAWDLING, API_CONNECTIONS_RESERVED);
	assert_non_null(strstr(rep.head, busy));
	assert_non_null(strstr(rep.head, "\"error_code\":503"));
	assert_non_null(strstr(rep.head, "Retry-After: 1"));
	st = root_get(&ms, &unstalled_ms);
	fprintf(stderr, "# root: HTTP %ld in %.2f ms\n", st, ms);
	assert_int_equal(st, 200);
	assert_true(unstalled_ms < 100);
	get_in_child(ADMIN_MEMBER_UID, getgrnam(ADMIN_GROUP)->gr_gid, &rep);
	fprintf(stderr, "# uid %d in group %s: HTTP %ld\n", ADMIN_MEMBER_UID, ADMIN_GROUP,
		rep.status);
	assert_int_equal(rep.status, 200);
}

static void test_reserve_keeps_root_and_admin_group_in(void **state)
{
	pid_t pids[N_DAWDLER_UIDS];
	int report[2], hold[2], base, status;
	unsigned n_connected = 0, n_answered = 0;

	(void)state;
	if (geteuid() != 0 || !getgrnam(ADMIN_GROUP))
		skip();
	base = settled_fds();
	assert_true(base > 0);
	assert_int_equal(pipe(report), 0);
	assert_int_equal(pipe(hold), 0);
	for (int i = 0; i < N_DAWDLER_UIDS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(report[0]);
			close(hold[1]);
			dawdle(FIRST_DAWDLER_UID + i, report[1], hold[0]);
		}
	}
	close(report[1]);
	close(hold[0]);
	for (int i = 0; i < N_DAWDLER_UIDS; i++) {
		struct dawdle_report rep;

		assert_int_equal(read(report[0], &rep, sizeof(rep)), sizeof(rep));
		n_connected += rep.n_connected;
		n_answered += rep.n_answered;
	}
	close(report[0]);
	fprintf(stderr, "# %d uids: %u connections made, %u answered at once; %d admitted\n",
		N_DAWDLER_UIDS, n_connected, n_answered, wait_admitted(base, N_DAWDLING));
	/* each uid within its own share: all admitted, none refused */
	assert_int_equal(n_connected, N_DAWDLING);
	assert_int_equal(n_answered, 0);
	check_reserve();
	close(hold[1]);
	for (int i = 0; i < N_DAWDLER_UIDS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_int_equal(status, 0);
	}
}

/* Let the other uids in: the socket is 0666, but it lies in the runtime directory. */
static int open_runtime_dir(void **state)
{
	(void)state;
	return chmod(H.dir, 0755) < 0 ? -1 : 0;
}

/* The daemon inherits it: the reserve must be what refuses, not the fd limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2 * API_CONNECTIONS_MAX &&
	    rl.rlim_max >= 2 * API_CONNECTIONS_MAX) {
		rl.rlim_cur = 2 * API_CONNECTIONS_MAX;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(void)
{
	static const char *const args[] = { "--api-socket-mode", "0666", "--admin-group",
					    ADMIN_GROUP, NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_keeps_root_and_admin_group_in),
	};
	int r;

	raise_fd_limit();
	r = harness_main_setup(&H, args);
	if (r)
		return r;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return harness_main_teardown(&H, cmocka_run_group_tests(tests, open_runtime_dir, NULL));
}
