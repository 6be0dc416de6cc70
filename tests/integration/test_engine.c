/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The notification engine against the real daemon: real child processes under
 * a NOTIFY filter hand their listener to the OCI socket exactly as runc does,
 * or are relayed through the LXC proxy socket as an LXC monitor would. Covers
 * live config changes, listeners detaching when the caller exits, callers
 * killed mid-call, garbage and hostile intake, and fd leaks. Root only.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "peers.h"
#include "stopwatch.h"

/* With real samples in every family, the exposition still passes promtool's lint. */
static void promtool_check(void)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	FILE *p;

	if (access("/usr/bin/promtool", X_OK) < 0) {
		fprintf(stderr, "# promtool not installed, exposition lint skipped\n");
		return;
	}
	assert_int_equal(harness_request(&H, "GET", "/1.0/metrics", NULL, &r), 0);
	assert_non_null(strstr(r->data, "interceptd_syscall_duration_seconds_bucket{container=\"live\""));
	assert_non_null(strstr(r->data, "interceptd_listeners{container=\"live\",source=\"oci\"} 1"));
	p = popen("promtool check metrics >&2", "w");
	assert_non_null(p);
	fputs(r->data, p);
	assert_int_equal(pclose(p), 0);
}

static void test_engine_config_applies_live(void **state)
{
	struct child c;
	unsigned long total = 0;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"live\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "live");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_true(total > 0);
	assert_int_equal(metric("live", "sysinfo", "emulated"), 1);
	wait_listeners("live", 1);
	/* switch the key off: the very next call goes to the kernel */
	api("PATCH", "/1.0/containers/live",
	    "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"false\"}}", 200);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("live", "sysinfo", "continued"), 1);
	assert_int_equal(metric("live", "sysinfo", "emulated"), 1);
	/* and back on, still without restarting anything */
	api("PATCH", "/1.0/containers/live",
	    "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"on\"}}", 200);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("live", "sysinfo", "emulated"), 2);
	promtool_check();
	/* a key whose syscalls this listener's filter does not trap needs a restart */
	assert_int_equal(restart_required_has("live", "security.syscalls.intercept.mknod"), 0);
	api("PATCH", "/1.0/containers/live",
	    "{\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 200);
	assert_int_equal(restart_required_has("live", "security.syscalls.intercept.mknod"), 1);
	assert_int_equal(restart_required_has("live", "security.syscalls.intercept.sysinfo"), 0);
	/* deleted: answered CONTINUE and counted as unregistered */
	api("DELETE", "/1.0/containers/live", NULL, 200);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("_unregistered", "sysinfo", "unregistered"), 1);
	child_stop(&c);
	close(sock);
}

/* @c exits on its own; its listener of container @name is then detached. */
static void child_exit_detaches(struct child *c, const char *name)
{
	assert_int_equal(write(c->ctl, "q", 1), 1);
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
	child_stop(c);
	wait_listeners(name, 0);
}

static void test_engine_listener_detaches_when_caller_exits(void **state)
{
	int base = count_fds(H.pid), sock;
	unsigned long total;
	struct child c;

	(void)state;
	api("POST", "/1.0/containers", "{\"name\":\"exits\",\"config\":{}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "exits");
	assert_int_equal(child_sysinfo(&c, &total), 0); /* served: the listener is attached */
	wait_listeners("exits", 1);
	child_exit_detaches(&c, "exits");
	close(sock);
	assert_true(wait_fds(base) <= base);
	api("DELETE", "/1.0/containers/exits", NULL, 200);
}

/*
 * A listener a worker served in hot mode (out of its epoll set meanwhile) is
 * back in the set once the burst ends: its next call after a quiet second is
 * answered, and its caller's exit is noticed.
 */
static void test_engine_hot_listener_served_again_after_cooling(void **state)
{
	uint32_t ns[2000];
	unsigned long total;
	struct child c;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"hot1\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "hot1");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	wait_listeners("hot1", 1);
	child_sysinfo_timed(&c, ns, ARRAY_SIZE(ns)); /* back to back: the worker goes hot */
	stopwatch_sleep_ms(H.pid, 1000);            /* quiet: the watchdog cools it */
	assert_int_equal(child_sysinfo(&c, &total), 0);
	child_exit_detaches(&c, "hot1");
	close(sock);
	api("DELETE", "/1.0/containers/hot1", NULL, 200);
}

static void test_engine_caller_killed_mid_call(void **state)
{
	int base = count_fds(H.pid);
	unsigned long total;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"killed\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"1\"}}", 201);
	for (int i = 0; i < 20; i++) {
		struct child c;
		int sock;

		child_start(&c);
		sock = oci_handoff_child(&c, "killed");
		assert_int_equal(write(c.ctl, "l", 1), 1); /* sysinfo in a tight loop */
		sleep_ms(5 + i);
		child_stop(&c); /* SIGKILL lands while notifications are in flight */
		close(sock);
	}
	/* the daemon still serves, and a fresh caller is answered */
	{
		struct child c;
		int sock;

		child_start(&c);
		sock = oci_handoff_child(&c, "killed");
		assert_int_equal(child_sysinfo(&c, &total), 0);
		child_stop(&c);
		close(sock);
	}
	assert_true(metric("killed", "sysinfo", "emulated") > 20);
	assert_true(wait_fds(base) <= base);
	api("DELETE", "/1.0/containers/killed", NULL, 200);
}

