/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes that wait on the disk, against the real daemon whose state directory
 * is a loop-mounted ext4 frozen (FIFREEZE, as `fsfreeze -f`) while a change is
 * being written:
 *  - GETs of the container and of its state, and metrics from the API socket
 *    and from the --metrics-address TCP listener, keep a p99 under 10 ms
 *    (less the time the host kept the processes waiting for a CPU) and show
 *    what was there before, a PATCH refused for its body is answered at
 *    once, and a container being deleted stays until its file is gone;
 *  - writes to one container stay in order and If-Match stays exact: a PATCH
 *    that waits behind another with the same If-Match gets 412;
 *  - a change whose write fails is never acted on, even while it waits: a
 *    worker serving the container's listener keeps the old rules meanwhile,
 *    and after the 500 nothing changed.
 * Root only (loop devices, seccomp listeners); skips when the machine has no
 * loop device. The guard of loopfs.c thaws, unmounts and detaches even if this
 * process dies.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "loopfs.h"
#include "peers.h"
#include "rawhttp.h"
#include "stopwatch.h"
#include "tcp_ports.h"

#define SYSINFO_ON "{\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}"
#define N_READS 100
/* the guard thaws by then whatever happens to the test */
#define FREEZE_SAFETY_MS 15000

/*
 * The p99 a read may take while a write waits on the disk: the 10 ms,
 * in every build. Taken less the host's run-queue waits (read_p99()), reads
 * stay well under it with AddressSanitizer too (under 0.5 ms measured, with
 * the machine's load average above 20), so sanitizer builds need no bound of
 * their own. A read that waited for the disk would wait for the thaw, which
 * comes only after the reads.
 */
#define READ_P99_LIMIT_MS 10.0

static struct loopfs fs;
/* http://127.0.0.1:PORT/1.0/metrics: the daemon's --metrics-address listener */
static char tcp_metrics_url[64];

/* A request made from its own thread while the test goes on. */
struct pending {
	pthread_t thread;
	bool is_running;
	const char *method, *path, *body, *if_match;
	long status;
	char etag[64], error[512];
};

static void *pending_main(void *arg)
{
	struct pending *p = arg;
	const char *headers[2] = { p->if_match, NULL };
	struct http_reply *r = NULL;

	if (harness_request_h(&H, p->method, p->path, p->body, p->if_match ? headers : NULL,
			      &r) == 0) {
		p->status = r->status;
		snprintf(p->etag, sizeof(p->etag), "%s", r->etag ? r->etag : "");
		snprintf(p->error, sizeof(p->error), "%s", reply_str(r, "error") ?: "");
	}
	http_reply_free(r);
	return NULL;
}

static void pending_start(struct pending *p, const char *method, const char *path,
			  const char *body, const char *if_match)
{
	*p = (struct pending){ .method = method, .path = path, .body = body, .if_match = if_match };
	assert_int_equal(pthread_create(&p->thread, NULL, pending_main, p), 0);
	p->is_running = true;
}

static void pending_join(struct pending *p)
{
	if (p->is_running)
		(void)pthread_join(p->thread, NULL);
	p->is_running = false;
}

static struct pending patches[3];

static void freeze(void)
{
	assert_int_equal(loopfs_freeze(&fs), 0);
	assert_int_equal(loopfs_thaw_later(&fs, FREEZE_SAFETY_MS), 0);
}

/* Thawed and every request thread joined, also after a failed assertion. */
static int thaw_and_join(void **state)
{
	(void)state;
	(void)loopfs_thaw(&fs);
	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++)
		pending_join(&patches[i]);
	return 0;
}

static char *etag_of(const char *name)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	char path[128];

	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	assert_int_equal(r->status, 200);
	return strdup(r->etag);
}

static void create(const char *name)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	api("POST", "/1.0/containers", body, 201);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One GET of @path over the API socket (or of @url), answering 200; its time in *ret_ms. */
static void timed_get(const char *path, const char *url, double *ret_ms, double *ret_waited_ms,
		      void (*check)(const struct http_reply *, const void *), const void *arg)
{
	struct http_reply *r = NULL;
	struct stopwatch sw;
	uint64_t t0, t1;

	stopwatch_start(&sw, H.pid, 0);
	t0 = raw_now_ns();
	assert_int_equal(http_request(url ? NULL : H.api_socket, "GET", url ? url : path, NULL, 0,
				      NULL, &r), 0);
	t1 = raw_now_ns();
	*ret_waited_ms = (double)stopwatch_run_queue_ns(&sw) / 1e6;
	*ret_ms = (double)(t1 - t0) / 1e6;
	assert_int_equal(r->status, 200);
	if (check)
		check(r, arg);
	http_reply_free(r);
}

