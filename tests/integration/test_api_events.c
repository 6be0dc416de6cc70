/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0/events against the real daemon, read with libcurl: lifecycle
 * events for POST, PATCH, PUT and DELETE with the keys they changed (none for
 * a change that failed), those of profiles (over the API and from
 * --config-dir files, each reading then config-dir-applied) and of the
 * containers a profile change alters, the
 * ?type= and ?container= filters and their
 * errors, a stream outliving the request deadline, an idle stream costing no
 * CPU (no busy loop), the cap on streams (its last places kept for
 * administrators: a reader as uid 65534 cannot take them), audit events only
 * for administrators, a reader that
 * never reads: dropped with a final event while the daemon keeps answering,
 * and streams ended cleanly at shutdown. (Events from real listeners: test_events_notify.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "events_reader.h"
#include "req.h"
#include "rawhttp.h"
#include "stopwatch.h"

#define EVENT_WAIT_MS 5000
/* a stream must outlive this: the request deadline (api/server.h), and then some */
#define PAST_DEADLINE_MS 6000
/* the daemon's cap on streams (daemon/events/bus.h) */
#define STREAMS_MAX 64
/* of which the last ones are kept for administrators (daemon/events/bus.h) */
#define STREAMS_RESERVED 16

struct harness H;

static void open_stream(struct event_stream *s, const char *path)
{
	event_stream_open(s, H.api_socket, path);
	assert_int_equal(s->status, 200);
}

/*
 * The next event must be lifecycle @action whose @member ("container" or
 * "profile") is @name; a profile's is about no container. Returns it (a new
 * reference).
 */
static json_t *expect_about(struct event_stream *s, const char *action, const char *member,
			    const char *name)
{
	json_t *ev = event_stream_next(s, EVENT_WAIT_MS);

	if (!ev)
		fail_msg("no event, expected '%s' of '%s'", action, name);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "lifecycle");
	assert_string_equal(event_meta_str(ev, "action"), action);
	assert_string_equal(event_meta_str(ev, member), name);
	assert_non_null(json_string_value(json_object_get(ev, "timestamp")));
	if (strcmp(member, "profile") == 0)
		assert_null(json_object_get(json_object_get(ev, "metadata"), "container"));
	return ev;
}

/* The next event must be lifecycle @action about container @name (a new reference). */
static json_t *expect_lifecycle(struct event_stream *s, const char *action, const char *name)
{
	return expect_about(s, action, "container", name);
}

/* The same about profile @name. */
static json_t *expect_profile(struct event_stream *s, const char *action, const char *name)
{
	return expect_about(s, action, "profile", name);
}

/* metadata.changed_keys of @ev, joined with ',' */
static const char *changed_keys(const json_t *ev, char *buf, size_t size)
{
	const json_t *keys = json_object_get(json_object_get(ev, "metadata"), "changed_keys");
	size_t i, len = 0;
	json_t *k;

	buf[0] = '\0';
	assert_true(json_is_array(keys));
	json_array_foreach(keys, i, k)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					json_string_value(k) + strlen("security.syscalls.intercept."));
	return buf;
}

static void test_events_lifecycle_with_changed_keys(void **state)
{
	struct event_stream s;
	json_t *ev;
	char keys[512];

	(void)state;
	open_stream(&s, "/1.0/events");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev1\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	ev = expect_lifecycle(&s, "container-created", "ev1");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "sysinfo");
	assert_non_null(event_meta_str(ev, "etag"));
	json_decref(ev);
	/* a change that fails publishes nothing */
	api("POST", "/1.0/containers", "{\"name\":\"ev1\"}", 409);
	api("PATCH", "/1.0/containers/ev1",
	    "{\"config\":{\"security.syscalls.intercept.mknod\":\"on\","
	    "\"security.syscalls.intercept.sysinfo\":\"true\"}}", 200);
	ev = expect_lifecycle(&s, "container-updated", "ev1");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "mknod"); /* sysinfo did not change */
	json_decref(ev);
	api("PUT", "/1.0/containers/ev1", "{\"config\":{}}", 200);
	ev = expect_lifecycle(&s, "container-updated", "ev1");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "mknod,sysinfo");
	json_decref(ev);
	api("DELETE", "/1.0/containers/ev1", NULL, 200);
	ev = expect_lifecycle(&s, "container-deleted", "ev1");
	json_decref(ev);
	api("DELETE", "/1.0/containers/ev1", NULL, 404);
	assert_null(event_stream_next(&s, 300));
	event_stream_close(&s);
}

