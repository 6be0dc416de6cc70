/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for --metrics-address: the real daemon serving
 * /1.0/metrics and /healthz read-only over TCP, with libcurl for what a
 * scraper does and raw sockets for what a hostile peer does: the admin API's
 * routes are not there, other methods get 405, malformed and oversized heads
 * 400 and 431, clients that send nothing or trickle are cut at the deadline
 * without holding the listener, and a bad address or a port in use refuses
 * the start with a clear error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/metrics_http.h"
#include "api/metrics_listener.h"
#include "harness.h"
#include "rawhttp.h"
#include "tcp_ports.h"

static struct harness H;
static char base_url[64]; /* http://127.0.0.1:PORT */
static unsigned port;

static struct http_reply *tcp(const char *method, const char *path, const char *body)
{
	struct http_reply *rep = NULL;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base_url, path);
	assert_int_equal(http_request(NULL, method, url, body, body ? strlen(body) : 0, NULL, &rep),
			 0);
	return rep;
}

/* A blocking TCP connection to the listener with 10 s timeouts. */
static int tcp_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read until the server closes; the answer (NUL-terminated, cut at @size) and its length. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	char scratch[4096];

	while ((n = recv(fd, scratch, sizeof(scratch), 0)) > 0) {
		size_t k = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;

		memcpy(buf + len, scratch, k);
		len += k;
	}
	buf[len] = '\0';
	return len;
}

/* Send @req (@len bytes) on a fresh connection; the status of the answer, 0 if none. */
static long raw_status(const char *req, size_t len)
{
	char answer[2048];
	long status = 0;
	int fd = tcp_connect();

	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	read_all(fd, answer, sizeof(answer));
	close(fd);
	if (sscanf(answer, "HTTP/1.1 %ld ", &status) != 1)
		return 0;
	return status;
}

static double now_s(void)
{
	return (double)raw_now_ns() / 1e9;
}

static void test_metrics_get_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = tcp("GET", "/1.0/metrics", NULL);

	(void)state;
	assert_int_equal(r->status, 200);
	assert_string_equal(r->content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(r->data, "\ninterceptd_build_info{version=\""));
	assert_non_null(strstr(r->data, "\nprocess_cpu_seconds_total "));
	assert_non_null(strstr(r->data, "\nprocess_max_fds "));
	assert_non_null(strstr(r->data, "\ninterceptd_containers 1\n"));
	assert_non_null(strstr(r->data, "interceptd_container_key_enabled{container=\"c1\","
					"key=\"security.syscalls.intercept.sysinfo\"} 1\n"));
	assert_non_null(strstr(r->data, "interceptd_container_restart_required{container=\"c1\"} 0\n"));
}

static void test_healthz_get_and_head(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *get = tcp("GET", "/healthz", NULL);
	_cleanup_(http_reply_freep) struct http_reply *head = tcp("HEAD", "/healthz", NULL);
	_cleanup_(http_reply_freep) struct http_reply *query = tcp("GET", "/healthz?x=1", NULL);
	int fd = tcp_connect();
	char answer[1024];

	(void)state;
	assert_int_equal(get->status, 200);
	assert_string_equal(get->data, "ok\n");
	assert_int_equal(head->status, 200);
	assert_int_equal(query->status, 200);
	/* HEAD: GET's length, no body (curl would not tell us about extra bytes) */
	send(fd, "HEAD /1.0/metrics HTTP/1.1\r\n\r\n", 30, MSG_NOSIGNAL);
	read_all(fd, answer, sizeof(answer));
	close(fd);
	assert_non_null(strstr(answer, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(answer, "Content-Length: "));
	assert_string_equal(answer + strlen(answer) - 4, "\r\n\r\n");
}

/* Nothing of the admin API is reachable, and a write attempt changes nothing. */
static void test_admin_routes_404(void **state)
{
	static const char *const reads[] = {
		"/1.0", "/1.0/containers", "/1.0/containers/c1", "/1.0/containers/c1/state",
		"/1.0/metadata/configuration", "/1.0/events", "/", "/metrics",
	};
	_cleanup_(http_reply_freep) struct http_reply *post = NULL, *del = NULL, *check = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = tcp("GET", reads[i], NULL);

		if (r->status != 404 || strstr(r->data, "c1"))
			fail_msg("GET %s over TCP: %ld '%s'", reads[i], r->status, r->data);
	}
	post = tcp("POST", "/1.0/containers", "{\"name\":\"evil\",\"config\":{}}");
	del = tcp("DELETE", "/1.0/containers/c1", NULL);
	assert_int_equal(post->status, 404);
	assert_int_equal(del->status, 404);
	assert_int_equal(harness_request(&H, "GET", "/1.0/containers/evil", NULL, &check), 0);
	assert_int_equal(check->status, 404);
	assert_int_equal(harness_count_containers(&H), 1);
}

