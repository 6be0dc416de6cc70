/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the intake parsers: OCI container-process state and LXC proxy messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/oci_state.h"

static const char runc_state[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":4242,\"metadata\":\"web\","
	"\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"web-1\",\"status\":\"creating\","
	"\"pid\":4242,\"bundle\":\"/b\"}}";

static const char crun_state[] = "{\n  \"ociVersion\": \"0.2.0\",\n  \"fds\": [\n    \"seccompFd\"\n  ],\n"
				 "  \"pid\": 77,\n  \"state\": {\n    \"ociVersion\": \"0.2.0\",\n"
				 "    \"id\": \"c2\",\n    \"status\": \"running\",\n    \"pid\": 77\n  }\n}\n";

static void test_oci_state_parse_runc_compact(void **state)
{
	struct oci_state st;

	(void)state;
	assert_int_equal(oci_state_parse(runc_state, strlen(runc_state), &st), 1);
	assert_int_equal(st.seccomp_fd_index, 0);
	assert_int_equal(st.pid, 4242);
	assert_int_equal(st.init_pid, 4242);
	assert_string_equal(st.metadata, "web");
	assert_string_equal(st.id, "web-1");
}

static void test_oci_state_parse_crun_pretty_in_pieces(void **state)
{
	struct oci_state st;
	size_t len = strlen(crun_state);

	(void)state;
	/* every proper prefix is incomplete, never garbage */
	for (size_t n = 0; n < len - 2; n++)
		assert_int_equal(oci_state_parse(crun_state, n, &st), 0);
	assert_int_equal(oci_state_parse(crun_state, len, &st), 1);
	assert_string_equal(st.metadata, "");
	assert_string_equal(st.id, "c2");
	assert_int_equal(st.pid, 77);
}

/*
 * A read may end anywhere: inside a literal, a number, an escape or a UTF-8
 * sequence jansson reports an error, not a premature end, and the connection
 * (with the container's listener) used to be dropped. Found by
 * tests/fuzz/fuzz_oci_state.c.
 */
static void test_oci_state_parse_cut_anywhere_is_incomplete(void **state)
{
	static const char s[] =
		"{\"fds\":[\"seccompFd\"],\"pid\":9,\"metadata\":\"web\",\"state\":{\"id\":\"web\","
		"\"bundle\":\"/srv/caf\xc3\xa9/\xf0\x9f\x93\xa6\",\"annotations\":{\"a\":\"say \\\"hi\\\" "
		"\\\\ \\u00e9\\ud83d\\udce6\",\"b\":true,\"c\":false,\"d\":null,\"e\":-1.5e+3}}}";
	struct oci_state st;

	(void)state;
	for (size_t n = 0; n < strlen(s); n++) {
		int r = oci_state_parse(s, n, &st);

		if (r != 0)
			print_error("cut after %zu bytes: %d\n", n, r);
		assert_int_equal(r, 0);
	}
	assert_int_equal(oci_state_parse(s, strlen(s), &st), 1);
	assert_string_equal(st.metadata, "web");
	assert_int_equal(st.pid, 9);
}

static void test_oci_state_parse_trailing_bytes_after_object(void **state)
{
	char buf[1024];
	struct oci_state st;

	(void)state;
	snprintf(buf, sizeof(buf), "%s\n{\"next", runc_state);
	assert_int_equal(oci_state_parse(buf, strlen(buf), &st), 1);
}

static void test_oci_state_parse_garbage_table(void **state)
{
	static const char *const bad[] = {
		"garbage",
		"[1,2,3]",
		"{\"fds\":[],\"state\":{\"id\":\"a\"}}",                         /* no seccompFd */
		"{\"fds\":[\"seccompFd\",\"seccompFd\"],\"state\":{\"id\":\"a\"}}", /* two */
		"{\"fds\":\"seccompFd\",\"state\":{\"id\":\"a\"}}",                /* not an array */
		"{\"fds\":[\"seccompFd\"]}",                                     /* no state */
		"{\"fds\":[\"seccompFd\"],\"state\":{},\"fds\":[]}",             /* duplicate key */
		"{\"fds\":[1],\"state\":{\"id\":\"a\"}}",
		"{\"a\":}",
	};
	struct oci_state st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (oci_state_parse(bad[i], strlen(bad[i]), &st) != -EBADMSG)
			print_error("case %zu: %s\n", i, bad[i]);
		assert_int_equal(oci_state_parse(bad[i], strlen(bad[i]), &st), -EBADMSG);
	}
}

static void test_oci_state_parse_hostile_names_dropped(void **state)
{
	static const char s[] = "{\"fds\":[\"x\",\"seccompFd\"],\"pid\":-5,\"metadata\":\"../etc\","
				"\"state\":{\"id\":\"UPPER\",\"pid\":99999999999}}";
	struct oci_state st;

	(void)state;
	assert_int_equal(oci_state_parse(s, strlen(s), &st), 1);
	assert_int_equal(st.seccomp_fd_index, 1);
	assert_int_equal(st.pid, 0);
	assert_int_equal(st.init_pid, 0);
	assert_string_equal(st.metadata, "");
	assert_string_equal(st.id, "");
}

