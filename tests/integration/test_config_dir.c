/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for --config-dir against the real daemon: profiles from
 * files present at start and read-only over the API, a file edited, written
 * in place or swapped in the way a Kubernetes ConfigMap is (a new "..2026_..."
 * directory and a "..data" symlink renamed over the old one) applied within
 * a second, a bad file refusing the whole generation with the error in
 * GET /1.0, in the log and as events (config-dir-refused, then
 * config-dir-applied once fixed), a removed file removing its profile or
 * keeping it while in use,
 * hostile directories (links out of it, thousands of files), and a file
 * removed while the daemon was stopped.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "events_reader.h"
#include "req.h"

#define KEY "security.syscalls.intercept."
#define MKNOD(v) "{\"config\": {\"" KEY "mknod\": \"" v "\"}}"
/* a change is applied 100-200 ms after the write; 3 s leaves room for a loaded host */
#define APPLY_MS 3000
/* where only the outcome matters, not its speed: room for a loaded machine */
#define OUTCOME_MS 5000

struct harness H;
static char cfg_dir[400];
static const char *const daemon_args[] = { "--config-dir", cfg_dir, NULL };

static void write_file(const char *name, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cfg_dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Rename @from to @to inside the config directory. */
static void rename_in(const char *from, const char *to)
{
	char from_path[512], to_path[512];

	snprintf(from_path, sizeof(from_path), "%s/%s", cfg_dir, from);
	snprintf(to_path, sizeof(to_path), "%s/%s", cfg_dir, to);
	assert_int_equal(rename(from_path, to_path), 0);
}

/* As an editor or kubectl cp does: a temporary file renamed over the old one. */
static void replace_file(const char *name, const char *content)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	write_file(tmp, content);
	rename_in(tmp, name);
}

static void remove_file(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", cfg_dir, name);
	assert_int_equal(unlink(path), 0);
}

/* GET /1.0's "config_dir" object (a new reference). */
static json_t *status(void)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0", NULL);
	json_t *s = json_object_get(reply_meta(r), "config_dir");

	assert_non_null(s);
	return json_incref(s);
}

static size_t n_errors(void)
{
	json_auto_t *s = status();

	return json_array_size(json_object_get(s, "errors"));
}

