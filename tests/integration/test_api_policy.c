/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for the "policy" tag: GET /1.0/containers/NAME/seccomp
 * in LXC (text/plain config lines) and OCI (linux.seccomp object) formats, and
 * POST ?format=oci merging into the linux.seccomp object of the body, with
 * ?trap_denied deciding what happens to the calls the base profile denies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "req.h"

struct harness H;

/* The first rule of @sec that names @syscall, or NULL. */
static json_t *rule_for(json_t *sec, const char *syscall)
{
	size_t i, j;
	json_t *rule, *name;

	json_array_foreach(json_object_get(sec, "syscalls"), i, rule)
		json_array_foreach(json_object_get(rule, "names"), j, name)
			if (strcmp(json_string_value(name), syscall) == 0)
				return rule;
	return NULL;
}

static const char *action_of(json_t *rule)
{
	return json_string_value(json_object_get(rule, "action"));
}

static int setup(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req(
		"POST", "/1.0/containers",
		"{\"name\":\"p1\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}");
	_cleanup_(http_reply_freep) struct http_reply *m = req(
		"POST", "/1.0/containers",
		"{\"name\":\"m1\",\"config\":{\"security.syscalls.intercept.mount\":\"true\"}}");
	_cleanup_(http_reply_freep) struct http_reply *p = req(
		"POST", "/1.0/profiles",
		"{\"name\":\"pm\",\"config\":{\"security.syscalls.intercept.mount\":\"true\"}}");

	(void)state;
	return r->status == 201 && m->status == 201 && p->status == 201 ? 0 : -1;
}

static void test_seccomp_lxc_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/containers/p1/seccomp?format=lxc", NULL);
	char expect[2048], real_state[1024];

	(void)state;
	assert_non_null(realpath(H.state_dir, real_state));
	snprintf(expect, sizeof(expect),
		 "lxc.seccomp.profile = %s/seccomp/p1\n"
		 "lxc.seccomp.notify.proxy = unix:%s\n"
		 "lxc.seccomp.notify.cookie = p1\n", real_state, H.lxc_socket);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->content_type, "text/plain; charset=utf-8");
	assert_string_equal(r->data, expect);
}

static void test_seccomp_oci_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/containers/p1/seccomp?format=oci", NULL);
	json_t *m, *rules;
	bool has_mknod = false;
	size_t i;
	json_t *rule;

	(void)state;
	assert_true(reply_is_sync(r, 200));
	m = reply_meta(r);
	assert_string_equal(json_string_value(json_object_get(m, "listenerPath")), H.oci_socket);
	assert_string_equal(json_string_value(json_object_get(m, "listenerMetadata")), "p1");
	assert_string_equal(json_string_value(json_object_get(m, "defaultAction")), "SCMP_ACT_ALLOW");
	rules = json_object_get(m, "syscalls");
	json_array_foreach(rules, i, rule)
		has_mknod |= strcmp(json_string_value(json_array_get(json_object_get(rule, "names"), 0)),
				    "mknod") == 0;
	assert_true(has_mknod);
	/* interceptd's own deny list, as in the LXC policy */
	assert_string_equal(action_of(rule_for(m, "keyctl")), "SCMP_ACT_ERRNO");
	assert_string_equal(action_of(rule_for(m, "kexec_load")), "SCMP_ACT_ERRNO");
	assert_null(r->warnings);
}

static struct http_reply *post_fixture(const char *path, const char *fixture)
{
	_cleanup_free_ char *body = harness_fixture(fixture);

	assert_non_null(body);
	return req("POST", path, body);
}

static void test_seccomp_merge_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r =
		post_fixture("/1.0/containers/p1/seccomp?format=oci", "seccomp_base.json");
	json_t *m, *allow;

	(void)state;
	assert_true(reply_is_sync(r, 200));
	m = reply_meta(r);
	assert_string_equal(json_string_value(json_object_get(m, "defaultAction")), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(m, "defaultErrnoRet")), 38);
	assert_int_equal(json_array_size(json_object_get(m, "architectures")), 3);
	assert_string_equal(json_string_value(json_object_get(m, "listenerPath")), H.oci_socket);
	assert_string_equal(json_string_value(json_object_get(m, "listenerMetadata")), "p1");
	assert_null(json_object_get(m, "flags"));
	/* the allow rule no longer shadows the trapped calls; the rest of the base stays */
	allow = rule_for(m, "read");
	assert_string_equal(action_of(allow), "SCMP_ACT_ALLOW");
	assert_int_equal(json_array_size(json_object_get(allow, "names")), 4);
	assert_string_equal(action_of(rule_for(m, "mknodat")), "SCMP_ACT_ALLOW"); /* FIFOs, files */
	assert_non_null(json_object_get(rule_for(m, "mknodat"), "args"));
	assert_string_equal(action_of(rule_for(m, "keyctl")), "SCMP_ACT_ERRNO");
	assert_non_null(rule_for(m, "personality"));
	assert_null(rule_for(m, "kexec_load")); /* our deny list is not added to a base */
	assert_non_null(r->warnings);
	assert_non_null(strstr(r->warnings, "299 interceptd \"dropped 'flags'"));
}

