/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Socket activation against the real daemon: the API, LXC and OCI sockets
 * made the way socket units make them and passed as LISTEN_FDS named
 * api:lxc:oci (fake_systemd.c), or by the real systemd-socket-activate when
 * it is installed. The daemon serves connections made before it started,
 * leaves the sockets to their owner when it stops, and refuses hostile
 * LISTEN_* values cleanly: another process's LISTEN_PID, malformed or
 * inflated LISTEN_FDS, fds that are no usable socket, unknown names. With
 * the fd store (root): the three sockets and a stored OCI listener of a live
 * seccomp child passed together, as systemd restarts the daemon.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_systemd.h"
#include "harness.h"
#include "peers.h"

#define GET_1_0 "GET /1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

/* The three socket units' sockets, at the harness's paths unless moved. */
static int units[3] = { -EBADF, -EBADF, -EBADF };

static void make_units(void)
{
	units[0] = fake_socket_unit(H.api_socket, SOCK_STREAM, 0660);
	units[1] = fake_socket_unit(H.lxc_socket, SOCK_SEQPACKET, 0600);
	units[2] = fake_socket_unit(H.oci_socket, SOCK_STREAM, 0600);
}

static int setup(void **state)
{
	(void)state;
	return harness_init(&H) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	if (H.pid > 0 && WEXITSTATUS(harness_stop(&H, SIGTERM)) != 0)
		harness_dump_log(&H);
	fake_activation_clear(&H);
	unsetenv("NOTIFY_SOCKET"); /* a test that failed may have left it */
	for (size_t i = 0; i < 3; i++) {
		close_nointr(units[i]);
		units[i] = -EBADF;
	}
	harness_cleanup(&H);
	return 0;
}

static bool is_socket_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The reply to a request written before the daemon ran: an HTTP 200. */
static void assert_http_ok(int fd)
{
	char buf[64] = "";

	assert_true(recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL) > 12);
	assert_memory_equal(buf, "HTTP/1.1 200", 12);
}

/* Connect and write a request now; the answer is read later. */
static int send_early_request(void)
{
	int fd = unix_connect(H.api_socket, SOCK_STREAM);

	assert_int_equal(send(fd, GET_1_0, strlen(GET_1_0), MSG_NOSIGNAL), (ssize_t)strlen(GET_1_0));
	return fd;
}

/* Both intake sockets are served: garbage gets the LXC empty reply, an OCI hang-up. */
static void assert_intake_served(int lxc)
{
	char buf[16];
	int oci = unix_connect(H.oci_socket, SOCK_STREAM);

	assert_int_equal(send(lxc, "garbage!", 8, MSG_NOSIGNAL), 8);
	assert_true(recv(lxc, buf, sizeof(buf), 0) >= 0);
	assert_int_equal(send(oci, "not json", 8, MSG_NOSIGNAL), 8);
	assert_int_equal(recv(oci, buf, sizeof(buf), 0), 0);
	close(lxc);
	close(oci);
}

static void test_serves_passed_sockets_and_leaves_them(void **state)
{
	struct fake_activation a = { .fds = units, .n_fds = 3, .listen_fdnames = "api:lxc:oci" };
	_cleanup_(http_reply_freep) struct http_reply *info = NULL;
	int early, lxc;

	(void)state;
	make_units();
	/* LXC and runtimes connecting during boot, before the daemon runs */
	early = send_early_request();
	lxc = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	fake_activation_set(&H, &a);
	assert_int_equal(harness_start(&H, NULL), 0);
	assert_http_ok(early);
	close(early);
	assert_intake_served(lxc);
	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &info), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(reply_meta(info), "sockets"), "api")), H.api_socket);
	/* stopped: the sockets stay systemd's, still queueing for the next start */
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	assert_true(is_socket_file(H.api_socket) && is_socket_file(H.lxc_socket) &&
		    is_socket_file(H.oci_socket));
	early = send_early_request();
	assert_int_equal(harness_start(&H, NULL), 0);
	assert_http_ok(early);
	close(early);
	assert_false(log_has(&H, "refusing"));
}