static void test_events_filters(void **state)
{
	struct event_stream only_b, listeners, both;
	json_t *ev;

	(void)state;
	open_stream(&only_b, "/1.0/events?container=ev-b");
	open_stream(&listeners, "/1.0/events?type=listener,worker");
	open_stream(&both, "/1.0/events?type=lifecycle,audit");
	api("POST", "/1.0/containers", "{\"name\":\"ev-a\"}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"ev-b\"}", 201);
	ev = expect_lifecycle(&only_b, "container-created", "ev-b"); /* ev-a left out */
	json_decref(ev);
	ev = expect_lifecycle(&both, "container-created", "ev-a");
	json_decref(ev);
	ev = expect_lifecycle(&both, "container-created", "ev-b");
	json_decref(ev);
	assert_null(event_stream_next(&listeners, 300));
	api("DELETE", "/1.0/containers/ev-a", NULL, 200);
	api("DELETE", "/1.0/containers/ev-b", NULL, 200);
	ev = expect_lifecycle(&only_b, "container-deleted", "ev-b");
	json_decref(ev);
	event_stream_close(&only_b);
	event_stream_close(&listeners);
	event_stream_close(&both);
}

/*
 * Profile changes: their own events, then a container-updated for each
 * container whose expanded configuration changed (not one whose own key
 * hides the profile's); ?container= keeps the latter and leaves the
 * profile's own events out.
 */
static void test_events_profile_changes_and_their_containers(void **state)
{
	struct event_stream all, only_c;
	char keys[512];
	json_t *ev;

	(void)state;
	open_stream(&all, "/1.0/events?type=lifecycle");
	open_stream(&only_c, "/1.0/events?container=evp-c");
	api("POST", "/1.0/profiles",
		"{\"name\":\"evp\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
		201);
	ev = expect_profile(&all, "profile-created", "evp");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "sysinfo");
	assert_non_null(event_meta_str(ev, "etag"));
	json_decref(ev);
	api("POST", "/1.0/containers", "{\"name\":\"evp-c\",\"profiles\":[\"evp\"]}", 201);
	api("POST", "/1.0/containers",
		"{\"name\":\"evp-own\",\"profiles\":[\"evp\"],"
		"\"config\":{\"security.syscalls.intercept.mknod\":\"false\"}}", 201);
	json_decref(expect_lifecycle(&all, "container-created", "evp-c"));
	json_decref(expect_lifecycle(&all, "container-created", "evp-own"));
	/* evp-own keeps its own mknod: only evp-c changes */
	api("PATCH", "/1.0/profiles/evp",
		"{\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 200);
	ev = expect_profile(&all, "profile-updated", "evp");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "mknod");
	json_decref(ev);
	ev = expect_lifecycle(&all, "container-updated", "evp-c");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "mknod");
	assert_string_equal(event_meta_str(ev, "profile"), "evp");
	json_decref(ev);
	/* a change that fails publishes nothing */
	api("DELETE", "/1.0/profiles/evp", NULL, 409);
	api("DELETE", "/1.0/containers/evp-c", NULL, 200);
	api("DELETE", "/1.0/containers/evp-own", NULL, 200);
	json_decref(expect_lifecycle(&all, "container-deleted", "evp-c"));
	json_decref(expect_lifecycle(&all, "container-deleted", "evp-own"));
	api("DELETE", "/1.0/profiles/evp", NULL, 200);
	ev = expect_profile(&all, "profile-deleted", "evp");
	assert_null(json_object_get(json_object_get(ev, "metadata"), "etag"));
	json_decref(ev);
	assert_null(event_stream_next(&all, 300));
	/* the container's own stream: its events, whatever changed it, and nothing else */
	json_decref(expect_lifecycle(&only_c, "container-created", "evp-c"));
	ev = expect_lifecycle(&only_c, "container-updated", "evp-c");
	assert_string_equal(event_meta_str(ev, "profile"), "evp");
	json_decref(ev);
	json_decref(expect_lifecycle(&only_c, "container-deleted", "evp-c"));
	assert_null(event_stream_next(&only_c, 300));
	event_stream_close(&all);
	event_stream_close(&only_c);
}

