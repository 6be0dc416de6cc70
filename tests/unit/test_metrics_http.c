/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for api/metrics_http.c, the pure half of the --metrics-address
 * listener: which addresses start it, which request heads are served, and the
 * exact answer bytes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/metrics_http.h"

static void test_metrics_address_parse_accepts_ipv4_and_bracketed_ipv6(void **state)
{
	struct sockaddr_storage sa;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
	struct in6_addr loopback6 = IN6ADDR_LOOPBACK_INIT;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(metrics_address_parse("127.0.0.1:9464", &sa, &len, NULL), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(in4->sin_port), 9464);
	assert_int_equal(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);

	assert_int_equal(metrics_address_parse("0.0.0.0:65535", &sa, &len, NULL), 0);
	assert_int_equal(ntohs(in4->sin_port), 65535);

	assert_int_equal(metrics_address_parse("[::1]:1", &sa, &len, NULL), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(in6->sin6_port), 1);
	assert_memory_equal(&in6->sin6_addr, &loopback6, sizeof(loopback6));
}

static void test_metrics_address_parse_refuses_with_a_reason(void **state)
{
	static const struct {
		const char *text, *reason;
	} bad[] = {
		{ "", "empty address" },
		{ "127.0.0.1", "expected HOST:PORT" },
		{ ":9464", "no address" },
		{ "[]:9464", "no address" },
		{ "localhost:9464", "is not an IPv4 address" },
		{ "::1:9464", "goes in brackets" },
		{ "[::1]", "expected [IPV6]:PORT" },
		{ "[::1]9464", "expected [IPV6]:PORT" },
		{ "[127.0.0.1]:9464", "is not an IPv6 address" },
		{ "[fe80::1%lo]:9464", "is not an IPv6 address" },
		{ "127.0.0.1:0", "from 1 to 65535" },
		{ "127.0.0.1:65536", "from 1 to 65535" },
		{ "127.0.0.1:123456", "from 1 to 65535" },
		{ "127.0.0.1:+80", "from 1 to 65535" },
		{ "127.0.0.1:80 ", "from 1 to 65535" },
		{ "127.0.0.1:", "from 1 to 65535" },
		{ "1.2.3:80", "is not an IPv4 address" },
		{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1]:80", "too long" },
	};
	struct sockaddr_storage sa;
	socklen_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct icd_error err = { 0 };
		int r = metrics_address_parse(bad[i].text, &sa, &len, &err);

		if (r != -EINVAL || !strstr(err.msg, bad[i].reason))
			fail_msg("'%s': %d '%s', expected '%s'", bad[i].text, r, err.msg,
				 bad[i].reason);
	}
}

