/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Privileged tests of the mount handler, decide and act, against a real
 * notify fd: a user-namespace "container" (tests/integration/mount_box.c)
 * with ext4 images on loop devices as block device nodes in its root, one of
 * them mounted on the host, one denied by its device cgroup (v1 hosts), and
 * a stand-in FUSE binary (mount_fake_fuse.c) in its /bin. Root only; the plan
 * says SKIP otherwise.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"
#include "handlers/mount.h"
#include "tests/integration/mount_box.h"

#define N_IMAGES 3
enum { IMG_OK, IMG_BUSY, IMG_DENIED };
_Static_assert(N_IMAGES <= BOX_IMAGES_MAX, "struct box_images holds every image");
static const char *const node_names[N_IMAGES] = { "/dev/blk", "/dev/busy", "/dev/denied" };

static struct {
	struct box box;
	struct box_images img;       /* its dir also holds the host mount point */
	char host_mnt[96];           /* where IMG_BUSY is mounted on the host */
	char devices_cg[128];        /* the box's v1 devices cgroup; "" without */
	const char *fake_fuse;
} t;

/* ---------------- commands ---------------- */

static struct box_result run(const struct box_cmd *c)
{
	struct box_result res;

	assert_true(box_run(&t.box, c, &res));
	return res;
}

static struct box_result do_mount(const char *source, const char *target, const char *type,
				  uint64_t flags, const char *data)
{
	struct box_cmd c = box_mount_cmd(source, target, type, flags, data);

	return run(&c);
}

static struct box_result simple(enum box_op op, const char *target, const char *source)
{
	struct box_cmd c = { .op = op };

	snprintf(c.target, sizeof(c.target), "%s", target);
	snprintf(c.source, sizeof(c.source), "%s", source ? source : "");
	return run(&c);
}

#define assert_ok(res)                                                                             \
	do {                                                                                       \
		struct box_result _r = (res);                                                      \
		assert_int_equal(_r.err, 0);                                                       \
		assert_int_equal(_r.ret, 0);                                                       \
	} while (0)
/* @want from our answer (not the kernel's: the call was emulated) */
#define assert_emulated_errno(res, want)                                                           \
	do {                                                                                       \
		struct box_result _r = (res);                                                      \
		assert_int_equal(_r.err, (want));                                                  \
		assert_int_equal(t.box.last_flags, 0);                                             \
	} while (0)
#define assert_continued(res, want)                                                                \
	do {                                                                                       \
		struct box_result _r = (res);                                                      \
		assert_int_equal(_r.err, (want));                                                  \
		assert_int_equal(t.box.last_flags, SECCOMP_USER_NOTIF_FLAG_CONTINUE);              \
	} while (0)

static int host_mount_count(void)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n;
}

/* How many of the host's mounts (ours: the test runs in the host's namespace) show @dev. */
static int host_mounts_of(const char *dev)
{
	char line[1024], needle[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int n = 0;

	snprintf(needle, sizeof(needle), " %s ", dev); /* the source, after the fstype */
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* ---------------- mount.allowed ---------------- */

static void test_ext4_emulated_nodev_nosuid(void **state)
{
	char opts[600];
	struct box_result st;

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	/* a per-mount flag of the caller's is applied (nosymfollow: the policies trap it) */
	assert_ok(do_mount("/dev/blk", "/mnt/a", "ext4", MS_SILENT | MS_NOSYMFOLLOW, NULL));
	assert_int_equal(t.box.last_flags, 0);
	/* in the container's namespace only: nothing reached the host's */
	assert_int_equal(host_mounts_of(t.img.loop[IMG_OK]), 0);
	box_mount_options(&t.box, "/mnt/a", opts, sizeof(opts));
	assert_non_null(strstr(opts, "ext4 "));
	assert_non_null(strstr(opts, "nosuid"));
	assert_non_null(strstr(opts, "nodev"));
	assert_non_null(strstr(opts, "nosymfollow"));
	/* unshifted: the image's ids are no ids of the container */
	st = simple(BOX_STAT, "/mnt/a/u1000", NULL);
	assert_ok(st);
	assert_int_equal(st.uid, 65534);
	/* a device node on the image cannot be opened */
	assert_int_equal(simple(BOX_OPEN, "/mnt/a/null", NULL).err, EACCES);
	assert_ok(simple(BOX_UMOUNT, "/mnt/a", NULL));
	box_mount_options(&t.box, "/mnt/a", opts, sizeof(opts));
	assert_string_equal(opts, "");
}

static void test_ext4_shift(void **state)
{
	struct box_result st;
	char opts[600];

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", CONFIG_MOUNT_SHIFT, "true", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/a", "ext4", 0, NULL));
	box_mount_options(&t.box, "/mnt/a", opts, sizeof(opts));
	assert_non_null(strstr(opts, "idmapped"));
	assert_null(strstr(opts, "nosuid"));
	st = simple(BOX_STAT, "/mnt/a", NULL);
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.gid, 0);
	st = simple(BOX_STAT, "/mnt/a/u1000", NULL);
	assert_int_equal(st.uid, 1000);
	assert_ok(simple(BOX_CREATE, "/mnt/a/by-root", NULL));
	assert_ok(simple(BOX_UMOUNT, "/mnt/a", NULL));
	/* on disk the new file belongs to the container's root: 0, not 100000 */
	assert_int_equal(box_sh("m=%s/check && mkdir -p $m && mount -o ro,noload %s $m && "
			    "test \"$(stat -c %%u:%%g $m/by-root)\" = 0:0; r=$?; umount $m; exit $r",
			    t.img.dir, t.img.loop[IMG_OK]),
			 0);
}