static void test_other_methods_405(void **state)
{
	static const char *const methods[] = { "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	static const char head[] = "POST /healthz HTTP/1.1\r\nContent-Length: 262000\r\n\r\n";
	_cleanup_free_ char *big = malloc(sizeof(head) + 64 * 1024);

	(void)state;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = tcp(methods[i], "/1.0/metrics", "{}");

		if (r->status != 405 || !r->allow || strcmp(r->allow, "GET, HEAD") != 0)
			fail_msg("%s /1.0/metrics: %ld, Allow '%s'", methods[i], r->status,
				 r->allow ? r->allow : "(none)");
	}
	/* a body the listener never reads, sent before the answer is read: the 405 still
	 * arrives whole instead of being destroyed by a reset */
	assert_non_null(big);
	memcpy(big, head, strlen(head));
	memset(big + strlen(head), 'x', 64 * 1024);
	for (int round = 0; round < 5; round++)
		assert_int_equal(raw_status(big, strlen(head) + 64 * 1024), 405);
}

static void test_hostile_heads(void **state)
{
	static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
	static const char nul[] = "GET /healthz\0 HTTP/1.1\r\n\r\n";
	char huge[METRICS_HEAD_MAX + 100];

	(void)state;
	assert_int_equal(raw_status(tls_hello, sizeof(tls_hello) - 1), 400);
	assert_int_equal(raw_status(nul, sizeof(nul) - 1), 400);
	assert_int_equal(raw_status("GET /healthz\r\n\r\n", 16), 400);
	assert_int_equal(raw_status("GET /healthz HTTP/9.9\r\n\r\n", 25), 400);
	assert_int_equal(raw_status("GET /1.0/../healthz HTTP/1.1\r\n\r\n", 33), 404);
	/* a head that never ends within the limit */
	memcpy(huge, "GET /healthz HTTP/1.1\r\nX: ", 26);
	memset(huge + 26, 'a', sizeof(huge) - 26);
	assert_int_equal(raw_status(huge, sizeof(huge)), 431);
	/* the listener still serves */
	assert_int_equal(raw_status("GET /healthz HTTP/1.1\r\n\r\n", 25), 200);
}

/*
 * Connections that never send a request hold no slot against a scraper: with
 * every slot taken by silent ones (and more waiting in the backlog), a scrape
 * is answered at once, each silent one is closed unanswered, the admin API is
 * not slowed, and the daemon keeps no fd of theirs.
 */
static void test_silent_clients_do_not_keep_a_scraper_out(void **state)
{
	enum { N_SILENT = METRICS_CONNECTIONS_MAX + 4 };
	int silent[N_SILENT], fds_before = raw_count_fds(H.pid);
	_cleanup_(http_reply_freep) struct http_reply *api = NULL, *scrape = NULL;
	double start = now_s(), waited;
	char c;

	(void)state;
	for (size_t i = 0; i < N_SILENT; i++)
		silent[i] = tcp_connect();
	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &api), 0);
	assert_int_equal(api->status, 200);
	assert_true(now_s() - start < 2.0);
	usleep(600 * 1000); /* every silent one is past the grace a connection has to ask */
	start = now_s();
	scrape = tcp("GET", "/1.0/metrics", NULL);
	waited = now_s() - start;
	fprintf(stderr, "# a scrape beside %d silent connections: %.3f s\n", N_SILENT, waited);
	assert_int_equal(scrape->status, 200);
	assert_true(waited < METRICS_DEADLINE_MS / 1000.0 / 2); /* not after a deadline round */
	for (size_t i = 0; i < N_SILENT; i++) {
		/* every silent one is closed by the server, none answered */
		assert_int_equal(recv(silent[i], &c, 1, 0), 0);
		close(silent[i]);
	}
	for (int i = 0; i < 50 && raw_count_fds(H.pid) > fds_before; i++)
		usleep(100 * 1000);
	assert_true(raw_count_fds(H.pid) <= fds_before);
}

