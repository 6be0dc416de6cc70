/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mount handler against a hostile container (tests/integration/mount_box.c):
 * what the container does with an emulated mount afterwards (a remount that
 * would drop nodev and nosuid), mount data that widens the access checked on
 * the device, and what a FUSE binary it supplies inherits from the daemon (a
 * controlling terminal, blocked signals, limits, oom_score_adj) or how it can
 * hold a worker (a frozen v1 freezer cgroup). Each image is an ext4 file on a
 * loop device; one carries a node of a "host" block device the container has
 * no node for. Root only; the plan says SKIP otherwise.
 */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"
#include "daemon/store/policy.h"
#include "tests/integration/mount_box.h"

#define SEC_NS 1000000000ull
#define BOX_NOFILE 256 /* the box's RLIMIT_NOFILE, below the test's */
#define BOX_OOM_ADJ "500" /* the box's oom_score_adj, above the test's */

enum { LOOP_SECRET, LOOP_BLK, LOOP_RO, N_LOOPS };
_Static_assert(N_LOOPS <= BOX_IMAGES_MAX, "struct box_images holds every loop");

static struct {
	struct box box;
	struct box_images img;
	char freezer_cg[128]; /* the box's v1 freezer cgroup; "" without */
	const char *fake_fuse;
} t;

/* ---------------- commands ---------------- */

static struct box_result do_mount(const char *source, const char *target, const char *type,
				  uint64_t flags, const char *data)
{
	struct box_cmd c = box_mount_cmd(source, target, type, flags, data);
	struct box_result res;

	assert_true(box_run(&t.box, &c, &res));
	return res;
}

static struct box_result simple(enum box_op op, const char *target)
{
	struct box_cmd c = { .op = op };
	struct box_result res;

	snprintf(c.target, sizeof(c.target), "%s", target);
	assert_true(box_run(&t.box, &c, &res));
	return res;
}

#define assert_ok(res)                                                                             \
	do {                                                                                       \
		struct box_result _r = (res);                                                      \
		assert_int_equal(_r.err, 0);                                                       \
		assert_int_equal(_r.ret, 0);                                                       \
	} while (0)

/* Unmount whatever a failed assertion left at @target, so later tests start clean. */
static void box_umount_all(const char *target)
{
	char opts[600];

	for (int i = 0; i < 4; i++) {
		box_mount_options(&t.box, target, opts, sizeof(opts));
		if (!opts[0])
			return;
		(void)simple(BOX_UMOUNT, target);
	}
}

/* ---------------- mount.allowed ---------------- */

/*
 * nodev and nosuid are what keep the image's device nodes and setuid files
 * harmless; the container owns the mount namespace, so a remount of its own
 * (MS_REMOUNT | MS_BIND, never trapped) must not be able to clear them.
 */
static void check_flags_stay(void)
{
	struct box_result res;

	assert_int_equal(simple(BOX_OPEN, "/mnt/x/secret").err, EACCES);
	res = do_mount(NULL, "/mnt/x", NULL, MS_REMOUNT | MS_BIND, NULL);
	assert_int_equal(t.box.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	assert_int_equal(res.err, EPERM);
	/* the host's device, through the node on the image: still refused */
	assert_int_equal(simple(BOX_OPEN, "/mnt/x/secret").err, EACCES);
}

static void test_remount_cannot_drop_nodev_nosuid(void **state)
{
	(void)state;
	box_umount_all("/mnt/x");
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/x", "ext4", 0, NULL));
	check_flags_stay();
	/* a remount that keeps them still works, and so does the unmount */
	assert_ok(do_mount(NULL, "/mnt/x", NULL, MS_REMOUNT | MS_BIND | MS_NODEV | MS_NOSUID |
					     MS_RDONLY, NULL));
	assert_ok(simple(BOX_UMOUNT, "/mnt/x"));

	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", CONFIG_MOUNT_SHIFT, "true", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/x", "ext4", 0, NULL));
	check_flags_stay();
	assert_ok(simple(BOX_UMOUNT, "/mnt/x"));
}

