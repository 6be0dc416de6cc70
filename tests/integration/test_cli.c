/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl against the real daemon: info (with and without a config
 * directory), list, show, create, set,
 * unset, delete, state, metrics and monitor, in every output format, and
 * their error paths (the daemon's message and exit status 1; a wrong command
 * line and exit status 2; a daemon that cannot be reached; a read-only peer).
 * What the commands print is checked against what the API answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "req.h"

struct harness H;

#define SOCK "--socket", H.api_socket

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

/* GET @path's metadata (a new reference); the request must succeed. */
static json_t *api_meta(const char *path)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	assert_int_equal(r->status, 200);
	return json_incref(reply_meta(r));
}

static json_t *config_of(const char *name)
{
	char path[128];
	json_t *meta, *config;

	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	meta = api_meta(path);
	config = json_incref(json_object_get(meta, "config"));
	json_decref(meta);
	return config;
}

static json_t *parse_json(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (!j)
		fail_msg("not JSON (%s): %s", err.text, text);
	return j;
}

/* The command fails with exit status 1 and the daemon's @message on stderr. */
static void assert_fails(const struct cli_result *r, const char *message)
{
	if (r->status != 1)
		fail_msg("exit %d, expected 1; stderr: %s", r->status, r->err);
	assert_contains(r->err, "Error: ");
	assert_contains(r->err, message);
	assert_string_equal(r->out, "");
}

static void test_cli_info_table_and_json(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *meta = api_meta("/1.0"), *printed = NULL;

	(void)state;
	CLI(&r, SOCK, "info");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "VERSION");
	assert_contains(r.out, json_string_value(json_object_get(meta, "version")));
	assert_contains(r.out, H.api_socket);
	assert_contains(r.out, "ACCESS      admin");
	cli_result_clear(&r);
	CLI(&r, SOCK, "--format", "json", "info");
	assert_int_equal(r.status, 0);
	printed = parse_json(r.out);
	json_object_del(printed, "started_at"); /* the rest is the same answer */
	json_object_del(meta, "started_at");
	assert_true(json_equal(printed, meta));
}

/* The text after @label on the line of @out that starts with it ("" when none), into @buf. */
static const char *row_of(const char *out, const char *label, char *buf, size_t size)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, label, strlen(label)) == 0 && p[strlen(label)] == ' ') {
			const char *v = p + strlen(label) + strspn(p + strlen(label), " ");

			snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
			return buf;
		}
	buf[0] = '\0';
	return buf;
}

/* GET /1.0 of @h until its config_dir has @n_errors errors; its config_dir (a new reference). */
static json_t *wait_config_dir(struct harness *h, size_t n_errors)
{
	for (int i = 0; i < 300; i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = NULL;
		json_t *cd;

		assert_int_equal(harness_request(h, "GET", "/1.0", NULL, &r), 0);
		cd = json_object_get(reply_meta(r), "config_dir");
		if (json_array_size(json_object_get(cd, "errors")) == n_errors)
			return json_incref(cd);
		usleep(10000);
	}
	fail_msg("config_dir never had %zu errors", n_errors);
	return NULL;
}

/* info shows the config directory: none, or its path, generation, profiles and errors. */
static void test_cli_info_config_dir(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	struct harness h2 = { 0 };
	char dir[400], path[512], row[512], want[512];
	json_auto_t *cd = NULL;
	FILE *f;

	(void)state;
	CLI(&r, SOCK, "info");
	assert_string_equal(row_of(r.out, "CONFIG DIR", row, sizeof(row)), "none");
	assert_null(strstr(r.out, "CONFIG PROFILES"));
	cli_result_clear(&r);
	assert_int_equal(harness_init(&h2), 0);
	snprintf(dir, sizeof(dir), "%s/cfg", h2.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/profile.web.json", dir);
	assert_non_null(f = fopen(path, "we"));
	fputs("{\"config\":{\"security.syscalls.intercept.mknod\":\"on\"}}", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(harness_start(&h2, (const char *const[]){ "--config-dir", dir, NULL }), 0);
	CLI(&r, "--socket", h2.api_socket, "info");
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want), "%s (generation 1)", dir);
	assert_string_equal(row_of(r.out, "CONFIG DIR", row, sizeof(row)), want);
	assert_string_equal(row_of(r.out, "CONFIG PROFILES", row, sizeof(row)), "web");
	assert_string_equal(row_of(r.out, "CONFIG ERRORS", row, sizeof(row)), "none");
	cli_result_clear(&r);
	/* a bad file: the reading is refused, and info says why */
	snprintf(path, sizeof(path), "%s/profile.bad.json", dir);
	assert_non_null(f = fopen(path, "we"));
	fputs("{\"config\":{\"security.syscalls.intercept.nope\":\"on\"}}", f);
	assert_int_equal(fclose(f), 0);
	cd = wait_config_dir(&h2, 1);
	CLI(&r, "--socket", h2.api_socket, "info");
	assert_string_equal(row_of(r.out, "CONFIG ERRORS", row, sizeof(row)),
			    json_string_value(json_array_get(json_object_get(cd, "errors"), 0)));
	assert_string_equal(row_of(r.out, "CONFIG PROFILES", row, sizeof(row)), "web");
	harness_cleanup(&h2);
}

