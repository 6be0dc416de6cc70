/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an operator sees of live traffic, against the real daemon run with
 * --log-format json: `interceptctl metrics` and `state` for a container whose
 * listener a real child handed over (as runc does) and whose sysinfo calls
 * were emulated, and of every container at once; the daemon's log, where
 * every line is one JSON object and the lines about a container (and a
 * syscall) carry them as members, also when a peer's text tries to end a
 * line; and `interceptctl monitor` following the daemon's event stream.
 * Root only (seccomp listeners, /proc/PID/mem).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "peers.h"

#define SOCK "--socket", H.api_socket

/* The whitespace-separated words of the line of @text that contains @needle. */
static size_t words_of_line(const char *text, const char *needle, char words[16][64])
{
	const char *p = strstr(text, needle), *start, *end;
	size_t n = 0;

	assert_non_null(p);
	for (start = p; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(p, '\n');
	for (const char *q = start; q < end && n < 16;) {
		size_t len;

		q += strspn(q, " ");
		len = strcspn(q, " \n");
		if (len == 0)
			break;
		snprintf(words[n++], 64, "%.*s", (int)len, q);
		q += len;
	}
	return n;
}

static void test_cli_metrics_and_state_of_a_live_container(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *j = NULL;
	json_t *sc;
	char words[16][64], pid[16];
	unsigned long total;
	struct child c;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"live1\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "live1");
	wait_listeners("live1", 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(child_sysinfo(&c, &total), 0);
	CLI(&r, SOCK, "metrics", "live1");
	assert_int_equal(r.status, 0);
	assert_int_equal(words_of_line(r.out, "sysinfo", words), 11);
	assert_string_equal(words[0], "live1");
	assert_string_equal(words[1], "1");	 /* listeners */
	assert_string_equal(words[3], "5");	 /* answers */
	assert_string_equal(words[4], "5");	 /* emulated */
	assert_string_equal(words[5], "0");	 /* continued */
	assert_true(strstr(words[8], "s") != NULL); /* a mean duration */
	assert_memory_equal(words[10], "≤", strlen("≤"));
	cli_result_clear(&r);
	CLI(&r, SOCK, "--format", "json", "metrics", "live1");
	assert_int_equal(r.status, 0);
	j = json_loads(r.out, 0, NULL);
	sc = json_array_get(json_object_get(json_array_get(j, 0), "syscalls"), 0);
	assert_string_equal(json_string_value(json_object_get(sc, "syscall")), "sysinfo");
	assert_int_equal(json_integer_value(json_object_get(sc, "emulated")),
			 metric("live1", "sysinfo", "emulated"));
	assert_true(json_real_value(json_object_get(sc, "mean_seconds")) > 0);
	cli_result_clear(&r);
	CLI(&r, SOCK, "state", "live1");
	assert_int_equal(r.status, 0);
	snprintf(pid, sizeof(pid), "%d", (int)c.pid);
	assert_int_equal(words_of_line(r.out, "oci ", words), 3);
	assert_string_equal(words[1], pid);
	assert_int_equal(words_of_line(r.out, "sysinfo", words), 5);
	assert_string_equal(words[1], "5");
	child_stop(&c);
	close(sock);
}

/* @name's child and listener, with @calls emulated sysinfo calls made. */
static int start_counted(struct child *c, const char *name, int calls)
{
	char body[256];
	unsigned long total;
	int sock;

	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
		 name);
	api("POST", "/1.0/containers", body, 201);
	child_start(c);
	sock = oci_handoff_child(c, name);
	wait_listeners(name, 1);
	for (int i = 0; i < calls; i++)
		assert_int_equal(child_sysinfo(c, &total), 0);
	return sock;
}

/* The JSON summary of @name in the array @all, or NULL. */
static const json_t *summary_of(const json_t *all, const char *name)
{
	const json_t *one;
	size_t i;

	json_array_foreach(all, i, one)
		if (strcmp(json_string_value(json_object_get(one, "container")) ?: "", name) == 0)
			return one;
	return NULL;
}

/* Its sysinfo row: one listener, @calls answers, all emulated. */
static void assert_counted(const json_t *one, json_int_t calls)
{
	const json_t *sc = json_array_get(json_object_get(one, "syscalls"), 0);

	assert_non_null(sc);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(one, "listeners"), "oci")),
			 1);
	assert_string_equal(json_string_value(json_object_get(sc, "syscall")), "sysinfo");
	assert_int_equal(json_integer_value(json_object_get(sc, "answers")), calls);
	assert_int_equal(json_integer_value(json_object_get(sc, "emulated")), calls);
}