/*
 * The caller's own ro, noexec and atime flags are locked as well (through the
 * staging namespace, like nodev and nosuid): a remount that drops any of
 * them fails, one that keeps them all works.
 */
static void test_remount_cannot_drop_ro_noexec_atime(void **state)
{
	const unsigned long kept = MS_REMOUNT | MS_BIND | MS_NODEV | MS_NOSUID;
	const unsigned long asked = MS_RDONLY | MS_NOEXEC | MS_NOATIME;

	(void)state;
	box_umount_all("/mnt/x");
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/x", "ext4", asked, NULL));
	assert_int_equal(do_mount(NULL, "/mnt/x", NULL, kept | MS_NOEXEC | MS_NOATIME, NULL).err,
			 EPERM);
	assert_int_equal(do_mount(NULL, "/mnt/x", NULL, kept | MS_RDONLY | MS_NOATIME, NULL).err,
			 EPERM);
	/* (a remount naming no atime flag keeps the mount's: strictatime is a change) */
	assert_int_equal(do_mount(NULL, "/mnt/x", NULL, kept | MS_RDONLY | MS_NOEXEC | MS_STRICTATIME,
				  NULL).err,
			 EPERM);
	assert_ok(do_mount(NULL, "/mnt/x", NULL, kept | asked, NULL));
	assert_ok(simple(BOX_UMOUNT, "/mnt/x"));
}

/*
 * The node /dev/ro is host root's, 0644: the container may read the device,
 * not write it. Data "rw" after MS_RDONLY makes the superblock read-write, so
 * the device must be checked for writing then.
 */
static void test_data_rw_needs_a_writable_device(void **state)
{
	struct box_result res;
	char opts[600];

	(void)state;
	box_umount_all("/mnt/ro");
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	res = do_mount("/dev/ro", "/mnt/ro", "ext4", MS_RDONLY, "rw");
	box_mount_options(&t.box, "/mnt/ro", opts, sizeof(opts));
	box_umount_all("/mnt/ro");
	assert_string_equal(opts, "");
	assert_int_equal(t.box.last_flags, 0);
	assert_int_equal(res.err, EACCES);
	res = do_mount("/dev/ro", "/mnt/ro", "ext4", MS_RDONLY, "ro,rw");
	box_umount_all("/mnt/ro");
	assert_int_equal(res.err, EACCES);
	assert_ok(do_mount("/dev/ro", "/mnt/ro", "ext4", MS_RDONLY, NULL));
	assert_ok(simple(BOX_UMOUNT, "/mnt/ro"));
	/* a read-only superblock from the data alone needs no more */
	assert_ok(do_mount("/dev/ro", "/mnt/ro", "ext4", 0, "noload,ro"));
	box_mount_options(&t.box, "/mnt/ro", opts, sizeof(opts));
	assert_non_null(strstr(opts, " ro"));
	assert_ok(simple(BOX_UMOUNT, "/mnt/ro"));
	assert_int_equal(do_mount("/dev/ro", "/mnt/ro", "ext4", 0, NULL).err, EACCES);

}

static long meminfo(const char *key)
{
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/*
 * hugetlbfs's min_size reserves huge pages from the host's pool when the
 * superblock is made, charged to no cgroup: the container's hugetlb limit
 * does not apply, and the host's other users find the pool empty.
 */
static void test_hugetlbfs_cannot_reserve_the_hosts_pages(void **state)
{
	char pages[32], more[32];
	struct box_result res;
	long rsvd, rsvd_after;

	(void)state;
	box_umount_all("/mnt/h");
	box_read_text("/proc/sys/vm/nr_hugepages", pages, sizeof(pages));
	snprintf(more, sizeof(more), "%ld", strtol(pages, NULL, 10) + 2);
	if (box_write_text("/proc/sys/vm/nr_hugepages", more) < 0 || meminfo("HugePages_Free:") < 2) {
		(void)box_write_text("/proc/sys/vm/nr_hugepages", pages);
		skip(); /* no two free huge pages to be had */
	}
	rsvd = meminfo("HugePages_Rsvd:");
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "hugetlbfs", -1);
	res = do_mount("none", "/mnt/h", "hugetlbfs", 0, "min_size=4M");
	rsvd_after = meminfo("HugePages_Rsvd:");
	box_umount_all("/mnt/h");
	(void)box_write_text("/proc/sys/vm/nr_hugepages", pages);
	assert_int_equal(rsvd_after, rsvd);
	assert_int_equal(t.box.last_flags, 0);
	assert_int_equal(res.err, EPERM);
	/* a limit is no reservation: fine */
	assert_ok(do_mount("none", "/mnt/h", "hugetlbfs", 0, "size=4M"));
	assert_ok(simple(BOX_UMOUNT, "/mnt/h"));
}