/* The value of @key of profile @name: "" when unset, NULL when there is no such profile. */
static char *profile_value(const char *name, const char *key)
{
	char path[128];
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	json_t *v;

	snprintf(path, sizeof(path), "/1.0/profiles/%s", name);
	r = req("GET", path, NULL);
	if (r->status == 404)
		return NULL;
	assert_int_equal(r->status, 200);
	v = json_object_get(json_object_get(reply_meta(r), "config"), key);
	return strdup(v ? json_string_value(v) : "");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Is profile @name's mknod @want (NULL: the profile is gone)? */
static bool mknod_is(const char *name, const char *want)
{
	_cleanup_free_ char *v = profile_value(name, KEY "mknod");

	return want ? v && strcmp(v, want) == 0 : !v;
}

/* Wait up to @ms for mknod_is(): the milliseconds it took, or -1. */
static long wait_mknod(const char *name, const char *want, long ms)
{
	long start = now_ms();

	do {
		if (mknod_is(name, want))
			return now_ms() - start;
		usleep(10000);
	} while (now_ms() - start < ms);
	return -1;
}

static long wait_errors(bool want, long ms)
{
	long start = now_ms();

	do {
		if ((n_errors() > 0) == want)
			return now_ms() - start;
		usleep(10000);
	} while (now_ms() - start < ms);
	return -1;
}

static void assert_applied_in_time(const char *name, const char *want)
{
	long took = wait_mknod(name, want, APPLY_MS);

	fprintf(stderr, "# profile '%s' -> %s in %ld ms\n", name, want ? want : "(gone)", took);
	assert_true(took >= 0);
}

/* Empty the directory, remove every container, and wait for the profiles to go. */
static int teardown(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *list = req("GET", "/1.0/containers", NULL);
	char cmd[600];
	size_t i;
	json_t *url;

	(void)state;
	json_array_foreach(reply_meta(list), i, url)
		api("DELETE", json_string_value(url), NULL, 200);
	/* a bad file first, removed last: no reading meanwhile applies a part of the removal */
	write_file("BLOCK", "");
	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 ! -name BLOCK -delete", cfg_dir);
	assert_int_equal(system(cmd), 0);
	remove_file("BLOCK");
	for (long start = now_ms(); now_ms() - start < 3000; usleep(20000)) {
		json_auto_t *s = status();

		if (json_array_size(json_object_get(s, "profiles")) == 0 &&
		    json_array_size(json_object_get(s, "errors")) == 0)
			return 0;
	}
	fail_msg("the config directory did not empty");
	return 0;
}

static void test_start_read_only(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *get = NULL, *put = NULL, *post = NULL,
						      *own = NULL;
	json_auto_t *s = status();

	(void)state;
	/* written by main() before the daemon started */
	assert_true(mknod_is("web", "true"));
	assert_string_equal(json_string_value(json_object_get(s, "path")), cfg_dir);
	assert_true(json_integer_value(json_object_get(s, "generation")) >= 1);
	get = req("GET", "/1.0/profiles/web", NULL);
	assert_string_equal(json_string_value(json_object_get(reply_meta(get), "source")), "file");
	put = req("PUT", "/1.0/profiles/web", "{\"config\": {}}");
	assert_true(reply_is_error(put, 403, "profile.web.json"));
	api("PATCH", "/1.0/profiles/web", "{\"config\": {}}", 403);
	api("DELETE", "/1.0/profiles/web", NULL, 403);
	post = req("POST", "/1.0/profiles", "{\"name\": \"web\", \"config\": {}}");
	assert_true(reply_is_error(post, 403, "config directory"));
	assert_true(mknod_is("web", "true"));
	/* profiles made over the API stay writable */
	api("POST", "/1.0/profiles", "{\"name\": \"own\", \"config\": {}}", 201);
	own = req("GET", "/1.0/profiles/own", NULL);
	assert_string_equal(json_string_value(json_object_get(reply_meta(own), "source")), "api");
	api("DELETE", "/1.0/profiles/own", NULL, 200);
}

static void test_edit_applied_within_1s(void **state)
{
	(void)state;
	replace_file("profile.ed.json", MKNOD("false"));
	assert_applied_in_time("ed", "false");
	replace_file("profile.ed.json", MKNOD("on"));
	assert_applied_in_time("ed", "true");
	/* written in place (IN_CLOSE_WRITE) */
	write_file("profile.ed.json", MKNOD("off"));
	assert_applied_in_time("ed", "false");
}

/* What kubelet does to a mounted ConfigMap, step by step (atomic_writer.go's order). */
static void configmap_publish(const char *ts, const char *name, const char *content,
			      bool is_first)
{
	char dir[512], file[600], link[512], cmd[1200];

	snprintf(dir, sizeof(dir), "%s/..%s", cfg_dir, ts);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	{
		FILE *f = fopen(file, "we");

		assert_non_null(f);
		fputs(content, f);
		fclose(f);
	}
	snprintf(link, sizeof(link), "%s/..data_tmp", cfg_dir);
	snprintf(file, sizeof(file), "..%s", ts);
	assert_int_equal(symlink(file, link), 0);
	snprintf(cmd, sizeof(cmd), "%s/..data", cfg_dir);
	assert_int_equal(rename(link, cmd), 0);
	if (is_first) {
		snprintf(link, sizeof(link), "%s/%s", cfg_dir, name);
		snprintf(file, sizeof(file), "..data/%s", name);
		assert_int_equal(symlink(file, link), 0);
	}
}

static void test_configmap_swap(void **state)
{
	char old_dir[512];

	(void)state;
	configmap_publish("2026_12_04_22_00_00.1", "profile.cm.json", MKNOD("true"), true);
	assert_applied_in_time("cm", "true");
	configmap_publish("2026_12_04_22_05_00.2", "profile.cm.json", MKNOD("false"), false);
	assert_applied_in_time("cm", "false");
	snprintf(old_dir, sizeof(old_dir), "%s/..2026_12_04_22_00_00.1/profile.cm.json", cfg_dir);
	assert_int_equal(unlink(old_dir), 0);
	*strrchr(old_dir, '/') = '\0';
	assert_int_equal(rmdir(old_dir), 0);
	usleep(300000);
	assert_true(mknod_is("cm", "false"));
	assert_int_equal(n_errors(), 0);
}

/* A bad file refuses the whole generation: the good change beside it is not applied either. */
static void test_bad_file_nothing_applied(void **state)
{
	json_auto_t *s = NULL;
	json_int_t generation;
	const char *msg;

	(void)state;
	replace_file("profile.a.json", MKNOD("true"));
	assert_applied_in_time("a", "true");
	usleep(300000); /* the generation is counted once its changes are published */
	generation = json_integer_value(json_object_get(s = status(), "generation"));
	json_decref(TAKE_PTR(s));
	/* one rename brings both: the good change and the bad file */
	write_file(".tmp.b", "{\"config\": {\"" KEY "mknod\": \"maybe\"}}");
	replace_file("profile.a.json", MKNOD("false"));
	rename_in(".tmp.b", "profile.b.json");
	assert_true(wait_errors(true, OUTCOME_MS) >= 0);
	usleep(200000);
	assert_true(mknod_is("a", "true"));
	assert_true(mknod_is("b", NULL));
	s = status();
	assert_int_equal(json_integer_value(json_object_get(s, "generation")), generation);
	msg = json_string_value(json_array_get(json_object_get(s, "errors"), 0));
	assert_non_null(strstr(msg, "profile.b.json"));
	assert_non_null(strstr(msg, "maybe"));
	/* fixed: the whole generation goes through */
	replace_file("profile.b.json", MKNOD("true"));
	assert_applied_in_time("a", "false");
	assert_applied_in_time("b", "true");
	assert_true(wait_errors(false, OUTCOME_MS) >= 0); /* cleared once all of it is published */
}

/* The next lifecycle event @action of @stream (others skipped): about no container. */
static json_t *expect_configdir_event(struct event_stream *stream, const char *action)
{
	json_t *ev = event_stream_expect(stream, "lifecycle", action, OUTCOME_MS, NULL);

	assert_non_null(ev);
	assert_null(event_meta_str(ev, "container"));
	return ev;
}

/* config-dir-refused events until one about each of @n files came: their messages in @msgs. */
static void expect_refused(struct event_stream *stream, const char *const *files, size_t n,
			   char **msgs)
{
	for (size_t n_seen = 0; n_seen < n;) {
		json_auto_t *ev = expect_configdir_event(stream, "config-dir-refused");
		const char *file = event_meta_str(ev, "file");

		assert_non_null(file);
		for (size_t i = 0; i < n; i++)
			if (!msgs[i] && strcmp(file, files[i]) == 0) {
				msgs[i] = strdup(event_meta_str(ev, "message"));
				n_seen++;
			}
	}
}

/*
 * A refused reading: a config-dir-refused event per problem (the file escaped
 * as the bus escapes text), each in the log; config-dir-applied once fixed.
 */
static void test_bad_file_event_and_log(void **state)
{
	/* as the daemon escapes a name with a control byte and a byte that is not UTF-8 */
	static const char *const files[] = { "bad\\x01\\xffname", "profile.bad.json" };
	char *msgs[2] = { NULL, NULL };
	struct event_stream stream;
	json_auto_t *applied = NULL;
	_cleanup_free_ char *log = NULL;
	char line[600];

	(void)state;
	event_stream_open(&stream, H.api_socket, "/1.0/events?type=lifecycle");
	assert_int_equal(stream.status, 200);
	write_file(".tmp.name", "{}");
	write_file(".tmp.value", MKNOD("maybe"));
	rename_in(".tmp.name", "bad\x01\xffname");
	rename_in(".tmp.value", "profile.bad.json");
	expect_refused(&stream, files, 2, msgs);
	assert_non_null(strstr(msgs[0], "'bad\\x01\\xffname': not a profile file"));
	assert_non_null(strstr(msgs[1], "'profile.bad.json'"));
	assert_non_null(strstr(msgs[1], "maybe"));
	/* the log says the same, and that nothing was applied */
	log = harness_read_file(H.log_path, NULL);
	assert_non_null(log);
	for (size_t i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "Config directory '%s': %s", cfg_dir, msgs[i]);
		assert_non_null(strstr(log, line));
		free(msgs[i]);
	}
	snprintf(line, sizeof(line), "Config directory '%s': 2 problem(s), nothing applied",
		 cfg_dir);
	assert_non_null(strstr(log, line));
	/* fixed: the reading goes through and says so */
	remove_file("bad\x01\xffname");
	replace_file("profile.bad.json", MKNOD("true"));
	applied = expect_configdir_event(&stream, "config-dir-applied");
	{
		json_t *meta = json_object_get(applied, "metadata");

		assert_true(json_integer_value(json_object_get(meta, "generation")) >= 1);
		assert_int_equal(json_integer_value(json_object_get(meta, "changed")), 1);
	}
	assert_true(mknod_is("bad", "true"));
	event_stream_close(&stream);
}