static void test_engine_garbage_oci_intake(void **state)
{
	static const char *const bad[] = {
		"garbage\n",
		"{\"fds\":[\"seccompFd\"],\"state\":",                  /* then EOF */
		"{\"fds\":[],\"pid\":1,\"state\":{\"id\":\"x\"}}",        /* no seccompFd */
		"[\"not\",\"an\",\"object\"]",
	};
	int base = count_fds(H.pid), pipefd[2];

	(void)state;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int sock = oci_handoff(bad[i], pipefd[0]);

		shutdown(sock, SHUT_WR);
		close(sock);
	}
	/* a well-formed state whose fd is not a seccomp listener */
	close(oci_handoff("{\"fds\":[\"seccompFd\"],\"pid\":1,\"metadata\":\"x\",\"state\":{\"id\":\"x\"}}",
			  pipefd[0]));
	/* a state claiming an fd it does not carry */
	close(oci_handoff("{\"fds\":[\"a\",\"seccompFd\"],\"pid\":1,\"state\":{\"id\":\"x\"}}", -1));
	close(pipefd[0]);
	close(pipefd[1]);
	assert_true(wait_fds(base) <= base);
	api("GET", "/1.0", NULL, 200);
}

static void test_engine_silent_client_delays_nobody(void **state)
{
	int silent = unix_connect(H.oci_socket, SOCK_STREAM), sock;
	struct stopwatch sw;
	unsigned long total;
	struct child c;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"prompt\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"yes\"}}", 201);
	stopwatch_start(&sw, H.pid, 0);
	child_start(&c);
	sock = oci_handoff_child(&c, "prompt");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	/* the silent client has a 5 s deadline, which a wait behind it would show */
	assert_true(stopwatch_unstalled_s(&sw, "served beside a silent client") < 2.5);
	assert_int_equal(metric("prompt", "sysinfo", "emulated"), 1);
	child_stop(&c);
	close(sock);
	close(silent);
	api("DELETE", "/1.0/containers/prompt", NULL, 200);
}

/* Act as an LXC monitor relaying one sysinfo() of @c. */
static void relay_lxc(int proxy, struct child *c, const char *cookie, struct seccomp_notif_resp *ret)
{
	relay_lxc_cmd(proxy, c, cookie, 's', ret);
}

static void test_engine_lxc_proxy_protocol(void **state)
{
	int base = count_fds(H.pid), proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	struct seccomp_notif_resp resp;
	unsigned long total;
	char in[512];
	struct child c;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"lxc1\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	relay_lxc(proxy, &c, "lxc1", &resp);
	assert_int_equal(resp.flags, 0); /* emulated, not CONTINUE */
	assert_int_equal(resp.error, 0);
	{
		char buf[64] = "";
		ssize_t n = read(c.ctl, buf, sizeof(buf) - 1);

		assert_true(n > 0);
		assert_int_equal(sscanf(buf, "%*d %lu", &total), 1);
		assert_true(total > 0);
	}
	assert_int_equal(metric("lxc1", "sysinfo", "emulated"), 1);
	wait_listeners("lxc1", 1);
	/* short, then malformed messages get an empty datagram, at once */
	assert_int_equal(send(proxy, "short", 5, 0), 5);
	assert_int_equal(recv(proxy, in, sizeof(in), MSG_TRUNC), 0);
	{
		char msg[136] = { 0 };

		msg[0] = 1; /* __reserved must be 0 */
		assert_int_equal(send(proxy, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
		assert_int_equal(recv(proxy, in, sizeof(in), MSG_TRUNC), 0);
	}
	/* the connection still works afterwards */
	relay_lxc(proxy, &c, "lxc1", &resp);
	{
		char buf[64];

		assert_true(read(c.ctl, buf, sizeof(buf)) > 0);
	}
	assert_int_equal(metric("lxc1", "sysinfo", "emulated"), 2);
	close(proxy);
	child_stop(&c);
	wait_listeners("lxc1", 0);
	assert_true(wait_fds(base) <= base);
	api("DELETE", "/1.0/containers/lxc1", NULL, 200);
}

static void test_engine_unregistered_listener_continues(void **state)
{
	unsigned long total;
	long before = metric("_unregistered", "sysinfo", "unregistered");
	struct child c;
	int sock;

	(void)state;
	child_start(&c);
	sock = oci_handoff_child(&c, "nobody-registered-this");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("_unregistered", "sysinfo", "unregistered"), before + 1);
	/* registering the name later picks the running listener up */
	api("POST", "/1.0/containers",
	    "{\"name\":\"nobody-registered-this\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
	    201);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("nobody-registered-this", "sysinfo", "emulated"), 1);
	child_stop(&c);
	close(sock);
	api("DELETE", "/1.0/containers/nobody-registered-this", NULL, 200);
}