/* The real tool, for the two stream sockets (it passes one type per run); LXC bound by the daemon. */
static void exec_socket_activate(void *userdata)
{
	const struct harness *h = userdata;
	char api[400], oci[400];

	snprintf(api, sizeof(api), "--listen=%s", h->api_socket);
	snprintf(oci, sizeof(oci), "--listen=%s", h->oci_socket);
	execlp("systemd-socket-activate", "systemd-socket-activate", api, oci, "--fdname=api:oci",
	       getenv("INTERCEPTD_BIN"), "--api-socket", h->api_socket, "--lxc-socket", h->lxc_socket,
	       "--oci-socket", h->oci_socket, "--state-dir", h->state_dir, "--workers", "1", NULL);
	_exit(127);
}

static void test_systemd_socket_activate(void **state)
{
	(void)state;
	if (system("command -v systemd-socket-activate >/dev/null") != 0)
		skip(); /* package systemd (tests/deps.sh) */
	H.before_exec = exec_socket_activate;
	H.before_exec_data = &H;
	/* the tool starts the daemon on the first connection: harness_start()'s GET /1.0 */
	assert_int_equal(harness_start(&H, NULL), 0);
	assert_true(is_socket_file(H.lxc_socket)); /* bound before the API answers */
	assert_intake_served(unix_connect(H.lxc_socket, SOCK_SEQPACKET));
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	assert_true(is_socket_file(H.api_socket) && is_socket_file(H.oci_socket));
	assert_false(is_socket_file(H.lxc_socket)); /* the daemon's own: removed */
}

static void test_passed_path_wins_over_configured(void **state)
{
	char moved[400];
	int fd;
	struct fake_activation a = { .fds = &fd, .n_fds = 1, .listen_fdnames = "api" };
	_cleanup_(http_reply_freep) struct http_reply *info = NULL;

	(void)state;
	snprintf(moved, sizeof(moved), "%s/unit-api.sock", H.dir);
	fd = fake_socket_unit(moved, SOCK_STREAM, 0660);
	fake_activation_set(&H, &a);
	assert_int_equal(harness_spawn(&H, NULL), 0);
	close(fd);
	strcpy(H.api_socket, moved);
	assert_int_equal(harness_wait_ready(&H, 10000), 0);
	assert_true(log_has(&H, "The API socket passed by systemd listens on"));
	assert_int_equal(harness_request(&H, "GET", "/1.0", NULL, &info), 0);
	/* policies and clients are told the socket that works */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(reply_meta(info), "sockets"), "api")), moved);
}

/* LISTEN_PID of another process: the fds are not ours, left untouched; the daemon binds its own. */
static void test_other_listen_pid_is_ignored(void **state)
{
	int p[2];
	struct fake_activation a = { .fds = &p[1], .n_fds = 1, .listen_pid = "1",
				     .listen_fdnames = "api" };
	struct pollfd pfd;

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fake_activation_set(&H, &a);
	assert_int_equal(harness_start(&H, NULL), 0);
	close(p[1]);
	assert_true(log_has(&H, "Ignoring LISTEN_FDS: LISTEN_PID='1' is not this process"));
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 200), 0); /* the daemon still holds the write end */
	close(p[0]);
}

static void test_malformed_listen_fds_is_ignored(void **state)
{
	static const char *const values[] = { "+3", " 3", "3 ", "03", "-1", "", "x3", "65537",
					      "99999999999999999999" };
	char moved[400];
	int fd;

	(void)state;
	snprintf(moved, sizeof(moved), "%s/unit-api.sock", H.dir);
	fd = fake_socket_unit(moved, SOCK_STREAM, 0660);
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct fake_activation a = { .fds = &fd, .n_fds = 1, .listen_fds = values[i],
					     .listen_fdnames = "api" };
		char expect[128];

		log_clear(&H);
		fake_activation_set(&H, &a);
		/* served on the configured path, bound by the daemon: the passed fd was not taken */
		assert_int_equal(harness_start(&H, NULL), 0);
		snprintf(expect, sizeof(expect), "Ignoring invalid LISTEN_FDS='%s'", values[i]);
		if (!log_has(&H, expect))
			harness_dump_log(&H);
		assert_true(log_has(&H, expect));
		assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	}
	close(fd);
}