static void test_remove_file_removes_or_keeps_in_use(void **state)
{
	json_auto_t *s = NULL;

	(void)state;
	replace_file("profile.gone.json", MKNOD("true"));
	replace_file("profile.used.json", MKNOD("true"));
	assert_applied_in_time("used", "true");
	assert_applied_in_time("gone", "true");
	api("POST", "/1.0/containers", "{\"name\": \"c1\", \"profiles\": [\"used\"]}", 201);
	remove_file("profile.gone.json");
	assert_applied_in_time("gone", NULL);
	remove_file("profile.used.json");
	usleep(400000);
	assert_true(mknod_is("used", "true")); /* kept: c1 applies it */
	s = status();
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "kept_in_use"), 0)),
			    "used");
	api("DELETE", "/1.0/profiles/used", NULL, 403); /* still the directory's */
	/* once unused, the next reading removes it */
	api("DELETE", "/1.0/containers/c1", NULL, 200);
	replace_file("profile.other.json", MKNOD("true"));
	assert_applied_in_time("used", NULL);
}

/* A change that would make a container invalid refuses the generation. */
static void test_change_breaking_a_container_refused(void **state)
{
	(void)state;
	replace_file("profile.m.json", "{\"config\": {\"" KEY "mount.allowed\": \"ext4\"}}");
	replace_file("profile.m2.json", MKNOD("true"));
	assert_applied_in_time("m2", "true");
	api("POST", "/1.0/containers", "{\"name\": \"c2\", \"profiles\": [\"m\"], \"config\": "
	    "{\"" KEY "mount.fuse\": \"xfs=/usr/bin/fusexfs\"}}", 201);
	/* one reading: m breaks c2, m2 is fine, but is not applied either */
	write_file(".tmp.m2", MKNOD("false"));
	replace_file("profile.m.json", "{\"config\": {\"" KEY "mount.allowed\": \"ext4,xfs\"}}");
	rename_in(".tmp.m2", "profile.m2.json");
	assert_true(wait_errors(true, OUTCOME_MS) >= 0);
	usleep(200000);
	assert_true(mknod_is("m2", "true"));
	{
		json_auto_t *s = status();
		const char *msg = json_string_value(json_array_get(json_object_get(s, "errors"), 0));

		assert_non_null(strstr(msg, "container 'c2' would be invalid"));
	}
	{
		_cleanup_free_ char *v = profile_value("m", KEY "mount.allowed");

		assert_string_equal(v, "ext4");
	}
}

