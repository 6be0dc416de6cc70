/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests of the daemon's life around the API: a restart restores
 * the registry with the same ETags; SIGKILL during a burst of writes never
 * leaves a torn or empty state file and loses no acknowledged write; a corrupt
 * state file stops the start and is left byte-identical; a live daemon's
 * socket makes a second daemon refuse to start; a stale socket is replaced.
 * Each test runs its own daemon(s) in its own directory.
 */
#include <dirent.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness.h"

#define KEY "security.syscalls.intercept."

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));

	if (!h || harness_init(h) < 0)
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct harness *h = *state;

	harness_cleanup(h);
	free(h);
	return 0;
}

static void on_failure_dump(struct harness *h, bool ok)
{
	if (!ok)
		harness_dump_log(h);
}

static struct http_reply *req(struct harness *h, const char *method, const char *path,
			      const char *body)
{
	struct http_reply *rep = NULL;

	assert_int_equal(harness_request(h, method, path, body, &rep), 0);
	return rep;
}

static void expect_status(struct harness *h, const char *method, const char *path,
			  const char *body, long status)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req(h, method, path, body);

	on_failure_dump(h, r->status == status);
	assert_int_equal(r->status, status);
}

/* name → ETag header of every container, plus the recursion=1 listing. */
static json_t *snapshot(struct harness *h)
{
	_cleanup_(http_reply_freep) struct http_reply *list = req(h, "GET", "/1.0/containers?recursion=1", NULL);
	json_t *snap = json_object(), *c;
	size_t i;

	json_array_foreach(reply_meta(list), i, c) {
		char path[128];
		_cleanup_(http_reply_freep) struct http_reply *one = NULL;

		snprintf(path, sizeof(path), "/1.0/containers/%s",
			 json_string_value(json_object_get(c, "name")));
		one = req(h, "GET", path, NULL);
		json_object_set_new(snap, path, json_string(one->etag));
	}
	json_object_set(snap, "list", reply_meta(list));
	return snap;
}

static void test_restart_restores_registry_and_etags(void **state)
{
	struct harness *h = *state;
	json_auto_t *before = NULL, *after = NULL;

	assert_int_equal(harness_start(h, NULL), 0);
	expect_status(h, "POST", "/1.0/containers", "{\"name\":\"a\",\"config\":{\"" KEY "mknod\":\"1\"}}", 201);
	expect_status(h, "POST", "/1.0/containers", "{\"name\":\"b\"}", 201);
	expect_status(h, "POST", "/1.0/containers", "{\"name\":\"c\"}", 201);
	expect_status(h, "PATCH", "/1.0/containers/b", "{\"config\":{\"" KEY "mount.allowed\":\"ext4\",\"" KEY "mount\":\"on\"}}", 200);
	expect_status(h, "PUT", "/1.0/containers/a", "{\"config\":{\"" KEY "sysinfo\":\"yes\"}}", 200);
	expect_status(h, "DELETE", "/1.0/containers/c", NULL, 200);
	before = snapshot(h);
	assert_int_equal(WEXITSTATUS(harness_stop(h, SIGTERM)), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	after = snapshot(h);
	if (!json_equal(before, after)) {
		char *a = json_dumps(before, 0), *b = json_dumps(after, 0);

		fprintf(stderr, "# before %s\n# after  %s\n", a, b);
		free(a);
		free(b);
	}
	assert_true(json_equal(before, after));
	assert_int_equal(json_array_size(json_object_get(after, "list")), 2);
}

struct killer {
	pid_t pid;
	unsigned delay_ms;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_ms * 1000);
	(void)kill(k->pid, SIGKILL);
	return NULL;
}

/* POST (and PATCH) as fast as possible until the daemon dies; returns the acknowledged names. */
static json_t *write_until_killed(struct harness *h, unsigned round)
{
	json_t *acked = json_array();

	for (unsigned i = 0; i < 100000; i++) {
		char body[256], name[64];
		struct http_reply *r = NULL;

		snprintf(name, sizeof(name), "r%u-c%u", round, i);
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"config\":{\"" KEY "mknod\":\"%s\"}}",
			 name, i % 2 ? "true" : "false");
		if (harness_request(h, "POST", "/1.0/containers", body, &r) < 0)
			break;
		if (r->status == 201)
			json_array_append_new(acked, json_string(name));
		http_reply_free(r);
	}
	return acked;
}