/*
 * p99 (ms) of N_READS GETs of @path over the API socket (or, with @url set,
 * of that URL), each answering 200; @check sees every reply. Each time is
 * taken less what the host kept the daemon and this process waiting for a
 * CPU meanwhile (stopwatch.h): the machine is shared, and a 10 ms bound is
 * about the daemon, not about its neighbours. A read that waited on the disk
 * sleeps, which is not discounted.
 */
static double read_p99(const char *path, const char *url, const char *when,
		       void (*check)(const struct http_reply *, const void *), const void *arg)
{
	double ms[N_READS], raw[N_READS];

	for (size_t i = 0; i < N_READS; i++) {
		double waited;

		timed_get(path, url, &raw[i], &waited, check, arg);
		ms[i] = raw[i] > waited ? raw[i] - waited : 0;
	}
	qsort(ms, N_READS, sizeof(double), cmp_double);
	qsort(raw, N_READS, sizeof(double), cmp_double);
	fprintf(stderr, "# GET %s %s: median %.2f ms, p99 %.2f ms (%.2f ms before taking off the "
		"host's run-queue waits)\n", url ? url : path, when, ms[N_READS / 2],
		ms[N_READS * 99 / 100], raw[N_READS * 99 / 100]);
	return ms[N_READS * 99 / 100];
}

/*
 * Do reads keep a p99 under READ_P99_LIMIT_MS while a write waits? One burst
 * of someone else's work can still spoil a round (what the run-queue waits
 * miss: caches, memory bandwidth, steal time), so up to three rounds; reads
 * stuck behind the disk would fail every one of them.
 */
static bool p99_within(const char *path, const char *url,
		       void (*check)(const struct http_reply *, const void *), const void *arg)
{
	for (int round = 0; round < 3; round++)
		if (read_p99(path, url, "while a write waits", check, arg) < READ_P99_LIMIT_MS)
			return true;
	return false;
}

/* c1 as it was: sysinfo unset, the ETag from before the PATCH. */
static void check_unchanged(const struct http_reply *r, const void *etag)
{
	json_t *config = json_object_get(reply_meta(r), "config");

	assert_null(json_object_get(config, "security.syscalls.intercept.sysinfo"));
	assert_string_equal(r->etag, etag);
}

/* What the reads take with no write waiting, for the log: the same reads as under the stall. */
static void print_idle_reads(void)
{
	(void)read_p99("/1.0/containers/c1", NULL, "with no write waiting", NULL, NULL);
	(void)read_p99("/1.0/containers/c1/state", NULL, "with no write waiting", NULL, NULL);
	(void)read_p99("/1.0/metrics", NULL, "with no write waiting", NULL, NULL);
	(void)read_p99(NULL, tcp_metrics_url, "with no write waiting", NULL, NULL);
}

static void test_reads_answer_while_a_write_waits_on_the_disk(void **state)
{
	_cleanup_free_ char *etag = NULL;
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	struct pending *patch = &patches[0], *del = &patches[1];

	(void)state;
	create("c1");
	create("c2");
	create("c3");
	etag = etag_of("c1");
	print_idle_reads();
	freeze();
	pending_start(patch, "PATCH", "/1.0/containers/c1", SYSINFO_ON, NULL);
	assert_int_equal(wait_blocked_threads(1, 3000), 1);
	assert_true(p99_within("/1.0/containers/c1", NULL, check_unchanged, etag));
	assert_true(p99_within("/1.0/containers/c1/state", NULL, NULL, NULL));
	assert_true(p99_within("/1.0/metrics", NULL, NULL, NULL));
	assert_true(p99_within(NULL, tcp_metrics_url, NULL, NULL));
	/* a body that is refused never waits for the disk */
	api("PATCH", "/1.0/containers/c2", "{\"config\":{\"security.syscalls.intercept.sysinfo\":1}}",
	    400);
	/* deleted only once its file is gone */
	pending_start(del, "DELETE", "/1.0/containers/c3", NULL, NULL);
	assert_int_equal(wait_blocked_threads(2, 3000), 2);
	api("GET", "/1.0/containers/c3", NULL, 200);
	assert_int_equal(loopfs_thaw(&fs), 0);
	pending_join(patch);
	pending_join(del);
	assert_int_equal(patch->status, 200);
	assert_int_equal(del->status, 200);
	api("GET", "/1.0/containers/c3", NULL, 404);
	assert_int_equal(harness_request(&H, "GET", "/1.0/containers/c1", NULL, &r), 0);
	assert_string_equal(r->etag, patch->etag);
	assert_string_equal(json_string_value(json_object_get(json_object_get(reply_meta(r), "config"),
							       "security.syscalls.intercept.sysinfo")),
			    "true");
}

