/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API under load, next to the quiet API figures of bench.c:
 *  - stall: a daemon whose state directory is a loop-mounted ext4 that is
 *    frozen (FIFREEZE, as `fsfreeze -f`) while a PATCH is writing: how GET
 *    /1.0, GET /1.0/metrics and a PATCH refused for its body are answered
 *    meanwhile, and when PATCHes of the stalled and of another container
 *    answer once the disk is back. The guard of tests/integration/loopfs.c
 *    thaws on time even when this single-threaded bench is itself blocked in
 *    a request;
 *  - burst: 500 connections to the main daemon (1,000 containers) at once,
 *    each a GET /1.0, plus one PATCH among them: how many are answered within
 *    20 s and how fast, and how many fds the daemon still holds a second later.
 * Called from the bench's only thread; the stalled PATCHes run in forked
 * children.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../integration/loopfs.h"
#include "../integration/rawhttp.h"
#include "bench.h"
#include "results.h"

#define BURST_N 500
#define BURST_DEADLINE_S 20
#define PATCH_ON "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
#define PATCH_BAD "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"maybe\"}}"

static const struct container_def stall_defs[] = {
	{ "stall-a", NULL }, { "stall-b", NULL }, { "stall-c", NULL },
};

/* A PATCH in a child: it writes when its request was answered (ns) and the status. */
static pid_t patch_in_child(struct daemon_run *d, const char *path, int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t out[2] = { 0, 0 };
		long status = 0;

		close(p[0]);
		d->curl = NULL; /* the parent's handle and connection stay the parent's */
		if (api_request(d, "PATCH", path, PATCH_ON, 60000, &status, NULL, NULL) == 0)
			out[1] = (uint64_t)status;
		out[0] = now_ns();
		(void)!write(p[1], out, sizeof(out));
		_exit(0);
	}
	close(p[1]);
	*ret_fd = p[0];
	return pid;
}

/* When the child answered, in ms after @thaw_ns (negative: before), and its status. */
static double child_done(pid_t pid, int fd, uint64_t thaw_ns, long *ret_status)
{
	uint64_t out[2] = { 0, 0 };
	ssize_t n = read(fd, out, sizeof(out));

	close(fd);
	(void)wait_or_kill(pid, 5000, NULL);
	*ret_status = n == sizeof(out) ? (long)out[1] : 0;
	return n == sizeof(out) ? ((double)out[0] - (double)thaw_ns) / 1e6 : NAN;
}

/* One request; its latency is kept in @t when it answered @want. */
static int timed(struct daemon_run *d, const char *method, const char *path, const char *body,
		 long want, uint64_t *t, unsigned *n)
{
	long status = 0;
	int r = api_request(d, method, path, body, 30000, &status, &t[*n], NULL);

	if (r < 0 || status != want)
		return r < 0 ? r : -EBADMSG;
	(*n)++;
	return 0;
}

/* Requests from other clients while the disk is frozen, until @until_ns. */
static int stall_window(struct bench *b, struct daemon_run *d, uint64_t until_ns)
{
	enum { MAX = 16384 };
	_cleanup_free_ uint64_t *t = calloc(3 * MAX, sizeof(uint64_t));
	unsigned n_get = 0, n_metrics = 0, n_bad = 0;
	int r = 0;

	if (!t)
		return -ENOMEM;
	while (r == 0 && now_ns() < until_ns && n_get < MAX) {
		r = timed(d, "GET", "/1.0", NULL, 200, t, &n_get);
		if (r == 0 && now_ns() < until_ns)
			r = timed(d, "GET", "/1.0/metrics", NULL, 200, t + MAX, &n_metrics);
		if (r == 0 && now_ns() < until_ns)
			r = timed(d, "PATCH", "/1.0/containers/stall-b", PATCH_BAD, 400, t + 2 * MAX,
				  &n_bad);
	}
	qsort(t, n_get, sizeof(uint64_t), cmp_u64);
	qsort(t + MAX, n_metrics, sizeof(uint64_t), cmp_u64);
	qsort(t + 2 * MAX, n_bad, sizeof(uint64_t), cmp_u64);
	b->stall.n_get = n_get;
	b->stall.get_med = ms_percentile(t, n_get, 0.5);
	b->stall.get_p99 = ms_percentile(t, n_get, 0.99);
	b->stall.get_max = ms_percentile(t, n_get, 1.0);
	b->stall.metrics_p99 = ms_percentile(t + MAX, n_metrics, 0.99);
	b->stall.bad_patch_p99 = ms_percentile(t + 2 * MAX, n_bad, 0.99);
	return r;
}

