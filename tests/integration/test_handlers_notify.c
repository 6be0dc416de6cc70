/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests for the mknod, setxattr and sched_setscheduler handlers
 * against a real notify fd, in the rig of handlers_rig.h.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/notify.h"
#include "handlers/handler.h"
#include "handlers_rig.h"

/*
 * The binary is linked with --wrap=procmem_read_string: right after a
 * handler's read of a string argument equal to swap.from, the wrapper
 * overwrites the caller's copy with swap.to, as another thread of the caller
 * could at that very moment. A handler that read the argument again, or let
 * the kernel read it, would then act on swap.to. Each swap is done once.
 */
static struct {
	const char *from, *to;
	int n_done;
} swap;

static void swap_after_read(const char *from, const char *to)
{
	swap.from = from;
	swap.to = to;
	swap.n_done = 0;
}

int __real_procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size);
int __wrap_procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size);

int __wrap_procmem_read_string(pid_t pid, int mem_fd, uint64_t addr, char *buf, size_t size)
{
	int r = __real_procmem_read_string(pid, mem_fd, addr, buf, size);
	struct iovec local, remote;

	if (r < 0 || !swap.from || strcmp(buf, swap.from) != 0)
		return r;
	local = (struct iovec){ .iov_base = (void *)swap.to, .iov_len = strlen(swap.to) + 1 };
	remote = (struct iovec){ .iov_base = (void *)(uintptr_t)addr, .iov_len = local.iov_len };
	if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)local.iov_len)
		swap.n_done++;
	swap.from = NULL;
	return r;
}

/* ---- mknod ---- */

static void test_mknod_null_in_host_owned_dir(void **state)
{
	char p[256];
	struct stat st;

	(void)state;
	assert_result(do_mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)), 0, 0);
	assert_int_equal(h.n_notif, 1);
	assert_int_equal(h.last_flags, 0); /* emulated, not continued */
	host_path(p, sizeof(p), "/tmp/null");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0644); /* the caller's umask 022 */
	assert_int_equal(st.st_uid, HOST_ID);
	assert_int_equal(st.st_gid, HOST_ID);
	assert_result(do_op(OP_RW, "", "/tmp/null"), 0, 0);
}