/* ---------------- mount.fuse ---------------- */

/*
 * In a child: become what the daemon is when an admin runs it in a terminal
 * (deploy/quickstart.sh): a session with @pty_slave as its controlling
 * terminal and main()'s blocked signals; then answer one mount. Exits with the caller's errno, 255 when the box did not answer.
 */
static _Noreturn void supervise_like_the_daemon(const char *pty_slave, const struct box_cmd *c)
{
	sigset_t mask;
	struct box_result res;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	if (setsid() < 0 || (fd = open(pty_slave, O_RDWR)) < 0 ||
	    sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		_exit(254);
	(void)fd; /* kept open: the session's terminal */
	_exit(box_run(&t.box, c, &res) ? res.err : 255);
}

/* The probe's report as one TAP comment: a line of its own would not be one. */
static void print_report(const char *report)
{
	char line[512];
	size_t n = strlen(report) < sizeof(line) - 1 ? strlen(report) : sizeof(line) - 1;

	memcpy(line, report, n);
	line[n] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	print_message("# the binary's view: %s\n", line);
}

/* The value of @key ("tty=") in the probe's report; -1000000 when absent. */
static long probe_value(const char *report, const char *key)
{
	const char *p = strstr(report, key);

	return p ? strtol(p + strlen(key), NULL, p[strlen(key)] == '0' ? 16 : 10) : -1000000;
}

static void test_fuse_binary_inherits_nothing_of_the_daemon(void **state)
{
	struct box_cmd c = box_mount_cmd("/dev/blk", "/mnt/f", "ext4", 0, "behave=probe");
	struct rlimit box_nofile = { BOX_NOFILE, BOX_NOFILE };
	char path[128], report[512], typed[64], cgroup[2048], box_cgroup[2048];
	int master, status;
	pid_t pid;

	(void)state;
	box_umount_all("/mnt/f");
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	/*
	 * The box's limits: a lower RLIMIT_NOFILE, a higher oom_score_adj (the
	 * daemon's unit has -900: a binary with it would be spared by the OOM
	 * killer; this machine lacks CAP_SYS_RESOURCE to lower ours instead)
	 */
	assert_int_equal(prlimit(t.box.init, RLIMIT_NOFILE, &box_nofile, NULL), 0);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)t.box.init);
	assert_int_equal(box_write_text(path, BOX_OOM_ADJ), 0);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	assert_true(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	pid = fork();
	if (pid == 0)
		supervise_like_the_daemon(ptsname(master), &c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(path, sizeof(path), "/proc/%d/root/mnt/f/probe", (int)t.box.init);
	box_read_text(path, report, sizeof(report));
	snprintf(path, sizeof(path), "/proc/%d/root/mnt/f/cgroup", (int)t.box.init);
	box_read_text(path, cgroup, sizeof(cgroup));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)t.box.init);
	box_read_text(path, box_cgroup, sizeof(box_cgroup));
	box_umount_all("/mnt/f");
	typed[0] = '\0';
	(void)!read(master, typed, sizeof(typed) - 1);
	close(master);
	print_report(report);
	/* no controlling terminal: nothing it writes reaches the admin's */
	assert_int_equal(probe_value(report, "tty="), ENXIO);
	assert_null(strstr(typed, "container was here"));
	assert_non_null(strstr(report, "sigblk=0000000000000000\n"));
	assert_int_equal(probe_value(report, "nofile="), BOX_NOFILE);
	assert_int_equal(probe_value(report, "oom="), strtol(BOX_OOM_ADJ, NULL, 10));
	/* every cgroup of the box's, the (delegated) v1 freezer's included */
	assert_string_equal(cgroup, box_cgroup);
}

