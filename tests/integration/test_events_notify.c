/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0/events with real listeners (root only): a child under a NOTIFY
 * filter hands its listener to the OCI socket as runc does, or is relayed as
 * an LXC monitor would. Listener attached/detached, restart-required when a
 * key the attached filter does not trap is turned on, the audit event of an
 * emulated sysinfo (only to a subscriber that asked for audit), a worker
 * held by a caller that blocks its memory read (stuck, naming the worker
 * started in its place, then free), an LXC notification answered at its
 * deadline, and an audit subscriber that stops reading under a flood of
 * calls: dropped, the calls unaffected. A container that registers itself
 * (profile=NAME): created and deleted with its profile and pod, updated by
 * its profile's change.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "events_reader.h"
#include "peers.h"
#include "rawhttp.h"

#define STREAM_WAIT_MS 20000 /* generous: a loaded host; a missing event fails it all the same */
#define LXC_DEADLINE_MS "300"
#define FLOOD_CALLS 20000

static void open_stream(struct event_stream *s, const char *path)
{
	event_stream_open(s, H.api_socket, path);
	assert_int_equal(s->status, 200);
}

static json_int_t event_meta_int(const json_t *ev, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(ev, "metadata"), key));
}

/* The next @type/@action event about @name, within STREAM_WAIT_MS (a new reference). */
static json_t *expect(struct event_stream *s, const char *type, const char *action,
		      const char *name)
{
	json_t *ev = event_stream_expect(s, type, action, STREAM_WAIT_MS, NULL);

	if (!ev)
		fail_msg("no %s event '%s' about '%s'", type, action, name);
	assert_string_equal(event_meta_str(ev, "container"), name);
	return ev;
}

static void test_events_listener_attached_and_detached(void **state)
{
	struct event_stream s;
	struct child c;
	json_t *ev;
	pid_t pid;
	int sock;

	(void)state;
	open_stream(&s, "/1.0/events?type=listener&container=ev-l");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-l\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "ev-l");
	ev = expect(&s, "listener", "attached", "ev-l");
	assert_string_equal(event_meta_str(ev, "source"), "oci");
	assert_int_equal(event_meta_int(ev, "pid"), c.pid);
	json_decref(ev);
	pid = c.pid;
	child_stop(&c); /* the filter has no task left: the listener goes */
	close(sock);
	ev = expect(&s, "listener", "detached", "ev-l");
	assert_int_equal(event_meta_int(ev, "pid"), pid);
	json_decref(ev);
	api("DELETE", "/1.0/containers/ev-l", NULL, 200);
	event_stream_close(&s);
}

static void test_events_restart_required(void **state)
{
	struct event_stream s;
	struct child c;
	json_t *ev, *keys;
	int sock;

	(void)state;
	open_stream(&s, "/1.0/events?type=lifecycle&container=ev-r");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-r\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "ev-r");
	wait_listeners("ev-r", 1);
	/* a key whose syscalls the attached filter was not made to trap */
	api("PATCH", "/1.0/containers/ev-r",
	    "{\"config\":{\"security.syscalls.intercept.setxattr\":\"true\"}}", 200);
	json_decref(expect(&s, "lifecycle", "container-updated", "ev-r"));
	ev = expect(&s, "lifecycle", "restart-required", "ev-r");
	keys = json_object_get(json_object_get(ev, "metadata"), "keys");
	assert_int_equal(json_array_size(keys), 1);
	assert_string_equal(json_string_value(json_array_get(keys, 0)),
			    "security.syscalls.intercept.setxattr");
	json_decref(ev);
	/* turning off what it traps needs nothing */
	api("PATCH", "/1.0/containers/ev-r",
	    "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"false\"}}", 200);
	json_decref(expect(&s, "lifecycle", "container-updated", "ev-r"));
	assert_null(event_stream_next(&s, 300));
	child_stop(&c);
	close(sock);
	api("DELETE", "/1.0/containers/ev-r", NULL, 200);
	event_stream_close(&s);
}

/* The next event of @s, which must be @type/@action (a new reference). */
static json_t *expect_next(struct event_stream *s, const char *type, const char *action)
{
	json_t *ev = event_stream_next(s, STREAM_WAIT_MS);

	if (!ev)
		fail_msg("no event, expected %s '%s'", type, action);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), type);
	assert_string_equal(event_meta_str(ev, "action"), action);
	return ev;
}

/* Is @ev's array @member exactly [security.syscalls.intercept.@key]? */
static bool only_key(const json_t *ev, const char *member, const char *key)
{
	const json_t *keys = json_object_get(json_object_get(ev, "metadata"), member);
	const char *k = json_string_value(json_array_get(keys, 0));
	char full[128];

	snprintf(full, sizeof(full), "security.syscalls.intercept.%s", key);
	return json_array_size(keys) == 1 && k && strcmp(k, full) == 0;
}