/* `interceptctl metrics` without a name: a row for every container, each with its own counts. */
static void test_cli_metrics_of_every_container(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *j = NULL;
	char words[16][64];
	struct child a, b;
	int sock_a, sock_b;

	(void)state;
	sock_a = start_counted(&a, "every-a", 2);
	sock_b = start_counted(&b, "every-b", 3);
	CLI(&r, SOCK, "metrics");
	assert_int_equal(r.status, 0);
	assert_int_equal(words_of_line(r.out, "every-a", words), 11);
	assert_string_equal(words[0], "every-a");
	assert_string_equal(words[1], "1"); /* listeners */
	assert_string_equal(words[2], "sysinfo");
	assert_string_equal(words[3], "2"); /* answers */
	assert_string_equal(words[4], "2"); /* emulated */
	assert_int_equal(words_of_line(r.out, "every-b", words), 11);
	assert_string_equal(words[0], "every-b");
	assert_string_equal(words[1], "1");
	assert_string_equal(words[3], "3");
	assert_string_equal(words[4], "3");
	cli_result_clear(&r);
	CLI(&r, SOCK, "--format", "json", "metrics");
	assert_int_equal(r.status, 0);
	j = json_loads(r.out, 0, NULL);
	assert_true(json_is_array(j));
	assert_counted(summary_of(j, "every-a"), 2);
	assert_counted(summary_of(j, "every-b"), 3);
	child_stop(&a);
	child_stop(&b);
	close(sock_a);
	close(sock_b);
	api("DELETE", "/1.0/containers/every-a", NULL, 200);
	api("DELETE", "/1.0/containers/every-b", NULL, 200);
}

/* Every line of the daemon's log, parsed; each must be one JSON object with the three members. */
static json_t *log_lines(void)
{
	_cleanup_free_ char *text = harness_read_file(H.log_path, NULL);
	json_t *lines = json_array();

	assert_non_null(text);
	for (char *p = text, *nl; *p; p = nl + 1) {
		json_error_t err;
		json_t *line;

		nl = strchr(p, '\n');
		assert_non_null(nl); /* every line ends */
		*nl = '\0';
		for (const char *q = p; *q; q++)
			assert_true((unsigned char)*q >= 0x20);
		line = json_loads(p, JSON_REJECT_DUPLICATES, &err);
		if (!json_is_object(line))
			fail_msg("not a JSON object (%s): %s", err.text, p);
		assert_true(json_is_string(json_object_get(line, "time")));
		assert_true(json_is_string(json_object_get(line, "level")));
		assert_true(json_is_string(json_object_get(line, "message")));
		json_array_append_new(lines, line);
	}
	return lines;
}

/* The first line whose @member (NULL: any) equals @value and whose message contains @needle, or NULL. */
static json_t *find_line(json_t *lines, const char *member, const char *value, const char *needle)
{
	json_t *line;
	size_t i;

	json_array_foreach(lines, i, line)
		if ((!member ||
		     strcmp(json_string_value(json_object_get(line, member)) ?: "", value) == 0) &&
		    strstr(json_string_value(json_object_get(line, "message")), needle))
			return line;
	return NULL;
}

