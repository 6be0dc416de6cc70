/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl against a scripted server (fake_http.h), for what the real
 * daemon cannot be made to do on demand: an event stream of `monitor` cut
 * in the middle of an event and carrying hostile text and garbage (the real
 * stream is followed in test_cli_live.c), an ETag that changes under `set`
 * once and twice, and answers that are not the API's envelope.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli_run.h"
#include "daemon/macro.h"
#include "fake_http.h"

static char dir[64];

#define CHUNKED_HEAD                                                                               \
	"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"                               \
	"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
#define LAST_CHUNK "0\r\n\r\n"

#define EVENT1                                                                                     \
	"{\"type\":\"lifecycle\",\"timestamp\":\"2026-12-01T10:00:00.5Z\","                        \
	"\"metadata\":{\"action\":\"container-created\",\"container\":\"c 1\"}}\n"
#define EVENT2_A "{\"type\":\"lifecycle\",\"timestamp\":\"2026-12-01T10:00:01Z\",\"meta"
#define EVENT2_B                                                                                   \
	"data\":{\"action\":\"container-updated\",\"container\":\"c 1\","                          \
	"\"note\":\"\\u001b[2J\\nforged\"}}\n"

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

/* @head, then one chunk of each of @chunks, then @tail, framed as Transfer-Encoding: chunked; malloc'd. */
static char *chunked(const char *head, const char *const *chunks, const char *tail)
{
	char *out = strdup(head), *joined;

	for (; *chunks; chunks++) {
		assert_true(asprintf(&joined, "%s%zx\r\n%s\r\n", out, strlen(*chunks), *chunks) > 0);
		free(out);
		out = joined;
	}
	assert_true(asprintf(&joined, "%s%s", out, tail) > 0);
	free(out);
	return joined;
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/icd-cli-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_cli_monitor_prints_each_event_as_it_arrives(void **state)
{
	_cleanup_free_ char *first = chunked(CHUNKED_HEAD, (const char *const[]){ EVENT1, NULL }, "");
	_cleanup_free_ char *half = chunked("", (const char *const[]){ EVENT2_A, NULL }, "");
	_cleanup_free_ char *rest =
		chunked("", (const char *const[]){ EVENT2_B, "\n", NULL }, LAST_CHUNK);
	const struct fake_step steps[] = { { { first, half, rest } } };
	struct fake_http f;
	char line[512];
	int out, status;
	pid_t pid;

	(void)state;
	fake_http_start(&f, dir, steps, 1);
	pid = cli_spawn((const char *const[]){ "--socket", f.path, "monitor", "--type", "lifecycle",
					       "--container", "c 1", NULL },
			&out);
	/* the first event is printed while the stream is still open */
	assert_true(read_line_within(out, line, sizeof(line), 10000));
	assert_string_equal(line, "2026-12-01T10:00:00.5Z lifecycle container-created container=c 1");
	fake_http_release(&f); /* half of the second event */
	fake_http_release(&f); /* its other half, a keep-alive line, the end */
	assert_true(read_line_within(out, line, sizeof(line), 10000));
	/* the terminal sees the escape sequence and the newline as text */
	assert_string_equal(line, "2026-12-01T10:00:01Z lifecycle container-updated container=c 1 "
				  "note=\\x1b[2J\\x0aforged");
	status = cli_wait(pid, false);
	close(out);
	fake_http_stop(&f);
	assert_int_equal(status, 0);
	assert_int_equal(f.n_requests, 1);
	assert_contains(f.requests[0], "GET /1.0/events?type=lifecycle&container=c%201 HTTP/1.1\r\n");
}

static void test_cli_monitor_json_and_yaml(void **state)
{
	_cleanup_free_ char *with_garbage = chunked(
		CHUNKED_HEAD, (const char *const[]){ EVENT1, "garbage", "\n", NULL }, LAST_CHUNK);
	_cleanup_free_ char *one =
		chunked(CHUNKED_HEAD, (const char *const[]){ EVENT1, NULL }, LAST_CHUNK);
	const struct fake_step steps[] = { { { with_garbage } }, { { one } } };
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_t *ev, *expect = json_loads(EVENT1, 0, NULL);
	struct fake_http f;

	(void)state;
	fake_http_start(&f, dir, steps, 2);
	CLI(&r, "--socket", f.path, "--format", "json", "monitor");
	assert_int_equal(r.status, 0);
	ev = json_loads(r.out, 0, NULL);
	assert_true(json_equal(ev, expect));
	assert_ptr_equal(strchr(r.out, '\n'), r.out + strlen(r.out) - 1); /* one line */
	/* a line that is not an event is said and skipped */
	assert_contains(r.err, "Warning: skipping a line that is not an event: garbage");
	cli_result_clear(&r);
	CLI(&r, "--socket", f.path, "--format", "yaml", "monitor");
	fake_http_stop(&f);
	assert_contains(f.requests[0], "GET /1.0/events HTTP/1.1\r\n");
	json_decref(ev);
	json_decref(expect);
	if (r.status == 2 && strstr(r.err, "without YAML support"))
		skip();
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "---\ntype: lifecycle\ntimestamp: \"2026-12-01T10:00:00.5Z\"\n"
				   "metadata:\n  action: container-created\n  container: \"c 1\"\n");
}