/* Freeze, PATCH stall-a (and then stall-c) in children, measure the others, thaw on time. */
static int stall_measure(struct bench *b, struct loopfs *fs, struct daemon_run *d)
{
	unsigned freeze_ms = b->o.smoke ? 600 : 2000;
	uint64_t t0, thaw_ns;
	pid_t a, c;
	int fd_a, fd_c, r;

	r = loopfs_freeze(fs);
	if (r == -EOPNOTSUPP || r == -ENOTTY) /* no fsfreeze here: a skip, not a failure */
		(void)snprintf(b->stall.skip, sizeof(b->stall.skip),
			       "the filesystem cannot be frozen (FIFREEZE): %s", strerror(-r));
	if (r < 0)
		return r;
	t0 = now_ns();
	thaw_ns = t0 + (uint64_t)freeze_ms * 1000000;
	r = loopfs_thaw_later(fs, freeze_ms);
	if (r < 0) {
		(void)loopfs_thaw(fs);
		return r;
	}
	a = patch_in_child(d, "/1.0/containers/stall-a", &fd_a);
	sleep_ns(100000000);
	c = patch_in_child(d, "/1.0/containers/stall-c", &fd_c);
	sleep_ns(50000000);
	r = stall_window(b, d, thaw_ns - 50000000);
	b->stall.stalled_after_thaw_ms = child_done(a, fd_a, thaw_ns, &b->stall.stalled_status);
	b->stall.other_after_thaw_ms = child_done(c, fd_c, thaw_ns, &b->stall.other_status);
	b->stall.freeze_ms = freeze_ms;
	if (r == 0 && (b->stall.stalled_status != 200 || b->stall.other_status != 200))
		r = -EBADMSG; /* once the disk is back, both writes must have gone through */
	return r;
}

/* Why the stall case failed, from the step that failed and its error. */
static void stall_failed(struct bench *b, const char *step, int r)
{
	(void)snprintf(b->stall.fail, sizeof(b->stall.fail), "%s: %s", step,
		       r == -EBADMSG ? "unexpected HTTP status" : strerror(-r));
}

void run_api_stall(struct bench *b)
{
	char dir[200], img[240], state[240], why[SKIP_LEN] = "";
	struct daemon_run d = { .pid = -1 };
	struct loopfs fs;
	int r;

	if (!b->main_up || b->api_skip[0]) {
		(void)snprintf(b->stall.skip, sizeof(b->stall.skip), "%s",
			       b->api_skip[0] ? b->api_skip : b->daemon_skip);
		return;
	}
	(void)snprintf(dir, sizeof(dir), "%s/stall", b->dir);
	(void)snprintf(img, sizeof(img), "%s/stall.img", b->dir);
	(void)snprintf(state, sizeof(state), "%s/state", dir);
	(void)mkdir(dir, 0700);
	r = loopfs_setup(&fs, img, state, 64, why, sizeof(why));
	if (r == -EOPNOTSUPP) {
		/* no loop device, no mkfs.ext4: the machine cannot stall a disk */
		(void)snprintf(b->stall.skip, sizeof(b->stall.skip), "%s", why);
		return;
	}
	if (r < 0) {
		stall_failed(b, why[0] ? why : "cannot set up the loop filesystem", r);
		return;
	}
	r = state_write(state, stall_defs, sizeof(stall_defs) / sizeof(stall_defs[0]), 0);
	if (r < 0)
		stall_failed(b, "cannot write the state file", r);
	if (r == 0 && (r = daemon_start(&d, b->o.daemon_bin, dir, b->cpus)) < 0)
		stall_failed(b, "the daemon did not start on the loop filesystem", r);
	if (r == 0 && (r = stall_measure(b, &fs, &d)) < 0 && !b->stall.skip[0])
		stall_failed(b, "stalled-write case failed", r);
	b->stall.ran = r == 0;
	if (r < 0 && b->stall.fail[0])
		daemon_log_tail(&d);
	daemon_stop(&d);
	loopfs_teardown(&fs);
}