static void test_errnos_are_the_kernels(void **state)
{
	struct box_cmd c = { .op = BOX_MOUNT, .source = "/dev/blk", .target = "/mnt/a",
			     .type = "ext4" };
	char value[300];

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	assert_emulated_errno(do_mount("/dev/nothing", "/mnt/a", "ext4", 0, NULL), ENOENT);
	assert_emulated_errno(do_mount("/tmp/regular", "/mnt/a", "ext4", 0, NULL), ENOTBLK);
	assert_emulated_errno(do_mount("/dev/blk", "/tmp/regular", "ext4", 0, NULL), ENOTDIR);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/none", "ext4", 0, NULL), ENOENT);
	assert_emulated_errno(do_mount(NULL, "/mnt/a", "ext4", 0, NULL), EINVAL);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/a", "ext4", 0, "bogus_option"), EINVAL);
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(c.data, sizeof(c.data), "errors=%s", value);
	assert_emulated_errno(run(&c), EINVAL);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/a", "ext4", 0, "journal_path=/dev/x"), EPERM);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/a", "ext4", 0, "errors=panic"), EPERM);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/a", "ext4", MS_NOUSER, NULL), EINVAL);
	/* 1 MiB without a NUL: one page is read, the kernel's cut makes an over-long key */
	c.data_ptr = BOX_PTR_MIB;
	assert_emulated_errno(run(&c), EINVAL);
	c.data_ptr = BOX_PTR_BAD;
	assert_emulated_errno(run(&c), EFAULT);
	c.data_ptr = BOX_PTR_NULL;
	c.source_ptr = BOX_PTR_BAD;
	assert_emulated_errno(run(&c), EFAULT);
	c.source_ptr = BOX_PTR_STRING;
	c.target_ptr = BOX_PTR_BAD;
	assert_emulated_errno(run(&c), EFAULT);
	/* mounted on the host already: never a shared superblock */
	assert_emulated_errno(do_mount("/dev/busy", "/mnt/a", "ext4", 0, NULL), EBUSY);
	/* the failures left nothing on the host (the busy image: only its own mount) */
	assert_int_equal(host_mounts_of(t.img.loop[IMG_OK]), 0);
	assert_int_equal(host_mounts_of(t.img.loop[IMG_BUSY]), 1);
}

static void test_device_cgroup_applies(void **state)
{
	(void)state;
	if (!t.devices_cg[0])
		skip(); /* no v1 devices controller here */
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	/* the node is the caller's; its device cgroup refuses the device */
	assert_emulated_errno(do_mount("/dev/denied", "/mnt/a", "ext4", 0, NULL), EPERM);
	assert_ok(do_mount("/dev/blk", "/mnt/a", "ext4", 0, NULL));
	assert_ok(simple(BOX_UMOUNT, "/mnt/a", NULL));
}