static void test_writes_to_one_container_stay_in_order(void **state)
{
	struct pending *first = &patches[0], *second = &patches[1];
	_cleanup_free_ char *etag = NULL, *now = NULL;
	char if_match[128];

	(void)state;
	create("o1");
	etag = etag_of("o1");
	snprintf(if_match, sizeof(if_match), "If-Match: %s", etag);
	freeze();
	pending_start(first, "PATCH", "/1.0/containers/o1", SYSINFO_ON, if_match);
	assert_int_equal(wait_blocked_threads(1, 3000), 1);
	/* the same precondition: met now, not once the first change is in */
	pending_start(second, "PATCH", "/1.0/containers/o1",
		      "{\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", if_match);
	sleep_ms(300);
	assert_int_equal(loopfs_thaw(&fs), 0);
	pending_join(first);
	pending_join(second);
	assert_int_equal(first->status, 200);
	assert_int_equal(second->status, 412);
	now = etag_of("o1");
	assert_string_equal(now, first->etag);
	assert_non_null(strstr(second->error, now));
}

static void test_a_failed_write_is_never_acted_on(void **state)
{
	struct pending *patch = &patches[0];
	_cleanup_free_ char *etag = NULL, *after = NULL;
	char policy[400];
	unsigned long total;
	struct child c;
	int sock;

	(void)state;
	create("f1");
	etag = etag_of("f1");
	child_start(&c);
	sock = oci_handoff_child(&c, "f1");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("f1", "sysinfo", "continued"), 1);
	/* the LXC policy file cannot be replaced: a directory holds its name */
	snprintf(policy, sizeof(policy), "%s/seccomp/f1", H.state_dir);
	assert_int_equal(unlink(policy), 0);
	assert_int_equal(mkdir(policy, 0700), 0);
	freeze();
	pending_start(patch, "PATCH", "/1.0/containers/f1", SYSINFO_ON, NULL);
	assert_int_equal(wait_blocked_threads(1, 3000), 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(loopfs_thaw(&fs), 0);
	pending_join(patch);
	assert_int_equal(patch->status, 500);
	assert_int_equal(metric("f1", "sysinfo", "emulated"), 0);
	assert_int_equal(metric("f1", "sysinfo", "continued"), 6);
	after = etag_of("f1");
	assert_string_equal(after, etag);
	/* once the disk takes it, the change applies */
	assert_int_equal(rmdir(policy), 0);
	api("PATCH", "/1.0/containers/f1", SYSINFO_ON, 200);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("f1", "sysinfo", "emulated"), 1);
	child_stop(&c);
	close(sock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reads_answer_while_a_write_waits_on_the_disk,
					  thaw_and_join),
		cmocka_unit_test_teardown(test_writes_to_one_container_stay_in_order, thaw_and_join),
		cmocka_unit_test_teardown(test_a_failed_write_is_never_acted_on, thaw_and_join),
	};
	char image[400], why[256] = "", address[32];
	unsigned port;
	int r, failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (loop devices, FIFREEZE, seccomp listeners)\n");
		return 0;
	}
	if (!getenv("INTERCEPTD_BIN") || harness_init(&H) < 0)
		return 1;
	snprintf(image, sizeof(image), "%s/state.img", H.dir);
	r = loopfs_setup(&fs, image, H.state_dir, 64, why, sizeof(why));
	if (r < 0) {
		printf(r == -EOPNOTSUPP ? "1..0 # SKIP %s\n" : "Bail out! %s\n", why);
		harness_cleanup(&H);
		return r == -EOPNOTSUPP ? 0 : 1;
	}
	port = tcp_free_port(AF_INET);
	snprintf(address, sizeof(address), "127.0.0.1:%u", port);
	snprintf(tcp_metrics_url, sizeof(tcp_metrics_url), "http://%s/1.0/metrics", address);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!port || harness_start(&H, (const char *const[]){ "--workers", "2", "--metrics-address",
							       address, NULL }) < 0) {
		loopfs_teardown(&fs);
		harness_cleanup(&H);
		return 1;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	r = harness_stop(&H, SIGTERM);
	if (failed || !WIFEXITED(r) || WEXITSTATUS(r) != 0)
		harness_dump_log(&H);
	loopfs_teardown(&fs);
	harness_cleanup(&H);
	curl_global_cleanup();
	return failed || !WIFEXITED(r) || WEXITSTATUS(r) != 0;
}