static void burst_stats(struct bench *b, struct raw_conn *c, size_t n)
{
	_cleanup_free_ uint64_t *t = calloc(n, sizeof(uint64_t));
	unsigned k = 0;

	for (size_t i = 0; t && i < n; i++) {
		if (c[i].status == 200)
			t[k++] = c[i].t_done_ns - c[i].t_start_ns;
		else if (c[i].err == -EAGAIN)
			b->burst.refused++;
		else if (c[i].err == -ETIMEDOUT)
			b->burst.unanswered++;
		else
			b->burst.failed++;
	}
	qsort(t, k, sizeof(uint64_t), cmp_u64);
	b->burst.answered = k;
	b->burst.med = ms_percentile(t, k, 0.5);
	b->burst.p99 = ms_percentile(t, k, 0.99);
	b->burst.max = ms_percentile(t, k, 1.0);
}

/*
 * A burst the daemon failed, as opposed to one it served slowly (that is for
 * the targets): a connection it broke or answered with an error, the PATCH
 * among them not done, or no answer at all.
 */
static void burst_judge(struct bench *b)
{
	const typeof(b->burst) *u = &b->burst;

	if (u->failed)
		(void)snprintf(b->burst.fail, sizeof(b->burst.fail),
			       "%u of %u connections failed (an error, or an answer other than 200)",
			       u->failed, u->n);
	else if (!u->patch_status)
		(void)snprintf(b->burst.fail, sizeof(b->burst.fail),
			       "the PATCH among them got no answer");
	else if (u->patch_status != 200)
		(void)snprintf(b->burst.fail, sizeof(b->burst.fail),
			       "the PATCH among them got HTTP %ld", u->patch_status);
	else if (!u->answered)
		(void)snprintf(b->burst.fail, sizeof(b->burst.fail), "no GET was answered");
}

void run_api_burst(struct bench *b)
{
	_cleanup_free_ struct raw_conn *c = calloc(BURST_N + 1, sizeof(*c));
	struct raw_conn *p = c ? &c[BURST_N] : NULL;
	char patch[512];

	if (!c) {
		(void)snprintf(b->burst.fail, sizeof(b->burst.fail), "out of memory");
		return;
	}
	if (!b->main_up || b->api_skip[0]) {
		(void)snprintf(b->burst.skip, sizeof(b->burst.skip), "%s",
			       b->api_skip[0] ? b->api_skip : b->daemon_skip);
		return;
	}
	(void)snprintf(patch, sizeof(patch),
		       "PATCH /1.0/containers/bench-api HTTP/1.1\r\nHost: localhost\r\n"
		       "Connection: close\r\nContent-Type: application/json\r\n"
		       "Content-Length: %zu\r\n\r\n%s", strlen(PATCH_ON), PATCH_ON);
	b->burst.n = BURST_N;
	b->burst.fds_before = raw_count_fds(b->main_d.pid);
	for (size_t i = 0; i < BURST_N; i++)
		(void)raw_connect(&c[i], b->main_d.api, RAW_GET("/1.0"));
	(void)raw_connect(p, b->main_d.api, patch);
	(void)raw_run(c, BURST_N + 1, now_ns() + BURST_DEADLINE_S * 1000000000ULL);
	for (size_t i = 0; i <= BURST_N; i++)
		raw_close(&c[i]);
	burst_stats(b, c, BURST_N);
	b->burst.patch_status = p->status;
	b->burst.patch_ms = p->status ? (double)(p->t_done_ns - p->t_start_ns) / 1e6 : NAN;
	sleep_ns(1000000000);
	b->burst.fds_after = raw_count_fds(b->main_d.pid);
	b->burst.ran = true;
	burst_judge(b);
}