/* Read what has come so far on @s, counting lifecycle @action events; fail on a drop. */
static unsigned drain_counting(struct event_stream *s, const char *action, int timeout_ms)
{
	unsigned n = 0;
	json_t *ev;

	while ((ev = event_stream_next(s, timeout_ms))) {
		if (strcmp(event_meta_str(ev, "action"), "dropped") == 0)
			fail_msg("the reader was dropped (lost %lld)",
				 (long long)json_integer_value(json_object_get(
					 json_object_get(ev, "metadata"), "lost")));
		n += strcmp(event_meta_str(ev, "action"), action) == 0;
		json_decref(ev);
	}
	return n;
}

/*
 * A profile that hundreds of containers use (a busy Kubernetes node): a
 * change to it publishes one event for each, all at once, and a reader that
 * reads them as they come is not dropped for it.
 */
static void test_events_profile_of_hundreds_keeps_its_readers(void **state)
{
	enum { USERS = 600 };
	struct event_stream all;
	char path[64], body[96];
	unsigned n_updated;

	(void)state;
	open_stream(&all, "/1.0/events?type=lifecycle");
	api("POST", "/1.0/profiles", "{\"name\":\"crowd\",\"config\":{}}", 201);
	for (unsigned i = 0; i < USERS; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"crowd-%u\",\"profiles\":[\"crowd\"]}", i);
		api("POST", "/1.0/containers", body, 201);
		(void)drain_counting(&all, "", 0);
	}
	(void)drain_counting(&all, "", 300);
	api("PATCH", "/1.0/profiles/crowd",
		"{\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 200);
	n_updated = drain_counting(&all, "container-updated", 1000);
	fprintf(stderr, "# one change of a profile of %d containers: %u events read\n", USERS,
		n_updated);
	assert_int_equal(n_updated, USERS);
	for (unsigned i = 0; i < USERS; i++) {
		snprintf(path, sizeof(path), "/1.0/containers/crowd-%u", i);
		api("DELETE", path, NULL, 200);
		(void)drain_counting(&all, "", 0);
	}
	api("DELETE", "/1.0/profiles/crowd", NULL, 200);
	event_stream_close(&all);
}

