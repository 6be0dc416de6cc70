/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API keeps answering under connection abuse, against the real daemon
 * over its real socket (mode 0666, so an unprivileged peer can connect):
 *  - 256 connections from an unprivileged uid that never finish their
 *    request do not keep root out: a root GET answers within 100 ms, the
 *    connections over that uid's share are refused at once with a 503, and
 *    the rest are cut at the request deadline;
 *  - a slowloris sending a byte at a time is cut at the deadline, which
 *    counts from accept, not from its last byte;
 *  - 1,000 GETs sent at once are all answered, and the daemon holds no more
 *    fds afterwards than before.
 * Root only for the first (it drops to uid 65534 in a child); the others run
 * as any user.
 */
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/server.h"
#include "harness.h"
#include "rawhttp.h"

#define N_DAWDLERS 256
#define N_BURST 1000
#define NOBODY 65534
/* a request that never ends: the blank line that would finish its headers never comes */
#define PARTIAL "GET /1.0 HTTP/1.1\r\nHost: localhost\r\n"

static struct harness H;

/* What the unprivileged child saw of its connections. */
struct dawdle_report {
	unsigned n_refused_503; /* answered 503 at once */
	unsigned n_connect_failed;
	unsigned n_cut;         /* closed by the daemon without an answer */
	unsigned n_open;        /* still open at the end */
	uint64_t last_cut_ms;   /* after connecting */
	bool is_503_clear;      /* one more connection's 503 says why, in the envelope */
};

/* One GET /1.0 on a fresh connection; its status, and its time in *ret_ms. */
static long fresh_get(double *ret_ms)
{
	struct raw_conn c;

	(void)raw_connect(&c, H.api_socket, RAW_GET("/1.0"));
	(void)raw_run(&c, 1, raw_now_ns() + 40000000000ULL); /* long enough to see how long */
	raw_close(&c);
	*ret_ms = (double)((c.t_done_ns ? c.t_done_ns : raw_now_ns()) - c.t_start_ns) / 1e6;
	return c.status;
}

static void dawdle_tally(struct raw_conn *c, size_t n, unsigned n_connect_failed,
			 struct dawdle_report *rep)
{
	*rep = (struct dawdle_report){ .n_connect_failed = n_connect_failed };
	for (size_t i = 0; i < n; i++) {
		if (c[i].status == 503)
			rep->n_refused_503++;
		else if (c[i].is_done)
			rep->n_cut++;
		else
			rep->n_open++;
		if (c[i].is_done && c[i].status != 503 &&
		    (c[i].t_done_ns - c[i].t_start_ns) / 1000000 > rep->last_cut_ms)
			rep->last_cut_ms = (c[i].t_done_ns - c[i].t_start_ns) / 1000000;
	}
}

/* With its share of connections open, a whole GET gets a 503 envelope saying why. */
static bool refusal_is_clear(void)
{
	struct raw_conn c;

	(void)raw_connect(&c, H.api_socket, RAW_GET("/1.0"));
	(void)raw_run(&c, 1, raw_now_ns() + 2000000000ULL);
	raw_close(&c);
	return c.status == 503 && strstr(c.head, "Retry-After: 1") &&
	       strstr(c.head, "\"error_code\":503") &&
	       strstr(c.head, "too many connections from uid 65534");
}

/* The child: as nobody, open N_DAWDLERS connections that never finish a request. */
static _Noreturn void dawdle(int report_fd)
{
	static struct raw_conn c[N_DAWDLERS];
	struct dawdle_report rep;
	unsigned n_failed = 0;

	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		_exit(2);
	for (size_t i = 0; i < N_DAWDLERS; i++) {
		int r;

		/* as a persistent client would: a full backlog is tried again, for up to 2 s */
		for (int tries = 0; (r = raw_connect(&c[i], H.api_socket, PARTIAL)) == -EAGAIN &&
				    tries < 2000; tries++)
			usleep(1000);
		n_failed += r < 0;
	}
	/* send the partial requests and take the refusals that come at once */
	(void)raw_run(c, N_DAWDLERS, raw_now_ns() + 300000000ULL);
	dawdle_tally(c, N_DAWDLERS, n_failed, &rep);
	rep.is_503_clear = refusal_is_clear();
	if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(3);
	(void)raw_run(c, N_DAWDLERS, raw_now_ns() + (API_REQUEST_DEADLINE_MS + 3000) * 1000000ULL);
	dawdle_tally(c, N_DAWDLERS, n_failed, &rep);
	_exit(write(report_fd, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 3);
}

static void read_report(int fd, struct dawdle_report *rep)
{
	assert_int_equal(read(fd, rep, sizeof(*rep)), sizeof(*rep));
	fprintf(stderr, "# dawdlers: %u refused with 503, %u cut, %u open, %u failed to connect\n",
		rep->n_refused_503, rep->n_cut, rep->n_open, rep->n_connect_failed);
}

static void test_dawdlers_do_not_lock_out_root(void **state)
{
	struct dawdle_report rep;
	int p[2], status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dawdle(p[1]);
	}
	close(p[1]);
	read_report(p[0], &rep);
	for (int i = 0; i < 5; i++) {
		double ms;
		long st = fresh_get(&ms);

		fprintf(stderr, "# root GET /1.0 with %d dawdlers: HTTP %ld in %.1f ms\n", N_DAWDLERS,
			st, ms);
		assert_int_equal(st, 200);
		assert_true(ms < 100);
	}
	assert_int_equal(rep.n_connect_failed, 0);
	/* one uid gets its share; the rest is refused clearly, not left hanging */
	assert_true(rep.n_refused_503 >= N_DAWDLERS - API_CONNECTIONS_PER_UID);
	assert_true(rep.is_503_clear);
	read_report(p[0], &rep);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	assert_int_equal(rep.n_open, 0);
	assert_true(rep.last_cut_ms <= API_REQUEST_DEADLINE_MS + 1500);
}