#define JSON_HEAD(status) "HTTP/1.1 " status "\r\nContent-Type: application/json\r\nConnection: close\r\n"
#define CONTAINER_REPLY(etag, config)                                                              \
	JSON_HEAD("200 OK") "ETag: \"" etag "\"\r\n\r\n"                                           \
			    "{\"type\":\"sync\",\"status\":\"Success\",\"status_code\":200,"       \
			    "\"operation\":\"\",\"error_code\":0,\"error\":\"\",\"metadata\":"     \
			    "{\"name\":\"c1\",\"config\":" config ",\"etag\":\"" etag "\"}}"
#define STALE_REPLY                                                                                \
	JSON_HEAD("412 Precondition Failed")                                                       \
	"\r\n{\"type\":\"error\",\"status\":\"\",\"status_code\":0,\"operation\":\"\","            \
	"\"error_code\":412,\"error\":\"ETag doesn't match\",\"metadata\":null}"

static void test_cli_set_reads_again_after_a_412(void **state)
{
	static const struct fake_step steps[] = {
		{ { CONTAINER_REPLY("e1", "{\"security.syscalls.intercept.mknod\":\"true\"}") } },
		{ { STALE_REPLY } },
		/* someone else turned sysinfo on in between */
		{ { CONTAINER_REPLY("e2", "{\"security.syscalls.intercept.mknod\":\"true\","
					  "\"security.syscalls.intercept.sysinfo\":\"true\"}") } },
		{ { CONTAINER_REPLY("e3", "{}") } },
	};
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *body = NULL, *config = NULL;
	struct fake_http f;

	(void)state;
	fake_http_start(&f, dir, steps, 4);
	CLI(&r, "--socket", f.path, "set", "c1", "sched_setscheduler=true");
	fake_http_stop(&f);
	assert_int_equal(r.status, 0);
	assert_int_equal(f.n_requests, 4);
	assert_contains(f.requests[0], "GET /1.0/containers/c1 HTTP/1.1\r\n");
	assert_contains(f.requests[1], "PUT /1.0/containers/c1 HTTP/1.1\r\n");
	assert_contains(f.requests[1], "If-Match: \"e1\"\r\n");
	assert_contains(f.requests[3], "If-Match: \"e2\"\r\n");
	/* the second PUT is built on the config read again: sysinfo is kept */
	body = json_loads(strstr(f.requests[3], "\r\n\r\n") + 4, 0, NULL);
	config = json_incref(json_object_get(body, "config"));
	assert_int_equal(json_object_size(config), 3);
	assert_non_null(json_object_get(config, "security.syscalls.intercept.sysinfo"));
	assert_non_null(json_object_get(config, "security.syscalls.intercept.sched_setscheduler"));
}