/* A daemon with --lxc-deadline-ms 300, a LXC connection to it and two callers. */
struct deadline_rig {
	struct harness h2, saved; /* the daemon, and the suite's while H is h2 */
	struct child slow, next;
	int proxy;                /* our LXC connection: a 5 s receive timeout */
};

/* Make the rig's daemon the one the helpers talk to (H), with @name (mknod and sysinfo on). */
static void deadline_rig_start(struct deadline_rig *r, const char *name)
{
	const char *args[] = { "--lxc-deadline-ms", "300", "--workers", "2", NULL };
	char body[256];

	*r = (struct deadline_rig){ 0 };
	assert_int_equal(harness_init(&r->h2), 0);
	assert_int_equal(harness_start(&r->h2, args), 0);
	r->saved = H;
	H = r->h2;
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\","
		 "\"security.syscalls.intercept.sysinfo\":\"true\"}}", name);
	api("POST", "/1.0/containers", body, 201);
	r->proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	child_start(&r->slow);
	child_start(&r->next);
}

/* Check the deadline counter, then stop everything. */
static void deadline_rig_stop(struct deadline_rig *r, const char *deadline_count)
{
	_cleanup_(http_reply_freep) struct http_reply *rep = NULL;

	assert_int_equal(harness_request(&H, "GET", "/1.0/metrics", NULL, &rep), 0);
	assert_non_null(strstr(rep->data, deadline_count));
	child_stop(&r->slow);
	child_stop(&r->next);
	close(r->proxy);
	H = r->saved;
	harness_cleanup(&r->h2);
}

/*
 * An LXC notification whose handling outlives --lxc-deadline-ms is answered
 * CONTINUE at the deadline, exactly once: the late result is never sent, so
 * the next notification on that connection gets its own answer.
 */
static void test_engine_lxc_deadline_answers_once(void **state)
{
	struct seccomp_notif_resp resp;
	struct deadline_rig r;
	struct stopwatch sw;
	char buf[64];

	(void)state;
	deadline_rig_start(&r, "slow");
	stopwatch_start(&sw, H.pid, r.slow.pid);
	relay_lxc_cmd(r.proxy, &r.slow, "slow", 'u', &resp); /* its handler blocks on the path */
	assert_int_equal(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_true(stopwatch_unstalled_s(&sw, "answered at a 300 ms deadline") < 2.5);
	child_stop(&r.slow); /* releases the stuck handler, whose late result must go nowhere */
	sleep_ms(200);
	relay_lxc(r.proxy, &r.next, "slow", &resp); /* asserts the reply's id is this request's */
	assert_int_equal(resp.flags, 0);
	assert_true(read(r.next.ctl, buf, sizeof(buf)) > 0);
	deadline_rig_stop(&r, "interceptd_lxc_deadline_exceeded_total 1\n");
}

/*
 * LXC, once answered at the deadline, sends its next notification on the same
 * connection while the worker is still stuck in the first: that one is
 * answered within the deadline too, not left unread until LXC gives up (30 s,
 * the caller gets ENOSYS, and every later reply would answer the call before).
 * Once the worker is free, each reply is its own request's again.
 */
static void test_engine_lxc_deadline_covers_the_next_notification(void **state)
{
	struct seccomp_notif_resp resp;
	struct deadline_rig r;
	struct stopwatch sw;
	char buf[64];

	(void)state;
	deadline_rig_start(&r, "stuck");
	relay_lxc_cmd(r.proxy, &r.slow, "stuck", 'u', &resp); /* the worker stays stuck in it */
	assert_int_equal(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	stopwatch_start(&sw, H.pid, r.next.pid);
	relay_lxc(r.proxy, &r.next, "stuck", &resp); /* its own id, before the receive timeout */
	assert_true(stopwatch_unstalled_s(&sw, "the next one answered at the deadline") < 2.5);
	assert_int_equal(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE); /* undecided */
	assert_true(read(r.next.ctl, buf, sizeof(buf)) > 0);
	child_stop(&r.slow); /* the worker gets free; its late result goes nowhere */
	sleep_ms(200);
	relay_lxc(r.proxy, &r.next, "stuck", &resp);
	assert_int_equal(resp.flags, 0); /* emulated again, and the id is this request's */
	assert_true(read(r.next.ctl, buf, sizeof(buf)) > 0);
	deadline_rig_stop(&r, "interceptd_lxc_deadline_exceeded_total 2\n");
}

/* SIGHUP reopens --log-file, so log rotation by rename works. */
static void test_daemon_sighup_reopens_log_file(void **state)
{
	struct harness h2 = { 0 };
	char log[400], rotated[420], *text;
	const char *args[] = { "--log-file", log, NULL };
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	(void)state;
	assert_int_equal(harness_init(&h2), 0);
	snprintf(log, sizeof(log), "%s/rotating.log", h2.dir);
	snprintf(rotated, sizeof(rotated), "%s.1", log);
	assert_int_equal(harness_start(&h2, args), 0);
	assert_int_equal(rename(log, rotated), 0);
	assert_int_equal(kill(h2.pid, SIGHUP), 0);
	for (long waited = 0; waited < EVENT_WAIT_MS && access(log, F_OK) < 0; waited += 10)
		sleep_ms(10);
	assert_int_equal(harness_request(&h2, "POST", "/1.0/containers",
					 "{\"name\":\"after-hup\",\"config\":{}}", &r), 0);
	assert_int_equal(r->status, 201);
	text = harness_read_file(log, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "POST /1.0/containers"));
	free(text);
	text = harness_read_file(rotated, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "ready"));
	assert_null(strstr(text, "POST /1.0/containers"));
	free(text);
	harness_cleanup(&h2);
}

