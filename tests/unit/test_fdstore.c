/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the systemd fd store names and the LISTEN_FDS hand-back. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fdstore.h"

static void test_fdstore_oci_name_round_trip(void **state)
{
	struct fdstore_oci in = { .pid = 4242, .init_pid = 17, .name = "web-1.prod_a" }, out;
	char buf[FDSTORE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(fdstore_oci_format(&in, buf), 0);
	assert_string_equal(buf, "oci.4242.17.web-1.prod_a");
	assert_int_equal(fdstore_oci_parse(buf, &out), 0);
	assert_int_equal(out.pid, 4242);
	assert_int_equal(out.init_pid, 17);
	assert_string_equal(out.name, "web-1.prod_a");
	/* crun 1.8 hands over an exec's listener with pid 0: stored all the same */
	in = (struct fdstore_oci){ .name = "web" };
	assert_int_equal(fdstore_oci_format(&in, buf), 0);
	assert_string_equal(buf, "oci.0.0.web");
	assert_int_equal(fdstore_oci_parse(buf, &out), 0);
	assert_int_equal(out.pid, 0);
	assert_int_equal(out.init_pid, 0);
}

/* An ephemeral container's listener: the profile travels in the name, after a '+'. */
static void test_fdstore_oci_name_carries_profile(void **state)
{
	struct fdstore_oci in = { .pid = 7, .init_pid = 7, .name = "shop.web-1.nginx-0a1b2c3d",
				  .profile = "k8s.default" },
			   out;
	char buf[FDSTORE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(fdstore_oci_format(&in, buf), 0);
	assert_string_equal(buf, "oci.7.7.shop.web-1.nginx-0a1b2c3d+k8s.default");
	assert_int_equal(fdstore_oci_parse(buf, &out), 0);
	assert_string_equal(out.name, "shop.web-1.nginx-0a1b2c3d");
	assert_string_equal(out.profile, "k8s.default");
	assert_int_equal(fdstore_oci_parse("oci.1.1.web", &out), 0);
	assert_string_equal(out.profile, "");
	assert_int_equal(fdstore_oci_parse("oci.1.1.web+", &out), -EINVAL);
	assert_int_equal(fdstore_oci_parse("oci.1.1.+p", &out), -EINVAL);
	assert_int_equal(fdstore_oci_parse("oci.1.1.web+p+q", &out), -EINVAL);
	assert_int_equal(fdstore_oci_parse("oci.1.1.web+P", &out), -EINVAL);
	in.profile[0] = 'X';
	assert_int_equal(fdstore_oci_format(&in, buf), -EINVAL);
}

static void test_fdstore_oci_format_refuses_what_systemd_would(void **state)
{
	static const struct fdstore_oci bad[] = {
		{ .pid = -1, .init_pid = 1, .name = "a" },
		{ .pid = 1, .init_pid = -3, .name = "a" },
		{ .pid = 1, .init_pid = 1, .name = "" },
		{ .pid = 1, .init_pid = 1, .name = "has:colon" }, /* LISTEN_FDNAMES separator */
		{ .pid = 1, .init_pid = 1, .name = "Upper" },
	};
	char buf[FDSTORE_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fdstore_oci_format(&bad[i], buf), -EINVAL);
}

static void test_fdstore_oci_parse_rejects_foreign_names(void **state)
{
	static const char *const bad[] = {
		"", "oci.", "oci.1.2.", "oci.1..a", "oci..1.a", "oci.00.1.a", "oci.-1.1.a",
		"oci.1.2", "lxc.1.2.a", "oci.1x.2.a", "oci.99999999999.1.a", "oci.1.2.A",
		"oci.1.2.a/b", "stored", "oci.01.2.a",
	};
	struct fdstore_oci o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fdstore_oci_parse(bad[i], &o) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

static void test_fdstore_take_listen_fds(void **state)
{
	struct fdstore_fd *fds = NULL;
	char pid[16];
	size_t n = 9;

	(void)state;
	assert_int_equal(dup2(open("/dev/null", O_RDONLY), 3), 3);
	assert_int_equal(dup2(open("/dev/null", O_RDONLY), 4), 4);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "oci.5.5.web:other", 1);
	assert_int_equal(fdstore_take(&fds, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fds[0].fd, 3);
	assert_string_equal(fds[0].name, "oci.5.5.web");
	assert_int_equal(fds[1].fd, 4);
	assert_string_equal(fds[1].name, "other");
	assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_null(getenv("LISTEN_FDS")); /* not passed on to anything we run */
	free(fds);
	close(3);
	close(4);
}

static void test_fdstore_take_ignores_fds_meant_for_another_process(void **state)
{
	struct fdstore_fd *fds = (void *)1;
	size_t n = 9;

	(void)state;
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "2", 1);
	assert_int_equal(fdstore_take(&fds, &n), 0);
	assert_null(fds);
	assert_int_equal(n, 0);
	unsetenv("LISTEN_PID");
	setenv("LISTEN_FDS", "2", 1); /* no LISTEN_PID at all */
	assert_int_equal(fdstore_take(&fds, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdstore_oci_name_round_trip),
		cmocka_unit_test(test_fdstore_oci_name_carries_profile),
		cmocka_unit_test(test_fdstore_oci_format_refuses_what_systemd_would),
		cmocka_unit_test(test_fdstore_oci_parse_rejects_foreign_names),
		cmocka_unit_test(test_fdstore_take_listen_fds),
		cmocka_unit_test(test_fdstore_take_ignores_fds_meant_for_another_process),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
