/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for hostile bytes in requests, against the real daemon
 * (--log-level debug, so GETs are logged too):
 *  - a URL carrying a newline and a "<0>" priority forges no log line;
 *  - bytes that are not UTF-8 (in the path, a query argument, the method, a
 *    header) and echoes cut in the middle of a character get a 4xx whose
 *    message is valid UTF-8, never a 503.
 * The harness parses every JSON reply with jansson, which refuses invalid
 * UTF-8: reply_is_error() failing on a missing body is how a bad echo shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/escape.h"
#include "req.h"

struct harness H;

/* @n copies of @unit after @prefix, in a static buffer. */
static const char *repeat(const char *prefix, const char *unit, size_t n)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s", prefix);
	for (size_t i = 0; i < n && strlen(buf) + strlen(unit) < sizeof(buf); i++)
		strcat(buf, unit);
	return buf;
}

/* The daemon log once it contains @needle (the reply can overtake the log line). */
static char *log_with(const char *needle)
{
	for (int i = 0; i < 250; i++) {
		char *log = harness_read_file(H.log_path, NULL);

		if (log && strstr(log, needle))
			return log;
		free(log);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
	harness_dump_log(&H);
	fail_msg("'%s' never reached the daemon log", needle);
	return NULL;
}

/*
 * Every line starts with a priority the daemon chose and is printable UTF-8;
 * the test's "forged" text shows only inside the daemon's own request lines.
 */
static void assert_log_lines_are_own(const char *log)
{
	for (const char *line = log; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char copy[2048];

		snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
		if (len < 3 || line[0] != '<' || !strchr("34567", line[1]) || line[2] != '>' ||
		    !escape_is_clean(line, len))
			fail_msg("foreign log line: '%s'", copy);
		if (strstr(copy, "forged") && strncmp(copy, "<7>API GET ", 11) != 0 &&
		    strncmp(copy, "<6>API POST ", 12) != 0)
			fail_msg("forged log line: '%s'", copy);
		line += len + (end ? 1 : 0);
	}
}

static void test_url_cannot_forge_a_log_line(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *get =
		req("GET", "/1.0/%0A%3C0%3Eforged-get%1B%5B2J", NULL);
	_cleanup_(http_reply_freep) struct http_reply *post =
		req("POST", "/1.0/%0D%0A%3C3%3Eforged-post%C2%9B", "{}");
	_cleanup_free_ char *log = NULL;

	(void)state;
	assert_true(reply_is_error(get, 404, "\\x0a<0>forged-get\\x1b[2J"));
	assert_true(reply_is_error(post, 404, NULL));
	free(log_with("forged-get"));
	log = log_with("forged-post");
	assert_non_null(strstr(log, "API GET /1.0/\\x0a<0>forged-get\\x1b[2J uid=0"));
	assert_non_null(strstr(log, "API POST /1.0/\\x0d\\x0a<3>forged-post\\xc2\\x9b uid=0"));
	assert_log_lines_are_own(log);
}

static void test_invalid_utf8_in_path_404(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/%FF", NULL);
	_cleanup_free_ char *log = NULL;

	(void)state;
	assert_true(reply_is_error(r, 404, "not found: '/\\xff'"));
	log = log_with("API GET /\\xff uid=0");
	assert_log_lines_are_own(log);
}

static void test_invalid_utf8_in_name_400(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/containers/a%FFb", NULL);

	(void)state;
	assert_true(reply_is_error(r, 400, "invalid container name 'a\\xffb'"));
}

static void test_invalid_utf8_in_query_400(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r =
		req("GET", "/1.0/containers?recursion=%FF%0A", NULL);
	_cleanup_(http_reply_freep) struct http_reply *c = req("POST", "/1.0/containers",
							       "{\"name\":\"h1\"}");
	_cleanup_(http_reply_freep) struct http_reply *f = NULL;

	(void)state;
	assert_true(reply_is_error(r, 400, "invalid recursion '\\xff\\x0a'"));
	assert_int_equal(c->status, 201);
	f = req("GET", "/1.0/containers/h1/seccomp?format=%E2%82", NULL);
	assert_true(reply_is_error(f, 400, "unknown format '\\xe2\\x82'"));
	http_reply_free(TAKE_PTR(c));
	c = req("DELETE", "/1.0/containers/h1", NULL);
	assert_int_equal(c->status, 200);
}

static void test_invalid_utf8_in_method_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("G\xff" "T", "/1.0", NULL);

	(void)state;
	assert_true(reply_is_error(r, 405, "method 'G\\xffT' not allowed on '/1.0'"));
}

