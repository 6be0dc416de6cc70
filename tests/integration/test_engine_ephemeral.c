/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers that register themselves, against the real daemon with real
 * notify fds (root only): an OCI listener whose listenerMetadata is
 * profile=NAME creates an ephemeral container named from the CRI
 * annotations, with the profile's configuration (changes apply on the next
 * notification), Kubernetes labels on every family of its metrics, removed with its last
 * listener together with its series; an unknown profile is answered CONTINUE
 * and counted as unregistered, and so is a name already taken (by a
 * registered container, or an ephemeral one of another profile); the LXC
 * cookie profile=NAME does the same; an ephemeral container survives a
 * restart through the systemd fd store, with its Kubernetes labels (kept
 * files: a bad one is ignored, stale ones removed), and a stored name taken
 * meanwhile is answered CONTINUE.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "peers.h"

#define KEY "security.syscalls.intercept."
#define LONG_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CRI_ANNOTATIONS                                                                  \
	"{\"io.kubernetes.cri.sandbox-namespace\":\"shop\","                             \
	"\"io.kubernetes.cri.sandbox-name\":\"web-7d4b9\","                              \
	"\"io.kubernetes.cri.container-name\":\"nginx\"}"

/* The name of the one container whose name starts with @prefix, waiting up to 2 s. */
static void find_container(const char *prefix, char *name, size_t size)
{
	for (int i = 0; i < 100; i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = NULL;
		size_t k;
		json_t *url;

		assert_int_equal(harness_request(&H, "GET", "/1.0/containers", NULL, &r), 0);
		json_array_foreach(reply_meta(r), k, url) {
			const char *n = json_string_value(url) + strlen("/1.0/containers/");

			if (strncmp(n, prefix, strlen(prefix)) == 0) {
				snprintf(name, size, "%s", n);
				return;
			}
		}
		sleep_ms(20);
	}
	fail_msg("no container named '%s...'", prefix);
}

static long status_of(const char *path)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	return r->status;
}

static void wait_gone(const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	for (int i = 0; i < 150 && status_of(path) != 404; i++)
		sleep_ms(20);
	assert_int_equal(status_of(path), 404);
}

static char *metrics_text(void)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;

	assert_int_equal(harness_request(&H, "GET", "/1.0/metrics", NULL, &r), 0);
	return strdup(r->data);
}

/* interceptd_syscalls_total of @name (of the pod in CRI_ANNOTATIONS) for sysinfo/@outcome. */
static long sysinfo_count(const char *name, const char *outcome)
{
	_cleanup_free_ char *text = metrics_text();
	char needle[256];
	const char *p;

	snprintf(needle, sizeof(needle),
		 "interceptd_syscalls_total{container=\"%s\",k8s_namespace=\"shop\","
		 "k8s_pod=\"web-7d4b9\",k8s_container=\"nginx\",syscall=\"sysinfo\","
		 "outcome=\"%s\"} ", name, outcome);
	p = strstr(text, needle);
	return p ? strtol(p + strlen(needle), NULL, 10) : 0;
}

/*
 * Every sample of container @name carries the pod's labels right after
 * container="..."; and every per-container family has samples of it.
 */
static void check_k8s_labels_everywhere(const char *name)
{
	static const char *const families[] = {
		"interceptd_listeners", "interceptd_container_key_enabled",
		"interceptd_container_restart_required", "interceptd_syscalls_total",
		"interceptd_syscall_duration_seconds_bucket",
		"interceptd_syscall_duration_seconds_sum",
		"interceptd_syscall_duration_seconds_count",
	};
	_cleanup_free_ char *text = metrics_text();
	bool seen[ARRAY_SIZE(families)] = { false };
	char mine[128], labelled[256];
	char *save = NULL;

	snprintf(mine, sizeof(mine), "{container=\"%s\"", name);
	snprintf(labelled, sizeof(labelled), "{container=\"%s\",k8s_namespace=\"shop\","
		 "k8s_pod=\"web-7d4b9\",k8s_container=\"nginx\"", name);
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *brace = strchr(line, '{');

		if (line[0] == '#' || !brace || strncmp(brace, mine, strlen(mine)) != 0)
			continue;
		if (strncmp(brace, labelled, strlen(labelled)) != 0)
			fail_msg("no Kubernetes labels: %s", line);
		for (size_t i = 0; i < ARRAY_SIZE(families); i++)
			if ((size_t)(brace - line) == strlen(families[i]) &&
			    strncmp(line, families[i], strlen(families[i])) == 0)
				seen[i] = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (!seen[i])
			fail_msg("no sample of '%s' for '%s'", families[i], name);
}