/*
 * Under systemd, an OCI listener goes into the fd store when it attaches, and
 * a daemon that crashed and was restarted with it takes it back: the same
 * container's syscalls are served again without the container doing anything.
 */
static void test_engine_fdstore_keeps_oci_listeners_across_restart(void **state)
{
	const char *workers[] = { "--workers", "2", NULL };
	_cleanup_(http_reply_freep) struct http_reply *server = NULL;
	char fdname[300], expect[300], *log;
	unsigned long total;
	struct child c;
	int nsock, stored, sock;

	(void)state;
	nsock = restart_with_fd_store(workers);
	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &server), 0);
	assert_true(json_is_true(json_object_get(reply_meta(server), "fd_store")));
	api("POST", "/1.0/containers",
	    "{\"name\":\"kept\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "kept");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("kept", "sysinfo", "emulated"), 1);
	stored = fake_notify_recv_fdstore(nsock, fdname, sizeof(fdname));
	snprintf(expect, sizeof(expect), "oci.%d.%d.kept", (int)c.pid, (int)c.pid);
	assert_string_equal(fdname, expect);
	assert_true(notify_fd_is_seccomp(stored));
	/* a crash; systemd restarts the daemon and hands the stored listener back */
	crash_and_hand_back(stored, fdname, workers);
	wait_listeners("kept", 1);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("kept", "sysinfo", "emulated"), 1); /* counted by the new daemon */
	log = harness_read_file(H.log_path, NULL);
	assert_non_null(strstr(log, "Took back 1 of 1 OCI listeners from the systemd fd store"));
	free(log);
	child_stop(&c);
	close(sock);
	close(nsock);
	api("DELETE", "/1.0/containers/kept", NULL, 200);
}

int main(void)
{
	static const char *const daemon_args[] = { "--workers", "2", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_config_applies_live),
		cmocka_unit_test(test_engine_listener_detaches_when_caller_exits),
		cmocka_unit_test(test_engine_hot_listener_served_again_after_cooling),
		cmocka_unit_test(test_engine_caller_killed_mid_call),
		cmocka_unit_test(test_engine_garbage_oci_intake),
		cmocka_unit_test(test_engine_silent_client_delays_nobody),
		cmocka_unit_test(test_engine_lxc_proxy_protocol),
		cmocka_unit_test(test_engine_unregistered_listener_continues),
		cmocka_unit_test(test_engine_lxc_deadline_answers_once),
		cmocka_unit_test(test_engine_lxc_deadline_covers_the_next_notification),
		cmocka_unit_test(test_daemon_sighup_reopens_log_file),
		cmocka_unit_test(test_engine_fdstore_keeps_oci_listeners_across_restart),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP the engine tests need root (seccomp listeners, /proc/PID/mem)\n");
		return 0;
	}
	return req_run_group(tests, ARRAY_SIZE(tests), daemon_args, NULL);
}