static void test_not_a_new_superblock_continues(void **state)
{
	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	assert_continued(do_mount("/tmp", "/mnt/b", "ext4", MS_BIND, NULL), 0);
	assert_continued(do_mount(NULL, "/mnt/b", NULL, MS_PRIVATE, NULL), 0);
	assert_continued(do_mount(NULL, "/mnt/b", NULL, MS_SLAVE | MS_REC, NULL), 0);
	assert_continued(do_mount(NULL, "/mnt/b", "ext4", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
	assert_continued(do_mount("/mnt/b", "/mnt/c", NULL, MS_MOVE, NULL), 0);
	assert_ok(simple(BOX_UMOUNT, "/mnt/c", NULL));
	/* a type in no list: the kernel mounts a tmpfs in a user namespace itself */
	assert_continued(do_mount("x", "/mnt/b", "tmpfs", 0, NULL), 0);
	assert_ok(simple(BOX_UMOUNT, "/mnt/b", NULL));
}

static void test_caller_without_cap_continues(void **state)
{
	struct box_cmd c = { .op = BOX_MOUNT_NOCAP, .source = "/dev/blk", .target = "/mnt/a",
			     .type = "ext4" };

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	assert_continued(run(&c), EPERM);
	/* a live change: ext4 out of the list, the next mount is the kernel's (EPERM) */
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "xfs", -1);
	assert_continued(do_mount("/dev/blk", "/mnt/a", "ext4", 0, NULL), EPERM);
	/* stored by an older version: loaded, never emulated */
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4,tmpfs", -1);
	assert_continued(do_mount("x", "/mnt/b", "tmpfs", 0, NULL), 0);
	assert_ok(simple(BOX_UMOUNT, "/mnt/b", NULL));
}

static void test_paths_stay_inside(void **state)
{
	char host_node[160];
	int before = host_mount_count();
	struct box_result res;

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "ext4", -1);
	/* the host path of a real node, and one that climbs: resolved inside the root */
	snprintf(host_node, sizeof(host_node), "%s/hostnode", t.img.dir);
	assert_ok(simple(BOX_SYMLINK, "/tmp/to-host", host_node));
	assert_emulated_errno(do_mount("/tmp/to-host", "/mnt/a", "ext4", 0, NULL), ENOENT);
	assert_emulated_errno(do_mount("../../../../..//dev/loop-control", "/mnt/a", "ext4", 0, NULL),
			      ENOENT);
	/* a magic link is never followed (ELOOP), here already refused as the caller (EACCES) */
	assert_ok(simple(BOX_SYMLINK, "/tmp/to-init-root", "/proc/1/root"));
	res = do_mount("/dev/blk", "/tmp/to-init-root", "ext4", 0, NULL);
	assert_int_equal(t.box.last_flags, 0);
	assert_true(res.err == ELOOP || res.err == EACCES);
	assert_ok(simple(BOX_SYMLINK, "/tmp/to-self-root", "/proc/self/root"));
	res = do_mount("/dev/blk", "/tmp/to-self-root/mnt/a", "ext4", 0, NULL);
	assert_int_equal(t.box.last_flags, 0);
	assert_true(res.err == ELOOP || res.err == ENOENT);
	assert_int_equal(host_mount_count(), before);
}

/*
 * With mount.shift on: hugetlbfs is never idmapped, its uid= and gid= give the
 * root to the caller. An idmapping on top would translate the host ids they
 * hold a second time (the root would show as 65534).
 */
static void test_hugetlbfs_root_is_the_callers(void **state)
{
	struct box_result st;
	char opts[600];

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_ALLOWED, "hugetlbfs", CONFIG_MOUNT_SHIFT, "true", -1);
	assert_ok(do_mount("none", "/mnt/h", "hugetlbfs", 0, NULL));
	box_mount_options(&t.box, "/mnt/h", opts, sizeof(opts));
	assert_non_null(strstr(opts, "hugetlbfs "));
	assert_null(strstr(opts, "idmapped"));
	st = simple(BOX_STAT, "/mnt/h", NULL);
	assert_int_equal(st.uid, 0);
	assert_int_equal(st.gid, 0);
	assert_ok(simple(BOX_UMOUNT, "/mnt/h", NULL));
	assert_ok(do_mount("none", "/mnt/h", "hugetlbfs", 0, "uid=1000,gid=1001,mode=0750"));
	st = simple(BOX_STAT, "/mnt/h", NULL);
	assert_int_equal(st.uid, 1000);
	assert_int_equal(st.gid, 1001);
	assert_int_equal(st.mode & 07777, 0750);
	assert_ok(simple(BOX_UMOUNT, "/mnt/h", NULL));
	assert_emulated_errno(do_mount("none", "/mnt/h", "hugetlbfs", 0, "uid=70000"), EINVAL);
}

/* ---------------- mount.fuse ---------------- */