static void test_cli_socket_from_environment(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	char bogus[400];

	(void)state;
	cli_run(&r, &(struct cli_opts){ .env_socket = H.api_socket },
		(const char *const[]){ "info", NULL });
	assert_int_equal(r.status, 0);
	assert_contains(r.out, H.api_socket);
	cli_result_clear(&r);
	/* --socket wins over the environment */
	snprintf(bogus, sizeof(bogus), "%s/nothing.sock", H.dir);
	cli_run(&r, &(struct cli_opts){ .env_socket = bogus },
		(const char *const[]){ SOCK, "info", NULL });
	assert_int_equal(r.status, 0);
}

static void test_cli_daemon_unreachable(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char missing[400];
	int fd;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.sock", H.dir);
	CLI(&r, "--socket", missing, "list");
	assert_fails(&r, "cannot connect to interceptd at");
	assert_contains(r.err, "No such file or directory");
	assert_contains(r.err, "INTERCEPTD_SOCKET");
	cli_result_clear(&r);
	/* a socket file nobody listens on */
	assert_true(strlen(H.dir) + strlen("/dead.sock") < sizeof(sa.sun_path));
	strcat(strcpy(sa.sun_path, H.dir), "/dead.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CLI(&r, "--socket", sa.sun_path, "info");
	assert_fails(&r, "Connection refused");
	unlink(sa.sun_path);
}

static void assert_usage_error(const char *const *args, const char *message)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };

	cli_run(&r, NULL, args);
	if (r.status != 2)
		fail_msg("exit %d, expected 2; stderr: %s", r.status, r.err);
	assert_contains(r.err, message);
	assert_string_equal(r.out, "");
}

static void test_cli_usage_errors_exit_2(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	int before = harness_count_containers(&H);

	(void)state;
	assert_usage_error((const char *const[]){ SOCK, NULL }, "no command given");
	assert_usage_error((const char *const[]){ SOCK, "frob", NULL }, "unknown command 'frob'");
	assert_usage_error((const char *const[]){ SOCK, "show", NULL }, "needs more arguments");
	assert_usage_error((const char *const[]){ SOCK, "show", "a", "b", NULL }, "too many");
	assert_usage_error((const char *const[]){ SOCK, "create", "u1", "mknod", NULL },
			   "'mknod' is not KEY=VALUE");
	assert_usage_error((const char *const[]){ SOCK, "set", "u1", "=true", NULL },
			   "not KEY=VALUE");
	assert_usage_error((const char *const[]){ SOCK, "--format", "xml", "list", NULL },
			   "--format takes table, json or yaml, not 'xml'");
	assert_usage_error((const char *const[]){ SOCK, "list", "--lxc", NULL },
			   "does not apply to 'list'");
	assert_usage_error((const char *const[]){ SOCK, "monitor", "--oci", NULL },
			   "does not apply to 'monitor'");
	assert_usage_error((const char *const[]){ SOCK, "--bogus", "list", NULL }, "bogus");
	assert_usage_error((const char *const[]){ SOCK, "policy", "u1", NULL }, "one of --lxc");
	assert_usage_error((const char *const[]){ SOCK, "policy", "u1", "--lxc", "--oci", NULL },
			   "one of --lxc");
	assert_usage_error((const char *const[]){ SOCK, "policy", "u1", "--lxc", "--merge-into",
						  "x.json", NULL },
			   "use --oci");
	assert_int_equal(harness_count_containers(&H), before);
	CLI(&r, "--help");
	assert_int_equal(r.status, 0);
	for (const char *const *cmd = (const char *const[]){ "list", "show", "create", "set",
							      "unset", "delete", "state", "policy",
							      "metrics", "monitor", "info", NULL };
	     *cmd; cmd++)
		assert_contains(r.out, *cmd);
	cli_result_clear(&r);
	CLI(&r, "--version");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "interceptctl ");
}