/* Write @content to @dir/@name through a temporary file renamed over it, as an editor does. */
static void put_file(const char *dir, const char *name, const char *content)
{
	char tmp[512], path[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/.tmp.%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(tmp, "we");
	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* The config-dir-applied event that follows the profile events of a reading: one change. */
static void expect_configdir_applied(struct event_stream *s)
{
	json_auto_t *ev = event_stream_next(s, EVENT_WAIT_MS);
	json_t *meta = json_object_get(ev, "metadata");

	if (!ev)
		fail_msg("no event, expected config-dir-applied");
	assert_string_equal(event_meta_str(ev, "action"), "config-dir-applied");
	assert_null(json_object_get(meta, "container"));
	assert_int_equal(json_integer_value(json_object_get(meta, "changed")), 1);
}

/*
 * A profile declared in a --config-dir file: created, edited and removed
 * publish the same, each reading then config-dir-applied.
 */
static void test_events_config_dir_profile_changes(void **state)
{
	static const char *const args[] = { "--config-dir", "", NULL };
	const char *argv[ARRAY_SIZE(args)];
	struct harness h2 = { 0 };
	struct event_stream s;
	char dir[400], path[512], keys[512];
	json_t *ev;

	(void)state;
	assert_int_equal(harness_init(&h2), 0);
	snprintf(dir, sizeof(dir), "%s/cfg", h2.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	memcpy(argv, args, sizeof(args));
	argv[1] = dir;
	assert_int_equal(harness_start(&h2, argv), 0);
	event_stream_open(&s, h2.api_socket, "/1.0/events?type=lifecycle");
	assert_int_equal(s.status, 200);
	put_file(dir, "profile.evd.json", "{\"config\":{\"security.syscalls.intercept.mknod\":\"on\"}}");
	ev = expect_profile(&s, "profile-created", "evd");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "mknod");
	json_decref(ev);
	expect_configdir_applied(&s);
	put_file(dir, "profile.evd.json",
		 "{\"config\":{\"security.syscalls.intercept.mknod\":\"on\","
		 "\"security.syscalls.intercept.sysinfo\":\"on\"}}");
	ev = expect_profile(&s, "profile-updated", "evd");
	assert_string_equal(changed_keys(ev, keys, sizeof(keys)), "sysinfo");
	json_decref(ev);
	expect_configdir_applied(&s);
	snprintf(path, sizeof(path), "%s/profile.evd.json", dir);
	assert_int_equal(unlink(path), 0);
	json_decref(expect_profile(&s, "profile-deleted", "evd"));
	expect_configdir_applied(&s);
	event_stream_close(&s);
	harness_cleanup(&h2);
}

static void test_events_bad_filters_400_and_post_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	assert_int_equal(harness_request(&H, "GET", "/1.0/events?type=lifecycle,nope", NULL, &r), 0);
	assert_true(reply_is_error(r, 400, "'nope'"));
	http_reply_free(r);
	r = NULL;
	assert_int_equal(harness_request(&H, "GET", "/1.0/events?container=..%2Fx", NULL, &r), 0);
	assert_true(reply_is_error(r, 400, "container"));
	http_reply_free(r);
	r = NULL;
	assert_int_equal(harness_request(&H, "POST", "/1.0/events", "{}", &r), 0);
	assert_true(reply_is_error(r, 405, NULL));
}

static void test_events_stream_outlives_request_deadline(void **state)
{
	struct event_stream s;
	json_t *ev;

	(void)state;
	open_stream(&s, "/1.0/events?type=lifecycle");
	assert_null(event_stream_next(&s, PAST_DEADLINE_MS)); /* quiet, and not cut */
	assert_false(s.is_done);
	api("POST", "/1.0/containers", "{\"name\":\"ev-late\"}", 201);
	ev = expect_lifecycle(&s, "container-created", "ev-late");
	json_decref(ev);
	api("DELETE", "/1.0/containers/ev-late", NULL, 200);
	event_stream_close(&s);
}

/* The daemon's CPU time (user + system) in clock ticks. */
static long daemon_cpu_ticks(void)
{
	char path[64], buf[1024];
	unsigned long utime = 0, stime = 0;
	const char *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)H.pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
				&stime), 2);
	return (long)(utime + stime);
}

/* A stream with nothing to send waits (its connection suspended): it does not spin. */
static void test_events_idle_stream_costs_no_cpu(void **state)
{
	long hz = sysconf(_SC_CLK_TCK), before, used;
	struct event_stream s;

	(void)state;
	open_stream(&s, "/1.0/events");
	assert_null(event_stream_next(&s, 100));
	before = daemon_cpu_ticks();
	assert_null(event_stream_next(&s, 1000));
	used = daemon_cpu_ticks() - before;
	fprintf(stderr, "# daemon CPU over 1 s with an idle stream: %ld ms\n", used * 1000 / hz);
	assert_true(used * 1000 / hz < 100);
	event_stream_close(&s);
}

/* GET /1.0's events.streams and events.dropped. */
static void stream_counts(long *ret_streams, long *ret_dropped)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	json_t *events;

	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &r), 0);
	events = json_object_get(reply_meta(r), "events");
	*ret_streams = (long)json_integer_value(json_object_get(events, "streams"));
	*ret_dropped = (long)json_integer_value(json_object_get(events, "dropped"));
}

static void wait_streams(long expect)
{
	long n = -1, dropped;

	for (int i = 0; i < 100 && n != expect; i++) {
		stream_counts(&n, &dropped);
		if (n != expect)
			usleep(50 * 1000);
	}
	assert_int_equal(n, expect);
}