/* @ev says it is about ephemeral container @name of profile ev-p, of the pod in the annotations. */
static void assert_ephemeral(const json_t *ev, const char *name)
{
	const json_t *m = json_object_get(ev, "metadata");
	const json_t *kube = json_object_get(m, "kubernetes");

	assert_string_equal(event_meta_str(ev, "container"), name);
	assert_true(json_is_true(json_object_get(m, "ephemeral")));
	assert_string_equal(event_meta_str(ev, "profile"), "ev-p");
	assert_string_equal(json_string_value(json_object_get(kube, "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(kube, "pod")), "web-ev");
	assert_string_equal(json_string_value(json_object_get(kube, "container")), "app");
}

/*
 * A container that registers itself through the OCI socket, as a pod's
 * container with profile=NAME does: created (ephemeral, its profile and pod),
 * its listener attached, updated by its profile's change (and asked to
 * restart for a key its filter lacks), its listener detached, then deleted.
 */
static void test_events_ephemeral_container_lifecycle(void **state)
{
	struct event_stream s;
	char name[80];
	struct child c;
	json_t *ev;
	int sock;

	(void)state;
	api("POST", "/1.0/profiles",
	    "{\"name\":\"ev-p\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	open_stream(&s, "/1.0/events?type=lifecycle,listener");
	child_start(&c);
	sock = oci_handoff_annotated(&c, "profile=ev-p", "ev-e",
				     "{\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
				     "\"io.kubernetes.cri.sandbox-name\":\"web-ev\","
				     "\"io.kubernetes.cri.container-name\":\"app\"}");
	ev = expect_next(&s, "lifecycle", "container-created");
	snprintf(name, sizeof(name), "%s", event_meta_str(ev, "container"));
	assert_int_equal(strncmp(name, "shop.web-ev.app-", strlen("shop.web-ev.app-")), 0);
	assert_ephemeral(ev, name);
	assert_true(only_key(ev, "changed_keys", "sysinfo"));
	json_decref(ev);
	json_decref(expect(&s, "listener", "attached", name));
	api("PATCH", "/1.0/profiles/ev-p",
	    "{\"config\":{\"security.syscalls.intercept.setxattr\":\"true\"}}", 200);
	ev = expect_next(&s, "lifecycle", "profile-updated");
	assert_null(json_object_get(json_object_get(ev, "metadata"), "container"));
	json_decref(ev);
	ev = expect_next(&s, "lifecycle", "container-updated");
	assert_string_equal(event_meta_str(ev, "container"), name);
	assert_string_equal(event_meta_str(ev, "profile"), "ev-p");
	assert_true(only_key(ev, "changed_keys", "setxattr"));
	json_decref(ev);
	ev = expect_next(&s, "lifecycle", "restart-required");
	assert_true(only_key(ev, "keys", "setxattr"));
	json_decref(ev);
	child_stop(&c); /* its last listener goes: so does the container */
	close(sock);
	json_decref(expect_next(&s, "listener", "detached"));
	ev = expect_next(&s, "lifecycle", "container-deleted");
	assert_ephemeral(ev, name);
	json_decref(ev);
	api("DELETE", "/1.0/profiles/ev-p", NULL, 200);
	json_decref(expect_next(&s, "lifecycle", "profile-deleted"));
	event_stream_close(&s);
}

static void test_events_audit_of_emulated_sysinfo_only_when_asked(void **state)
{
	struct event_stream audit, plain;
	unsigned long total;
	struct child c;
	json_t *ev;
	int sock;

	(void)state;
	open_stream(&audit, "/1.0/events?type=audit&container=ev-a");
	open_stream(&plain, "/1.0/events?container=ev-a");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-a\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "ev-a");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	ev = expect(&audit, "audit", "syscall", "ev-a");
	assert_string_equal(event_meta_str(ev, "syscall"), "sysinfo");
	assert_string_equal(event_meta_str(ev, "outcome"), "emulated");
	assert_int_equal(event_meta_int(ev, "pid"), c.pid);
	json_decref(ev);
	child_stop(&c);
	close(sock);
	api("DELETE", "/1.0/containers/ev-a", NULL, 200);
	/* the subscriber that did not ask saw the rest, and no audit event */
	while ((ev = event_stream_next(&plain, 500))) {
		assert_string_not_equal(json_string_value(json_object_get(ev, "type")), "audit");
		json_decref(ev);
	}
	event_stream_close(&audit);
	event_stream_close(&plain);
}

/* Wait until the daemon has @n worker threads (a new one names itself once it runs); the count. */
static int wait_worker_threads(int n)
{
	int have = -1;

	for (long waited = 0; waited < STREAM_WAIT_MS; waited += 20) {
		have = count_named_threads(H.pid, "icd-worker");
		if (have == n)
			break;
		sleep_ms(20);
	}
	return have;
}

/*
 * A caller holds its worker: "stuck" names the worker, the caller and, with
 * one of the two --workers held, the worker started in its place
 * (replaced_by: a thread that now exists, the index after the last one), as
 * the replacement counter says; "free" later names the same held worker and
 * no replacement. No other worker event comes between them.
 */
static void test_events_worker_stuck_then_free(void **state)
{
	const int workers_before = count_named_threads(H.pid, "icd-worker");
	const long replaced_before = metric_value("interceptd_workers_replaced_total");
	struct event_stream s;
	json_int_t held;
	struct child c;
	json_t *ev;
	int sock;

	(void)state;
	assert_int_equal(workers_before, 2);
	open_stream(&s, "/1.0/events?type=worker&container=ev-w");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-w\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "ev-w");
	wait_listeners("ev-w", 1);
	assert_int_equal(write(c.ctl, "u", 1), 1); /* its path is in a page nobody serves */
	ev = expect_next(&s, "worker", "stuck");
	assert_string_equal(event_meta_str(ev, "container"), "ev-w");
	assert_int_equal(event_meta_int(ev, "pid"), c.pid);
	assert_true(event_meta_int(ev, "busy_ms") >= 1000);
	held = event_meta_int(ev, "worker");
	assert_true(held >= 0 && held < workers_before);
	assert_non_null(json_object_get(json_object_get(ev, "metadata"), "replaced_by"));
	assert_int_equal(event_meta_int(ev, "replaced_by"), workers_before);
	json_decref(ev);
	assert_int_equal(wait_worker_threads(workers_before + 1), workers_before + 1);
	assert_int_equal(metric_value("interceptd_workers_replaced_total"), replaced_before + 1);
	child_stop(&c); /* its death ends the read */
	close(sock);
	ev = expect_next(&s, "worker", "free");
	assert_string_equal(event_meta_str(ev, "container"), "ev-w");
	assert_int_equal(event_meta_int(ev, "worker"), held);
	assert_null(json_object_get(json_object_get(ev, "metadata"), "replaced_by"));
	json_decref(ev);
	api("DELETE", "/1.0/containers/ev-w", NULL, 200);
	event_stream_close(&s);
}

static void test_events_lxc_deadline_exceeded(void **state)
{
	struct seccomp_notif_resp resp;
	struct event_stream s;
	struct child c;
	json_t *ev;
	int proxy;

	(void)state;
	open_stream(&s, "/1.0/events?type=lxc,listener&container=ev-x");
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-x\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	child_start(&c);
	relay_lxc_cmd(proxy, &c, "ev-x", 'u', &resp); /* answered at the deadline */
	assert_int_equal(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	ev = expect(&s, "listener", "attached", "ev-x");
	assert_string_equal(event_meta_str(ev, "source"), "lxc");
	json_decref(ev);
	ev = expect(&s, "lxc", "deadline-exceeded", "ev-x");
	assert_int_equal(event_meta_int(ev, "pid"), c.pid);
	assert_int_equal(event_meta_int(ev, "deadline_ms"), atoi(LXC_DEADLINE_MS));
	assert_string_equal(event_meta_str(ev, "answer"), "continue");
	json_decref(ev);
	child_stop(&c);
	close(proxy);
	api("DELETE", "/1.0/containers/ev-x", NULL, 200);
	event_stream_close(&s);
}

static long events_dropped(void)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &r), 0);
	return (long)json_integer_value(
		json_object_get(json_object_get(reply_meta(r), "events"), "dropped"));
}

