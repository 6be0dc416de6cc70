/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine against callers that hold a worker: a notification whose target
 * memory blocks the worker reading it (a userfaultfd page nobody serves, or
 * serves late every time; FUSE files: test_engine_stuck_fuse.c), containers
 * with several listeners, and LXC monitors that go away while one of their
 * notifications is being handled. Real daemon, real notify fds; root only.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "stopwatch.h"
#include "stuck_peers.h"

/*
 * An LXC monitor closes its connection while the daemon is handling one of its
 * notifications (a handler blocked on the caller's memory), then the block is
 * released: the worker finds the connection gone and drops the listener, and
 * must not touch it afterwards (under ASan, the old code died of a
 * heap-use-after-free here).
 */
static void test_lxc_close_mid_notification(void **state)
{
	struct seccomp_notif req;
	struct child c;
	int proxy;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"closing\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	child_start(&c); /* first: a child forked later would hold the monitor's socket open */
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_send(proxy, &c, "closing", 'u', &req); /* its handler blocks on the path */
	assert_int_equal(wait_blocked_threads(1, EVENT_WAIT_MS), 1);
	close(proxy); /* the container stops: its monitor goes away */
	sleep_ms(100);
	child_stop(&c); /* releases the read: the late reply finds the connection closed */
	wait_listeners("closing", 0);
	assert_int_equal(wait_blocked_threads(0, EVENT_WAIT_MS), 0);
	assert_int_equal(harness_wait_exit(&H, 500), -ETIMEDOUT); /* still running */
	api("GET", "/1.0", NULL, 200);
	api("DELETE", "/1.0/containers/closing", NULL, 200);
}

/* A monitor that half-closes after an answered notification is dropped cleanly. */
static void test_lxc_half_close(void **state)
{
	struct seccomp_notif_resp resp;
	struct child c;
	char buf[64];
	int proxy;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"halfclose\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
	    201);
	child_start(&c);
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_cmd(proxy, &c, "halfclose", 's', &resp);
	assert_true(read(c.ctl, buf, sizeof(buf)) > 0);
	wait_listeners("halfclose", 1);
	assert_int_equal(shutdown(proxy, SHUT_WR), 0); /* EOF for the daemon, no HUP yet */
	wait_listeners("halfclose", 0);
	assert_int_equal(harness_wait_exit(&H, 500), -ETIMEDOUT);
	api("GET", "/1.0", NULL, 200);
	close(proxy);
	child_stop(&c);
	api("DELETE", "/1.0/containers/halfclose", NULL, 200);
}

/*
 * Two containers with one listener each, attached after another listener:
 * "filler" goes to the other worker, then "bystander" to the one that first
 * listener is on (a new container's listener goes to the least loaded
 * worker, the first one on a tie). With --workers 2.
 */
struct neighbours {
	struct child filler, bystander;
	int filler_sock, bystander_sock;
};