/* The child: as uid 65534, open every stream it is given; report how many, hold them until told. */
static _Noreturn void hog_streams(int ready_fd, int done_fd)
{
	static struct event_stream s[STREAMS_MAX];
	unsigned char n = 0;
	char b;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(2);
	for (size_t i = 0; i < STREAMS_MAX; i++) {
		event_stream_open(&s[i], H.api_socket, "/1.0/events?type=lifecycle");
		n += s[i].status == 200;
	}
	if (write(ready_fd, &n, 1) != 1)
		_exit(3);
	(void)read(done_fd, &b, 1); /* until the parent closes its end */
	_exit(0);
}

/* A reader that is not an administrator cannot take every stream and lock the admins out. */
static void test_events_reader_cannot_take_every_stream(void **state)
{
	struct event_stream admin;
	int ready[2], done[2], status;
	unsigned char n_hogged = 0;
	long admin_status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) /* needs root to switch to uid 65534 */
		skip();
	wait_streams(0);
	assert_int_equal(chmod(H.dir, 0755), 0);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(done[1]); /* else its read never sees the parent close */
		hog_streams(ready[1], done[0]);
	}
	close(ready[1]);
	close(done[0]);
	assert_int_equal(read(ready[0], &n_hogged, 1), 1);
	event_stream_open(&admin, H.api_socket, "/1.0/events");
	admin_status = admin.status;
	fprintf(stderr, "# uid 65534 got %u streams; root then got %ld\n", n_hogged, admin_status);
	event_stream_close(&admin);
	close(done[1]);
	close(ready[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(admin_status, 200);
	assert_int_equal(n_hogged, STREAMS_MAX - STREAMS_RESERVED);
	wait_streams(0);
}

/* The child: as uid 65534, the status of a stream of each of @paths, one byte each (status / 100). */
static _Noreturn void reader_statuses(int out_fd, const char *const *paths, size_t n)
{
	struct event_stream s;
	unsigned char st;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(2);
	for (size_t i = 0; i < n; i++) {
		event_stream_open(&s, H.api_socket, paths[i]);
		st = (unsigned char)(s.status / 100);
		event_stream_close(&s);
		if (write(out_fd, &st, 1) != 1)
			_exit(3);
	}
	_exit(0);
}

/* Audit events name other containers' pids, paths and devices: only administrators get them. */
static void test_events_audit_only_for_administrators(void **state)
{
	static const char *const paths[] = { "/1.0/events?type=audit", "/1.0/events?type=lifecycle,audit",
					     "/1.0/events", "/1.0/events?type=lifecycle" };
	static const unsigned char expect[] = { 4, 4, 2, 2 };
	unsigned char got[ARRAY_SIZE(paths)];
	struct event_stream admin;
	int out[2], status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) /* needs root to switch to uid 65534 */
		skip();
	assert_int_equal(chmod(H.dir, 0755), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		reader_statuses(out[1], paths, ARRAY_SIZE(paths));
	}
	close(out[1]);
	for (size_t n = 0; n < sizeof(got);) { /* the child writes one byte a stream */
		ssize_t k = read(out[0], got + n, sizeof(got) - n);

		assert_true(k > 0);
		n += (size_t)k;
	}
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_equal(got, expect, sizeof(expect));
	event_stream_open(&admin, H.api_socket, "/1.0/events?type=audit");
	assert_int_equal(admin.status, 200);
	event_stream_close(&admin);
	wait_streams(0);
}