/* Is @pid a zombie (dead, waiting for its parent)? */
static bool is_zombie(const char *pid)
{
	char path[300], line[128];
	bool zombie = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "State:", 6) == 0)
			zombie = strchr(line, 'Z') != NULL;
	if (f)
		fclose(f);
	return zombie;
}

/* Host pids of the live processes called "fakefuse" in the box's pid namespace. */
static size_t box_fakefuse_pids(pid_t *pids, size_t max)
{
	char path[300], comm[32], own[64], box_ns[64];
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)t.box.init);
	memset(box_ns, 0, sizeof(box_ns));
	assert_true(readlink(path, box_ns, sizeof(box_ns) - 1) > 0);
	while (d && (de = readdir(d)) && n < max) {
		FILE *f;
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && strcmp(comm, "fakefuse\n") == 0) {
			snprintf(path, sizeof(path), "/proc/%s/ns/pid", de->d_name);
			len = readlink(path, own, sizeof(own) - 1);
			own[len > 0 ? len : 0] = '\0';
			if (len > 0 && strcmp(own, box_ns) == 0 && !is_zombie(de->d_name))
				pids[n++] = atoi(de->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static void assert_same(pid_t a, pid_t b, const char *what)
{
	char pa[64], pb[64], va[4096], vb[4096];
	ssize_t na, nb;

	snprintf(pa, sizeof(pa), "/proc/%d/%s", (int)a, what);
	snprintf(pb, sizeof(pb), "/proc/%d/%s", (int)b, what);
	if (strncmp(what, "ns/", 3) == 0) {
		na = readlink(pa, va, sizeof(va) - 1);
		nb = readlink(pb, vb, sizeof(vb) - 1);
		assert_true(na > 0 && na == nb);
		va[na] = vb[nb] = '\0';
	} else {
		box_read_text(pa, va, sizeof(va));
		box_read_text(pb, vb, sizeof(vb));
	}
	if (strcmp(va, vb) != 0)
		fail_msg("%s: '%s' vs the box's '%s'", what, va, vb);
}

static int count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 2;
}

static void test_fuse_runs_inside_as_the_caller(void **state)
{
	static const char *const what[] = { "ns/mnt", "ns/pid", "ns/user", "ns/net", "ns/ipc",
					    "ns/uts", "ns/cgroup", "cgroup", "uid_map" };
	char path[128], text[4096], opts[600];
	pid_t pid;

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	assert_ok(do_mount("/dev/blk", "/mnt/f", "ext4", MS_NOSUID | MS_RDONLY | MS_NOSYMFOLLOW,
			   "behave=stay,x=1"));
	assert_int_equal(t.box.last_flags, 0);
	box_mount_options(&t.box, "/mnt/f", opts, sizeof(opts));
	assert_non_null(strstr(opts, "tmpfs"));
	/* set on the binary's mount: libfuse has no option for it */
	assert_non_null(strstr(opts, "nosymfollow"));
	assert_int_equal(box_fakefuse_pids(&pid, 1), 1);
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		assert_same(pid, t.box.init, what[i]);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	box_read_text(path, text, sizeof(text));
	assert_non_null(strstr(text, "\nUid:\t100000\t100000\t100000\t100000\n"));
	assert_non_null(strstr(text, "\nNoNewPrivs:\t1\n"));
	assert_non_null(strstr(text, "\nSeccomp:\t2\n"));
	/* stdio is the container's /dev/null; nothing of the daemon's */
	assert_int_equal(count_fds(pid), 3);
	snprintf(path, sizeof(path), "/proc/%d/root/mnt/f/argv", (int)t.box.init);
	box_read_text(path, text, sizeof(text));
	assert_string_equal(text, "fakefuse\n/dev/blk\n/mnt/f\n-o\nro,nosuid,behave=stay,x=1\n");
	kill(pid, SIGKILL);
	assert_ok(simple(BOX_UMOUNT, "/mnt/f", NULL)); /* the box's init reaps it meanwhile */
}

/*
 * The live "fakefuse" processes in the box once those killed have had time to
 * exit: on a loaded host a killed process can wait a while for the CPU it
 * needs to end, but one left alive sleeps 60 s, far longer than 10 s.
 */
static size_t box_fakefuse_left(void)
{
	pid_t pids[4];
	size_t n;

	for (int waited_ms = 0; (n = box_fakefuse_pids(pids, 4)) > 0 && waited_ms < 10000;
	     waited_ms += 20)
		(void)usleep(20 * 1000);
	return n;
}

/* Kill what an earlier test may have left running at /mnt/f, and unmount it. */
static void fakefuse_cleanup(void)
{
	pid_t pids[4];
	size_t n = box_fakefuse_pids(pids, 4);

	for (size_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	assert_int_equal(box_fakefuse_left(), 0);
	(void)simple(BOX_UMOUNT, "/mnt/f", NULL);
}

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

/*
 * The binary gets the caller's capabilities, not the full set the helper has
 * in the container's user namespace. The caller dropped some from its
 * bounding set, and others from its permitted and effective sets only: an
 * exec as the namespace's root would give those back (up to the bounding
 * set) but for the capset() and no_new_privs of the helper.
 */
static void test_fuse_binary_gets_the_callers_capabilities(void **state)
{
	struct box_cmd c = box_mount_cmd("/dev/blk", "/mnt/f", "ext4", 0, "behave=stay");
	struct box_caps caller, binary;
	struct box_result res;
	char path[64];
	pid_t pid;

	(void)state;
	fakefuse_cleanup(); /* the binary found below must be this test's */
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	c.op = BOX_MOUNT_FEWER_CAPS;
	c.drop_bounding = CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_SYS_PTRACE) | CAP_BIT(CAP_MKNOD);
	c.drop_permitted = CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_SYS_CHROOT);
	res = run(&c);
	assert_ok(res);
	assert_int_equal(t.box.last_flags, 0);
	caller = res.caps;
	/* what the caller had: CAP_SYS_ADMIN, neither dropped set, the second still bounded */
	assert_true(caller.eff & CAP_BIT(CAP_SYS_ADMIN));
	assert_int_equal(caller.prm & (c.drop_bounding | c.drop_permitted), 0);
	assert_int_equal(caller.bnd & c.drop_bounding, 0);
	assert_int_equal(caller.bnd & c.drop_permitted, c.drop_permitted);
	assert_int_equal(box_fakefuse_pids(&pid, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	assert_int_equal(box_read_caps(path, &binary), 0);
	kill(pid, SIGKILL);
	assert_ok(simple(BOX_UMOUNT, "/mnt/f", NULL));
	print_message("# caller eff %#" PRIx64 " prm %#" PRIx64 " bnd %#" PRIx64
		      "; binary eff %#" PRIx64 " prm %#" PRIx64 " bnd %#" PRIx64 "\n",
		      caller.eff, caller.prm, caller.bnd, binary.eff, binary.prm, binary.bnd);
	assert_int_equal(binary.eff, caller.eff);
	assert_int_equal(binary.prm, caller.prm);
	assert_int_equal(binary.bnd, caller.bnd);
	assert_int_equal(binary.inh, caller.inh);
	assert_int_equal(binary.amb, caller.amb);
}

static void test_fuse_missing_binary_enodev(void **state)
{
	(void)state;
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=nosuchfuse", -1);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/f", "ext4", 0, NULL), ENODEV);
}