static const struct seccomp_notif_sizes kernel = {
	.seccomp_notif = sizeof(struct seccomp_notif),
	.seccomp_notif_resp = sizeof(struct seccomp_notif_resp),
	.seccomp_data = sizeof(struct seccomp_data),
};

static size_t build_msg(char *buf, const char *cookie)
{
	struct lxc_proxy_header h = { .monitor_pid = 10, .init_pid = 11, .sizes = kernel,
				      .cookie_len = cookie ? strlen(cookie) : 0 };
	struct seccomp_notif req = { .id = 7, .pid = 12 };
	size_t off = 0;

	memcpy(buf, &h, sizeof(h));
	off += LXC_HEADER_SIZE;
	memcpy(buf + off, &req, sizeof(req));
	off += sizeof(req) + sizeof(struct seccomp_notif_resp);
	if (cookie) {
		memcpy(buf + off, cookie, strlen(cookie));
		off += strlen(cookie);
	}
	return off;
}

static void test_lxc_message_parse_valid(void **state)
{
	char buf[512];
	struct lxc_message m;
	size_t len = build_msg(buf, "c1");

	(void)state;
	assert_int_equal(sizeof(struct lxc_proxy_header), LXC_HEADER_SIZE);
	assert_int_equal(len, 32 + 80 + 24 + 2);
	assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), 0);
	assert_int_equal(m.req->id, 7);
	assert_int_equal(m.header.init_pid, 11);
	assert_int_equal(m.cookie_len, 2);
	assert_memory_equal(m.cookie, "c1", 2);
	len = build_msg(buf, NULL);
	assert_int_equal(len, 136);
	assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), 0);
	assert_int_equal(m.cookie_len, 0);
}

static void test_lxc_message_parse_invalid(void **state)
{
	char buf[512];
	struct lxc_message m;
	struct lxc_proxy_header *h = (struct lxc_proxy_header *)buf;
	size_t len;

	(void)state;
	len = build_msg(buf, NULL);
	assert_int_equal(lxc_message_parse(buf, 31, &kernel, &m), -EBADMSG);      /* short */
	assert_int_equal(lxc_message_parse(buf, len - 1, &kernel, &m), -EBADMSG); /* truncated */
	assert_int_equal(lxc_message_parse(buf, len + 1, &kernel, &m), -EBADMSG); /* extra */
	h->reserved = 1;
	assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), -EBADMSG);
	len = build_msg(buf, NULL);
	h->sizes.seccomp_notif = 88;
	assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), -EBADMSG);
	len = build_msg(buf, NULL);
	h->cookie_len = 1000;
	assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), -EBADMSG);
}

/* notif and resp sizes right, seccomp_data not: the request would be laid out differently */
static void test_lxc_message_parse_seccomp_data_size(void **state)
{
	static const uint16_t wrong[] = { 0, 56, 63, 65, 72, UINT16_MAX };
	const struct seccomp_notif_sizes newer_kernel = { kernel.seccomp_notif, kernel.seccomp_notif_resp,
							  sizeof(struct seccomp_data) + 8 };
	char buf[512];
	struct lxc_message m;
	struct lxc_proxy_header *h = (struct lxc_proxy_header *)buf;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		len = build_msg(buf, "c1");
		h->sizes.seccomp_data = wrong[i];
		assert_int_equal(lxc_message_parse(buf, len, &kernel, &m), -EBADMSG);
	}
	/* the peer's sizes must be the kernel's as well as ours */
	len = build_msg(buf, NULL);
	assert_int_equal(lxc_message_parse(buf, len, &newer_kernel, &m), -EBADMSG);
}

static void test_lxc_monitor_name_table(void **state)
{
	static const struct {
		const char *title;
		size_t len;
		const char *name;
	} cases[] = {
		{ "[lxc monitor] /var/lib/lxc c1", 30, "c1" },
		{ "[lxc monitor] /var/lib/lxc web-2\0\0\0", 36, "web-2" },
		{ "[lxc monitor] /tmp/with space/lxc c3 ", 38, "c3" },
		{ "[lxc monitor] ", 14, NULL },
		{ "[lxc monitor]", 13, NULL },
		{ "lxc-start -n c1", 15, NULL },
		{ "", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64] = "";
		int r = lxc_monitor_name(cases[i].title, cases[i].len, name, sizeof(name));

		if (cases[i].name) {
			assert_int_equal(r, 0);
			assert_string_equal(name, cases[i].name);
		} else {
			assert_int_equal(r, -EINVAL);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oci_state_parse_runc_compact),
		cmocka_unit_test(test_oci_state_parse_crun_pretty_in_pieces),
		cmocka_unit_test(test_oci_state_parse_cut_anywhere_is_incomplete),
		cmocka_unit_test(test_oci_state_parse_trailing_bytes_after_object),
		cmocka_unit_test(test_oci_state_parse_garbage_table),
		cmocka_unit_test(test_oci_state_parse_hostile_names_dropped),
		cmocka_unit_test(test_lxc_message_parse_valid),
		cmocka_unit_test(test_lxc_message_parse_invalid),
		cmocka_unit_test(test_lxc_message_parse_seccomp_data_size),
		cmocka_unit_test(test_lxc_monitor_name_table),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