static void test_cli_create_show_list(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *config = NULL, *printed = NULL, *meta = NULL;

	(void)state;
	CLI(&r, SOCK, "create", "cli1", "mknod=yes", "security.syscalls.intercept.sysinfo=1",
	    "mount.allowed=ext4");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, ""); /* quiet on success, like incus config set */
	config = config_of("cli1");
	assert_string_equal(json_string_value(json_object_get(config, "security.syscalls.intercept.mknod")),
			    "true");
	assert_string_equal(json_string_value(json_object_get(config, "security.syscalls.intercept.sysinfo")),
			    "true");
	assert_string_equal(json_string_value(json_object_get(config, "security.syscalls.intercept.mount.allowed")),
			    "ext4");
	cli_result_clear(&r);
	CLI(&r, SOCK, "show", "cli1");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "NAME     cli1");
	assert_contains(r.out, "security.syscalls.intercept.mount.allowed  ext4");
	cli_result_clear(&r);
	CLI(&r, SOCK, "show", "cli1", "--format", "json");
	assert_int_equal(r.status, 0);
	printed = parse_json(r.out);
	meta = api_meta("/1.0/containers/cli1");
	assert_true(json_equal(printed, meta));
	cli_result_clear(&r);
	CLI(&r, SOCK, "list");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "NAME  ");
	assert_contains(r.out, "cli1  ");
	assert_contains(r.out, "  mknod, sysinfo, mount.allowed=ext4\n");
}