static void test_fuse_failure_eio(void **state)
{
	(void)state;
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/f", "ext4", 0, "behave=fail"), EIO);
	assert_emulated_errno(do_mount("/dev/blk", "/mnt/none", "ext4", 0, NULL), ENOENT);
}

/* No mount within the deadline: ETIMEDOUT, and no process of the binary's is left. */
static void test_fuse_timeout_leaves_nothing(void **state)
{
	const char *const behaviours[] = { "behave=sleep", "behave=daemon" };

	(void)state;
	box_config(&t.box, CONFIG_MOUNT_FUSE, "ext4=fakefuse", -1);
	for (size_t i = 0; i < 2; i++) {
		assert_emulated_errno(do_mount("/dev/blk", "/mnt/f", "ext4", 0, behaviours[i]),
				      ETIMEDOUT);
		assert_int_equal(box_fakefuse_left(), 0);
	}
}

/* ---------------- setup ---------------- */

static int make_images(void)
{
	if (box_images_init(&t.img, "mount-img") < 0)
		return -1;
	/* the image: a file of uid 1000, a device node, a setuid-root file */
	if (box_sh("cd %s && mkdir -p stage && touch stage/u1000 && chown 1000:1000 stage/u1000 && "
	       "mknod stage/null c 1 3 && chmod 666 stage/null && cp /bin/true stage/suid && "
	       "chmod 4755 stage/suid && mknod hostnode b 7 0",
	       t.img.dir) < 0)
		return -1;
	for (int i = 0; i < N_IMAGES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "img%d", i);
		if (box_sh("cd %s && truncate -s 16M %s && mkfs.ext4 -q -d stage %s", t.img.dir, name,
			   name) < 0 ||
		    box_images_attach(&t.img, i, name) < 0)
			return -1;
	}
	snprintf(t.host_mnt, sizeof(t.host_mnt), "%s/hostmnt", t.img.dir);
	return box_sh("mkdir -p %s && mount -o ro %s %s", t.host_mnt, t.img.loop[IMG_BUSY], t.host_mnt);
}