/* The ephemeral container as the API shows it, and what may not be done to it. */
static void check_shown(const char *name)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	char path[160];
	json_t *m, *k8s;

	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	m = reply_meta(r);
	assert_true(json_is_true(json_object_get(m, "ephemeral")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "profiles"), 0)), "p");
	k8s = json_object_get(m, "kubernetes");
	assert_string_equal(json_string_value(json_object_get(k8s, "namespace")), "shop");
	assert_string_equal(json_string_value(json_object_get(k8s, "pod")), "web-7d4b9");
	assert_string_equal(json_string_value(json_object_get(k8s, "container")), "nginx");
	api("PATCH", path, "{\"config\":{\"" KEY "mknod\":\"true\"}}", 409);
	api("DELETE", path, NULL, 409);
	api("DELETE", "/1.0/profiles/p", NULL, 409);
}

static void test_profile_registers_ephemeral_container(void **state)
{
	_cleanup_free_ char *without = NULL;
	unsigned long total = 0;
	char name[80];
	struct child c;
	int sock;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_annotated(&c, "profile=p,team=blue", LONG_ID, CRI_ANNOTATIONS);
	find_container("shop.web-7d4b9.nginx-", name, sizeof(name));
	wait_listeners(name, 1);
	check_shown(name);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(sysinfo_count(name, "emulated"), 1);
	check_k8s_labels_everywhere(name);
	/* a profile change applies on the next notification; a key the filter lacks asks a restart */
	api("PATCH", "/1.0/profiles/p", "{\"config\":{\"" KEY "sysinfo\":\"false\"}}", 200);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(sysinfo_count(name, "emulated"), 1);
	assert_int_equal(sysinfo_count(name, "continued"), 1);
	assert_false(restart_required_has(name, KEY "mknod"));
	api("PATCH", "/1.0/profiles/p", "{\"config\":{\"" KEY "mknod\":\"true\"}}", 200);
	assert_true(restart_required_has(name, KEY "mknod"));
	/* the last listener closes: the container and its series go */
	child_stop(&c);
	close(sock);
	wait_gone(name);
	without = metrics_text();
	assert_null(strstr(without, "k8s_pod="));
	api("DELETE", "/1.0/profiles/p", NULL, 200);
}

static void test_unknown_profile_continues(void **state)
{
	long before = metric("_unregistered", "sysinfo", "unregistered");
	_cleanup_(http_reply_freep) struct http_reply *list = NULL;
	unsigned long total = 0;
	struct child c;
	char *log;
	int sock;

	(void)state;
	child_start(&c);
	sock = oci_handoff_annotated(&c, "profile=nope", "abc", "{}");
	sleep_ms(100);
	assert_int_equal(child_sysinfo(&c, &total), 0); /* CONTINUE: the real sysinfo ran */
	assert_int_equal(metric("_unregistered", "sysinfo", "unregistered"), before + 1);
	assert_int_equal(harness_request(&H, "GET", "/1.0/containers", NULL, &list), 0);
	assert_int_equal(json_array_size(reply_meta(list)), 0);
	log = harness_read_file(H.log_path, NULL);
	assert_non_null(strstr(log, "with profile 'nope': profile 'nope' not found; answering "
				    "CONTINUE, counted as unregistered"));
	free(log);
	child_stop(&c);
	close(sock);
	/* a broken profile=... is said so, and answered the same */
	child_start(&c);
	sock = oci_handoff_annotated(&c, "profile=Bad!,x", "abc", "null");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	log = harness_read_file(H.log_path, NULL);
	assert_non_null(strstr(log, "is not profile=NAME[,key=value...]"));
	free(log);
	child_stop(&c);
	close(sock);
}

