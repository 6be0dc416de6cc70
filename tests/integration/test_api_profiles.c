/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for the "profiles" tag: /1.0/profiles[/NAME[/seccomp]]
 * and containers applying profiles, against the real daemon over its socket:
 * expansion (own keys win, later profiles over earlier), ETags, a profile
 * change reaching its containers at once and showing up as restart_required,
 * 409 on deleting a profile in use (with its users), 400 on a change that
 * would make a container's expansion invalid, ?recursion= checked on one
 * object as on a list, and durability across a restart.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "req.h"

#define KEY "security.syscalls.intercept."

struct harness H;

/* The value of @key in @field ("config" or "expanded_config") of the object at @path. */
static char *value_of(const char *path, const char *field, const char *key)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", path, NULL);
	json_t *v = json_object_get(json_object_get(reply_meta(r), field), key);

	assert_int_equal(r->status, 200);
	return v ? strdup(json_string_value(v)) : NULL;
}

static int teardown(void **state)
{
	(void)state;
	req_delete_all("/1.0/containers");
	req_delete_all("/1.0/profiles");
	return 0;
}

static void test_profile_crud_and_etag(void **state)
{
	static const char *const stale[] = { "If-Match: \"0123456789abcdef\"", NULL };
	_cleanup_(http_reply_freep) struct http_reply *post = NULL, *get = NULL, *pre = NULL,
						      *put = NULL, *list = NULL;
	char if_match[64];
	const char *const fresh[] = { if_match, NULL };

	(void)state;
	post = req("POST", "/1.0/profiles", "{\"name\":\"base\",\"config\":{\"" KEY "sysinfo\":\"true\"}}");
	assert_true(reply_is_sync(post, 201));
	get = req("GET", "/1.0/profiles/base", NULL);
	assert_true(reply_is_sync(get, 200));
	assert_non_null(get->etag);
	assert_string_equal(json_string_value(json_object_get(json_object_get(reply_meta(get), "config"),
							      KEY "sysinfo")), "true");
	assert_int_equal(json_array_size(json_object_get(reply_meta(get), "used_by")), 0);
	assert_int_equal(harness_request_h(&H, "PUT", "/1.0/profiles/base", "{\"config\":{}}", stale,
					   &pre), 0);
	assert_true(reply_is_error(pre, 412, "ETag doesn't match"));
	snprintf(if_match, sizeof(if_match), "If-Match: %s", get->etag);
	assert_int_equal(harness_request_h(&H, "PUT", "/1.0/profiles/base",
					   "{\"config\":{\"" KEY "mknod\":\"true\"}}", fresh, &put), 0);
	assert_true(reply_is_sync(put, 200));
	assert_string_not_equal(put->etag, get->etag);
	api("PATCH", "/1.0/profiles/base", "{\"config\":{\"" KEY "mknod\":null}}", 200);
	api("POST", "/1.0/profiles", "{\"name\":\"base\"}", 409);
	api("POST", "/1.0/profiles", "{\"name\":\"x\",\"profiles\":[\"base\"]}", 400);
	api("GET", "/1.0/profiles/nope", NULL, 404);
	api("GET", "/1.0/profiles/Bad!", NULL, 400);
	list = req("GET", "/1.0/profiles?recursion=1", NULL);
	assert_true(reply_is_sync(list, 200));
	assert_string_equal(json_string_value(json_object_get(json_array_get(reply_meta(list), 0),
							      "name")), "base");
}

/* Own keys win; among profiles the later one wins; GET shows all three views. */
static void test_container_expansion(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *get = NULL;
	_cleanup_free_ char *mknod = NULL, *sysinfo = NULL, *sched = NULL, *own = NULL;
	json_t *m;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"a\",\"config\":{\"" KEY "mknod\":\"true\",\"" KEY "sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/profiles", "{\"name\":\"b\",\"config\":{\"" KEY "mknod\":\"false\",\"" KEY "sched_setscheduler\":\"true\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"a\",\"b\"],\"config\":{\"" KEY "sysinfo\":\"false\"}}", 201);
	mknod = value_of("/1.0/containers/c1", "expanded_config", KEY "mknod");
	sysinfo = value_of("/1.0/containers/c1", "expanded_config", KEY "sysinfo");
	sched = value_of("/1.0/containers/c1", "expanded_config", KEY "sched_setscheduler");
	own = value_of("/1.0/containers/c1", "config", KEY "mknod");
	assert_string_equal(mknod, "false");  /* b after a */
	assert_string_equal(sysinfo, "false"); /* own over both */
	assert_string_equal(sched, "true");
	assert_null(own);
	get = req("GET", "/1.0/containers?recursion=1", NULL);
	m = json_array_get(reply_meta(get), 0);
	assert_int_equal(json_array_size(json_object_get(m, "profiles")), 2);
	assert_true(json_is_object(json_object_get(m, "expanded_config")));
	/* PATCH of the profile list alone keeps the own keys */
	api("PATCH", "/1.0/containers/c1", "{\"profiles\":[\"b\",\"a\"]}", 200);
	free(mknod);
	mknod = value_of("/1.0/containers/c1", "expanded_config", KEY "mknod");
	assert_string_equal(mknod, "true");
	free(own);
	own = value_of("/1.0/containers/c1", "config", KEY "sysinfo");
	assert_string_equal(own, "false");
	api("POST", "/1.0/containers", "{\"name\":\"c2\",\"profiles\":[\"nope\"]}", 400);
	api("POST", "/1.0/containers", "{\"name\":\"c2\",\"profiles\":[\"a\",\"a\"]}", 400);
	api("PUT", "/1.0/containers/c1", "{\"profiles\":[\"nope\"]}", 400);
	api("GET", "/1.0/containers/c2", NULL, 404);
}