static int prepare_root(const char *root)
{
	char p[256];

	for (int i = 0; i < N_IMAGES; i++) {
		snprintf(p, sizeof(p), "%s%s", root, node_names[i]);
		if (box_sh("mkdir -p %s/dev", root) < 0 || mknod(p, S_IFBLK | 0600, t.img.rdev[i]) < 0)
			return -1;
	}
	if (box_sh("cd %s && mkdir -p proc tmp bin mnt/a mnt/b mnt/c mnt/f mnt/h && touch tmp/regular && "
	       "mknod -m 666 dev/null c 1 3 && "
	       "cp %s bin/fakefuse && chmod 755 bin/fakefuse && chown -R %d:%d .",
	       root, t.fake_fuse, BOX_HOST_ID, BOX_HOST_ID) < 0)
		return -1;
	return 0;
}

/* On a v1 devices hierarchy, a cgroup for the box that refuses IMG_DENIED. */
static int make_devices_cgroup(void)
{
	struct stat st;

	if (stat("/sys/fs/cgroup/devices/devices.deny", &st) < 0)
		return 0;
	snprintf(t.devices_cg, sizeof(t.devices_cg), "/sys/fs/cgroup/devices/interceptd-mount-%d",
		 (int)getpid());
	if (box_sh("mkdir %s && echo 'b %u:%u rwm' > %s/devices.deny", t.devices_cg,
		   major(t.img.rdev[IMG_DENIED]), minor(t.img.rdev[IMG_DENIED]), t.devices_cg) < 0)
		return -1;
	return box_join_cgroup(&t.box, t.devices_cg);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_WARNING);
	if (make_images() < 0 || box_start(&t.box, prepare_root) < 0 || make_devices_cgroup() < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	box_stop(&t.box);
	if (t.devices_cg[0])
		(void)rmdir(t.devices_cg);
	if (t.host_mnt[0])
		(void)umount(t.host_mnt);
	return box_images_remove(&t.img);
}

/*
 * The staging namespace that every emulated mount is locked through holds
 * one empty read-only tmpfs: nothing of the host's is reachable in it.
 */
static void test_staging_namespace_holds_only_an_empty_tmpfs(void **state)
{
	int ns_fd = mount_stage_ns(), status;
	pid_t pid;

	(void)state;
	assert_true(ns_fd >= 0);
	assert_int_equal(mount_stage_ns(), ns_fd); /* built once */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct statfs sfs;
		DIR *d;
		struct dirent *e;
		int n = 0;

		if (setns(ns_fd, CLONE_NEWNS) < 0 || statfs("/", &sfs) < 0 ||
		    sfs.f_type != TMPFS_MAGIC || !(sfs.f_flags & ST_RDONLY) ||
		    access("/proc", F_OK) == 0 || !(d = opendir("/")))
			_exit(1);
		while ((e = readdir(d)))
			n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
		_exit(n == 0 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext4_emulated_nodev_nosuid),
		cmocka_unit_test(test_ext4_shift),
		cmocka_unit_test(test_errnos_are_the_kernels),
		cmocka_unit_test(test_device_cgroup_applies),
		cmocka_unit_test(test_not_a_new_superblock_continues),
		cmocka_unit_test(test_caller_without_cap_continues),
		cmocka_unit_test(test_paths_stay_inside),
		cmocka_unit_test(test_hugetlbfs_root_is_the_callers),
		cmocka_unit_test(test_fuse_runs_inside_as_the_caller),
		cmocka_unit_test(test_fuse_binary_gets_the_callers_capabilities),
		cmocka_unit_test(test_fuse_missing_binary_enodev),
		cmocka_unit_test(test_fuse_failure_eio),
		cmocka_unit_test(test_fuse_timeout_leaves_nothing),
		cmocka_unit_test(test_staging_namespace_holds_only_an_empty_tmpfs),
	};

	if (!box_tests_can_run(&t.fake_fuse))
		return 0;
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