/* The probe's "NAME=VALUE" line for @name: its value, "" when there is none. */
static void denied_value(const char *report, const char *name, char *buf, size_t size)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "\n%s=", name);
	if (strncmp(report, key + 1, strlen(key) - 1) == 0)
		p = report + strlen(key) - 1;
	else if ((p = strstr(report, key)))
		p += strlen(key);
	snprintf(buf, size, "%.*s", p ? (int)strcspn(p, "\n") : 0, p ? p : "");
}

static void assert_denied(const char *report, const char *name, int want)
{
	char value[32];

	denied_value(report, name, value, sizeof(value));
	if (!value[0] || strtol(value, NULL, 10) != want)
		fail_msg("%s: '%s', not %d", name, value, want);
}

/* Does this kernel take i386 system calls (int 0x80) from a 64-bit process? */
static bool has_i386_calls(void)
{
#ifdef __x86_64__
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		long r;

		__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L /* i386 getpid */) : "memory");
		_exit(r == getpid() ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
#else
	return false;
#endif
}

/*
 * The binary runs under a filter at least as strict as the policies' deny
 * list: each call of the list gets the list's errno, and it cannot install a
 * notifier of its own. The probe makes each call so that, unfiltered, the
 * kernel would answer otherwise (mount_fake_fuse.c, "deny").
 */
static void test_fuse_binary_runs_under_the_deny_list(void **state)
{
	size_t n;
	const struct policy_rule *deny = policy_deny_list(&n);
	char path[128], report[1024];

	(void)state;
	box_umount_all("/mnt/f");
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/f", "ext4", 0, "behave=deny"));
	snprintf(path, sizeof(path), "/proc/%d/root/mnt/f/deny", (int)t.box.init);
	box_read_text(path, report, sizeof(report));
	box_umount_all("/mnt/f");
	print_report(report);
	for (size_t i = 0; i < n; i++)
		assert_denied(report, deny[i].syscall, deny[i].errno_value);
	assert_denied(report, "seccomp", EINVAL);
	/* a 32-bit call gets the same list (not killed: the filter knows i386) */
	if (has_i386_calls())
		assert_denied(report, "keyctl/i386", EPERM);
	else
		print_message("# no i386 system calls here: keyctl/i386 not checked\n");
}

/* v1 freezer: whether the kernel lets SIGKILL through decides whether a worker can be held. */
static void thaw_later(const char *state_file, uint64_t freeze_after_ms, uint64_t thaw_after_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(freeze_after_ms / 1000),
			       .tv_nsec = (long)(freeze_after_ms % 1000) * 1000000 };

	/* as the container's root: the cgroup is delegated to it, as LXC does */
	if (setresgid(BOX_HOST_ID, BOX_HOST_ID, BOX_HOST_ID) < 0 ||
	    setresuid(BOX_HOST_ID, BOX_HOST_ID, BOX_HOST_ID) < 0)
		_exit(1);
	nanosleep(&ts, NULL);
	if (box_write_text(state_file, "FROZEN") < 0)
		_exit(2);
	ts = (struct timespec){ .tv_sec = (time_t)(thaw_after_ms / 1000) };
	nanosleep(&ts, NULL);
	_exit(box_write_text(state_file, "THAWED") < 0 ? 3 : 0);
}

static void test_frozen_fuse_helper_cannot_hold_a_worker(void **state)
{
	char state_file[160];
	struct box_result res;
	int status;
	pid_t pid;

	(void)state;
	if (!t.freezer_cg[0])
		skip(); /* no v1 freezer here */
	box_umount_all("/mnt/f");
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	snprintf(state_file, sizeof(state_file), "%s/freezer.state", t.freezer_cg);
	pid = fork();
	if (pid == 0)
		thaw_later(state_file, 500, 9000);
	/* the binary never mounts; the box freezes itself while the helpers wait */
	res = do_mount("/dev/blk", "/mnt/f", "ext4", 0, "behave=sleep");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	print_message("# longest handle_mount(): %.1f s\n",
		      (double)t.box.max_handle_ns / (double)SEC_NS);
	assert_true(t.box.max_handle_ns < 6 * SEC_NS);
	assert_int_equal(res.err, ETIMEDOUT);
}