static void test_cli_create_errors_change_nothing(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	int before;

	(void)state;
	CLI(&r, SOCK, "create", "cli3");
	assert_int_equal(r.status, 0);
	before = harness_count_containers(&H);
	cli_result_clear(&r);
	CLI(&r, SOCK, "create", "cli3");
	assert_fails(&r, "container 'cli3' already exists");
	cli_result_clear(&r);
	CLI(&r, SOCK, "create", "Bad.Name");
	assert_fails(&r, "invalid container name 'Bad.Name'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "create", "cli4", "mknd=1");
	assert_fails(&r, "unknown configuration key 'security.syscalls.intercept.mknd'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "create", "cli4", "mknod=maybe");
	assert_fails(&r, "security.syscalls.intercept.mknod");
	assert_int_equal(harness_count_containers(&H), before);
}

static const char *etag_of(const char *name, char *buf, size_t size)
{
	char path[128];
	json_t *meta;

	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	meta = api_meta(path);
	snprintf(buf, size, "%s", json_string_value(json_object_get(meta, "etag")));
	json_decref(meta);
	return buf;
}

static void test_cli_set_and_unset(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *config = NULL, *printed = NULL;
	char before[64], after[64];

	(void)state;
	CLI(&r, SOCK, "create", "cli5", "sysinfo=true");
	cli_result_clear(&r);
	CLI(&r, SOCK, "set", "cli5", "mknod=on", "sched_setscheduler=1");
	assert_int_equal(r.status, 0);
	config = config_of("cli5");
	assert_int_equal(json_object_size(config), 3);
	assert_string_equal(json_string_value(json_object_get(config, "security.syscalls.intercept.mknod")),
			    "true");
	json_decref(TAKE_PTR(config));
	cli_result_clear(&r);
	/* an empty value removes the key, as PATCH does */
	CLI(&r, SOCK, "--format", "json", "set", "cli5", "mknod=");
	assert_int_equal(r.status, 0);
	printed = parse_json(r.out);
	config = config_of("cli5");
	assert_true(json_equal(json_object_get(printed, "config"), config));
	assert_null(json_object_get(config, "security.syscalls.intercept.mknod"));
	json_decref(TAKE_PTR(config));
	cli_result_clear(&r);
	CLI(&r, SOCK, "unset", "cli5", "sched_setscheduler");
	assert_int_equal(r.status, 0);
	config = config_of("cli5");
	assert_int_equal(json_object_size(config), 1);
	cli_result_clear(&r);
	/* errors leave the container as it was (same ETag) */
	etag_of("cli5", before, sizeof(before));
	CLI(&r, SOCK, "unset", "cli5", "mknod");
	assert_fails(&r, "'security.syscalls.intercept.mknod' is not set on 'cli5'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "set", "cli5", "sysinfo=false", "bogus=1");
	assert_fails(&r, "unknown configuration key 'security.syscalls.intercept.bogus'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "set", "cli5", "mount.allowed=ext4", "mount.fuse=ext4=fuse2fs");
	assert_fails(&r, "ext4");
	assert_string_equal(etag_of("cli5", after, sizeof(after)), before);
	cli_result_clear(&r);
	CLI(&r, SOCK, "set", "nosuch", "mknod=1");
	assert_fails(&r, "container 'nosuch' not found");
	cli_result_clear(&r);
	CLI(&r, SOCK, "unset", "nosuch", "mknod");
	assert_fails(&r, "container 'nosuch' not found");
}

static void test_cli_delete(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	_cleanup_(http_reply_freep) struct http_reply *rep = NULL;

	(void)state;
	CLI(&r, SOCK, "create", "cli6");
	cli_result_clear(&r);
	CLI(&r, SOCK, "delete", "cli6");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	assert_int_equal(harness_request(&H, "GET", "/1.0/containers/cli6", NULL, &rep), 0);
	assert_int_equal(rep->status, 404);
	cli_result_clear(&r);
	CLI(&r, SOCK, "delete", "cli6");
	assert_fails(&r, "container 'cli6' not found");
	cli_result_clear(&r);
	/* a name is one path segment: ".." and "cli5/state" reach no other route */
	CLI(&r, SOCK, "delete", "..");
	assert_fails(&r, "invalid container name '..'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "delete", "c%3F");
	assert_fails(&r, "invalid container name 'c%3F'");
	assert_usage_error((const char *const[]){ SOCK, "delete", "cli5/state", NULL },
			   "a container name cannot contain '/': 'cli5/state'");
}

static void test_cli_state_and_metrics_of_an_idle_container(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	json_auto_t *printed = NULL, *meta = NULL;
	json_t *one;

	(void)state;
	CLI(&r, SOCK, "create", "cli7", "sysinfo=1");
	cli_result_clear(&r);
	CLI(&r, SOCK, "state", "cli7");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "No listener attached");
	assert_contains(r.out, "No trapped call answered yet");
	assert_contains(r.out, "Restart required for: none");
	cli_result_clear(&r);
	CLI(&r, SOCK, "state", "cli7", "--format", "json");
	printed = parse_json(r.out);
	meta = api_meta("/1.0/containers/cli7/state");
	assert_true(json_equal(printed, meta));
	json_decref(TAKE_PTR(printed));
	cli_result_clear(&r);
	CLI(&r, SOCK, "state", "nosuch");
	assert_fails(&r, "container 'nosuch' not found");
	cli_result_clear(&r);
	CLI(&r, SOCK, "metrics", "cli7");
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "CONTAINER  LISTENERS  SYSCALL");
	assert_contains(r.out, "cli7       0          -");
	assert_null(strstr(r.out, "cli1")); /* only the one asked for */
	cli_result_clear(&r);
	CLI(&r, SOCK, "--format", "json", "metrics", "cli7");
	printed = parse_json(r.out);
	assert_int_equal(json_array_size(printed), 1);
	one = json_array_get(printed, 0);
	assert_string_equal(json_string_value(json_object_get(one, "container")), "cli7");
	assert_int_equal(json_array_size(json_object_get(one, "syscalls")), 0);
	cli_result_clear(&r);
	CLI(&r, SOCK, "metrics", "nosuch");
	assert_fails(&r, "container 'nosuch' not found");
}

/* The daemon's refusal of a filter reaches the user (the stream itself: test_cli_live.c). */
static void test_cli_monitor_bad_filters(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };

	(void)state;
	CLI(&r, SOCK, "monitor", "--type", "lifecycle,bogus");
	assert_fails(&r, "unknown event type 'bogus'");
	cli_result_clear(&r);
	CLI(&r, SOCK, "monitor", "--container", "Not/A/Name");
	assert_fails(&r, "invalid container name");
}

/* A peer that is neither root nor in the admin group reads, and is refused writes. */
static void test_cli_read_only_peer(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	const struct cli_opts nobody = { .uid = 65534, .has_uid = true };
	int before = harness_count_containers(&H);

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(H.dir, 0755), 0);
	assert_int_equal(chmod(H.api_socket, 0666), 0);
	cli_run(&r, &nobody, (const char *const[]){ SOCK, "info", NULL });
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "read-only");
	cli_result_clear(&r);
	cli_run(&r, &nobody, (const char *const[]){ SOCK, "create", "cli8", NULL });
	assert_fails(&r, "not authorized: uid 65534 may only read (GET)");
	assert_int_equal(harness_count_containers(&H), before);
	assert_int_equal(chmod(H.api_socket, 0660), 0);
	assert_int_equal(chmod(H.dir, 0700), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_info_table_and_json),
		cmocka_unit_test(test_cli_info_config_dir),
		cmocka_unit_test(test_cli_socket_from_environment),
		cmocka_unit_test(test_cli_daemon_unreachable),
		cmocka_unit_test(test_cli_usage_errors_exit_2),
		cmocka_unit_test(test_cli_create_show_list),
		cmocka_unit_test(test_cli_create_errors_change_nothing),
		cmocka_unit_test(test_cli_set_and_unset),
		cmocka_unit_test(test_cli_delete),
		cmocka_unit_test(test_cli_state_and_metrics_of_an_idle_container),
		cmocka_unit_test(test_cli_monitor_bad_filters),
		cmocka_unit_test(test_cli_read_only_peer),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), NULL, NULL);
}