/* Every container file is complete JSON: killed writes leave no torn or empty file. */
static void check_state_files(struct harness *h)
{
	char path[400];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/containers", h->state_dir);
	d = opendir(path);
	if (!d)
		return; /* killed before the state directory existed */
	while ((de = readdir(d))) {
		char file[700];
		size_t len = 0;
		_cleanup_free_ char *text = NULL;
		json_auto_t *j = NULL;

		if (de->d_name[0] == '.')
			continue; /* ".", ".." and temporary files, removed at the next start */
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		text = harness_read_file(file, &len);
		assert_non_null(text);
		assert_true(len > 0);
		j = json_loadb(text, len, 0, NULL);
		assert_non_null(j);
		assert_true(json_is_object(json_object_get(j, "container")));
	}
	closedir(d);
}

static void test_sigkill_during_writes_keeps_acknowledged(void **state)
{
	struct harness *h = *state;
	size_t total_acked = 0;

	for (unsigned round = 0; round < 4; round++) {
		struct killer k = { .delay_ms = 40 + 60 * round };
		json_auto_t *acked = NULL;
		pthread_t t;
		size_t i;
		json_t *name;

		assert_int_equal(harness_start(h, NULL), 0); /* replaces the stale sockets */
		k.pid = h->pid;
		assert_int_equal(pthread_create(&t, NULL, kill_later, &k), 0);
		acked = write_until_killed(h, round);
		pthread_join(t, NULL);
		assert_int_equal(harness_wait_exit(h, 30000), 0);
		assert_true(WIFSIGNALED(h->exit_status));
		check_state_files(h);
		total_acked += json_array_size(acked);
		assert_int_equal(harness_start(h, NULL), 0);
		json_array_foreach(acked, i, name) {
			char path[128];

			snprintf(path, sizeof(path), "/1.0/containers/%s", json_string_value(name));
			expect_status(h, "GET", path, NULL, 200);
		}
		assert_true(harness_count_containers(h) >= (int)total_acked);
		assert_int_equal(WEXITSTATUS(harness_stop(h, SIGTERM)), 0);
	}
	fprintf(stderr, "# %zu acknowledged writes survived 4 SIGKILLs\n", total_acked);
	assert_true(total_acked > 0);
}

/* Write @text to STATE_DIR/@rel, start the daemon: it must refuse, name @rel, keep the file. */
static void check_corrupt_refused(struct harness *h, const char *rel, const char *text)
{
	_cleanup_free_ char *after = NULL, *log = NULL;
	char path[400], expect[128];
	size_t len = 0;
	FILE *f;

	assert_int_equal(mkdir(h->state_dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/containers", h->state_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", h->state_dir, rel);
	f = fopen(path, "we");
	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	assert_int_equal(harness_spawn(h, NULL), 0);
	assert_int_equal(harness_wait_exit(h, 30000), 0);
	assert_true(WIFEXITED(h->exit_status));
	assert_int_not_equal(WEXITSTATUS(h->exit_status), 0);
	log = harness_read_file(h->log_path, NULL);
	snprintf(expect, sizeof(expect), "%s is corrupt", rel);
	on_failure_dump(h, log && strstr(log, expect));
	assert_non_null(strstr(log, expect));
	after = harness_read_file(path, &len);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(after, text, len);
	assert_int_equal(access(h->api_socket, F_OK), -1);
}

/* Replace the first @from in @path by @to (the state file as an older version wrote it). */
static void edit_file(const char *path, const char *from, const char *to)
{
	_cleanup_free_ char *text = harness_read_file(path, NULL);
	char *at = text ? strstr(text, from) : NULL;
	FILE *f;

	assert_non_null(at);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	fclose(f);
}

/* mount.allowed=proc, refused since: the start goes on (logged), the API refuses it anew. */
static void test_refused_mount_type_in_state_still_loads(void **state)
{
	struct harness *h = *state;
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	_cleanup_free_ char *log = NULL;
	char path[400];

	assert_int_equal(harness_start(h, NULL), 0);
	expect_status(h, "POST", "/1.0/containers",
		      "{\"name\":\"m\",\"config\":{\"" KEY "mount.allowed\":\"ext4\"}}", 201);
	assert_int_equal(WEXITSTATUS(harness_stop(h, SIGTERM)), 0);
	snprintf(path, sizeof(path), "%s/containers/m.json", h->state_dir);
	edit_file(path, "\"ext4\"", "\"ext4,proc\"");
	assert_int_equal(harness_start(h, NULL), 0);
	r = req(h, "GET", "/1.0/containers/m", NULL);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(reply_meta(r), "config"), KEY "mount.allowed")),
			    "ext4,proc");
	log = harness_read_file(h->log_path, NULL);
	on_failure_dump(h, log && strstr(log, "'proc' refused"));
	assert_non_null(strstr(log, "'proc' refused"));
	expect_status(h, "PATCH", "/1.0/containers/m", "{\"config\":{\"" KEY "mount\":\"on\"}}", 200);
	expect_status(h, "PATCH", "/1.0/containers/m",
		      "{\"config\":{\"" KEY "mount.allowed\":\"ext4,proc\"}}", 400);
}

