/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit events of the calls a handler decided say what the call was
 * about (root only). A user-namespace "container" hands its listener to the
 * real daemon's OCI socket as runc does, then makes its calls while the
 * daemon serves them; the events are read over GET /1.0/events with libcurl,
 * as a client would. In handlers_rig.h's container (its own root, a /tmp it
 * owns): a mknodat names its path and device, both when the node is made and
 * when making it again fails; a setxattr of trusted.overlay.opaque names its
 * path; a path of control characters too long to show escaped whole is
 * shown cut. In mount_box.h's: a mount names its target.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "events_reader.h"
#include "handlers_rig.h"
#include "mount_box.h"
#include "peers.h"
#include "userns_skip.h"

#define NAME "au"
#define STREAM_WAIT_MS 20000

/* The running container's connection to the OCI socket (runc leaves it open, so do we). */
static int oci_sock = -EBADF;

/* Run @c in the container while the daemon serves its notifications: the result. */
static struct result daemon_call(const struct cmd *c)
{
	struct pollfd p = { .fd = h.sock, .events = POLLIN };
	struct result res;

	assert_int_equal(write(h.sock, c, sizeof(*c)), sizeof(*c));
	assert_int_equal(poll(&p, 1, EVENT_WAIT_MS), 1);
	assert_int_equal(read(h.sock, &res, sizeof(res)), sizeof(res));
	return res;
}

/* The next audit event about the container (a new reference); fails the test when none comes. */
static json_t *expect_audit(struct event_stream *s)
{
	json_t *ev = event_stream_expect(s, "audit", "syscall", STREAM_WAIT_MS, NULL);

	if (!ev)
		fail_msg("no audit event about '%s'", NAME);
	assert_string_equal(event_meta_str(ev, "container"), NAME);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "metadata"), "pid")),
			 h.init_pid);
	return ev;
}

static void assert_meta(const json_t *ev, const char *key, const char *want)
{
	const char *got = event_meta_str(ev, key);

	if (!got || strcmp(got, want) != 0)
		fail_msg("metadata.%s is '%s', expected '%s'", key, got ? got : "(none)", want);
}

static void open_audit_stream(struct event_stream *s)
{
	event_stream_open(s, H.api_socket, "/1.0/events?type=audit&container=" NAME);
	assert_int_equal(s->status, 200);
}

/* The container, registered with both keys, hands its listener over. */
static int rig_container_setup(void **state)
{
	struct child runtime;

	if (rig_setup(state) < 0)
		return -1;
	api("POST", "/1.0/containers",
	    "{\"name\":\"" NAME "\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\","
	    "\"security.syscalls.intercept.setxattr\":\"true\"}}",
	    201);
	runtime = (struct child){ .pid = h.init_pid, .listener = h.notify_fd };
	oci_sock = oci_handoff_child(&runtime, NAME);
	wait_listeners(NAME, 1);
	return 0;
}

/*
 * The container ends (its listener goes once the orphaned init is reaped,
 * which this machine's pid 1 may do late: not waited for) and is deleted.
 */
static int rig_container_teardown(void **state)
{
	int r = rig_teardown(state);

	close_nointr(h.notify_fd);
	close_nointr(h.sock);
	close_nointr(oci_sock);
	api("DELETE", "/1.0/containers/" NAME, NULL, 200);
	return r;
}

/*
 * Run @c in the container, which must end with @ret and @err, and take the
 * audit event it gave (a new reference): @syscall, @outcome and @path.
 */
static json_t *call_audited(struct event_stream *s, const struct cmd *c, long ret, int err,
			    const char *syscall, const char *outcome, const char *path)
{
	json_t *ev;

	assert_result(daemon_call(c), ret, err);
	ev = expect_audit(s);
	assert_meta(ev, "syscall", syscall);
	assert_meta(ev, "outcome", outcome);
	assert_meta(ev, "path", path);
	return ev;
}