static void test_invalid_utf8_in_if_match_412(void **state)
{
	static const char *const headers[] = { "If-Match: \"\xff\xfe\"", NULL };
	_cleanup_(http_reply_freep) struct http_reply *c = req("POST", "/1.0/containers",
							       "{\"name\":\"h2\"}");
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	assert_int_equal(c->status, 201);
	r = req_h("PUT", "/1.0/containers/h2", "{\"config\":{}}", headers);
	assert_true(reply_is_error(r, 412, "If-Match '\"\\xff\\xfe\"'"));
	http_reply_free(TAKE_PTR(c));
	c = req("DELETE", "/1.0/containers/h2", NULL);
	assert_int_equal(c->status, 200);
}

/* The echo of a long unknown key is cut on a character boundary, with "...". */
static void test_unknown_key_echo_cut_on_a_character(void **state)
{
	char body[4096], expect[512];
	const char *key = repeat("security.syscalls.intercept.", "\xe2\x82\xac", 60);
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	snprintf(body, sizeof(body), "{\"name\":\"h3\",\"config\":{\"%s\":\"true\"}}", key);
	r = req("POST", "/1.0/containers", body);
	/* 28 ASCII bytes + 33 whole euro signs fit in 128, then the dots */
	snprintf(expect, sizeof(expect), "unknown configuration key '%s...'",
		 repeat("security.syscalls.intercept.", "\xe2\x82\xac", 33));
	assert_true(reply_is_error(r, 400, expect));
	assert_int_equal(harness_count_containers(&H), 0);
}

static void test_unknown_field_echo_cut_on_a_character(void **state)
{
	char body[4096], expect[512];
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	snprintf(body, sizeof(body), "{\"name\":\"h4\",\"%s\":1}", repeat("a", "\xc3\xa9", 80));
	r = req("POST", "/1.0/containers", body);
	/* "a" + 31 whole é (63 bytes) fit in 64: the 32nd would be split */
	snprintf(expect, sizeof(expect), "unknown field '%s...'", repeat("a", "\xc3\xa9", 31));
	assert_true(reply_is_error(r, 400, expect));
	assert_int_equal(harness_count_containers(&H), 0);
}

/* A long value echoed in a message longer than the message buffer. */
static void test_long_value_echo_cut_on_a_character(void **state)
{
	char body[8192];
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	snprintf(body, sizeof(body),
		 "{\"config\":{\"security.syscalls.intercept.mount.fuse\":\"ext4=%s\"}}",
		 repeat("", "\xe2\x82\xac", 1000));
	r = req("POST", "/1.0/containers", "{\"name\":\"h5\"}");
	assert_int_equal(r->status, 201);
	http_reply_free(TAKE_PTR(r));
	r = req("PATCH", "/1.0/containers/h5", body);
	assert_true(reply_is_error(r, 400, "invalid FUSE binary '\xe2\x82\xac"));
	http_reply_free(TAKE_PTR(r));
	/* 4-byte characters: the old 255-byte message cut fell inside one */
	snprintf(body, sizeof(body), "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"%s\"}}",
		 repeat("", "\xf0\x9d\x84\x9e", 100));
	r = req("PATCH", "/1.0/containers/h5", body);
	assert_true(reply_is_error(r, 400, "invalid boolean '\xf0\x9d\x84\x9e"));
	http_reply_free(TAKE_PTR(r));
	r = req("GET", "/1.0/containers/h5", NULL);
	assert_int_equal(json_object_size(json_object_get(reply_meta(r), "config")), 0);
	http_reply_free(TAKE_PTR(r));
	r = req("DELETE", "/1.0/containers/h5", NULL);
	assert_int_equal(r->status, 200);
}

int main(void)
{
	static const char *const args[] = { "--log-level", "debug", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_cannot_forge_a_log_line),
		cmocka_unit_test(test_invalid_utf8_in_path_404),
		cmocka_unit_test(test_invalid_utf8_in_name_400),
		cmocka_unit_test(test_invalid_utf8_in_query_400),
		cmocka_unit_test(test_invalid_utf8_in_method_405),
		cmocka_unit_test(test_invalid_utf8_in_if_match_412),
		cmocka_unit_test(test_unknown_key_echo_cut_on_a_character),
		cmocka_unit_test(test_unknown_field_echo_cut_on_a_character),
		cmocka_unit_test(test_long_value_echo_cut_on_a_character),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), args, NULL);
}