/* ---------------- setup ---------------- */

static int make_images(void)
{
	if (box_images_init(&t.img, "mount-hostile") < 0 ||
	    box_sh("cd %s && printf HOSTSECRET > secret && truncate -s 1M secret", t.img.dir) < 0 ||
	    box_images_attach(&t.img, LOOP_SECRET, "secret") < 0)
		return -1;
	/* the container's image carries a world-writable node of the host's device */
	if (box_sh("cd %s && mkdir stage && mknod -m 666 stage/secret b %u %u && "
	       "truncate -s 16M blk ro && mkfs.ext4 -q -d stage blk && mkfs.ext4 -q ro",
	       t.img.dir, major(t.img.rdev[LOOP_SECRET]), minor(t.img.rdev[LOOP_SECRET])) < 0)
		return -1;
	if (box_images_attach(&t.img, LOOP_BLK, "blk") < 0)
		return -1;
	return box_images_attach(&t.img, LOOP_RO, "ro");
}

static int prepare_root(const char *root)
{
	char p[256];

	if (box_sh("cd %s && mkdir -p proc tmp bin dev mnt/x mnt/ro mnt/f mnt/h && "
	       "mknod -m 666 dev/null c 1 3 && mknod -m 666 dev/tty c 5 0 && "
	       "cp %s bin/fakefuse && chmod 755 bin/fakefuse",
	       root, t.fake_fuse) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dev/blk", root);
	if (mknod(p, S_IFBLK | 0600, t.img.rdev[LOOP_BLK]) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dev/ro", root);
	if (mknod(p, S_IFBLK | 0644, t.img.rdev[LOOP_RO]) < 0)
		return -1;
	/* everything the container's but /dev/ro, which stays host root's */
	return box_sh("cd %s && chown -R %d:%d . && chown 0:0 dev/ro", root, BOX_HOST_ID, BOX_HOST_ID);
}

/* On a v1 freezer hierarchy, a cgroup for the box, delegated to its root as LXC does. */
static int make_freezer_cgroup(void)
{
	struct stat st;

	if (stat("/sys/fs/cgroup/freezer/freezer.state", &st) < 0 &&
	    stat("/sys/fs/cgroup/freezer/tasks", &st) < 0)
		return 0;
	snprintf(t.freezer_cg, sizeof(t.freezer_cg), "/sys/fs/cgroup/freezer/interceptd-hostile-%d",
		 (int)getpid());
	if (box_sh("mkdir %s", t.freezer_cg) < 0 || box_join_cgroup(&t.box, t.freezer_cg) < 0)
		return -1;
	return box_sh("cd %s && chown %d:%d . tasks cgroup.procs freezer.state", t.freezer_cg,
		      BOX_HOST_ID, BOX_HOST_ID);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_WARNING);
	if (make_images() < 0 || box_start(&t.box, prepare_root) < 0 || make_freezer_cgroup() < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (t.freezer_cg[0])
		(void)box_sh("echo THAWED > %s/freezer.state", t.freezer_cg);
	box_stop(&t.box);
	if (t.freezer_cg[0])
		(void)rmdir(t.freezer_cg);
	return box_images_remove(&t.img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remount_cannot_drop_nodev_nosuid),
		cmocka_unit_test(test_remount_cannot_drop_ro_noexec_atime),
		cmocka_unit_test(test_data_rw_needs_a_writable_device),
		cmocka_unit_test(test_hugetlbfs_cannot_reserve_the_hosts_pages),
		cmocka_unit_test(test_fuse_binary_inherits_nothing_of_the_daemon),
		cmocka_unit_test(test_fuse_binary_runs_under_the_deny_list),
		cmocka_unit_test(test_frozen_fuse_helper_cannot_hold_a_worker),
	};

	if (!box_tests_can_run(&t.fake_fuse))
		return 0;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