static void test_events_cap_503_then_room_again(void **state)
{
	static struct event_stream s[STREAMS_MAX];
	struct event_stream extra;

	(void)state;
	if (geteuid() != 0) /* a uid other than 0 may hold 64 connections in all */
		skip();
	wait_streams(0); /* the readers of the tests before hung up: their places are free */
	for (size_t i = 0; i < STREAMS_MAX; i++)
		open_stream(&s[i], "/1.0/events?type=lifecycle");
	wait_streams(STREAMS_MAX);
	event_stream_open(&extra, H.api_socket, "/1.0/events");
	assert_int_equal(extra.status, 503);
	assert_non_null(strstr(event_stream_body(&extra, EVENT_WAIT_MS), "at most 64"));
	event_stream_close(&extra);
	/* a reader that left is noticed at its next event, and its place is free again */
	event_stream_close(&s[0]);
	api("POST", "/1.0/containers", "{\"name\":\"ev-cap\"}", 201);
	wait_streams(STREAMS_MAX - 1);
	open_stream(&s[0], "/1.0/events?type=lifecycle");
	api("DELETE", "/1.0/containers/ev-cap", NULL, 200);
	for (size_t i = 0; i < STREAMS_MAX; i++)
		event_stream_close(&s[i]);
	api("POST", "/1.0/containers", "{\"name\":\"ev-cap\"}", 201);
	api("DELETE", "/1.0/containers/ev-cap", NULL, 200);
	wait_streams(0);
}

/*
 * A GET's time in ms, less the time the host kept the daemon or this test
 * waiting for a CPU: a daemon that waits for the reader would be asleep, not
 * runnable, and gets no discount.
 */
static uint64_t get_ms(const char *path)
{
	struct stopwatch sw;
	uint64_t t0 = raw_now_ns(), elapsed, queued;

	stopwatch_start(&sw, H.pid, 0);
	api("GET", path, NULL, 200);
	elapsed = raw_now_ns() - t0;
	queued = stopwatch_run_queue_ns(&sw);
	return (elapsed > queued ? elapsed - queued : 0) / 1000000;
}

/* Read @fd (non-blocking) to its end or 10 s of silence; malloc'd, NUL-terminated. */
static char *read_all(int fd, size_t *ret_len)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap + 1);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	assert_non_null(buf);
	while (poll(&p, 1, 10000) > 0) {
		n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	*ret_len = len;
	return buf;
}

#define FLOOD_KEYS(v)                                                                           \
	"{\"config\":{\"security.syscalls.intercept.mknod\":" v                                      \
	",\"security.syscalls.intercept.setxattr\":" v                                                \
	",\"security.syscalls.intercept.sched_setscheduler\":" v                                      \
	",\"security.syscalls.intercept.sysinfo\":" v ",\"security.syscalls.intercept.mount\":" v     \
	",\"security.syscalls.intercept.mount.shift\":" v ",\"security.syscalls.intercept.bpf\":" v   \
	",\"security.syscalls.intercept.bpf.devices\":" v "}}"