static void test_corrupt_state_refuses_start_and_keeps_file(void **state)
{
	check_corrupt_refused(*state, "state.json", "{\"version\":1,\"containers\":[{\"name\":\"a\",");
}

static void test_corrupt_container_file_refuses_start_and_keeps_file(void **state)
{
	check_corrupt_refused(*state, "containers/a.json", "{\"version\":1,\"container\":{\"name\":");
}

static void test_live_socket_refuses_second_daemon(void **state)
{
	struct harness *h = *state, second;
	_cleanup_free_ char *log = NULL;

	assert_int_equal(harness_start(h, NULL), 0);
	assert_int_equal(harness_init(&second), 0);
	strcpy(second.api_socket, h->api_socket);
	assert_int_equal(harness_spawn(&second, NULL), 0);
	assert_int_equal(harness_wait_exit(&second, 10000), 0);
	log = harness_read_file(second.log_path, NULL);
	on_failure_dump(&second, log && strstr(log, "held by a running daemon"));
	assert_true(WIFEXITED(second.exit_status));
	assert_int_not_equal(WEXITSTATUS(second.exit_status), 0);
	assert_non_null(strstr(log, "held by a running daemon"));
	harness_cleanup(&second);
	expect_status(h, "GET", "/1.0", NULL, 200); /* the first one is untouched */
}

static void test_stale_socket_is_replaced(void **state)
{
	struct harness *h = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, h->api_socket);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* the file stays, nobody listens: stale */
	assert_int_equal(access(h->api_socket, F_OK), 0);
	assert_int_equal(harness_start(h, NULL), 0);
	expect_status(h, "GET", "/1.0", NULL, 200);
}

/* Every line of the log is one JSON object whose message and level are strings. */
static size_t assert_json_lines(const char *log)
{
	size_t n = 0;

	for (const char *p = log; *p; n++) {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		json_t *line;

		assert_non_null(nl);
		line = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &err);
		if (!json_is_object(line))
			fail_msg("not a JSON object (%s): %.*s", err.text, (int)(nl - p), p);
		assert_true(json_is_string(json_object_get(line, "message")));
		assert_true(json_is_string(json_object_get(line, "level")));
		json_decref(line);
		p = nl + 1;
	}
	return n;
}

static void test_log_format_json(void **state)
{
	struct harness *h = *state;
	_cleanup_free_ char *log = NULL;

	/* an unknown format stops the start, with a usage error */
	assert_int_equal(harness_spawn(h, (const char *const[]){ "--log-format", "xml", NULL }), 0);
	assert_int_equal(harness_wait_exit(h, 30000), 0);
	assert_true(WIFEXITED(h->exit_status));
	assert_int_equal(WEXITSTATUS(h->exit_status), 2);
	log = harness_read_file(h->log_path, NULL);
	assert_non_null(strstr(log, "Invalid --log-format 'xml': expected text or json"));
	assert_int_equal(truncate(h->log_path, 0), 0);
	/* a peer's text trying to end a line stays inside one object's message */
	assert_int_equal(harness_start(h, (const char *const[]){ "--log-format", "json",
							 "--log-level", "debug", NULL }),
			 0);
	expect_status(h, "GET", "/1.0/containers/a%0a%7b%22level%22%3a%22error%22%7d%1b%ff", NULL,
		      400);
	assert_true(WIFEXITED(harness_stop(h, SIGTERM)));
	free(log);
	log = harness_read_file(h->log_path, NULL);
	assert_true(assert_json_lines(log) >= 3); /* ready, the request, the stop */
	assert_non_null(strstr(log, "/1.0/containers/a\\\\x0a{\\\"level\\\":\\\"error\\\"}\\\\x1b\\\\xff"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_restores_registry_and_etags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_during_writes_keeps_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_refuses_start_and_keeps_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_container_file_refuses_start_and_keeps_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_socket_refuses_second_daemon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_is_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_mount_type_in_state_still_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_format_json, setup, teardown),
	};
	int r;

	if (!getenv("INTERCEPTD_BIN")) {
		fprintf(stderr, "# INTERCEPTD_BIN is not set, skipping\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r ? 1 : 0;
}