static void test_events_audit_reader_that_stops_reading_is_dropped(void **state)
{
	static const char req[] = "GET /1.0/events?type=audit HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\n\r\n";
	static uint32_t ns[FLOOD_CALLS];
	long dropped_before = events_dropped();
	struct raw_conn slow;
	unsigned long total;
	struct child c;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"ev-f\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	assert_int_equal(raw_connect(&slow, H.api_socket, NULL), 0);
	assert_int_equal(write(slow.fd, req, strlen(req)), (ssize_t)strlen(req));
	child_start(&c);
	sock = oci_handoff_child(&c, "ev-f");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	child_sysinfo_timed(&c, ns, FLOOD_CALLS); /* every call answered: none waited on the reader */
	assert_int_equal(events_dropped(), dropped_before + 1);
	assert_int_equal(metric("ev-f", "sysinfo", "emulated"), FLOOD_CALLS + 1);
	child_stop(&c);
	close(sock);
	raw_close(&slow);
	api("DELETE", "/1.0/containers/ev-f", NULL, 200);
}

int main(void)
{
	static const char *const daemon_args[] = { "--workers", "2", "--lxc-deadline-ms",
		LXC_DEADLINE_MS, NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_listener_attached_and_detached),
		cmocka_unit_test(test_events_restart_required),
		cmocka_unit_test(test_events_ephemeral_container_lifecycle),
		cmocka_unit_test(test_events_audit_of_emulated_sysinfo_only_when_asked),
		cmocka_unit_test(test_events_worker_stuck_then_free),
		cmocka_unit_test(test_events_lxc_deadline_exceeded),
		cmocka_unit_test(test_events_audit_reader_that_stops_reading_is_dropped),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP the event tests with listeners need root (seccomp listeners)\n");
		return 0;
	}
	return req_run_group(tests, ARRAY_SIZE(tests), daemon_args, NULL);
}