static void test_hostile_links_and_many_files(void **state)
{
	char path[512];
	json_auto_t *s = NULL;
	const char *msg;

	(void)state;
	replace_file("profile.ok.json", MKNOD("true"));
	assert_applied_in_time("ok", "true");
	snprintf(path, sizeof(path), "%s/profile.shadow.json", cfg_dir);
	assert_int_equal(symlink("/etc/shadow", path), 0);
	assert_true(wait_errors(true, OUTCOME_MS) >= 0);
	s = status();
	msg = json_string_value(json_array_get(json_object_get(s, "errors"), 0));
	assert_non_null(strstr(msg, "leaving the directory"));
	assert_null(strstr(msg, "root:")); /* nothing of it read */
	assert_int_equal(unlink(path), 0);
	assert_true(wait_errors(false, OUTCOME_MS) >= 0);
	/*
	 * thousands of files: refused whole, the daemon stays responsive. Written
	 * as dotfiles (skipped) and renamed in one quick burst, so that no
	 * reading finds a part of them (that would be a valid directory)
	 */
	for (int i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), ".profile.n%d.json", i);
		write_file(path, MKNOD("true"));
	}
	usleep(1500000); /* past the watcher's longest settling (1 s): its readings are done */
	for (int i = 0; i < 3000; i++) {
		char hidden[80];

		snprintf(path, sizeof(path), "profile.n%d.json", i);
		snprintf(hidden, sizeof(hidden), ".profile.n%d.json", i);
		rename_in(hidden, path);
	}
	for (long start = now_ms(); now_ms() - start < 5000; usleep(20000)) {
		json_decref(s);
		s = status();
		msg = json_string_value(json_array_get(json_object_get(s, "errors"), 0));
		if (msg && strstr(msg, "3001 files: more than 1024"))
			break;
	}
	assert_non_null(msg);
	assert_non_null(strstr(msg, "3001 files: more than 1024"));
	assert_true(mknod_is("n1", NULL));
	assert_true(mknod_is("ok", "true"));
}