/* mknodat of c 1:3: emulated, then refused with EEXIST; both events name the path and device. */
static void test_audit_mknodat_path_and_device(void **state)
{
	struct cmd c = { .op = OP_MKNODAT, .path = "/tmp/au-null", .mode = S_IFCHR | 0666,
			 .dev = makedev(1, 3) };
	struct event_stream s;
	struct stat st;
	char host[256];
	json_t *ev;

	(void)state;
	open_audit_stream(&s);
	ev = call_audited(&s, &c, 0, 0, "mknodat", "emulated", "/tmp/au-null");
	assert_meta(ev, "device", "c 1:3");
	json_decref(ev);
	/* the event is about a node that was made */
	host_path(host, sizeof(host), "/tmp/au-null");
	assert_int_equal(lstat(host, &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	/* made again: the kernel's answer, and the same path and device */
	ev = call_audited(&s, &c, -1, EEXIST, "mknodat", "errno", "/tmp/au-null");
	assert_meta(ev, "error", "EEXIST");
	assert_meta(ev, "device", "c 1:3");
	json_decref(ev);
	event_stream_close(&s);
}

/* setxattr trusted.overlay.opaque on a directory the container owns: emulated, with its path. */
static void test_audit_setxattr_opaque_path(void **state)
{
	struct cmd c = { .op = OP_SETXATTR, .prio = 0, .path = "/tmp/au-dir",
			 .name = "trusted.overlay.opaque" };
	struct event_stream s;
	char host[256], v[4];
	json_t *ev;

	(void)state;
	host_mkdir("/tmp/au-dir", HOST_ID);
	open_audit_stream(&s);
	ev = call_audited(&s, &c, 0, 0, "setxattr", "emulated", "/tmp/au-dir");
	assert_null(json_object_get(json_object_get(ev, "metadata"), "device"));
	json_decref(ev);
	host_path(host, sizeof(host), "/tmp/au-dir");
	assert_int_equal(getxattr(host, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	event_stream_close(&s);
}

/*
 * A path the container filled with control characters (each escaped as
 * "\\xNN", five bytes of JSON) is still named, cut to the room the event
 * has and marked truncated; the device after it is kept. It was left out
 * whole, which let a container keep the paths of its calls out of the audit.
 */
static void test_audit_escaped_long_path_cut_not_dropped(void **state)
{
	struct cmd c = { .op = OP_MKNODAT, .mode = S_IFCHR | 0666, .dev = makedev(1, 3) };
	char full[sizeof(c.path) * 4 + 8] = "/tmp/";
	struct event_stream s;
	const char *path;
	json_t *ev;

	(void)state;
	memcpy(c.path, "/tmp/", 5);
	memset(c.path + 5, '\x01', 150);
	for (int i = 0; i < 150; i++)
		strcat(full, "\\x01");
	open_audit_stream(&s);
	assert_result(daemon_call(&c), 0, 0);
	ev = expect_audit(&s);
	assert_meta(ev, "syscall", "mknodat");
	assert_meta(ev, "device", "c 1:3");
	path = event_meta_str(ev, "path");
	if (!path)
		fail_msg("the audit event names no path");
	/* whole escapes only, and more of them than the name's first few */
	assert_true(strlen(path) > strlen("/tmp/") + 4 * 50);
	assert_true(strncmp(full, path, strlen(path)) == 0);
	assert_true((strlen(path) - strlen("/tmp/")) % 4 == 0);
	assert_true(json_is_true(json_object_get(json_object_get(ev, "metadata"), "truncated")));
	json_decref(ev);
	event_stream_close(&s);
}

/* The mount box's root: where it mounts its proc, and a directory to mount on. */
static int prepare_mount_root(const char *root)
{
	return box_sh("cd %s && mkdir proc mnt && chown %d:%d proc mnt", root, BOX_HOST_ID,
		      BOX_HOST_ID);
}

static struct box box;

/* The mount box, registered as au-mnt with ext4 allowed, hands its listener over. */
static int mount_setup(void **state)
{
	(void)state;
	if (box_start(&box, prepare_mount_root) < 0)
		return -1;
	api("POST", "/1.0/containers",
	    "{\"name\":\"au-mnt\",\"config\":{\"security.syscalls.intercept.mount\":\"true\","
	    "\"security.syscalls.intercept.mount.allowed\":\"ext4\"}}",
	    201);
	oci_sock = oci_handoff_child(&(struct child){ .pid = box.init, .listener = box.notify_fd },
				     "au-mnt");
	wait_listeners("au-mnt", 1);
	return 0;
}

static int mount_teardown(void **state)
{
	(void)state;
	box_stop(&box);
	close_nointr(oci_sock);
	api("DELETE", "/1.0/containers/au-mnt", NULL, 200);
	return 0;
}

/*
 * A mount of an allowed type (mount_box.h's container, served by the daemon):
 * its event names the target. The source does not exist, so the answer is
 * the errno the emulation met, which the event names too.
 */
static void test_audit_mount_target(void **state)
{
	struct box_cmd c = box_mount_cmd("/nonexistent-au-dev", "/mnt", "ext4", 0, NULL);
	struct pollfd p = { .fd = box.sock, .events = POLLIN };
	struct event_stream s;
	struct box_result res;
	json_t *ev;

	(void)state;
	event_stream_open(&s, H.api_socket, "/1.0/events?type=audit&container=au-mnt");
	assert_int_equal(s.status, 200);
	assert_int_equal(write(box.sock, &c, sizeof(c)), sizeof(c));
	assert_int_equal(poll(&p, 1, EVENT_WAIT_MS), 1);
	assert_int_equal(read(box.sock, &res, sizeof(res)), sizeof(res));
	assert_int_equal(res.ret, -1);
	ev = event_stream_expect(&s, "audit", "syscall", STREAM_WAIT_MS, NULL);
	if (!ev)
		fail_msg("no audit event about 'au-mnt'");
	assert_meta(ev, "container", "au-mnt");
	assert_meta(ev, "syscall", "mount");
	assert_meta(ev, "outcome", "errno");
	assert_meta(ev, "error", strerrorname_np(res.err));
	assert_meta(ev, "path", "/mnt");
	json_decref(ev);
	event_stream_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_mknodat_path_and_device, rig_container_setup,
						rig_container_teardown),
		cmocka_unit_test_setup_teardown(test_audit_setxattr_opaque_path, rig_container_setup,
						rig_container_teardown),
		cmocka_unit_test_setup_teardown(test_audit_escaped_long_path_cut_not_dropped,
						rig_container_setup, rig_container_teardown),
		cmocka_unit_test_setup_teardown(test_audit_mount_target, mount_setup, mount_teardown),
	};
	int r;

	if (!userns_tests_can_run())
		return 0;
	signal(SIGPIPE, SIG_IGN);
	r = harness_main_setup(&H, NULL);
	if (r)
		return r;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	return harness_main_teardown(&H, r);
}