/*
 * A LXC connection for @c with the cookie profile=p (sysinfo emulated): its
 * first sysinfo registers lxc-PID-HASH (not a LXC monitor here: named after
 * the container's init) into @name, and is emulated. Returns the connection.
 */
static int lxc_ephemeral_sysinfo(struct child *c, char *name, size_t size)
{
	struct seccomp_notif_resp resp;
	char prefix[32];
	int proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);

	relay_lxc_cmd(proxy, c, "profile=p", 's', &resp);
	snprintf(prefix, sizeof(prefix), "lxc-%d-", (int)c->pid);
	find_container(prefix, name, size);
	assert_int_equal(metric(name, "sysinfo", "emulated"), 1);
	return proxy;
}

/* The LXC cookie "profile=NAME" does the same for a LXC container; the monitor leaving removes it. */
static void test_lxc_cookie_registers_ephemeral_container(void **state)
{
	char name[80];
	struct child c;
	int proxy;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	child_start(&c);
	proxy = lxc_ephemeral_sysinfo(&c, name, sizeof(name));
	close(proxy);
	wait_gone(name);
	child_stop(&c);
	api("DELETE", "/1.0/profiles/p", NULL, 200);
}

/*
 * A listener of profile q whose OCI state gives the name @name, already taken:
 * its sysinfo is answered CONTINUE and counted as unregistered (the
 * container holding the name emulates it).
 */
static void expect_taken_continues(const char *name)
{
	long before = metric("_unregistered", "sysinfo", "unregistered");
	unsigned long total = 0;
	struct child c;
	int sock;

	child_start(&c);
	sock = oci_handoff_annotated(&c, "profile=q", "taken", "{}");
	sleep_ms(100);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric(name, "sysinfo", "emulated"), 0);
	assert_int_equal(metric("_unregistered", "sysinfo", "unregistered"), before + 1);
	child_stop(&c);
	close(sock);
}

/*
 * A name already taken (by an ephemeral container of another profile, or by
 * a registered container) is not registered: its listener is answered
 * CONTINUE, not attached to the container holding the name with its grant.
 */
static void test_taken_name_continues(void **state)
{
	char name[80], body[160];
	struct child owner;
	int sock;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/profiles", "{\"name\":\"q\",\"config\":{}}", 201);
	child_start(&owner);
	sock = oci_handoff_annotated(&owner, "profile=p", "taken", "{}");
	find_container("taken-", name, sizeof(name));
	wait_listeners(name, 1);
	expect_taken_continues(name);
	child_stop(&owner);
	close(sock);
	wait_gone(name);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", name);
	api("POST", "/1.0/containers", body, 201);
	expect_taken_continues(name);
	snprintf(body, sizeof(body), "/1.0/containers/%s", name);
	api("DELETE", body, NULL, 200);
	api("DELETE", "/1.0/profiles/p", NULL, 200);
	api("DELETE", "/1.0/profiles/q", NULL, 200);
}

