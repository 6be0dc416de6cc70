/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for the "policy" tag: GET /1.0/containers/NAME/seccomp
 * in LXC (text/plain config lines) and OCI (linux.seccomp object) formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static struct harness H;

static struct http_reply *req(const char *method, const char *path, const char *body)
{
	struct http_reply *rep = NULL;

	assert_int_equal(harness_request(&H, method, path, body, &rep), 0);
	return rep;
}

static int setup(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req(
		"POST", "/1.0/containers",
		"{\"name\":\"p1\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}");

	(void)state;
	return r->status == 201 ? 0 : -1;
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
	assert_string_equal(r->allow, "GET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_lxc_200),
		cmocka_unit_test(test_seccomp_oci_200),
		cmocka_unit_test(test_seccomp_400_format),
		cmocka_unit_test(test_seccomp_404),
		cmocka_unit_test(test_seccomp_405),
	};
	int r = harness_main_setup(&H, NULL);

	if (r)
		return r;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return harness_main_teardown(&H, cmocka_run_group_tests(tests, setup, NULL));
}