static void test_mknod_refused_devices_continue(void **state)
{
	(void)state;
	assert_result(do_mknod("/tmp/mem", S_IFCHR | 0600, makedev(1, 1)), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_result(do_mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_false(host_exists("root/tmp/mem"));
}

static void test_mknod_whiteout_native(void **state)
{
	char p[256];
	struct stat st;

	(void)state;
	assert_result(do_mknod("/tmp/wh", S_IFCHR | 0, makedev(0, 0)), 0, 0);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	host_path(p, sizeof(p), "/tmp/wh");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_rdev, makedev(0, 0));
}

static void test_mknod_without_cap_mknod_eperm(void **state)
{
	(void)state;
	assert_result(do_op(OP_MKNOD_NOCAP, "", "/tmp/nocap"), -1, EPERM);
	assert_int_equal(h.last_flags, 0);
	assert_false(host_exists("root/tmp/nocap"));
}

static void test_mknod_symlink_escape_confined(void **state)
{
	char link[256];

	(void)state;
	host_path(link, sizeof(link), "/tmp/esc");
	assert_int_equal(symlink(h.outside, link), 0);
	host_path(link, sizeof(link), "/tmp/esc2");
	assert_int_equal(symlink("../../../../../../../../outside", link), 0);
	assert_result(do_mknod("/tmp/esc/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/esc2/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_op(OP_MKNODAT, "/tmp", "../../../../outside/y"), -1, ENOENT);
	assert_false(host_exists("outside/x"));
	assert_false(host_exists("outside/y"));
}

static void test_mknod_relative_cwd_and_dirfd(void **state)
{
	(void)state;
	host_mkdir("/tmp/sub", HOST_ID);
	assert_result(do_op(OP_MKNODAT, "/tmp/sub", "rel"), 0, 0);
	assert_true(host_exists("root/tmp/sub/rel"));
	assert_result(do_op(OP_CHDIR, "", "/tmp/sub"), 0, 0);
	assert_result(do_op(OP_MKNODAT, "", "cwdnode"), 0, 0);
	assert_true(host_exists("root/tmp/sub/cwdnode"));
	/* ".." above the cwd: resolved from the root with the cwd's path */
	assert_result(do_op(OP_MKNODAT, "", "../dotdot"), 0, 0);
	assert_true(host_exists("root/tmp/dotdot"));
	assert_result(do_op(OP_MKNODAT, "", "../../../../../tmp/deep"), 0, 0);
	assert_true(host_exists("root/tmp/deep"));
	assert_result(do_op(OP_CHDIR, "", "/"), 0, 0);
	assert_result(do_op(OP_MKNODAT, "/tmp/null", "x"), -1, ENOTDIR);
	assert_result(do_op(OP_MKNODAT, "BAD", "x"), -1, EBADF);
}

static void test_mknod_errnos(void **state)
{
	struct cmd c = { .op = OP_MKNOD_PTR };

	(void)state;
	assert_result(do_mknod("/tmp/null", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/nonexistent/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/null/x", S_IFCHR | 0666, makedev(1, 3)), -1, ENOTDIR);
	assert_result(do_mknod("/tmp/slash/", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	assert_result(do_mknod("/tmp/null/", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/tmp/.", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("/", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
	assert_result(do_mknod("", S_IFCHR | 0666, makedev(1, 3)), -1, ENOENT);
	for (c.prio = 0; c.prio < 3; c.prio++) {
		struct result r = call(&c);

		assert_int_equal(r.err, c.prio == 2 ? ENAMETOOLONG : EFAULT);
		assert_int_equal(h.last_flags, 0);
	}
}

static void test_mknod_nodev_tmpfs_falls_back_to_bind_mount(void **state)
{
	struct cmd c = { .op = OP_STAT, .path = "/dev/null" };
	struct result r;

	(void)state;
	assert_result(do_mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)), 0, 0);
	assert_int_equal(h.last_flags, 0);
	r = call(&c);
	assert_int_equal(r.ret, 0);
	assert_true(S_ISCHR(r.mode));
	assert_int_equal(r.rdev, makedev(1, 3));
	assert_int_equal(r.mode & 07777, 0644);
	assert_result(do_op(OP_RW, "", "/dev/null"), 0, 0);
	assert_result(do_mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3)), -1, EEXIST);
}

static void assert_usable_null(const char *path)
{
	struct cmd c = { .op = OP_STAT };
	struct result r;

	snprintf(c.path, sizeof(c.path), "%s", path);
	r = call(&c);
	assert_int_equal(r.ret, 0);
	assert_true(S_ISCHR(r.mode));
	assert_int_equal(r.rdev, makedev(1, 3));
	assert_result(do_op(OP_RW, "", path), 0, 0);
}

static int count_nodev_slots(const struct nodev_cache *c, bool is_nodev_sb)
{
	int n = 0;

	for (int i = 0; i < NODEV_CACHE_SLOTS; i++)
		n += c->mnt_id[i] != 0 && c->is_nodev_sb[i] == is_nodev_sb;
	return n;
}

/* With a listener cache: the first node on a mount probes, later ones trust the answer. */
static void test_mknod_nodev_answer_cached_per_mount(void **state)
{
	struct handler_cache cache = { .init_started_at = -1 };
	const char *const paths[] = { "/dev/cached1", "/dev/cached2", "/tmp/cached1", "/tmp/cached2" };

	(void)state;
	h.cache = &cache;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_result(do_mknod(paths[i], S_IFCHR | 0666, makedev(1, 3)), 0, 0);
		assert_int_equal(h.last_flags, 0);
		assert_usable_null(paths[i]);
	}
	h.cache = NULL;
	/* one SB_I_NODEV mount (the userns-owned /dev tmpfs), one where devices work */
	assert_int_equal(count_nodev_slots(&cache.nodev, true), 1);
	assert_int_equal(count_nodev_slots(&cache.nodev, false), 1);
	assert_int_equal(cache.init_userns_of, h.init_pid);
}

static void test_mknod_caller_killed(void **state)
{
	struct cmd c = { .op = OP_MKNOD_KILLED, .path = "/tmp/killed", .mode = S_IFCHR | 0666,
			 .dev = makedev(1, 3) };
	struct result r;

	(void)state;
	h.kill_next = true;
	r = call(&c);
	assert_int_equal(r.ret, SIGKILL);
	assert_int_equal(h.last_handler_r, -ENOENT);
	assert_false(host_exists("root/tmp/killed"));
}

/*
 * The caller's path turns into an escape (a symlink to the host) right after
 * the handler read it: the node is made where the path it read says, inside
 * the container, and nothing appears outside.
 */
static void test_mknod_swapped_path_stays_confined(void **state)
{
	(void)state;
	swap_after_read("/tmp/sw", "/tmp/esc/sw");
	assert_result(do_mknod("/tmp/sw", S_IFCHR | 0666, makedev(1, 3)), 0, 0);
	assert_int_equal(swap.n_done, 1);
	assert_int_equal(h.last_flags, 0); /* emulated, not continued */
	assert_true(host_exists("root/tmp/sw"));
	assert_false(host_exists("outside/sw"));
}

/* ---- setxattr ---- */

static struct result do_xattr(int kind, const char *path, const char *name)
{
	struct cmd c = { .op = OP_SETXATTR, .prio = kind };

	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.name, sizeof(c.name), "%s", name);
	return call(&c);
}

static void test_setxattr_opaque_on_dir(void **state)
{
	char p[256], v[4];

	(void)state;
	host_mkdir("/tmp/ovl", HOST_ID);
	host_mkdir("/tmp/ovl2", HOST_ID);
	host_mkdir("/hostdir", 0);
	assert_result(do_xattr(0, "/tmp/ovl", "trusted.overlay.opaque"), 0, 0);
	assert_int_equal(h.last_flags, 0);
	host_path(p, sizeof(p), "/tmp/ovl");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	assert_int_equal(v[0], 'y');
	assert_result(do_xattr(2, "/tmp/ovl2", "trusted.overlay.opaque"), 0, 0);
	host_path(p, sizeof(p), "/tmp/ovl2");
	assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
	/* a file, a symlink for lsetxattr, a host-owned dir: what an unprivileged caller gets */
	assert_result(do_xattr(0, "/tmp/null", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(1, "/tmp/esc", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(0, "/hostdir", "trusted.overlay.opaque"), -1, EPERM);
	assert_result(do_xattr(0, "/tmp/esc", "trusted.overlay.opaque"), -1, ENOENT);
	assert_result(do_xattr(0, "/nonexistent", "trusted.overlay.opaque"), -1, ENOENT);
	/* another name: the kernel decides */
	assert_result(do_xattr(0, "/tmp/ovl", "trusted.overlay.redirect"), -1, EPERM);
	assert_int_equal(h.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

/*
 * The caller's attribute name turns into another trusted.* name right after
 * the handler read it: only the name it checked is ever set.
 */
static void test_setxattr_swapped_name_read_once(void **state)
{
	char p[256], list[256];

	(void)state;
	host_mkdir("/tmp/swapdir", HOST_ID);
	swap_after_read("trusted.overlay.opaque", "trusted.overlay.zzzzzz");
	assert_result(do_xattr(0, "/tmp/swapdir", "trusted.overlay.opaque"), 0, 0);
	assert_int_equal(swap.n_done, 1);
	assert_int_equal(h.last_flags, 0);
	host_path(p, sizeof(p), "/tmp/swapdir");
	assert_int_equal(listxattr(p, list, sizeof(list)), (ssize_t)sizeof("trusted.overlay.opaque"));
	assert_string_equal(list, "trusted.overlay.opaque");
}

/* ---- sched_setscheduler ---- */

static struct result do_sched(int pid, int policy, int prio, unsigned param_mode)
{
	struct cmd c = { .op = OP_SCHED, .pid = pid, .policy = policy, .prio = prio, .mode = param_mode };

	return call(&c);
}

static void test_sched_sibling_and_errnos(void **state)
{
	struct cmd get = { .op = OP_SCHED_GET, .pid = 2 };
	struct result r;

	(void)state;
	assert_result(do_sched(2, SCHED_RR, 7, 0), 0, 0);
	assert_int_equal(h.last_flags, 0);
	r = call(&get);
	assert_int_equal(r.ret, SCHED_RR);
	assert_int_equal(r.mode, 7);
	assert_result(do_sched(2, SCHED_OTHER, 0, 0), 0, 0);
	assert_result(do_sched(0, SCHED_FIFO, 3, 0), 0, 0);
	assert_result(do_sched(0, SCHED_OTHER, 0, 0), 0, 0);
	assert_result(do_sched(getpid(), SCHED_FIFO, 3, 0), -1, ESRCH);
	assert_result(do_sched(4000000, SCHED_FIFO, 3, 0), -1, ESRCH);
	assert_result(do_sched(2, SCHED_FIFO, 0, 0), -1, EINVAL);
	assert_result(do_sched(2, SCHED_OTHER, 5, 0), -1, EINVAL);
	assert_result(do_sched(2, 6, 0, 0), -1, EINVAL);
	assert_result(do_sched(2, -1, 0, 0), -1, EINVAL);
	assert_result(do_sched(-3, SCHED_FIFO, 3, 0), -1, EINVAL);
	assert_result(do_sched(2, SCHED_FIFO, 3, 1), -1, EINVAL);
	assert_result(do_sched(2, SCHED_FIFO, 3, 2), -1, EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mknod_null_in_host_owned_dir),
		cmocka_unit_test(test_mknod_refused_devices_continue),
		cmocka_unit_test(test_mknod_whiteout_native),
		cmocka_unit_test(test_mknod_without_cap_mknod_eperm),
		cmocka_unit_test(test_mknod_symlink_escape_confined),
		cmocka_unit_test(test_mknod_relative_cwd_and_dirfd),
		cmocka_unit_test(test_mknod_errnos),
		cmocka_unit_test(test_mknod_nodev_tmpfs_falls_back_to_bind_mount),
		cmocka_unit_test(test_mknod_nodev_answer_cached_per_mount),
		cmocka_unit_test(test_mknod_caller_killed),
		cmocka_unit_test(test_mknod_swapped_path_stays_confined),
		cmocka_unit_test(test_setxattr_opaque_on_dir),
		cmocka_unit_test(test_setxattr_swapped_name_read_once),
		cmocka_unit_test(test_sched_sibling_and_errnos),
	};

	if (geteuid() != 0)
		return 77;
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, rig_setup, rig_teardown);
}