/* A file removed while the daemon was stopped removes its profile at the next start. */
static void test_removed_while_stopped(void **state)
{
	(void)state;
	replace_file("profile.r.json", MKNOD("true"));
	assert_applied_in_time("r", "true");
	assert_int_equal(harness_stop(&H, SIGTERM), 0);
	remove_file("profile.r.json");
	assert_int_equal(harness_start(&H, daemon_args), 0);
	assert_true(mknod_is("r", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_read_only),
		cmocka_unit_test_teardown(test_edit_applied_within_1s, teardown),
		cmocka_unit_test_teardown(test_configmap_swap, teardown),
		cmocka_unit_test_teardown(test_bad_file_nothing_applied, teardown),
		cmocka_unit_test_teardown(test_bad_file_event_and_log, teardown),
		cmocka_unit_test_teardown(test_remove_file_removes_or_keeps_in_use, teardown),
		cmocka_unit_test_teardown(test_change_breaking_a_container_refused, teardown),
		cmocka_unit_test_teardown(test_hostile_links_and_many_files, teardown),
		cmocka_unit_test_teardown(test_removed_while_stopped, teardown),
	};

	if (!getenv("INTERCEPTD_BIN")) {
		fprintf(stderr, "# INTERCEPTD_BIN is not set, skipping\n");
		return 77;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (harness_init(&H) < 0)
		return 1;
	snprintf(cfg_dir, sizeof(cfg_dir), "%s/cfg", H.dir);
	if (mkdir(cfg_dir, 0755) < 0)
		return 1;
	write_file("profile.web.json", MKNOD("yes"));
	if (harness_start(&H, daemon_args) < 0) {
		harness_cleanup(&H);
		return 1;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return harness_main_teardown(&H, cmocka_run_group_tests(tests, NULL, NULL));
}
