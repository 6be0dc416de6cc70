/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl profile ... against the real daemon: create, set, unset,
 * show, list, policy, assign and delete of profiles, what a container shows
 * once it applies one, and the daemon's refusals (a profile in use, an
 * unknown profile, a wrong command line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli_run.h"
#include "req.h"

struct harness H;

#define SOCK "--socket", H.api_socket
#define KEY "security.syscalls.intercept."

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void ok(struct cli_result *r)
{
	if (r->status != 0)
		fail_msg("exit %d; stderr: %s", r->status, r->err);
}

/* The value of @key in @field of the object at @path, "" when unset. */
static const char *api_value(const char *path, const char *field, const char *key, char *buf,
			     size_t size)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	json_t *v;

	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	assert_int_equal(r->status, 200);
	v = json_object_get(json_object_get(reply_meta(r), field), key);
	snprintf(buf, size, "%s", v ? json_string_value(v) : "");
	return buf;
}

static void test_cli_profile_lifecycle(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result create = { 0 }, set = { 0 }, unset = { 0 },
						      list = { 0 }, assign = { 0 }, show = { 0 },
						      del = { 0 }, del2 = { 0 }, lxc = { 0 };
	char buf[64];

	(void)state;
	CLI(&create, SOCK, "profile", "create", "base", "sysinfo=true", "mknod=true");
	ok(&create);
	assert_string_equal(api_value("/1.0/profiles/base", "config", KEY "sysinfo", buf,
				      sizeof(buf)), "true");
	CLI(&set, SOCK, "profile", "set", "base", "sysinfo=false");
	ok(&set);
	CLI(&unset, SOCK, "profile", "unset", "base", "mknod");
	ok(&unset);
	assert_string_equal(api_value("/1.0/profiles/base", "config", KEY "mknod", buf,
				      sizeof(buf)), "");
	CLI(&list, SOCK, "profile", "list");
	ok(&list);
	assert_contains(list.out, "base");
	assert_contains(list.out, "sysinfo=false");
	CLI(&lxc, SOCK, "profile", "policy", "base", "--lxc");
	ok(&lxc);
	assert_contains(lxc.out, "lxc.seccomp.notify.cookie = profile=base\n");
	/* a container applying it shows the profile and where each key comes from */
	{
		_cleanup_(cli_result_clear) struct cli_result c = { 0 };

		CLI(&c, SOCK, "create", "web", "mknod=true");
		ok(&c);
	}
	CLI(&assign, SOCK, "profile", "assign", "web", "base");
	ok(&assign);
	/* set and unset write the whole container back: its profiles stay */
	{
		_cleanup_(cli_result_clear) struct cli_result set_own = { 0 }, unset_own = { 0 };
		_cleanup_(http_reply_freep) struct http_reply *r = NULL;

		CLI(&set_own, SOCK, "set", "web", "setxattr=true");
		ok(&set_own);
		CLI(&unset_own, SOCK, "unset", "web", "setxattr");
		ok(&unset_own);
		assert_int_equal(harness_request(&H, "GET", "/1.0/containers/web", NULL, &r), 0);
		assert_string_equal(json_string_value(json_array_get(
					    json_object_get(reply_meta(r), "profiles"), 0)), "base");
	}
	CLI(&show, SOCK, "show", "web");
	ok(&show);
	assert_contains(show.out, "PROFILES  base\n");
	assert_non_null(strstr(show.out, KEY "sysinfo"));
	assert_non_null(strstr(show.out, "profile"));
	assert_non_null(strstr(show.out, "own"));
	CLI(&del, SOCK, "profile", "delete", "base");
	assert_int_equal(del.status, 1);
	assert_contains(del.err, "profile 'base' is used by 'web'");
	{
		_cleanup_(cli_result_clear) struct cli_result none = { 0 }, rm = { 0 };

		CLI(&none, SOCK, "profile", "assign", "web");
		ok(&none);
		CLI(&rm, SOCK, "delete", "web");
		ok(&rm);
	}
	CLI(&del2, SOCK, "profile", "delete", "base");
	ok(&del2);
}

static void test_cli_profile_errors(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result unknown = { 0 }, bare = { 0 }, missing = { 0 },
						      merge = { 0 };

	(void)state;
	CLI(&unknown, SOCK, "profile", "frobnicate");
	assert_int_equal(unknown.status, 2);
	assert_contains(unknown.err, "unknown command 'frobnicate'");
	CLI(&bare, SOCK, "profile");
	assert_int_equal(bare.status, 2);
	CLI(&missing, SOCK, "profile", "show", "nope");
	assert_int_equal(missing.status, 1);
	assert_contains(missing.err, "profile 'nope' not found");
	CLI(&merge, SOCK, "profile", "policy", "x", "--lxc", "--merge-into", "/dev/null");
	assert_int_equal(merge.status, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_profile_lifecycle),
		cmocka_unit_test(test_cli_profile_errors),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), NULL, NULL);
}