/* Connect and send @n bytes of a header one at a time, @gap_ms apart, until cut. */
static double slowloris_ms(unsigned gap_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *req = "GET /1.0 HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
	uint64_t t0 = raw_now_ns();

	strcpy(sa.sun_path, H.api_socket);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	for (size_t i = 0; raw_now_ns() - t0 < (API_REQUEST_DEADLINE_MS + 5000) * 1000000ULL; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
		char c = i < strlen(req) ? req[i] : 'a';

		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			break;
		if (poll(&pfd, 1, (int)gap_ms) > 0)
			break; /* an answer or the end: either way the daemon let it go */
	}
	close(fd);
	return (double)(raw_now_ns() - t0) / 1e6;
}

static void test_slowloris_cut_at_the_deadline(void **state)
{
	double ms;

	(void)state;
	ms = slowloris_ms(300);
	fprintf(stderr, "# a byte every 300 ms: cut after %.0f ms (deadline %d ms)\n", ms,
		API_REQUEST_DEADLINE_MS);
	assert_true(ms >= API_REQUEST_DEADLINE_MS - 500);
	assert_true(ms <= API_REQUEST_DEADLINE_MS + 1500);
}

/*
 * A burst leaves no warning per connection: libmicrohttpd's complaints that
 * TCP options fail on handed-over connections (they are unix sockets), and its
 * notes on clients gone mid-request, are not warnings; connections turned away
 * are summed up in at most one line every 10 s.
 */
static void assert_quiet_log(void)
{
	_cleanup_free_ char *log = harness_read_file(H.log_path, NULL);
	size_t n = 0;

	assert_non_null(log);
	assert_null(strstr(log, "<4>HTTP server:"));
	for (const char *p = log; (p = strstr(p, "<4>Turning API connections away")); p++)
		n++;
	assert_true(n <= 2);
}

static void raise_nofile(size_t want)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < want)
		skip(); /* cannot hold the burst's sockets */
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
}

static void test_thousand_concurrent_gets_all_answered(void **state)
{
	static struct raw_conn c[N_BURST];
	unsigned n_ok = 0, n_refused = 0;
	int before, after = -1;

	(void)state;
	raise_nofile(N_BURST + 64);
	before = raw_count_fds(H.pid);
	for (size_t i = 0; i < N_BURST; i++)
		n_refused += raw_connect(&c[i], H.api_socket, RAW_GET("/1.0")) == -EAGAIN;
	(void)raw_run(c, N_BURST, raw_now_ns() + 20000000000ULL);
	for (size_t i = 0; i < N_BURST; i++) {
		n_ok += c[i].status == 200;
		raw_close(&c[i]);
	}
	for (int i = 0; i < 100 && (after = raw_count_fds(H.pid)) > before; i++)
		usleep(50000);
	fprintf(stderr, "# %d GETs at once: %u answered 200, %u refused at connect; daemon fds "
		"%d before, %d after\n", N_BURST, n_ok, n_refused, before, after);
	assert_int_equal(n_ok, N_BURST);
	assert_true(after <= before);
	assert_quiet_log();
}

int main(void)
{
	static const char *const args[] = { "--api-socket-mode", "0666", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dawdlers_do_not_lock_out_root),
		cmocka_unit_test(test_slowloris_cut_at_the_deadline),
		cmocka_unit_test(test_thousand_concurrent_gets_all_answered),
	};
	int r = harness_main_setup(&H, args);

	if (r)
		return r;
	/* the socket is 0666; nobody must also reach it inside the runtime directory */
	if (chmod(H.dir, 0755) < 0) {
		harness_cleanup(&H);
		return 1;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return harness_main_teardown(&H, cmocka_run_group_tests(tests, NULL, NULL));
}