/* GET of one container or profile takes ?recursion=0 or 1 (the same object) as the lists do. */
static void test_get_one_recursion(void **state)
{
	static const char *const paths[] = { "/1.0/containers/c1", "/1.0/profiles/a" };

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"a\",\"config\":{\"" KEY "mknod\":\"true\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"a\"]}", 201);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		_cleanup_(http_reply_freep) struct http_reply *plain = req("GET", paths[i], NULL);
		char path[96];

		for (int rec = 0; rec <= 1; rec++) {
			_cleanup_(http_reply_freep) struct http_reply *r = NULL;

			snprintf(path, sizeof(path), "%s?recursion=%d", paths[i], rec);
			r = req("GET", path, NULL);
			assert_true(reply_is_sync(r, 200));
			assert_true(json_equal(reply_meta(r), reply_meta(plain)));
		}
		{
			_cleanup_(http_reply_freep) struct http_reply *bad = NULL, *none = NULL;

			snprintf(path, sizeof(path), "%s?recursion=2", paths[i]);
			bad = req("GET", path, NULL);
			assert_true(reply_is_error(bad, 400, "invalid recursion '2'"));
			/* the query is checked before the name is looked up */
			snprintf(path, sizeof(path), "%snope?recursion=x", paths[i]);
			none = req("GET", path, NULL);
			assert_true(reply_is_error(none, 400, "invalid recursion 'x'"));
		}
	}
}

/* A profile change reaches its containers at once; a non-live key asks for a restart. */
static void test_profile_change_applies_and_restart(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *st = NULL;
	_cleanup_free_ char *before = NULL, *after = NULL;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"p\"]}", 201);
	before = value_of("/1.0/containers/c1", "expanded_config", KEY "mknod");
	assert_null(before);
	api("PATCH", "/1.0/profiles/p", "{\"config\":{\"" KEY "mknod\":\"true\"}}", 200);
	after = value_of("/1.0/containers/c1", "expanded_config", KEY "mknod");
	assert_non_null(after);
	assert_string_equal(after, "true");
	/* no listener is attached: nothing to restart, but the field is there */
	st = req("GET", "/1.0/containers/c1/state", NULL);
	assert_true(json_is_array(json_object_get(reply_meta(st), "restart_required")));
}

static void test_delete_in_use_409(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *del = NULL, *get = NULL;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\"}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"web\",\"profiles\":[\"p\"]}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"db\",\"profiles\":[\"p\"]}", 201);
	del = req("DELETE", "/1.0/profiles/p", NULL);
	assert_true(reply_is_error(del, 409, "is used by 'db', 'web'"));
	get = req("GET", "/1.0/profiles/p", NULL);
	assert_int_equal(json_array_size(json_object_get(reply_meta(get), "used_by")), 2);
	api("PATCH", "/1.0/containers/web", "{\"profiles\":[]}", 200);
	api("DELETE", "/1.0/containers/db", NULL, 200);
	api("DELETE", "/1.0/profiles/p", NULL, 200);
	api("DELETE", "/1.0/profiles/p", NULL, 404);
}

/* mount.allowed and mount.fuse may not name one type: across a profile and own keys neither. */
static void test_invalid_expansion_400(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *bad = NULL, *get = NULL;
	_cleanup_free_ char *allowed = NULL;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "mount.allowed\":\"ext4\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"p\"],\"config\":{\"" KEY "mount.fuse\":\"xfs=/usr/bin/fusexfs\"}}", 201);
	bad = req("PATCH", "/1.0/profiles/p", "{\"config\":{\"" KEY "mount.allowed\":\"ext4,xfs\"}}");
	assert_true(reply_is_error(bad, 400, "container 'c1' would be invalid"));
	allowed = value_of("/1.0/profiles/p", "config", KEY "mount.allowed");
	assert_string_equal(allowed, "ext4");
	api("POST", "/1.0/containers", "{\"name\":\"c2\",\"profiles\":[\"p\"],\"config\":{\"" KEY "mount.fuse\":\"ext4=/usr/bin/fuse2fs\"}}", 400);
	get = req("GET", "/1.0/containers/c2", NULL);
	assert_int_equal(get->status, 404);
}