/* LISTEN_FDS promising more fds than the process holds: the open ones are taken. */
static void test_more_fds_announced_than_passed(void **state)
{
	struct fake_activation a = { .fds = units, .n_fds = 3, .listen_fds = "6",
				     .listen_fdnames = "api:lxc:oci" };

	(void)state;
	make_units();
	fake_activation_set(&H, &a);
	assert_int_equal(harness_start(&H, NULL), 0); /* our sockets at its paths: it took them */
	assert_true(log_has(&H, "LISTEN_FDNAMES names 3 fds, LISTEN_FDS passes 6"));
	assert_true(log_has(&H, "LISTEN_FDS=6, but only 3 of fds 3..8 are open: taking those"));
	assert_intake_served(unix_connect(H.lxc_socket, SOCK_SEQPACKET));
}

struct unusable {
	const char *name;
	int fd;
	const char *why;
};

static int listening(int domain, int type, const char *path, mode_t mode, bool do_listen)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_true(fd >= 0);
	if (domain == AF_UNIX) {
		strcpy(sa.sun_path, path); /* "\0..." stays abstract: only the first byte is read */
		if (path[0] == '@')
			sa.sun_path[0] = '\0';
		(void)unlink(path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		if (path[0] == '/')
			assert_int_equal(chmod(path, mode), 0);
	}
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_unusable_passed_socket_refuses_start(void **state)
{
	char path[400], abstract[64];
	int p[2];
	struct unusable cases[6];

	(void)state;
	snprintf(path, sizeof(path), "%s/unit.sock", H.dir);
	snprintf(abstract, sizeof(abstract), "@interceptd-test-%d", (int)getpid());
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cases[0] = (struct unusable){ "api", p[0], "not a socket" };
	cases[1] = (struct unusable){ "api", socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
				      "not an AF_UNIX socket" };
	cases[2] = (struct unusable){ "lxc", listening(AF_UNIX, SOCK_STREAM, path, 0600, true),
				      "not SOCK_SEQPACKET" };
	cases[3] = (struct unusable){ "api", listening(AF_UNIX, SOCK_STREAM, abstract, 0, true),
				      "not bound to a path" };
	cases[4] = (struct unusable){ "oci", listening(AF_UNIX, SOCK_STREAM, path, 0600, false),
				      "not listening" };
	cases[5] = (struct unusable){ "oci", listening(AF_UNIX, SOCK_STREAM, path, 0666, true),
				      "writable by nobody else" };
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_activation a = { .fds = &cases[i].fd, .n_fds = 1,
					     .listen_fdnames = cases[i].name };
		char expect[160];

		assert_true(cases[i].fd >= 0);
		log_clear(&H);
		fake_activation_set(&H, &a);
		assert_int_equal(harness_spawn(&H, NULL), 0);
		assert_int_equal(harness_wait_exit(&H, 10000), 0);
		snprintf(expect, sizeof(expect), "The fd named '%s' passed by systemd is not usable",
			 cases[i].name);
		if (!log_has(&H, expect) || !log_has(&H, cases[i].why))
			harness_dump_log(&H);
		assert_true(WIFEXITED(H.exit_status) && WEXITSTATUS(H.exit_status) == 1);
		assert_true(log_has(&H, expect) && log_has(&H, cases[i].why));
		/* what it bound itself before refusing is gone again */
		assert_false(is_socket_file(H.api_socket) || is_socket_file(H.lxc_socket));
		close(cases[i].fd);
	}
	close(p[1]);
}

/* fds under names the daemon does not know are closed, and it binds its own sockets. */
static void test_unknown_names_are_closed(void **state)
{
	int r[3], w[3];
	struct fake_activation a = { .fds = w, .n_fds = 3, .listen_fdnames = "bogus:oci.1.1.x" };
	char c;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		int p[2];

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		r[i] = p[0];
		w[i] = p[1];
	}
	fake_activation_set(&H, &a);
	assert_int_equal(harness_start(&H, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		struct pollfd pfd = { .fd = r[i], .events = POLLIN };

		close(w[i]);
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_int_equal(read(r[i], &c, 1), 0); /* EOF: the daemon closed its copy */
		close(r[i]);
	}
	assert_true(log_has(&H, "Ignoring fd 3 ('bogus') passed by systemd"));
	assert_true(log_has(&H, "Ignoring fd 5 ('') passed by systemd"));
}