/* The same for a LXC cookie whose name is taken by an ephemeral container of another profile. */
static void test_lxc_taken_name_continues(void **state)
{
	struct seccomp_notif_resp resp;
	int owner, other;
	struct child c;
	char name[80];

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/profiles", "{\"name\":\"q\",\"config\":{}}", 201);
	child_start(&c);
	owner = lxc_ephemeral_sysinfo(&c, name, sizeof(name));
	other = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_cmd(other, &c, "profile=q", 's', &resp);
	assert_int_equal(resp.flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_int_equal(metric(name, "sysinfo", "emulated"), 1);
	close(other);
	close(owner);
	wait_gone(name);
	child_stop(&c);
	api("DELETE", "/1.0/profiles/p", NULL, 200);
	api("DELETE", "/1.0/profiles/q", NULL, 200);
}

static const char *const workers_2[] = { "--workers", "2", NULL };

/* An ephemeral container of profile p (sysinfo) under a fake systemd, its listener stored. */
struct stored_ephemeral {
	struct child c;
	int nsock, sock, stored; /* the fake systemd, the OCI connection, the stored copy */
	char name[80], fdname[300];
};

/* Start @e from OCI id @id with @annotations; its name starts with @prefix. */
static void stored_ephemeral_start(struct stored_ephemeral *e, const char *id,
				   const char *annotations, const char *prefix)
{
	e->nsock = restart_with_fd_store(workers_2);
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	child_start(&e->c);
	e->sock = oci_handoff_annotated(&e->c, "profile=p", id, annotations);
	find_container(prefix, e->name, sizeof(e->name));
	e->stored = fake_notify_recv_fdstore(e->nsock, e->fdname, sizeof(e->fdname));
	assert_non_null(strstr(e->fdname, "+p"));
}

/* Its end: the container goes with its last listener; then profile p. */
static void stored_ephemeral_end(struct stored_ephemeral *e)
{
	child_stop(&e->c);
	close(e->sock);
	close(e->nsock);
	wait_gone(e->name);
	api("DELETE", "/1.0/profiles/p", NULL, 200);
}

/* Under systemd the fd-store name carries the profile: a restart registers it again. */
static void test_ephemeral_survives_restart(void **state)
{
	struct stored_ephemeral e;
	unsigned long total = 0;

	(void)state;
	stored_ephemeral_start(&e, "runc-ctr", "{}", "runc-ctr-");
	crash_and_hand_back(e.stored, e.fdname, workers_2);
	wait_listeners(e.name, 1);
	assert_int_equal(child_sysinfo(&e.c, &total), 0);
	assert_int_equal(metric(e.name, "sysinfo", "emulated"), 1);
	stored_ephemeral_end(&e);
}

/*
 * A stored listener whose fd-store name NAME+PROFILE names a registered
 * container (a forged or stale LISTEN_FDNAMES entry): at the restart the
 * registration fails and the listener is answered CONTINUE, not attached to
 * that container.
 */
static void test_stored_taken_name_continues(void **state)
{
	unsigned long total = 0;
	char fdname[128];
	struct child c;
	long before;
	int nsock;

	(void)state;
	nsock = restart_with_fd_store(workers_2);
	api("POST", "/1.0/profiles", "{\"name\":\"q\",\"config\":{}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"victim\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	child_start(&c);
	snprintf(fdname, sizeof(fdname), "oci.%d.%d.victim+q", (int)c.pid, (int)c.pid);
	crash_and_hand_back(dup(c.listener), fdname, workers_2);
	before = metric("_unregistered", "sysinfo", "unregistered");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("victim", "sysinfo", "emulated"), 0);
	assert_int_equal(metric("_unregistered", "sysinfo", "unregistered"), before + 1);
	child_stop(&c);
	close(nsock);
	api("DELETE", "/1.0/containers/victim", NULL, 200);
	api("DELETE", "/1.0/profiles/q", NULL, 200);
}

/* The path of the labels file kept for @name. */
static void labels_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/k8s-labels/%s.json", H.state_dir, name);
}

