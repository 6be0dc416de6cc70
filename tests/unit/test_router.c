/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for api/router.c: matching, path parameters, 404 vs 405 with the
 * Allow set, and the errno → HTTP map and envelope of api/errors.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/errors.h"
#include "api/router.h"

static const struct route *match(const char *method, const char *path, struct api_request *req,
				 int expect, unsigned *ret_allow)
{
	const struct route *rt = NULL;
	unsigned allow = 0;
	int r = router_match(router_method_from_string(method), path, req, &rt, &allow);

	if (r != expect)
		print_error("%s %s: %d\n", method, path, r);
	assert_int_equal(r, expect);
	if (ret_allow)
		*ret_allow = allow;
	return rt;
}

static void test_router_match_table(void **state)
{
	static const struct {
		const char *method, *path;
		route_fn *fn;
		const char *param;
	} ok[] = {
		{ "GET", "/1.0", routes_server_get, NULL },
		{ "GET", "/1.0/metadata/configuration", routes_server_configuration, NULL },
		{ "GET", "/1.0/metrics", routes_server_metrics, NULL },
		{ "GET", "/1.0/containers", routes_containers_list, NULL },
		{ "POST", "/1.0/containers", routes_containers_create, NULL },
		{ "GET", "/1.0/containers/c1", routes_containers_get, "c1" },
		{ "PUT", "/1.0/containers/c1", routes_containers_put, "c1" },
		{ "PATCH", "/1.0/containers/web.1", routes_containers_patch, "web.1" },
		{ "DELETE", "/1.0/containers/x", routes_containers_delete, "x" },
		{ "GET", "/1.0/containers/c1/state", routes_containers_state, "c1" },
		{ "GET", "/1.0/containers/BAD NAME/seccomp", routes_policy_seccomp, "BAD NAME" },
		{ "GET", "/1.0/containers/state", routes_containers_get, "state" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct api_request req = { 0 };
		const struct route *rt = match(ok[i].method, ok[i].path, &req, 0, NULL);

		assert_ptr_equal(rt->fn, ok[i].fn);
		assert_int_equal(req.n_params, ok[i].param ? 1 : 0);
		if (ok[i].param)
			assert_string_equal(req.params[0], ok[i].param);
	}
}

static void test_router_match_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "", "/1.0/", "/1.0/containers/", "/1.0/containers//state", "/2.0",
		"/1.0/containers/c1/state/x", "/1.0/metricsx", "//1.0", "/1.0/containers/c1/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct api_request req = { 0 };

		match("GET", paths[i], &req, -ENOENT, NULL);
	}
}

static void test_router_match_method_not_allowed(void **state)
{
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
		{ "PUT", "/1.0/containers", "GET, POST" },
		{ "DELETE", "/1.0", "GET" },
		{ "POST", "/1.0/containers/c1", "GET, PUT, PATCH, DELETE" },
		{ "HEAD", "/1.0/containers/c1", "GET, PUT, PATCH, DELETE" },
		{ "OPTIONS", "/1.0/metrics", "GET" },
		{ "POST", "/1.0/containers/c1/state", "GET" },
		{ "get", "/1.0", "GET" }, /* methods are case-sensitive */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_request req = { 0 };
		unsigned allow = 0;
		char buf[64];

		match(cases[i].method, cases[i].path, &req, -EOPNOTSUPP, &allow);
		router_allow_header(allow, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].allow);
	}
}

static void test_router_long_param_truncated(void **state)
{
	char path[600] = "/1.0/containers/";
	struct api_request req = { 0 };

	(void)state;
	memset(path + strlen(path), 'a', 500);
	match("GET", path, &req, 0, NULL);
	assert_int_equal(strlen(req.params[0]), ROUTER_PARAM_MAX - 1);
}

static void test_router_table_write_flags(void **state)
{
	(void)state;
	for (size_t i = 0; i < router_n_routes; i++)
		assert_int_equal(router_routes[i].is_write, router_routes[i].method != HTTP_GET);
}

static void test_errors_http_status_map(void **state)
{
	(void)state;
	assert_int_equal(errors_http_status(-ENOENT), 404);
	assert_int_equal(errors_http_status(-EEXIST), 409);
	assert_int_equal(errors_http_status(-EINVAL), 400);
	assert_int_equal(errors_http_status(-E2BIG), 400);
	assert_int_equal(errors_http_status(-ERANGE), 400);
	assert_int_equal(errors_http_status(-EPERM), 403);
	assert_int_equal(errors_http_status(-EACCES), 403);
	assert_int_equal(errors_http_status(-EOPNOTSUPP), 405);
	assert_int_equal(errors_http_status(-ESTALE), 412);
	assert_int_equal(errors_http_status(-EMSGSIZE), 413);
	assert_int_equal(errors_http_status(-ENOMEM), 503);
	assert_int_equal(errors_http_status(-EAGAIN), 503);
	assert_int_equal(errors_http_status(-EIO), 500);
	assert_int_equal(errors_http_status(-ENOSPC), 500);
}

static void test_errors_envelope_keys(void **state)
{
	static const char *const keys[] = { "type", "status", "status_code", "operation",
					     "error_code", "error", "metadata" };
	json_auto_t *ok = errors_envelope_sync(NULL);
	json_auto_t *err = errors_envelope_error(412, "ETag 'x'");
	json_auto_t *dflt = errors_envelope_error(404, NULL);

	(void)state;
	assert_int_equal(json_object_size(ok), 7);
	assert_int_equal(json_object_size(err), 7);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_non_null(json_object_get(ok, keys[i]));
		assert_non_null(json_object_get(err, keys[i]));
	}
	assert_string_equal(json_string_value(json_object_get(ok, "type")), "sync");
	assert_true(json_is_object(json_object_get(ok, "metadata")));
	assert_string_equal(json_string_value(json_object_get(err, "type")), "error");
	assert_int_equal(json_integer_value(json_object_get(err, "error_code")), 412);
	assert_string_equal(json_string_value(json_object_get(err, "error")), "ETag 'x'");
	assert_true(json_is_null(json_object_get(err, "metadata")));
	assert_string_equal(json_string_value(json_object_get(dflt, "error")), "not found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_router_match_table),
		cmocka_unit_test(test_router_match_not_found),
		cmocka_unit_test(test_router_match_method_not_allowed),
		cmocka_unit_test(test_router_long_param_truncated),
		cmocka_unit_test(test_router_table_write_flags),
		cmocka_unit_test(test_errors_http_status_map),
		cmocka_unit_test(test_errors_envelope_keys),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