/* The child's answer to a sysinfo() asked for earlier: its errno (EVENT_WAIT_MS at most). */
static int child_answer(const struct child *c)
{
	struct pollfd p = { .fd = c->ctl, .events = POLLIN };
	char buf[64] = "";
	unsigned long total;
	int err = -1;

	assert_int_equal(poll(&p, 1, EVENT_WAIT_MS), 1);
	assert_true(read(c->ctl, buf, sizeof(buf) - 1) > 0);
	assert_int_equal(sscanf(buf, "%d %lu", &err, &total), 2);
	return err;
}

/*
 * The production case under systemd: the socket units' three sockets and the
 * fd store in one start. A daemon started with the named sockets keeps an OCI
 * listener in the fd store; it is stopped (systemctl restart) while the
 * container makes a trapped call; the next daemon gets all four fds in one
 * LISTEN_FDS set, api:lxc:oci:oci.PID.PID.NAME, takes the listener back, serves
 * the three sockets (a request queued while it was down included), and
 * answers the call that waited.
 */
static void test_sockets_and_stored_listener_in_one_start(void **state)
{
	char notify[400], fdname[300], expect[300], names[400];
	int fds[4], nsock, sock, early;
	struct fake_activation first = { .fds = units, .n_fds = 3, .listen_fdnames = "api:lxc:oci" };
	struct fake_activation both = { .fds = fds, .n_fds = 4, .listen_fdnames = names };
	unsigned long total;
	struct child c;

	(void)state;
	if (geteuid() != 0)
		skip(); /* seccomp listeners, /proc/PID/mem */
	make_units();
	snprintf(notify, sizeof(notify), "%s/notify.sock", H.dir);
	nsock = fake_notify_socket(notify);
	setenv("NOTIFY_SOCKET", notify, 1); /* for both starts, as systemd sets it */
	fake_activation_set(&H, &first);
	assert_int_equal(harness_start(&H, NULL), 0);
	api("POST", "/1.0/containers",
	    "{\"name\":\"sa-kept\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
	    201);
	child_start(&c);
	sock = oci_handoff_child(&c, "sa-kept");
	assert_int_equal(child_sysinfo(&c, &total), 0);
	fds[3] = fake_notify_recv_fdstore(nsock, fdname, sizeof(fdname));
	snprintf(expect, sizeof(expect), "oci.%d.%d.sa-kept", (int)c.pid, (int)c.pid);
	assert_string_equal(fdname, expect);
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	/* while it is down: a trapped call waits in the kernel, a request in the API's queue */
	assert_int_equal(write(c.ctl, "s", 1), 1);
	early = send_early_request();
	memcpy(fds, units, sizeof(units));
	snprintf(names, sizeof(names), "api:lxc:oci:%s", fdname);
	log_clear(&H);
	fake_activation_set(&H, &both);
	assert_int_equal(harness_start(&H, NULL), 0);
	close(fds[3]);
	unsetenv("NOTIFY_SOCKET");
	assert_true(log_wait(&H, "Took back 1 of 1 OCI listeners from the systemd fd store",
			     EVENT_WAIT_MS));
	assert_false(log_has(&H, "passed by systemd: not a stored OCI listener"));
	assert_false(log_has(&H, "Ignoring fd"));
	assert_int_equal(child_answer(&c), 0); /* the call that waited: emulated by the new daemon */
	assert_int_equal(metric("sa-kept", "sysinfo", "emulated"), 1);
	wait_listeners("sa-kept", 1);
	assert_http_ok(early);
	close(early);
	assert_intake_served(unix_connect(H.lxc_socket, SOCK_SEQPACKET));
	assert_int_equal(child_sysinfo(&c, &total), 0);
	assert_int_equal(metric("sa-kept", "sysinfo", "emulated"), 2);
	child_stop(&c);
	close(sock);
	close(nsock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_serves_passed_sockets_and_leaves_them),
		T(test_systemd_socket_activate),
		T(test_passed_path_wins_over_configured),
		T(test_other_listen_pid_is_ignored),
		T(test_malformed_listen_fds_is_ignored),
		T(test_more_fds_announced_than_passed),
		T(test_unusable_passed_socket_refuses_start),
		T(test_unknown_names_are_closed),
		T(test_sockets_and_stored_listener_in_one_start),
#undef T
	};

	if (!getenv("INTERCEPTD_BIN")) {
		printf("1..0 # SKIP INTERCEPTD_BIN is not set\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
