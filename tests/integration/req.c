/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests to the test program's daemon (see req.h). Test threads only; the
 * assertions end the running cmocka test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "req.h"

struct http_reply *req_h(const char *method, const char *path, const char *body,
			 const char *const *headers)
{
	struct http_reply *rep = NULL;

	assert_int_equal(harness_request_h(&H, method, path, body, headers, &rep), 0);
	return rep;
}

struct http_reply *req(const char *method, const char *path, const char *body)
{
	return req_h(method, path, body, NULL);
}

struct http_reply *req_fixture(const char *method, const char *path, const char *fixture)
{
	_cleanup_free_ char *body = harness_fixture(fixture);

	assert_non_null(body);
	return req(method, path, body);
}

void api(const char *method, const char *path, const char *body, long status)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req(method, path, body);

	if (r->status != status)
		fprintf(stderr, "# %s %s: %ld %s\n", method, path, r->status, r->data);
	assert_int_equal(r->status, status);
}

void req_delete_all(const char *list_path)
{
	_cleanup_(http_reply_freep) struct http_reply *list = req("GET", list_path, NULL);
	size_t i;
	json_t *url;

	json_array_foreach(reply_meta(list), i, url)
		api("DELETE", json_string_value(url), NULL, 200);
}

int req_run_group(const struct CMUnitTest *tests, size_t n_tests,
		  const char *const *daemon_args, int (*group_setup)(void **state))
{
	int r = harness_main_setup(&H, daemon_args);

	if (r)
		return r;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	/* "tests": the group name cmocka_run_group_tests(tests, ...) gives */
	r = _cmocka_run_group_tests("tests", tests, n_tests, group_setup, NULL);
	return harness_main_teardown(&H, r);
}