/* A client sending its request a byte at a time is cut at the deadline all the same. */
static void test_trickler_cut_at_deadline(void **state)
{
	/* counted before connecting: the daemon may not have accepted the connection yet */
	int fds_before = raw_count_fds(H.pid), trickler = tcp_connect();
	double start = now_s(), cut_at = 0;
	char c;

	(void)state;
	for (int i = 0; i < 40 && send(trickler, "G", 1, MSG_NOSIGNAL) == 1; i++) {
		struct pollfd p = { .fd = trickler, .events = POLLIN };

		if (poll(&p, 1, 300) > 0 && recv(trickler, &c, 1, MSG_DONTWAIT) <= 0) {
			cut_at = now_s() - start;
			break;
		}
	}
	close(trickler);
	assert_true(cut_at > METRICS_DEADLINE_MS / 1000.0 - 1.0);
	assert_true(cut_at < METRICS_DEADLINE_MS / 1000.0 + 2.0);
	for (int i = 0; i < 50 && raw_count_fds(H.pid) > fds_before; i++)
		usleep(100 * 1000);
	assert_true(raw_count_fds(H.pid) <= fds_before);
}

/* A second daemon on the same paths' neighbours, expected to refuse its start. */
static void expect_refused_start(const char *address, int exit_code, const char *needle)
{
	const char *const args[] = { "--metrics-address", address, NULL };
	struct harness h = { 0 };
	_cleanup_free_ char *log = NULL;

	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(harness_spawn(&h, args), 0);
	assert_int_equal(harness_wait_exit(&h, 10000), 0);
	log = harness_read_file(h.log_path, NULL);
	if (!WIFEXITED(h.exit_status) || WEXITSTATUS(h.exit_status) != exit_code || !log ||
	    !strstr(log, needle))
		fail_msg("'%s': wait status %#x, log '%s', expected exit %d and '%s'", address,
			 h.exit_status, log ? log : "", exit_code, needle);
	harness_cleanup(&h);
}

static void test_bad_address_refuses_start(void **state)
{
	char in_use[64];

	(void)state;
	expect_refused_start("localhost:9464", 2, "Invalid --metrics-address: 'localhost:9464'");
	expect_refused_start("127.0.0.1:0", 2, "the port must be a number from 1 to 65535");
	expect_refused_start("::1:9464", 2, "an IPv6 address goes in brackets");
	snprintf(in_use, sizeof(in_use), "127.0.0.1:%u", port);
	expect_refused_start(in_use, 1, "Cannot listen on --metrics-address");
}

static void test_ipv6_loopback(void **state)
{
	unsigned p6 = tcp_free_port(AF_INET6);
	struct harness h = { 0 };
	char address[64], url[96];
	const char *const args[] = { "--metrics-address", address, NULL };
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	if (!p6)
		skip(); /* no IPv6 loopback on this machine */
	snprintf(address, sizeof(address), "[::1]:%u", p6);
	snprintf(url, sizeof(url), "http://[::1]:%u/healthz", p6);
	assert_int_equal(harness_init(&h), 0);
	assert_int_equal(harness_start(&h, args), 0);
	assert_int_equal(http_request(NULL, "GET", url, NULL, 0, NULL, &r), 0);
	assert_int_equal(r->status, 200);
	assert_int_equal(WEXITSTATUS(harness_stop(&h, SIGTERM)), 0);
	harness_cleanup(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_get_200),
		cmocka_unit_test(test_healthz_get_and_head),
		cmocka_unit_test(test_admin_routes_404),
		cmocka_unit_test(test_other_methods_405),
		cmocka_unit_test(test_hostile_heads),
		cmocka_unit_test(test_silent_clients_do_not_keep_a_scraper_out),
		cmocka_unit_test(test_trickler_cut_at_deadline),
		cmocka_unit_test(test_bad_address_refuses_start),
		cmocka_unit_test(test_ipv6_loopback),
	};
	char address[64];
	const char *const args[] = { "--metrics-address", address, NULL };
	int r, n_failed;

	port = tcp_free_port(AF_INET);
	if (!port) {
		fprintf(stderr, "# no free TCP port on 127.0.0.1, skipping\n");
		return 77;
	}
	snprintf(address, sizeof(address), "127.0.0.1:%u", port);
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", port);
	r = harness_main_setup(&H, args);
	if (r)
		return r;
	{
		_cleanup_(http_reply_freep) struct http_reply *c1 = NULL;

		if (harness_request(&H, "POST", "/1.0/containers",
				    "{\"name\":\"c1\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
				    &c1) < 0 || c1->status != 201) {
			harness_main_teardown(&H, 1);
			return 1;
		}
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	n_failed = cmocka_run_group_tests(tests, NULL, NULL);
	return harness_main_teardown(&H, n_failed);
}
