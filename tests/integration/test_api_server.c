/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests for the "server" and "metrics" tags: GET /1.0,
 * GET /1.0/metadata/configuration, GET /1.0/metrics (checked by promtool when
 * installed), and access control: an unprivileged peer (uid/gid 65534) may
 * read but gets 403 on writes. The daemon runs with --api-socket-mode 0666.
 */
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "req.h"

struct harness H;

static bool has_extension(json_t *meta, const char *name)
{
	json_t *ext = json_object_get(meta, "api_extensions"), *v;
	size_t i;

	json_array_foreach(ext, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

static void test_server_get_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0", NULL);
	json_t *m, *sockets;

	(void)state;
	assert_true(reply_is_sync(r, 200));
	m = reply_meta(r);
	assert_string_equal(json_string_value(json_object_get(m, "api_version")), "1.0");
	assert_non_null(json_string_value(json_object_get(m, "version")));
	assert_true(json_array_size(json_object_get(m, "api_extensions")) > 0);
	assert_true(has_extension(m, "container_syscall_intercept_mount"));
	assert_true(has_extension(m, "container_syscall_intercept_mount_fuse"));
	assert_true(has_extension(m, "container_syscall_intercept_hugetlbfs"));
	assert_true(has_extension(m, "container_syscall_intercept_bpf_devices"));
	assert_true(has_extension(m, "profiles"));
	assert_true(has_extension(m, "container_ephemeral"));
	assert_true(has_extension(m, "config_dir"));
	assert_true(has_extension(m, "container_seccomp_oci_merge"));
	assert_true(json_is_boolean(json_object_get(json_object_get(json_object_get(m, "kernel"),
									  "features"), "seccomp_user_notif")));
	/* the harness passes its environment on: no $NOTIFY_SOCKET, no fd store */
	assert_true(json_is_boolean(json_object_get(m, "fd_store")));
	assert_int_equal(json_is_true(json_object_get(m, "fd_store")), getenv("NOTIFY_SOCKET") != NULL);
	sockets = json_object_get(m, "sockets");
	assert_string_equal(json_string_value(json_object_get(sockets, "api")), H.api_socket);
	assert_string_equal(json_string_value(json_object_get(sockets, "lxc")), H.lxc_socket);
	assert_string_equal(json_string_value(json_object_get(sockets, "oci")), H.oci_socket);
	assert_string_equal(json_string_value(json_object_get(m, "auth")), "admin");
}

static void test_server_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("DELETE", "/1.0", NULL);

	(void)state;
	assert_true(reply_is_error(r, 405, "'DELETE' not allowed"));
	assert_string_equal(r->allow, "GET");
}

static void test_configuration_200(void **state)
{
	static const char *const keys[] = { "mknod", "setxattr", "sched_setscheduler", "sysinfo",
					    "mount", "mount.allowed", "mount.fuse", "mount.shift",
					    "bpf", "bpf.devices" };
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/metadata/configuration", NULL);
	json_t *all;

	(void)state;
	assert_true(reply_is_sync(r, 200));
	all = json_object_get(reply_meta(r), "keys");
	assert_int_equal(json_object_size(all), 10);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char name[128];
		json_t *k;

		snprintf(name, sizeof(name), "security.syscalls.intercept.%s", keys[i]);
		k = json_object_get(all, name);
		assert_non_null(k);
		assert_non_null(json_string_value(json_object_get(k, "type")));
		assert_non_null(json_string_value(json_object_get(k, "default")));
		assert_non_null(json_string_value(json_object_get(k, "description")));
		assert_true(json_is_boolean(json_object_get(k, "live")));
	}
	assert_true(json_is_true(json_object_get(json_object_get(all, "security.syscalls.intercept.mount.allowed"), "live")));
}

static void test_configuration_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("POST", "/1.0/metadata/configuration", "{}");

	(void)state;
	assert_true(reply_is_error(r, 405, NULL));
}