static void test_metrics_http_head_length_finds_the_blank_line(void **state)
{
	static const char crlf[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody";
	static const char lf[] = "GET / HTTP/1.1\nHost: x\n\nbody";

	(void)state;
	assert_int_equal(metrics_http_head_length(crlf, strlen(crlf)), strlen(crlf) - 4);
	assert_int_equal(metrics_http_head_length(lf, strlen(lf)), strlen(lf) - 4);
	assert_int_equal(metrics_http_head_length(crlf, 20), 0);
	assert_int_equal(metrics_http_head_length("GET / HTTP/1.1\r\n\r", 17), 0);
	assert_int_equal(metrics_http_head_length("", 0), 0);
}

static void check(const char *head, unsigned status, enum metrics_route route, bool is_head)
{
	struct metrics_request rq = metrics_http_classify(head, strlen(head));

	if (rq.status != status || rq.route != route || rq.is_head != is_head)
		fail_msg("'%s': status %u route %d head %d, expected %u %d %d", head, rq.status,
			 rq.route, rq.is_head, status, route, is_head);
}

static void test_metrics_http_classify_serves_two_paths(void **state)
{
	(void)state;
	check("GET /1.0/metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, METRICS_ROUTE_METRICS, false);
	check("GET /1.0/metrics?name[]=x HTTP/1.0\r\n\r\n", 200, METRICS_ROUTE_METRICS, false);
	check("HEAD /1.0/metrics HTTP/1.1\r\n\r\n", 200, METRICS_ROUTE_METRICS, true);
	check("GET /healthz HTTP/1.1\n\n", 200, METRICS_ROUTE_HEALTHZ, false);
	check("HEAD /healthz HTTP/1.1\r\n\r\n", 200, METRICS_ROUTE_HEALTHZ, true);
}

static void test_metrics_http_classify_refuses_everything_else(void **state)
{
	(void)state;
	/* the admin API's routes do not exist here */
	check("GET /1.0 HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET /1.0/containers HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("POST /1.0/containers HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("DELETE /1.0/containers/c1 HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("HEAD /1.0/containers HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, true);
	/* near misses of the two paths */
	check("GET /1.0/metrics/ HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET /1.0/metricsx HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET //1.0/metrics HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET /1.0/../1.0/metrics HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET /1.0%2Fmetrics HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	check("GET /HEALTHZ HTTP/1.1\r\n\r\n", 404, METRICS_ROUTE_NONE, false);
	/* other methods on the two paths */
	check("POST /1.0/metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n", 405, METRICS_ROUTE_NONE,
	      false);
	check("PUT /healthz HTTP/1.1\r\n\r\n", 405, METRICS_ROUTE_NONE, false);
	check("get /healthz HTTP/1.1\r\n\r\n", 405, METRICS_ROUTE_NONE, false);
	check("OPTIONS /healthz HTTP/1.1\r\n\r\n", 405, METRICS_ROUTE_NONE, false);
}

static void test_metrics_http_classify_malformed_400(void **state)
{
	static const char nul_in_line[] = "GET /healthz\0 HTTP/1.1\r\n\r\n";
	struct metrics_request rq;

	(void)state;
	check("\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET /healthz\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET  /healthz HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET /healthz HTTP/1.1 \r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET /healthz HTTP/2.0\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET healthz HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET http://x/healthz HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("G:T /healthz HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GETGETGETGETGETGETGET /healthz HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	check("GET /healthz\t HTTP/1.1\r\n\r\n", 400, METRICS_ROUTE_NONE, false);
	rq = metrics_http_classify(nul_in_line, sizeof(nul_in_line) - 1);
	assert_int_equal(rq.status, 400);
}

static void test_metrics_http_response_bytes(void **state)
{
	struct metrics_request get = { .status = 200, .route = METRICS_ROUTE_METRICS };
	struct metrics_request head = { .status = 200, .route = METRICS_ROUTE_METRICS,
					.is_head = true };
	struct metrics_request not_allowed = { .status = 405 };
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(metrics_http_response(&get, "a 1\n", 4, &text, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_non_null(strstr(text, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(text, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(text, "Content-Length: 4\r\n"));
	assert_non_null(strstr(text, "Connection: close\r\n"));
	assert_string_equal(text + len - 8, "\r\n\r\na 1\n");
	free(text);

	/* HEAD: the length of what GET would send, no body */
	assert_int_equal(metrics_http_response(&head, "a 1\n", 4, &text, &len), 0);
	assert_non_null(strstr(text, "Content-Length: 4\r\n"));
	assert_string_equal(text + len - 4, "\r\n\r\n");
	free(text);

	assert_int_equal(metrics_http_response(&not_allowed, "secret", 6, &text, &len), 0);
	assert_non_null(strstr(text, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(text, "Allow: GET, HEAD\r\n"));
	assert_null(strstr(text, "secret"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_address_parse_accepts_ipv4_and_bracketed_ipv6),
		cmocka_unit_test(test_metrics_address_parse_refuses_with_a_reason),
		cmocka_unit_test(test_metrics_http_head_length_finds_the_blank_line),
		cmocka_unit_test(test_metrics_http_classify_serves_two_paths),
		cmocka_unit_test(test_metrics_http_classify_refuses_everything_else),
		cmocka_unit_test(test_metrics_http_classify_malformed_400),
		cmocka_unit_test(test_metrics_http_response_bytes),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