static bool labels_kept(const char *name)
{
	char path[512];

	labels_path(name, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* Whether @name's labels file is (@kept) or is not there within 3 s: a writer thread does it. */
static bool labels_kept_soon(const char *name, bool kept)
{
	for (int i = 0; i < 150 && labels_kept(name) != kept; i++)
		sleep_ms(20);
	return labels_kept(name) == kept;
}

/* After a restart: the pod's series and the API show its Kubernetes names again. */
static void expect_labels_back(struct child *c, const char *name, long emulated)
{
	unsigned long total = 0;

	wait_listeners(name, 1);
	assert_int_equal(child_sysinfo(c, &total), 0);
	assert_int_equal(sysinfo_count(name, "emulated"), emulated);
	assert_int_equal(metric(name, "sysinfo", "emulated"), 0); /* no series without them */
	check_shown(name);
}

/*
 * A DaemonSet rolling update (systemd's SIGTERM and start) and a crash: the
 * ephemeral container of a pod comes back with its Kubernetes labels, kept
 * in a file under the state directory that goes with the container.
 */
static void test_ephemeral_keeps_k8s_labels_across_restart(void **state)
{
	struct stored_ephemeral e;
	unsigned long total = 0;

	(void)state;
	stored_ephemeral_start(&e, LONG_ID, CRI_ANNOTATIONS, "shop.web-7d4b9.nginx-");
	assert_int_equal(child_sysinfo(&e.c, &total), 0);
	assert_int_equal(sysinfo_count(e.name, "emulated"), 1);
	assert_true(labels_kept_soon(e.name, true));
	stop_and_hand_back(SIGTERM, dup(e.stored), e.fdname, workers_2);
	expect_labels_back(&e.c, e.name, 1);
	crash_and_hand_back(e.stored, e.fdname, workers_2);
	expect_labels_back(&e.c, e.name, 1);
	/* the container goes with its last listener, and its labels file with it */
	stored_ephemeral_end(&e);
	assert_true(labels_kept_soon(e.name, false));
}

static void put_labels_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	labels_path(name, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * The labels files are hostile input at start: a bad one is said so and
 * ignored (the container registers without labels), and files no listener
 * taken back names are removed; the start goes on.
 */
static void test_bad_and_stale_labels_at_start(void **state)
{
	unsigned long total = 0;
	char fdname[128];
	struct child c;
	char *log;

	(void)state;
	api("POST", "/1.0/profiles", "{\"name\":\"p\",\"config\":{\"" KEY "sysinfo\":\"true\"}}", 201);
	child_start(&c);
	put_labels_file("kept-bad", "{\"namespace\":\"a\",\"pod\":\"x\\\"} 1\",\"container\":\"c\"}");
	put_labels_file("gone-0a1b2c3d", "{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"c\"}");
	snprintf(fdname, sizeof(fdname), "oci.%d.%d.kept-bad+p", (int)c.pid, (int)c.pid);
	crash_and_hand_back(dup(c.listener), fdname, workers_2);
	wait_listeners("kept-bad", 1);
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("kept-bad", "sysinfo", "emulated"), 1);
	log = harness_read_file(H.log_path, NULL);
	assert_non_null(strstr(log, "Ignoring the kept Kubernetes labels of 'kept-bad': 'pod' holds a "
				    "character outside [A-Za-z0-9._-]"));
	assert_non_null(strstr(log, "Removed the Kubernetes labels of 2 containers"));
	free(log);
	assert_false(labels_kept("kept-bad"));
	assert_false(labels_kept("gone-0a1b2c3d"));
	child_stop(&c);
	wait_gone("kept-bad");
	api("DELETE", "/1.0/profiles/p", NULL, 200);
}

int main(void)
{
	static const char *const daemon_args[] = { "--workers", "2", NULL };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_registers_ephemeral_container),
		cmocka_unit_test(test_unknown_profile_continues),
		cmocka_unit_test(test_lxc_cookie_registers_ephemeral_container),
		cmocka_unit_test(test_taken_name_continues),
		cmocka_unit_test(test_lxc_taken_name_continues),
		cmocka_unit_test(test_ephemeral_survives_restart),
		cmocka_unit_test(test_stored_taken_name_continues),
		cmocka_unit_test(test_ephemeral_keeps_k8s_labels_across_restart),
		cmocka_unit_test(test_bad_and_stale_labels_at_start),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP the ephemeral tests need root (seccomp listeners, /proc/PID/mem)\n");
		return 0;
	}
	return req_run_group(tests, ARRAY_SIZE(tests), daemon_args, NULL);
}