static bool promtool_available(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

static void test_metrics_200(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *c = req("POST", "/1.0/containers", "{\"name\":\"m1\"}");
	_cleanup_(http_reply_freep) struct http_reply *r = req("GET", "/1.0/metrics", NULL);
	char path[400], cmd[900];
	FILE *f;

	(void)state;
	assert_int_equal(c->status, 201);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(r->data, "\ninterceptd_containers 1\n"));
	assert_non_null(strstr(r->data, "interceptd_listeners{container=\"m1\",source=\"lxc\"} 0\n"));
	assert_non_null(strstr(r->data, "interceptd_listeners{container=\"m1\",source=\"oci\"} 0\n"));
	assert_non_null(strstr(r->data, "# TYPE interceptd_syscalls_total counter\n"));
	assert_non_null(strstr(r->data, "# TYPE interceptd_syscall_duration_seconds histogram\n"));
	assert_non_null(strstr(r->data, "interceptd_api_requests_total{method=\"POST\",code=\"201\"}"));
	assert_non_null(strstr(r->data, "\nprocess_open_fds "));
	assert_non_null(strstr(r->data, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(r->data, "\nprocess_start_time_seconds "));
	http_reply_free(TAKE_PTR(c));
	c = req("DELETE", "/1.0/containers/m1", NULL);
	if (!promtool_available())
		skip();
	snprintf(path, sizeof(path), "%s/metrics.txt", H.dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fwrite(r->data, 1, r->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' >&2", path);
	assert_int_equal(system(cmd), 0);
}

static void test_metrics_405(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r = req("PATCH", "/1.0/metrics", "{}");

	(void)state;
	assert_true(reply_is_error(r, 405, NULL));
	assert_string_equal(r->allow, "GET");
}

/* In a child as uid/gid 65534: GET works, every write is 403. Exit code = failures. */
static int unprivileged_client(void)
{
	struct http_reply *r = NULL;
	int failures = 0;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 100;
	if (http_request(H.api_socket, "GET", "/1.0/containers", NULL, 0, NULL, &r) < 0 ||
	    !reply_is_sync(r, 200))
		failures++;
	http_reply_free(TAKE_PTR(r));
	if (http_request(H.api_socket, "GET", "/1.0", NULL, 0, NULL, &r) < 0 ||
	    strcmp(json_string_value(json_object_get(reply_meta(r), "auth")) ?: "", "read-only") != 0)
		failures++;
	http_reply_free(TAKE_PTR(r));
	if (http_request(H.api_socket, "POST", "/1.0/containers", "{\"name\":\"evil\"}", 15, NULL,
			 &r) < 0 || !reply_is_error(r, 403, "not authorized"))
		failures++;
	http_reply_free(TAKE_PTR(r));
	if (http_request(H.api_socket, "DELETE", "/1.0/containers/victim", NULL, 0, NULL, &r) < 0 ||
	    !reply_is_error(r, 403, "may only read"))
		failures++;
	http_reply_free(TAKE_PTR(r));
	/* the merge changes nothing, but it is a POST: readers only GET */
	if (http_request(H.api_socket, "POST", "/1.0/containers/victim/seccomp?format=oci",
			 "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 34, NULL, &r) < 0 ||
	    !reply_is_error(r, 403, "may only read"))
		failures++;
	http_reply_free(TAKE_PTR(r));
	/* nor a profile's, whatever trap_denied says */
	if (http_request(H.api_socket, "POST",
			 "/1.0/profiles/victim/seccomp?format=oci&trap_denied=true",
			 "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 34, NULL, &r) < 0 ||
	    !reply_is_error(r, 403, "may only read"))
		failures++;
	http_reply_free(r);
	return failures;
}

static void test_unprivileged_get_ok_write_403(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *c = req("POST", "/1.0/containers", "{\"name\":\"victim\"}");
	_cleanup_(http_reply_freep) struct http_reply *p = req("POST", "/1.0/profiles", "{\"name\":\"victim\"}");
	_cleanup_(http_reply_freep) struct http_reply *after = NULL;
	int status;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root to switch to uid 65534 */
	assert_int_equal(c->status, 201);
	assert_int_equal(p->status, 201);
	assert_int_equal(chmod(H.dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(unprivileged_client());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	after = req("GET", "/1.0/containers", NULL);
	assert_int_equal(json_array_size(reply_meta(after)), 1);
	http_reply_free(TAKE_PTR(c));
	c = req("DELETE", "/1.0/containers/victim", NULL);
	assert_int_equal(c->status, 200);
}

/* In a child with @gid as primary group and @supp as the only supplementary one: POST → @expect. */
static int admin_group_client(const struct harness *h, gid_t gid, gid_t supp, long expect)
{
	struct http_reply *r = NULL;
	gid_t groups[1] = { supp };
	char body[64];
	int ok;

	if (setgroups(supp ? 1 : 0, groups) < 0 || setgid(gid) < 0 || setuid(65534) < 0)
		return 100;
	snprintf(body, sizeof(body), "{\"name\":\"g%u-%u\"}", (unsigned)gid, (unsigned)supp);
	ok = http_request(h->api_socket, "POST", "/1.0/containers", body, strlen(body), NULL, &r) == 0 &&
	     r->status == expect;
	if (!ok)
		fprintf(stderr, "# gid %u supp %u: got %ld: %s\n", (unsigned)gid, (unsigned)supp,
			r ? r->status : 0L, r && r->data ? r->data : "");
	http_reply_free(r);
	return ok ? 0 : 1;
}

static void run_child(const struct harness *h, gid_t gid, gid_t supp, long expect)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(admin_group_client(h, gid, supp, expect));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --admin-group nogroup (65534): its members may write, by primary or supplementary group. */
static void test_admin_group_members_may_write(void **state)
{
	static const char *const args[] = { "--api-socket-mode", "0666", "--admin-group", "nogroup", NULL };
	struct harness g;

	(void)state;
	if (geteuid() != 0 || !getgrnam("nogroup"))
		skip();
	assert_int_equal(harness_init(&g), 0);
	assert_int_equal(chmod(g.dir, 0755), 0);
	assert_int_equal(harness_start(&g, args), 0);
	run_child(&g, 65534, 0, 201);     /* primary group */
	run_child(&g, 1, 65534, 201);     /* supplementary group (SO_PEERGROUPS) */
	run_child(&g, 1, 2, 403);         /* neither */
	assert_int_equal(harness_count_containers(&g), 2);
	harness_cleanup(&g);
}

int main(void)
{
	static const char *const args[] = { "--api-socket-mode", "0666", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_get_200),
		cmocka_unit_test(test_server_405),
		cmocka_unit_test(test_configuration_200),
		cmocka_unit_test(test_configuration_405),
		cmocka_unit_test(test_metrics_200),
		cmocka_unit_test(test_metrics_405),
		cmocka_unit_test(test_unprivileged_get_ok_write_403),
		cmocka_unit_test(test_admin_group_members_may_write),
	};

	return req_run_group(tests, ARRAY_SIZE(tests), args, NULL);
}