static void test_log_json_lines_name_their_container_and_syscall(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *rep = NULL;
	json_auto_t *lines = NULL;
	json_t *went;
	struct child c;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"live2\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	/* a caller killed while its mknodat path is being read: the dispatch line names both */
	child_start(&c);
	sock = oci_handoff_child(&c, "live2");
	wait_listeners("live2", 1);
	assert_int_equal(write(c.ctl, "u", 1), 1);
	sleep_ms(200);
	child_stop(&c);
	close(sock);
	/* a URL that tries to end the line and forge another (the API logs every request) */
	assert_int_equal(harness_request(&H, "GET",
					 "/1.0/containers/x%1b%5b2J%0a%7b%22level%22:%22error%22%7d%ff",
					 NULL, &rep),
			 0);
	assert_int_equal(rep->status, 400);
	sleep_ms(100);
	lines = log_lines();
	assert_non_null(find_line(lines, "container", "live2", "OCI listener attached for 'live2'"));
	went = find_line(lines, "container", "live2", "id=");
	if (!went)
		fail_msg("no dispatch line about live2 in the log");
	assert_non_null(json_object_get(went, "syscall"));
	assert_memory_equal(json_string_value(json_object_get(went, "syscall")), "mknod", 5);
	/* the hostile URL is inside one line's message, escaped as in the text format */
	assert_non_null(find_line(lines, NULL, NULL,
				  "GET /1.0/containers/x\\x1b[2J\\x0a{\"level\":\"error\"}\\xff uid="));
	assert_true(json_array_size(lines) > 5);
}

/* Wait until the daemon has @n event streams open (GET /1.0's events.streams). */
static void wait_event_streams(json_int_t n)
{
	json_int_t now = -1;

	for (int i = 0; i < 100 && now != n; i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = NULL;

		assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &r), 0);
		now = json_integer_value(json_object_get(json_object_get(reply_meta(r), "events"),
							 "streams"));
		if (now != n)
			sleep_ms(50);
	}
	assert_int_equal(now, n);
}

/* `interceptctl monitor` follows the real daemon's stream: each event a line as it happens. */
static void test_cli_monitor_follows_live_events(void **state)
{
	char line[1024], pid[32];
	unsigned long total;
	struct child c;
	int out, sock;
	pid_t mon;

	(void)state;
	mon = cli_spawn((const char *const[]){ SOCK, "monitor", "--type", "lifecycle,listener,audit",
					       "--container", "live3", NULL },
			&out);
	wait_event_streams(1);
	api("POST", "/1.0/containers",
	    "{\"name\":\"live3\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	assert_true(read_line_within(out, line, sizeof(line), 5000));
	assert_non_null(strstr(line, "Z lifecycle container-created container=live3 changed_keys="));
	assert_non_null(strstr(line, "security.syscalls.intercept.sysinfo"));
	child_start(&c);
	sock = oci_handoff_child(&c, "live3");
	snprintf(pid, sizeof(pid), " pid=%d", (int)c.pid);
	assert_true(read_line_within(out, line, sizeof(line), 5000));
	assert_non_null(strstr(line, "Z listener attached container=live3 source=oci"));
	assert_non_null(strstr(line, pid));
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_true(read_line_within(out, line, sizeof(line), 5000));
	assert_non_null(strstr(line, "Z audit syscall container=live3"));
	assert_non_null(strstr(line, "syscall=sysinfo outcome=emulated"));
	assert_int_equal(cli_wait(mon, true), 128 + SIGTERM);
	close(out);
	child_stop(&c);
	close(sock);
	api("DELETE", "/1.0/containers/live3", NULL, 200);
}

int main(void)
{
	static const char *const daemon_args[] = { "--workers", "2", "--log-format", "json",
		"--log-level", "debug", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_metrics_and_state_of_a_live_container),
		cmocka_unit_test(test_cli_metrics_of_every_container),
		cmocka_unit_test(test_log_json_lines_name_their_container_and_syscall),
		cmocka_unit_test(test_cli_monitor_follows_live_events),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (seccomp listeners, /proc/PID/mem)\n");
		return 0;
	}
	return req_run_group(tests, ARRAY_SIZE(tests), daemon_args, NULL);
}