static void test_seccomp_merge_400(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *docker =
		post_fixture("/1.0/containers/p1/seccomp?format=oci", "bad_seccomp_docker.json");
	_cleanup_(http_reply_freep) struct http_reply *malformed =
		req("POST", "/1.0/containers/p1/seccomp?format=oci", "{\"defaultAction\":");
	_cleanup_(http_reply_freep) struct http_reply *type =
		req("POST", "/1.0/containers/p1/seccomp?format=oci", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}");
	_cleanup_(http_reply_freep) struct http_reply *lxc =
		req("POST", "/1.0/containers/p1/seccomp?format=lxc", "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");

	(void)state;
	assert_true(reply_is_error(docker, 400, "Docker's seccomp.json format"));
	assert_true(reply_is_error(malformed, 400, "malformed JSON"));
	assert_true(reply_is_error(type, 400, "'syscalls' must be an array"));
	assert_true(reply_is_error(lxc, 400, "use format=oci"));
}

/* The base (the fixture) denies mount: kept unless trap_denied=true, and a warning says which. */
static void test_seccomp_merge_trap_denied(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *kept =
		post_fixture("/1.0/containers/m1/seccomp?format=oci", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *kept_too =
		post_fixture("/1.0/containers/m1/seccomp?format=oci&trap_denied=false", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *trapped =
		post_fixture("/1.0/containers/m1/seccomp?format=oci&trap_denied=true", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *profile =
		post_fixture("/1.0/profiles/pm/seccomp?format=oci&trap_denied=true", "seccomp_base.json");

	(void)state;
	assert_true(reply_is_sync(kept, 200));
	assert_null(rule_for(reply_meta(kept), "mount"));
	assert_non_null(kept->warnings);
	assert_non_null(strstr(kept->warnings, "not trapped, the base profile denies them: 'mount';"));
	assert_non_null(strstr(kept->warnings, "trap_denied=true"));
	assert_true(reply_is_sync(kept_too, 200));
	assert_true(json_equal(reply_meta(kept), reply_meta(kept_too)));
	assert_true(reply_is_sync(trapped, 200));
	assert_string_equal(action_of(rule_for(reply_meta(trapped), "mount")), "SCMP_ACT_NOTIFY");
	assert_non_null(strstr(trapped->warnings, "denies some calls to 'mount'; interceptd now traps"));
	assert_true(reply_is_sync(profile, 200));
	assert_string_equal(action_of(rule_for(reply_meta(profile), "mount")), "SCMP_ACT_NOTIFY");
	assert_string_equal(json_string_value(json_object_get(reply_meta(profile), "listenerMetadata")),
			    "profile=pm");
}

static void test_seccomp_merge_trap_denied_400(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *bad =
		post_fixture("/1.0/containers/m1/seccomp?format=oci&trap_denied=yes", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *empty =
		post_fixture("/1.0/containers/m1/seccomp?format=oci&trap_denied=", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *profile =
		post_fixture("/1.0/profiles/pm/seccomp?format=oci&trap_denied=%E2%82", "seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *no_profile =
		post_fixture("/1.0/profiles/none/seccomp?format=oci", "seccomp_base.json");

	(void)state;
	assert_true(reply_is_error(bad, 400, "invalid trap_denied 'yes': expected true or false"));
	assert_true(reply_is_error(empty, 400, "invalid trap_denied ''"));
	assert_true(reply_is_error(profile, 400, "invalid trap_denied '\\xe2\\x82'"));
	assert_true(reply_is_error(no_profile, 404, "'none' not found"));
}

static void test_seccomp_merge_413_404(void **state)
{
	size_t size = 1024 * 1024 + 64;
	_cleanup_free_ char *big = malloc(size + 1);
	_cleanup_(http_reply_freep) struct http_reply *nf =
		req("POST", "/1.0/containers/none/seccomp?format=oci", "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");
	_cleanup_(http_reply_freep) struct http_reply *large = NULL;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', size);
	memcpy(big, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 34);
	big[size] = '\0';
	large = req("POST", "/1.0/containers/p1/seccomp?format=oci", big);
	assert_true(reply_is_error(large, 413, NULL));
	assert_true(reply_is_error(nf, 404, "'none' not found"));
}

static void test_seccomp_400_format(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *none = req("GET", "/1.0/containers/p1/seccomp", NULL);
	_cleanup_(http_reply_freep) struct http_reply *bad = req("GET", "/1.0/containers/p1/seccomp?format=docker", NULL);

	(void)state;
	assert_true(reply_is_error(none, 400, "missing query parameter 'format'"));
	assert_true(reply_is_error(bad, 400, "unknown format 'docker'"));
}

static void test_seccomp_404(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/containers/none/seccomp?format=lxc", NULL);

	(void)state;
	assert_true(reply_is_error(r, 404, "'none' not found"));
}

static void test_seccomp_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("PUT", "/1.0/containers/p1/seccomp", "{}");

	(void)state;
	assert_true(reply_is_error(r, 405, NULL));
	assert_string_equal(r->allow, "GET, POST");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_lxc_200),
		cmocka_unit_test(test_seccomp_oci_200),
		cmocka_unit_test(test_seccomp_400_format),
		cmocka_unit_test(test_seccomp_merge_200),
		cmocka_unit_test(test_seccomp_merge_400),
		cmocka_unit_test(test_seccomp_merge_trap_denied),
		cmocka_unit_test(test_seccomp_merge_trap_denied_400),
		cmocka_unit_test(test_seccomp_merge_413_404),
		cmocka_unit_test(test_seccomp_404),
		cmocka_unit_test(test_seccomp_405),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), NULL, setup);
}