static void test_events_reader_that_never_reads_is_dropped(void **state)
{
	static const char all_on[] = FLOOD_KEYS("\"true\""), all_off[] = FLOOD_KEYS("null");
	static const char req[] = "GET /1.0/events?type=lifecycle HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	struct event_stream fast;
	struct raw_conn slow;
	long n, dropped = 0, dropped_before;
	uint64_t worst_ms = 0;
	unsigned n_patches = 0, n_slow = 0;
	_cleanup_free_ char *got = NULL;
	const char *last;
	size_t len, n_fast = 0;
	json_t *ev;

	(void)state;
	stream_counts(&n, &dropped_before);
	assert_int_equal(raw_connect(&slow, H.api_socket, NULL), 0);
	assert_int_equal(write(slow.fd, req, strlen(req)), (ssize_t)strlen(req));
	open_stream(&fast, "/1.0/events?type=lifecycle");
	wait_streams(2);
	api("POST", "/1.0/containers", "{\"name\":\"ev-flood\"}", 201);
	/*
	 * a few hundred events fill the slow reader's socket and ring; each names
	 * every key it changes, so that they fill it long before libmicrohttpd's
	 * 30 s connection timeout closes a stream it cannot write to (on a loaded
	 * host, a few thousand fsynced PATCHes of one key each took longer)
	 */
	for (; dropped == dropped_before && n_patches < 5000; n_patches++) {
		uint64_t ms;

		api("PATCH", "/1.0/containers/ev-flood", n_patches % 2 ? all_on : all_off, 200);
		ms = get_ms("/1.0/containers/ev-flood");
		worst_ms = ms > worst_ms ? ms : worst_ms;
		n_slow += ms >= 100;
		stream_counts(&n, &dropped);
		/* the fast reader keeps up and is never dropped */
		while ((ev = event_stream_next(&fast, 0))) {
			n_fast++;
			json_decref(ev);
		}
	}
	fprintf(stderr, "# dropped after %u changes; GETs: %u of %u took 100 ms or more, the "
		"slowest %llu ms\n", n_patches, n_slow, n_patches, (unsigned long long)worst_ms);
	assert_int_equal(dropped, dropped_before + 1);
	/*
	 * answered within 100 ms (less the host's run-queue waits) while the
	 * reader blocks its stream: one in 50 may still be late (a disk stall of
	 * the PATCH before it); none waits for the reader (that would be forever)
	 */
	assert_true(n_slow <= n_patches / 50);
	assert_true(worst_ms < 1000);
	/* once it reads: what was queued, then the final event, then the end */
	got = read_all(slow.fd, &len);
	last = strstr(got, "\"action\":\"dropped\"");
	if (!last)
		fprintf(stderr, "# %zu bytes, ending in: %s\n", len, len > 600 ? got + len - 600 : got);
	assert_non_null(last);
	assert_non_null(strstr(last, "\"lost\":"));
	assert_null(strstr(last + 1, "\"action\":\"container-updated\""));
	assert_non_null(strstr(last, "\r\n0\r\n\r\n")); /* the last chunk: the stream ended */
	raw_close(&slow);
	/* the fast reader got every one of them */
	api("DELETE", "/1.0/containers/ev-flood", NULL, 200);
	ev = event_stream_expect(&fast, "lifecycle", "container-deleted", EVENT_WAIT_MS, &n_fast);
	assert_non_null(ev);
	json_decref(ev);
	assert_int_equal(n_fast, n_patches + 1);
	event_stream_close(&fast);
	wait_streams(0);
}

/* SIGTERM with streams open: each one ends cleanly and the daemon exits 0. */
static void test_events_streams_end_at_shutdown(void **state)
{
	struct harness h2 = { 0 };
	struct event_stream quiet, busy;
	int status;

	(void)state;
	assert_int_equal(harness_init(&h2), 0);
	assert_int_equal(harness_start(&h2, NULL), 0);
	event_stream_open(&quiet, h2.api_socket, "/1.0/events?type=worker");
	event_stream_open(&busy, h2.api_socket, "/1.0/events");
	assert_int_equal(quiet.status, 200);
	assert_int_equal(busy.status, 200);
	assert_null(event_stream_next(&quiet, 200)); /* parked: its connection suspended */
	status = harness_stop(&h2, SIGTERM);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		harness_dump_log(&h2);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(event_stream_wait_end(&quiet, EVENT_WAIT_MS));
	assert_true(event_stream_wait_end(&busy, EVENT_WAIT_MS));
	event_stream_close(&quiet);
	event_stream_close(&busy);
	harness_cleanup(&h2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_lifecycle_with_changed_keys),
		cmocka_unit_test(test_events_filters),
		cmocka_unit_test(test_events_profile_changes_and_their_containers),
		cmocka_unit_test(test_events_profile_of_hundreds_keeps_its_readers),
		cmocka_unit_test(test_events_config_dir_profile_changes),
		cmocka_unit_test(test_events_bad_filters_400_and_post_405),
		cmocka_unit_test(test_events_stream_outlives_request_deadline),
		cmocka_unit_test(test_events_idle_stream_costs_no_cpu),
		cmocka_unit_test(test_events_cap_503_then_room_again),
		cmocka_unit_test(test_events_reader_cannot_take_every_stream),
		cmocka_unit_test(test_events_audit_only_for_administrators),
		cmocka_unit_test(test_events_reader_that_never_reads_is_dropped),
		cmocka_unit_test(test_events_streams_end_at_shutdown),
	};
	/* readable by any local user: a reader that is not an administrator is one of the peers */
	static const char *const args[] = { "--api-socket-mode", "0666", NULL };

	return req_run_group(tests, ARRAY_SIZE(tests), args, NULL);
}