static void neighbours_start(struct neighbours *n)
{
	unsigned long total;

	api("POST", "/1.0/containers",
	    "{\"name\":\"bystander\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/containers",
	    "{\"name\":\"filler\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&n->filler);
	n->filler_sock = oci_handoff_child(&n->filler, "filler");
	assert_int_equal(child_sysinfo(&n->filler, &total), 0); /* placed before the next */
	child_start(&n->bystander);
	n->bystander_sock = oci_handoff_child(&n->bystander, "bystander");
	assert_int_equal(child_sysinfo(&n->bystander, &total), 0);
}

static void neighbours_stop(struct neighbours *n)
{
	child_stop(&n->filler);
	child_stop(&n->bystander);
	close(n->filler_sock);
	close(n->bystander_sock);
	api("DELETE", "/1.0/containers/bystander", NULL, 200);
	api("DELETE", "/1.0/containers/filler", NULL, 200);
}

/*
 * A hostile container makes its notification block the worker serving it (a
 * path in a userfaultfd page nobody serves); another container that shares
 * that worker is moved to a healthy one by the watchdog (1 s, checked every
 * 200 ms) and keeps being served. Unmoved, it would wait as long as the
 * hostile call does: here, until the end of the test.
 */
static void test_stuck_worker_does_not_stall_others(void **state)
{
	long moves = metric_value("interceptd_watchdog_moves_total");
	struct neighbours n;
	struct child hostile;
	struct stopwatch sw;
	unsigned long total;
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"hostile\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	child_start(&hostile);
	sock = oci_handoff_child(&hostile, "hostile");
	wait_listeners("hostile", 1);
	neighbours_start(&n); /* the bystander shares the hostile container's worker */
	assert_int_equal(write(hostile.ctl, "u", 1), 1);
	stopwatch_sleep_ms(H.pid, 300); /* the hostile notification now holds its worker */
	stopwatch_start(&sw, H.pid, n.bystander.pid);
	for (int i = 0; i < 5; i++)
		assert_int_equal(child_sysinfo(&n.bystander, &total), 0);
	/* about 1 s; the bound leaves room for a late tick, not for a missed move */
	assert_true(stopwatch_unstalled_s(&sw, "the bystander's 5 calls") < 4.0);
	assert_true(metric_value("interceptd_watchdog_moves_total") > moves);
	child_stop(&hostile); /* its death releases the stuck read */
	close(sock);
	neighbours_stop(&n);
	api("GET", "/1.0", NULL, 200);
	api("DELETE", "/1.0/containers/hostile", NULL, 200);
}

#define N_WORKERS 2     /* --workers of the tests' daemons (but the last test's) */
#define STR(x) #x
#define XSTR(x) STR(x)
#define ROUNDS 5        /* latency: the least of this many rounds' p99 */
#define SAMPLES 2000    /* sysinfo calls per round */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * @c's sysinfo p99 in ns: the least of ROUNDS rounds spread over about half a
 * second. The host's noise only ever adds to a round, while a slower daemon
 * slows every round: the least is the closest to the daemon's own figure.
 * *ret_wait gets that round's run-queue wait per call (the daemon's threads
 * and the child's, in ns): how much the host kept them from a CPU meanwhile.
 */
static uint32_t sysinfo_p99(struct child *c, uint32_t *ret_wait)
{
	static uint32_t ns[SAMPLES];
	uint32_t p99 = UINT32_MAX;
	struct stopwatch sw;

	for (int r = 0; r < ROUNDS; r++) {
		uint32_t wait;

		sleep_ms(50);
		stopwatch_start(&sw, H.pid, c->pid);
		child_sysinfo_timed(c, ns, SAMPLES);
		wait = (uint32_t)(stopwatch_run_queue_ns(&sw) / SAMPLES);
		qsort(ns, SAMPLES, sizeof(ns[0]), cmp_u32);
		if (ns[SAMPLES * 99 / 100] < p99) {
			p99 = ns[SAMPLES * 99 / 100];
			*ret_wait = wait;
		}
	}
	return p99;
}

/*
 * N+1 hostile containers (N = --workers) each hold a worker: every stuck
 * worker is replaced while the bounds allow (N replacements in all), the
 * healthy container keeps its sysinfo latency (p99 under twice its p99
 * without them, unless the host's load grew meanwhile), and a listener
 * attached meanwhile is served at once.
 */
static void test_stuck_workers_replaced(void **state)
{
	static const char *const names[N_WORKERS + 1] = { "hostile-a", "hostile-b", "hostile-c" };
	long replaced = metric_value("interceptd_workers_replaced_total");
	long moves = metric_value("interceptd_watchdog_moves_total");
	struct hostile hostile[N_WORKERS + 1];
	uint32_t calm, attacked, calm_wait = 0, attacked_wait = 0;
	struct child healthy, late;
	bool is_noisy = false;
	struct stopwatch sw;
	unsigned long total;
	int sock, late_sock, threads;

	(void)state;
	assert_true(replaced >= 0 && moves >= 0);
	api("POST", "/1.0/containers",
	    "{\"name\":\"healthy\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&healthy);
	sock = oci_handoff_child(&healthy, "healthy");
	assert_int_equal(child_sysinfo(&healthy, &total), 0);
	/* warm-up: a fresh daemon is slower for a while (ASan's for about a second) */
	for (int i = 0; i < 3; i++)
		(void)sysinfo_p99(&healthy, &calm_wait);
	calm = sysinfo_p99(&healthy, &calm_wait);
	threads = count_named_threads(H.pid, "icd-worker");
	for (int i = 0; i <= N_WORKERS; i++)
		hostile_start(&hostile[i], names[i]);
	for (int i = 0; i <= N_WORKERS; i++)
		hostile_block(&hostile[i]);
	/* one stuck in each original worker, the last one in a replacement */
	assert_int_equal(wait_blocked_threads(N_WORKERS + 1, EVENT_WAIT_MS), N_WORKERS + 1);
	assert_int_equal(child_sysinfo(&healthy, &total), 0); /* waits out a last move, if any */
	/* the machine is shared: someone else's burst can spoil a measurement, so up to
	 * five; a container stalled behind a stuck worker fails them all by far. A round
	 * in which the host kept the processes waiting for a CPU over twice as long as
	 * alone says nothing: on a loaded host a worker that waits a scheduler slice
	 * to run makes a p99 of milliseconds, which the daemon did not. */
	for (int attempt = 0; attempt < 5; attempt++) {
		attacked = sysinfo_p99(&healthy, &attacked_wait);
		is_noisy = attacked_wait > 2 * calm_wait + 1000;
		fprintf(stderr, "# healthy sysinfo p99: %u ns alone, %u ns with %d callers "
			"holding workers (run-queue wait per call: %u ns, then %u ns)\n", calm,
			attacked, N_WORKERS + 1, calm_wait, attacked_wait);
		if (attacked < 2 * calm || !is_noisy)
			break;
	}
	if (is_noisy && attacked >= 2 * calm)
		fprintf(stderr, "# the host's load grew: the p99 says nothing, not checked\n");
	else
		assert_true(attacked < 2 * calm);
	assert_int_equal(metric_value("interceptd_workers_replaced_total") - replaced, N_WORKERS);
	assert_true(metric_value("interceptd_watchdog_moves_total") > moves);
	/* workers only: the store starts and ends its writer threads as writes come */
	if (count_named_threads(H.pid, "icd-worker") - threads != N_WORKERS)
		print_threads(H.pid);
	assert_int_equal(count_named_threads(H.pid, "icd-worker") - threads, N_WORKERS); /* the bound */
	/* a listener attached now goes to the one healthy worker, not a stuck one */
	stopwatch_start(&sw, H.pid, 0);
	child_start(&late);
	late_sock = oci_handoff_child(&late, "healthy");
	assert_int_equal(child_sysinfo(&late, &total), 0);
	assert_true(stopwatch_unstalled_s(&sw, "a listener attached beside stuck workers") < 1.0);
	for (int i = 0; i <= N_WORKERS; i++)
		hostile_stop(&hostile[i], names[i]);
	assert_int_equal(wait_blocked_threads(0, EVENT_WAIT_MS), 0);
	assert_true(log_has("is free again", EVENT_WAIT_MS));
	child_stop(&late);
	child_stop(&healthy);
	close(late_sock);
	close(sock);
	api("DELETE", "/1.0/containers/healthy", NULL, 200);
}

/*
 * A container that holds a stuck worker gets no second one: its LXC
 * connection, placed on a healthy worker before its first message named it,
 * is then moved onto the stuck worker by the worker serving it, and its new
 * listeners are placed there, so its further calls only queue behind its
 * first; other containers are served meanwhile, and the queued call is
 * answered once the stuck one ends.
 */
static void test_stuck_container_is_quarantined(void **state)
{
	struct seccomp_notif_resp resp;
	struct seccomp_notif req;
	struct hostile first, third;
	struct child healthy, monitored;
	unsigned long total;
	char buf[64];
	long moves;
	int sock, proxy;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"calm\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&healthy);
	sock = oci_handoff_child(&healthy, "calm");
	hostile_start(&first, "greedy");
	child_start(&monitored); /* before the monitor's socket exists: no child holds it */
	hostile_block(&first);
	assert_int_equal(wait_blocked_threads(1, EVENT_WAIT_MS), 1);
	assert_true(log_has("in a notification of 'greedy'", EVENT_WAIT_MS));
	/* unnamed until its first message: placed on a healthy worker */
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_cmd(proxy, &monitored, "greedy", 's', &resp);
	assert_true(read(monitored.ctl, buf, sizeof(buf)) > 0);
	stopwatch_sleep_ms(H.pid, 500); /* the watchdog (every 200 ms) has seen its name */
	moves = metric_value("interceptd_watchdog_moves_total");
	relay_lxc_send(proxy, &monitored, "greedy", 's', &req);
	for (long waited = 0; waited < EVENT_WAIT_MS &&
			      metric_value("interceptd_watchdog_moves_total") == moves; waited += 20)
		sleep_ms(20);
	assert_int_equal(metric_value("interceptd_watchdog_moves_total"), moves + 1);
	child_start(&third.c); /* a listener attached now goes to the stuck worker */
	third.sock = oci_handoff_child(&third.c, "greedy");
	hostile_block(&third);
	assert_int_equal(child_sysinfo(&healthy, &total), 0);
	sleep_ms(500);
	assert_int_equal(wait_blocked_threads(1, 0), 1);
	assert_int_equal(child_sysinfo(&healthy, &total), 0);
	assert_int_equal(recv(proxy, buf, sizeof(buf), MSG_DONTWAIT), -1); /* queued */
	child_stop(&third.c);
	close(third.sock);
	hostile_stop(&first, "greedy");
	relay_lxc_answer(proxy, &monitored, &req, &resp); /* answered once free */
	assert_int_equal(wait_blocked_threads(0, EVENT_WAIT_MS), 0);
	close(proxy);
	child_stop(&monitored);
	child_stop(&healthy);
	close(sock);
	api("DELETE", "/1.0/containers/calm", NULL, 200);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* When a thread of the daemon began to wait in a caller's page (polled every ms). */
static uint64_t wait_first_blocked(void)
{
	int blocked = 0;

	for (long waited = 0; waited < EVENT_WAIT_MS && blocked == 0; waited++) {
		(void)count_threads(H.pid, &blocked);
		if (blocked == 0)
			sleep_ms(1);
	}
	assert_int_equal(blocked, 1);
	return mono_ns();
}

/* Whether @first appears in the daemon log before @second (both must). */
static bool logged_before(const char *first, const char *second)
{
	char *text = harness_read_file(H.log_path, NULL);
	const char *a = text ? strstr(text, first) : NULL, *b = text ? strstr(text, second) : NULL;
	bool before = a && b && a < b;

	free(text);
	return before;
}

/* Hand @c's listener over on @conn, a connection to the OCI socket, for container @name. */
static void send_state(int conn, const struct child *c, const char *name)
{
	char json[256];

	snprintf(json, sizeof(json),
		 "{\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"%s\","
		 "\"state\":{\"id\":\"%s\",\"pid\":%d}}", (int)c->pid, name, name, (int)c->pid);
	assert_int_equal(send_fd(conn, c->listener, json, strlen(json)), 0);
}

/*
 * One try of test_no_listener_placed_on_unheld_stuck_worker(): whether the
 * newcomers were attached between their worker getting stuck and being held,
 * and the moves the watchdog made.
 */
static bool race_newcomers_against_hold(long *ret_moves)
{
	long moves = metric_value("interceptd_watchdog_moves_total");
	struct hostile racer;
	struct neighbours n;
	struct child late[2]; /* the bystander's, the racer's */
	char attached[96], buf[64];
	uint64_t t0;
	int conn[2];
	bool in_window;

	hostile_start(&racer, "racer");
	wait_listeners("racer", 1);
	neighbours_start(&n); /* the bystander shares the racer's worker */
	child_start(&late[0]);
	child_start(&late[1]);
	hostile_block(&racer);
	t0 = wait_first_blocked(); /* the worker's notification began just before */
	sleep_until_ns(t0 + 900u * 1000000u);
	for (int i = 0; i < 2; i++) /* accepted, then a tick: the next one at 1.1 s */
		conn[i] = unix_connect(H.oci_socket, SOCK_STREAM);
	sleep_until_ns(t0 + 1030u * 1000000u);
	send_state(conn[0], &late[0], "bystander");
	send_state(conn[1], &late[1], "racer");
	assert_true(log_has("in a notification of 'racer'", EVENT_WAIT_MS));
	wait_listeners("bystander", 2);
	wait_listeners("racer", 2);
	/* the racer's newcomer joined its stuck worker: its call waits there */
	assert_int_equal(write(late[1].ctl, "s", 1), 1);
	stopwatch_sleep_ms(H.pid, 500); /* and the moves of the hold are done */
	assert_int_equal(recv(late[1].ctl, buf, sizeof(buf), MSG_DONTWAIT), -1);
	*ret_moves = metric_value("interceptd_watchdog_moves_total") - moves;
	snprintf(attached, sizeof(attached), "OCI listener attached for 'bystander' (pid %d)",
		 (int)late[0].pid);
	in_window = logged_before(attached, "in a notification of 'racer'");
	fprintf(stderr, "# newcomers attached %s the stuck worker was held; %ld move(s)\n",
		in_window ? "before" : "after", *ret_moves);
	hostile_stop(&racer, "racer"); /* frees the worker: the queued call is answered */
	assert_true(read(late[1].ctl, buf, sizeof(buf)) > 0);
	for (int i = 0; i < 2; i++) {
		child_stop(&late[i]);
		close(conn[i]);
	}
	neighbours_stop(&n);
	return in_window;
}

static int daemon_up_n(void **state);
static int daemon_down(void **state);

/*
 * A worker stuck in one container's notification for over a second is held by
 * the watchdog at its next look (every 200 ms at most); meanwhile a new
 * listener of another container ("bystander") whose listener shares that
 * worker must not be placed there. It goes to a healthy worker, and the hold
 * then moves only the bystander's first listener (to join it): one move. The
 * old code placed it on the stuck worker and moved both off at the hold. A new
 * listener of the stuck caller's own container still joins the stuck worker
 * (quarantine: its call waits there, and nothing moves it). The intake thread
 * ticks after every event and 200 ms after its last one, so the test connects
 * at 0.9 s (a tick; the next at 1.1 s) and hands the listeners over at
 * 1.03 s; a try the host delayed out of that window (the log shows the hold
 * first) is made again with a fresh daemon.
 */
static void test_no_listener_placed_on_unheld_stuck_worker(void **state)
{
	long moves = 0;
	int tries = 0;

	while (!race_newcomers_against_hold(&moves)) {
		assert_true(++tries < 5);
		assert_int_equal(daemon_down(state), 0);
		assert_int_equal(daemon_up_n(state), 0);
	}
	assert_int_equal(moves, 1);
}

/*
 * With every worker stuck (--workers 1: one original, one replacement), a
 * new listener waits for a free worker instead of joining a stuck one, and
 * is served as soon as one gets free. SIGTERM then stops the daemon within
 * 5 s although a worker stays stuck (the exit status is checked at teardown).
 */
static void test_all_stuck_then_sigterm(void **state)
{
	struct hostile a, b;
	struct child waiting;
	struct stopwatch sw;
	char buf[64];
	int sock;

	(void)state;
	hostile_start(&a, "stuck-a");
	hostile_start(&b, "stuck-b");
	hostile_block(&a);
	hostile_block(&b); /* moved to the replacement, which it holds too */
	assert_int_equal(wait_blocked_threads(2, EVENT_WAIT_MS), 2);
	assert_true(log_has("not replaced: 1 replacements are running already", EVENT_WAIT_MS));
	api("POST", "/1.0/containers",
	    "{\"name\":\"waiting\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&waiting);
	sock = oci_handoff_child(&waiting, "waiting");
	assert_int_equal(setsockopt(waiting.ctl, SOL_SOCKET, SO_RCVTIMEO,
				    &(struct timeval){ .tv_sec = EVENT_WAIT_MS / 1000 }, sizeof(struct timeval)), 0);
	assert_int_equal(write(waiting.ctl, "s", 1), 1);
	sleep_ms(300);
	assert_int_equal(recv(waiting.ctl, buf, sizeof(buf), MSG_DONTWAIT), -1); /* not served */
	child_stop(&a.c); /* frees worker 0 */
	assert_true(read(waiting.ctl, buf, sizeof(buf)) > 0); /* served there */
	assert_int_equal(wait_blocked_threads(1, EVENT_WAIT_MS), 1); /* b still holds its worker */
	stopwatch_start(&sw, H.pid, 0);
	assert_int_equal(kill(H.pid, SIGTERM), 0);
	assert_int_equal(harness_wait_exit(&H, EVENT_WAIT_MS), 0);
	assert_true(stopwatch_unstalled_s(&sw, "SIGTERM with a stuck worker, to the exit") < 5.0);
	assert_true(log_has("leaving them behind", 0));
	child_stop(&b.c);
	child_stop(&waiting);
	close(a.sock);
	close(b.sock);
	close(sock);
}

/*
 * A container with several listeners (runc makes one per exec) that blocks in
 * all of them at once holds one worker, not one per listener: its listeners
 * share a worker, so its later blocking calls wait behind its first. Else it
 * would hold every worker while only one replacement is started, and N more
 * containers (N = --workers) would hold the rest: three hostile containers
 * against two workers must leave a healthy container served.
 */
static void test_container_with_many_listeners_holds_one_worker(void **state)
{
	static const char *const solo[2] = { "solo-b", "solo-c" };
	struct hostile multi[N_WORKERS], others[2];
	struct child healthy;
	unsigned long total;
	char needle[64];
	int sock;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"healthy\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&healthy);
	sock = oci_handoff_child(&healthy, "healthy");
	assert_int_equal(child_sysinfo(&healthy, &total), 0);
	hostile_start(&multi[0], "multi");
	for (int i = 1; i < N_WORKERS; i++) {
		child_start(&multi[i].c);
		multi[i].sock = oci_handoff_child(&multi[i].c, "multi");
	}
	for (int i = 0; i < N_WORKERS; i++) /* served once: every listener is placed */
		assert_int_equal(child_sysinfo(&multi[i].c, &total), 0);
	for (int i = 0; i < N_WORKERS; i++)
		hostile_block(&multi[i]);
	assert_true(log_has("in a notification of 'multi'", EVENT_WAIT_MS));
	sleep_ms(500); /* a second worker held by it would be reported by now */
	fprintf(stderr, "# workers held by one container with %d listeners: %d\n", N_WORKERS,
		wait_blocked_threads(1, 0));
	for (int i = 0; i < 2; i++) {
		hostile_start(&others[i], solo[i]);
		hostile_block(&others[i]);
		snprintf(needle, sizeof(needle), "in a notification of '%s'", solo[i]);
		assert_true(log_has(needle, EVENT_WAIT_MS));
	}
	assert_int_equal(child_sysinfo(&healthy, &total), 0); /* a healthy worker is left */
	assert_int_equal(wait_blocked_threads(3, 0), 3);      /* one per hostile container */
	for (int i = 0; i < 2; i++)
		hostile_stop(&others[i], solo[i]);
	for (int i = 1; i < N_WORKERS; i++) {
		child_stop(&multi[i].c);
		close(multi[i].sock);
	}
	hostile_stop(&multi[0], "multi");
	assert_int_equal(wait_blocked_threads(0, EVENT_WAIT_MS), 0);
	child_stop(&healthy);
	close(sock);
	api("DELETE", "/1.0/containers/healthy", NULL, 200);
}

/*
 * A caller that holds its worker just under a second in every notification is
 * never stuck in one, but its slow notifications add up: once they pass a
 * second (within 10 s) its worker is held, and a container sharing that worker
 * is moved off instead of waiting 0.9 s for every call.
 */
static void test_slow_caller_is_held(void **state)
{
	uint32_t ns[10], slowest = 0;
	struct neighbours n;
	struct hostile slow;
	struct stopwatch sw;
	double unstalled;

	(void)state;
	hostile_start(&slow, "slow");
	wait_listeners("slow", 1);
	neighbours_start(&n); /* the bystander shares the slow caller's worker */
	assert_int_equal(write(slow.c.ctl, "w", 1), 1);
	/* held in its second call, after 1.2 s; the bystander is moved when that call ends */
	assert_true(log_has("in a notification of 'slow'", EVENT_WAIT_MS));
	stopwatch_sleep_ms(H.pid, 1500);
	stopwatch_start(&sw, H.pid, n.bystander.pid);
	child_sysinfo_timed(&n.bystander, ns, ARRAY_SIZE(ns));
	unstalled = stopwatch_unstalled_s(&sw, "10 calls beside a caller holding its worker 0.9 s per call");
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		slowest = ns[i] > slowest ? ns[i] : slowest;
	fprintf(stderr, "# the slowest of them: %.3f s\n", slowest / 1e9);
	/* unmoved, nearly every call would wait for the slow call in progress */
	assert_true(unstalled < 0.5);
	hostile_stop(&slow, "slow");
	neighbours_stop(&n);
}

static int daemon_up_n(void **state)
{
	(void)state;
	return stuck_daemon_up(XSTR(N_WORKERS));
}

static int daemon_up_1(void **state)
{
	(void)state;
	return stuck_daemon_up("1");
}

static int daemon_down(void **state)
{
	(void)state;
	return stuck_daemon_down();
}

#define DAEMON_TEST(t, up) cmocka_unit_test_setup_teardown(t, up, daemon_down)

int main(void)
{
	const struct CMUnitTest tests[] = {
		DAEMON_TEST(test_lxc_close_mid_notification, daemon_up_n),
		DAEMON_TEST(test_lxc_half_close, daemon_up_n),
		DAEMON_TEST(test_stuck_worker_does_not_stall_others, daemon_up_n),
		DAEMON_TEST(test_stuck_workers_replaced, daemon_up_n),
		DAEMON_TEST(test_stuck_container_is_quarantined, daemon_up_n),
		DAEMON_TEST(test_no_listener_placed_on_unheld_stuck_worker, daemon_up_n),
		DAEMON_TEST(test_container_with_many_listeners_holds_one_worker, daemon_up_n),
		DAEMON_TEST(test_slow_caller_is_held, daemon_up_n),
		DAEMON_TEST(test_all_stuck_then_sigterm, daemon_up_1),
	};

	return stuck_run(tests, ARRAY_SIZE(tests));
}