static void restart_daemon(void)
{
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	assert_int_equal(harness_start(&H, NULL), 0);
}

static void test_durable_across_restart(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *before = NULL, *after = NULL, *pb = NULL,
						      *pa = NULL;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"p\"]}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"plain\"}", 201);
	before = req("GET", "/1.0/containers/c1", NULL);
	pb = req("GET", "/1.0/profiles/p", NULL);
	restart_daemon();
	after = req("GET", "/1.0/containers/c1", NULL);
	pa = req("GET", "/1.0/profiles/p", NULL);
	assert_true(json_equal(reply_meta(before), reply_meta(after)));
	assert_string_equal(before->etag, after->etag);
	assert_true(json_equal(reply_meta(pb), reply_meta(pa)));
	assert_string_equal(pb->etag, pa->etag);
}

/* A profile write that fails publishes nothing: the profile and its users' expansion stay. */
static void test_profile_write_failure_publishes_nothing(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *bad = NULL, *del = NULL, *after = NULL;
	_cleanup_free_ char *expanded = NULL;
	char blocker[512], file[512], saved[512];

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"profiles\":[\"p\"]}", 201);
	/* a directory where the temporary state file goes makes the write fail */
	snprintf(blocker, sizeof(blocker), "%s/profiles/.tmp.p.json.%d", H.state_dir, (int)H.pid);
	assert_int_equal(mkdir(blocker, 0700), 0);
	bad = req("PATCH", "/1.0/profiles/p", "{\"config\":{\"" KEY "sysinfo\":\"false\"}}");
	assert_true(reply_is_error(bad, 500, "cannot write the profile's state file"));
	assert_int_equal(rmdir(blocker), 0);
	expanded = value_of("/1.0/containers/c1", "expanded_config", KEY "sysinfo");
	assert_string_equal(expanded, "true");
	free(expanded);
	expanded = value_of("/1.0/profiles/p", "config", KEY "sysinfo");
	assert_string_equal(expanded, "true");
	/* and a directory in place of its file makes the removal fail: it stays */
	api("DELETE", "/1.0/containers/c1", NULL, 200);
	snprintf(file, sizeof(file), "%s/profiles/p.json", H.state_dir);
	snprintf(saved, sizeof(saved), "%s/profiles/p.saved", H.state_dir);
	assert_int_equal(rename(file, saved), 0);
	assert_int_equal(mkdir(file, 0700), 0);
	del = req("DELETE", "/1.0/profiles/p", NULL);
	assert_true(reply_is_error(del, 500, "cannot write the profile's state file"));
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(rename(saved, file), 0);
	after = req("GET", "/1.0/profiles/p", NULL);
	assert_int_equal(after->status, 200);
}

static void test_profile_seccomp(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *lxc = NULL, *oci = NULL;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "mknod\":\"true\"}}", 201);
	lxc = req("GET", "/1.0/profiles/p/seccomp?format=lxc", NULL);
	assert_int_equal(lxc->status, 200);
	assert_non_null(strstr(lxc->data, "lxc.seccomp.notify.cookie = profile=p\n"));
	assert_non_null(strstr(lxc->data, "/seccomp-profiles/p\n"));
	oci = req("GET", "/1.0/profiles/p/seccomp?format=oci", NULL);
	assert_true(reply_is_sync(oci, 200));
	assert_string_equal(json_string_value(json_object_get(reply_meta(oci), "listenerMetadata")),
			    "profile=p");
	api("GET", "/1.0/profiles/p/seccomp?format=x", NULL, 400);
	api("GET", "/1.0/profiles/q/seccomp?format=oci", NULL, 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_profile_crud_and_etag, teardown),
		cmocka_unit_test_teardown(test_container_expansion, teardown),
		cmocka_unit_test_teardown(test_get_one_recursion, teardown),
		cmocka_unit_test_teardown(test_profile_change_applies_and_restart, teardown),
		cmocka_unit_test_teardown(test_delete_in_use_409, teardown),
		cmocka_unit_test_teardown(test_invalid_expansion_400, teardown),
		cmocka_unit_test_teardown(test_durable_across_restart, teardown),
		cmocka_unit_test_teardown(test_profile_write_failure_publishes_nothing, teardown),
		cmocka_unit_test_teardown(test_profile_seccomp, teardown),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), NULL, NULL);
}
