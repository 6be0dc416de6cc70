/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine against callers that hold a worker: a notification whose target
 * memory blocks the worker reading it (a userfaultfd page nobody serves, the
 * stand-in for a FUSE mapping), and LXC monitors that go away while one of
 * their notifications is being handled. Real daemon, real notify fds; root
 * only.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "peers.h"

/*
 * An LXC monitor closes its connection while the daemon is handling one of its
 * notifications (a handler blocked on the caller's memory), then the block is
 * released: the worker finds the connection gone and drops the listener, and
 * must not touch it afterwards (under ASan, the old code died of a
 * heap-use-after-free here).
 */
static void test_lxc_close_mid_notification(void **state)
{
	struct seccomp_notif req;
	struct child c;
	int proxy;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"closing\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	child_start(&c); /* first: a child forked later would hold the monitor's socket open */
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_send(proxy, &c, "closing", 'u', &req); /* its handler blocks on the path */
	assert_int_equal(wait_blocked_threads(1, 5000), 1);
	close(proxy); /* the container stops: its monitor goes away */
	sleep_ms(100);
	child_stop(&c); /* releases the read: the late reply finds the connection closed */
	wait_listeners("closing", 0);
	assert_int_equal(wait_blocked_threads(0, 5000), 0);
	assert_int_equal(harness_wait_exit(&H, 500), -ETIMEDOUT); /* still running */
	api("GET", "/1.0", NULL, 200);
	api("DELETE", "/1.0/containers/closing", NULL, 200);
}

/* A monitor that half-closes after an answered notification is dropped cleanly. */
static void test_lxc_half_close(void **state)
{
	struct seccomp_notif_resp resp;
	struct child c;
	char buf[64];
	int proxy;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"halfclose\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}",
	    201);
	child_start(&c);
	proxy = unix_connect(H.lxc_socket, SOCK_SEQPACKET);
	relay_lxc_cmd(proxy, &c, "halfclose", 's', &resp);
	assert_true(read(c.ctl, buf, sizeof(buf)) > 0);
	wait_listeners("halfclose", 1);
	assert_int_equal(shutdown(proxy, SHUT_WR), 0); /* EOF for the daemon, no HUP yet */
	wait_listeners("halfclose", 0);
	assert_int_equal(harness_wait_exit(&H, 500), -ETIMEDOUT);
	api("GET", "/1.0", NULL, 200);
	close(proxy);
	child_stop(&c);
	api("DELETE", "/1.0/containers/halfclose", NULL, 200);
}

/*
 * A hostile container makes its notification block the worker serving it (a
 * path in a userfaultfd page nobody serves); another container that shares
 * that worker is moved to a healthy one and keeps being served.
 */
static void test_stuck_worker_does_not_stall_others(void **state)
{
	struct child hostile, filler, bystander;
	int s1, s2, s3;
	unsigned long total;
	struct timespec t0, t1;

	(void)state;
	api("POST", "/1.0/containers",
	    "{\"name\":\"hostile\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	api("POST", "/1.0/containers",
	    "{\"name\":\"bystander\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	/* new listeners go to the least loaded worker: hostile and bystander share one */
	child_start(&hostile);
	s1 = oci_handoff_child(&hostile, "hostile");
	child_start(&filler);
	s2 = oci_handoff_child(&filler, "bystander");
	child_start(&bystander);
	s3 = oci_handoff_child(&bystander, "bystander");
	assert_int_equal(child_sysinfo(&filler, &total), 0);
	assert_int_equal(child_sysinfo(&bystander, &total), 0);
	assert_int_equal(write(hostile.ctl, "u", 1), 1);
	sleep_ms(300); /* the hostile notification now holds its worker */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(child_sysinfo(&bystander, &total), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 4); /* watchdog: 1 s, checked every 200 ms */
	child_stop(&hostile); /* its death releases the stuck read */
	child_stop(&filler);
	child_stop(&bystander);
	close(s1);
	close(s2);
	close(s3);
	api("GET", "/1.0", NULL, 200);
	api("DELETE", "/1.0/containers/hostile", NULL, 200);
	api("DELETE", "/1.0/containers/bystander", NULL, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lxc_close_mid_notification),
		cmocka_unit_test(test_lxc_half_close),
		cmocka_unit_test(test_stuck_worker_does_not_stall_others),
		//X
		//Y
	};
	int failed;

	if (geteuid() != 0) {
		printf("1..0 # SKIP the engine tests need root (seccomp listeners, userfaultfd)\n");
		return 0;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (harness_main_setup(&H, (const char *const[]){ "--workers", "2", NULL }) < 0)
		return 1;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	return harness_main_teardown(&H, failed);
}