static void test_cli_set_gives_up_after_a_second_412(void **state)
{
	static const struct fake_step steps[] = {
		{ { CONTAINER_REPLY("e0", "{}") } }, /* for the unset */
		{ { CONTAINER_REPLY("e1", "{}") } },
		{ { STALE_REPLY } },
		{ { CONTAINER_REPLY("e2", "{}") } },
		{ { STALE_REPLY } },
		/* served only if a third attempt were made */
		{ { CONTAINER_REPLY("e3", "{}") } },
	};
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	struct fake_http f;

	(void)state;
	fake_http_start(&f, dir, steps, 6);
	CLI(&r, "--socket", f.path, "unset", "c1", "mknod");
	assert_int_equal(r.status, 1); /* mknod is not set: nothing is sent */
	assert_contains(r.err, "is not set on 'c1'");
	cli_result_clear(&r);
	CLI(&r, "--socket", f.path, "set", "c1", "mknod=true");
	fake_http_stop(&f);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: 'c1' was changed by another client while this command was "
			       "changing it, twice; nothing was changed (ETag doesn't match)");
	assert_string_equal(r.out, "");
	assert_int_equal(f.n_requests, 5); /* the unset's GET, then GET PUT GET PUT */
	assert_contains(f.requests[4], "If-Match: \"e2\"\r\n");
}

static void test_cli_answers_that_are_not_the_api(void **state)
{
	static const struct fake_step steps[] = {
		/* what libmicrohttpd sends for headers too large: HTML */
		{ { "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/html\r\n"
		    "Connection: close\r\nContent-Length: 33\r\n\r\n<html><body>Too big</body></html>" } },
		/* a 200 that is not JSON */
		{ { "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
		    "Content-Length: 5\r\n\r\nhello" } },
		/* not HTTP at all */
		{ { "garbage\r\n\r\n" } },
	};
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	struct fake_http f;

	(void)state;
	fake_http_start(&f, dir, steps, 3);
	CLI(&r, "--socket", f.path, "info");
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: the daemon answered HTTP 431: <html><body>Too big</body></html>");
	cli_result_clear(&r);
	CLI(&r, "--socket", f.path, "list");
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "is not a JSON envelope");
	cli_result_clear(&r);
	CLI(&r, "--socket", f.path, "show", "c1");
	fake_http_stop(&f);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: talking to interceptd at");
	assert_string_equal(r.out, "");
}

/* A daemon older than GET /1.0/events: monitor says so. */
static void test_cli_monitor_on_a_daemon_without_events(void **state)
{
	static const char body[] = "{\"type\":\"error\",\"status\":\"\",\"status_code\":0,"
				   "\"operation\":\"\",\"error_code\":404,"
				   "\"error\":\"not found: '/1.0/events'\",\"metadata\":null}";
	_cleanup_free_ char *answer = NULL;
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	struct fake_step steps[1] = { 0 };
	struct fake_http f;

	(void)state;
	assert_true(asprintf(&answer, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
			     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			     strlen(body), body) > 0);
	steps[0].parts[0] = answer;
	fake_http_start(&f, dir, steps, 1);
	CLI(&r, "--socket", f.path, "monitor");
	fake_http_stop(&f);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "not found");
	assert_contains(r.err, "no event stream yet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_monitor_prints_each_event_as_it_arrives),
		cmocka_unit_test(test_cli_monitor_json_and_yaml),
		cmocka_unit_test(test_cli_set_reads_again_after_a_412),
		cmocka_unit_test(test_cli_set_gives_up_after_a_second_412),
		cmocka_unit_test(test_cli_answers_that_are_not_the_api),
		cmocka_unit_test(test_cli_monitor_on_a_daemon_without_events),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
