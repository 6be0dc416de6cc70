/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Type=notify against the real daemon, with a fake $NOTIFY_SOCKET receiver:
 * READY=1 comes only once every socket listens and the state is loaded (the
 * moment it arrives, the API answers with the containers from disk and both
 * intake sockets accept), STATUS= counts containers and listeners and follows
 * them, and SIGTERM sends STOPPING=1 before the daemon exits. The listener
 * case needs root (a real seccomp listener) and is skipped otherwise.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_systemd.h"
#include "harness.h"
#include "peers.h"

static int notify_sock = -EBADF;
static char notify_path[400];

/* Start the daemon with $NOTIFY_SOCKET pointing at our receiver. */
static void start_notified(void)
{
	setenv("NOTIFY_SOCKET", notify_path, 1);
	assert_int_equal(harness_spawn(&H, NULL), 0);
	unsetenv("NOTIFY_SOCKET");
}

static int setup(void **state)
{
	(void)state;
	if (harness_init(&H) < 0)
		return -1;
	snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", H.dir);
	notify_sock = fake_notify_open(notify_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (H.pid > 0)
		(void)harness_stop(&H, SIGTERM);
	close_nointr(notify_sock);
	harness_cleanup(&H);
	return 0;
}

/* A connection to @path is accepted at once (not only queued): the daemon answers or hangs up. */
static void assert_connects(const char *path, int type)
{
	int fd = unix_connect(path, type);

	close(fd);
}

static void test_ready_after_sockets_and_state(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *rep = NULL;
	char msg[512];

	(void)state;
	/* a container on disk that the next start must have loaded before READY=1 */
	assert_int_equal(harness_start(&H, NULL), 0);
	api("POST", "/1.0/containers", "{\"name\":\"c1\",\"config\":{}}", 201);
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	start_notified();
	assert_true(fake_notify_recv(notify_sock, msg, sizeof(msg), 10000) > 0);
	assert_non_null(strstr(msg, "READY=1"));
	/* no polling from here on: READY=1 promises all of this already */
	assert_int_equal(harness_request(&H, "GET", "/1.0/containers/c1", NULL, &rep), 0);
	assert_int_equal(rep->status, 200);
	assert_connects(H.lxc_socket, SOCK_SEQPACKET);
	assert_connects(H.oci_socket, SOCK_STREAM);
	assert_non_null(strstr(msg, "STATUS=1 container, 0 listeners (0 lxc, 0 oci)"));
}

/* STATUS= follows the registry and the attached listeners within a few seconds. */
static void test_status_follows_listeners(void **state)
{
	struct child c;
	char msg[512];
	int sock;

	(void)state;
	if (geteuid() != 0)
		skip(); /* a seccomp listener from a child needs root here */
	start_notified();
	assert_int_equal(fake_notify_wait_for(notify_sock, "READY=1", msg, sizeof(msg), 10000), 0);
	api("POST", "/1.0/containers",
	    "{\"name\":\"c2\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	child_start(&c);
	sock = oci_handoff_child(&c, "c2");
	assert_int_equal(fake_notify_wait_for(notify_sock,
					      "STATUS=1 container, 1 listener (0 lxc, 1 oci)", msg,
					      sizeof(msg), 10000), 0);
	child_stop(&c);
	close(sock);
	assert_int_equal(fake_notify_wait_for(notify_sock,
					      "STATUS=1 container, 0 listeners (0 lxc, 0 oci)", msg,
					      sizeof(msg), 10000), 0);
}

static void test_stopping_on_sigterm(void **state)
{
	char msg[512];

	(void)state;
	start_notified();
	assert_int_equal(fake_notify_wait_for(notify_sock, "READY=1", msg, sizeof(msg), 10000), 0);
	assert_int_equal(kill(H.pid, SIGTERM), 0);
	assert_int_equal(fake_notify_wait_for(notify_sock, "STOPPING=1", msg, sizeof(msg), 10000), 0);
	assert_int_equal(harness_wait_exit(&H, 10000), 0);
	assert_true(WIFEXITED(H.exit_status));
	assert_int_equal(WEXITSTATUS(H.exit_status), 0);
}

/* A $NOTIFY_SOCKET nobody listens on costs a warning, never the start. */
static void test_dead_notify_socket_is_harmless(void **state)
{
	char gone[450];

	(void)state;
	snprintf(gone, sizeof(gone), "%s/nobody.sock", H.dir);
	setenv("NOTIFY_SOCKET", gone, 1);
	assert_int_equal(harness_start(&H, NULL), 0);
	unsetenv("NOTIFY_SOCKET");
	/* READY=1 goes out after the API answers: wait for its warning */
	assert_true(log_wait(&H, "Cannot notify systemd ('READY=1'), ignoring", 10000));
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_after_sockets_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_follows_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopping_on_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_notify_socket_is_harmless, setup, teardown),
	};

	if (!getenv("INTERCEPTD_BIN")) {
		printf("1..0 # SKIP INTERCEPTD_BIN is not set\n");
		return 0;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL) ? 1 : 0;
}
