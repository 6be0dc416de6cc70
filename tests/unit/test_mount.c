/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure half of mount: flag translation, data options,
 * hugetlbfs ids, FUSE options, the route and the decision; and id maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "handlers/cgroup_join.h"
#include "handlers/idmap.h"
#include "handlers/mount.h"

#define CAP(c) ((uint64_t)1 << (c))
#define ALL_CAPS (~(uint64_t)0)
#define FORCED (MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)

/* ---- flags ---- */

static void test_mount_flags_strip_magic(void **state)
{
	(void)state;
	assert_int_equal(mount_flags_strip_magic(MS_MGC_VAL | MS_RDONLY), MS_RDONLY);
	/* the kernel drops the whole upper half with the magic: MS_PRIVATE included */
	assert_int_equal(mount_flags_strip_magic(MS_MGC_VAL | MS_PRIVATE | MS_NOEXEC), MS_NOEXEC);
	assert_int_equal(mount_flags_strip_magic(MS_PRIVATE | MS_NOEXEC), MS_PRIVATE | MS_NOEXEC);
	assert_int_equal(mount_flags_strip_magic(0xc0ee0000 | MS_RDONLY), 0xc0ee0000 | MS_RDONLY);
	assert_int_equal(mount_flags_strip_magic(0), 0);
}

static void test_mount_creates_superblock_table(void **state)
{
	static const struct {
		uint64_t flags;
		bool is_new;
	} cases[] = {
		{ 0, true },
		{ MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
		{ MS_SILENT | MS_NOATIME | MS_LAZYTIME | MS_I_VERSION, true },
		{ MS_REMOUNT, false },
		{ MS_REMOUNT | MS_BIND, false },
		{ MS_BIND, false },
		{ MS_BIND | MS_REC, false },
		{ MS_PRIVATE, false },
		{ MS_PRIVATE | MS_REC, false },
		{ MS_SLAVE, false },
		{ MS_SHARED, false },
		{ MS_UNBINDABLE, false },
		{ MS_MOVE, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mount_creates_superblock(cases[i].flags) != cases[i].is_new)
			fail_msg("flags %#llx", (unsigned long long)cases[i].flags);
	}
}

static void test_mount_flags_translate_table(void **state)
{
	static const struct {
		uint64_t flags;
		bool is_shift;
		unsigned attr, sb;
	} cases[] = {
		{ 0, false, FORCED, 0 },
		{ 0, true, MOUNT_ATTR_NODEV, 0 },
		{ MS_NOSUID, true, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID, 0 },
		{ MS_RDONLY, false, FORCED | MOUNT_ATTR_RDONLY, MOUNT_SB_RDONLY },
		{ MS_NOEXEC, false, FORCED | MOUNT_ATTR_NOEXEC, 0 },
		{ MS_NODEV, true, MOUNT_ATTR_NODEV, 0 },
		{ MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME, false, FORCED,
		  MOUNT_SB_SYNC | MOUNT_SB_DIRSYNC | MOUNT_SB_LAZYTIME },
		/* atime: relatime by default, noatime, strictatime wins over both */
		{ MS_RELATIME, false, FORCED | MOUNT_ATTR_RELATIME, 0 },
		{ MS_NOATIME, false, FORCED | MOUNT_ATTR_NOATIME, 0 },
		{ MS_NOATIME | MS_STRICTATIME, false, FORCED | MOUNT_ATTR_STRICTATIME, 0 },
		{ MS_RELATIME | MS_STRICTATIME, false, FORCED | MOUNT_ATTR_STRICTATIME, 0 },
		{ MS_NODIRATIME, false, FORCED | MOUNT_ATTR_NODIRATIME, 0 },
		{ MS_NOSYMFOLLOW, false, FORCED | MOUNT_ATTR_NOSYMFOLLOW, 0 },
		/* what the kernel ignores or keeps for itself: never an EINVAL from fsmount() */
		{ MS_SILENT | MS_REC | MS_POSIXACL | MS_MANDLOCK | MS_I_VERSION | MS_KERNMOUNT |
			  MS_ACTIVE,
		  false, FORCED, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mount_attrs a = { 0xdead, 0xdead };

		assert_int_equal(mount_flags_translate(cases[i].flags, cases[i].is_shift, &a), 0);
		if (a.attr != cases[i].attr || a.sb != cases[i].sb)
			fail_msg("flags %#llx shift %d: attr %#x sb %#x, want %#x %#x",
				 (unsigned long long)cases[i].flags, cases[i].is_shift, a.attr, a.sb,
				 cases[i].attr, cases[i].sb);
	}
}

static void test_mount_flags_translate_nouser_einval(void **state)
{
	struct mount_attrs a;

	(void)state;
	assert_int_equal(mount_flags_translate(MS_NOUSER, false, &a), -EINVAL);
	assert_int_equal(mount_flags_translate(MS_NOUSER | MS_RDONLY, true, &a), -EINVAL);
	/* the kernel's MS_NOUSER is (1<<31), an int: in the unsigned long it covers the upper half */
	assert_int_equal(mount_flags_translate(1ULL << 40, false, &a), -EINVAL);
}

static void test_mount_sb_flag_name(void **state)
{
	(void)state;
	assert_string_equal(mount_sb_flag_name(MOUNT_SB_RDONLY), "ro");
	assert_string_equal(mount_sb_flag_name(MOUNT_SB_SYNC), "sync");
	assert_string_equal(mount_sb_flag_name(MOUNT_SB_DIRSYNC), "dirsync");
	assert_string_equal(mount_sb_flag_name(MOUNT_SB_LAZYTIME), "lazytime");
	assert_null(mount_sb_flag_name(0));
	assert_null(mount_sb_flag_name(MOUNT_SB_ALL + 1));
}

/* ---- data options ---- */

static int parse(const char *text, struct mount_opts *o)
{
	static char buf[MOUNT_DATA_MAX + 64];

	snprintf(buf, sizeof(buf), "%s", text);
	return mount_data_parse(buf, o);
}

static void assert_opt(const struct mount_opt *o, const char *key, const char *value)
{
	assert_string_equal(o->key, key);
	if (value)
		assert_string_equal(o->value, value);
	else
		assert_null(o->value);
}

static void test_mount_data_parse_split(void **state)
{
	struct mount_opts o;

	(void)state;
	assert_int_equal(mount_data_parse(NULL, &o), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(parse("", &o), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(parse("errors=remount-ro,noload", &o), 0);
	assert_int_equal(o.n, 2);
	assert_opt(&o.opt[0], "errors", "remount-ro");
	assert_opt(&o.opt[1], "noload", NULL);
	/* empty options are skipped, as the kernel skips them; "b=" is an empty value */
	assert_int_equal(parse(",,a,,b=,", &o), 0);
	assert_int_equal(o.n, 2);
	assert_opt(&o.opt[0], "a", NULL);
	assert_opt(&o.opt[1], "b", "");
	/* the first '=' splits */
	assert_int_equal(parse("a=b=c", &o), 0);
	assert_int_equal(o.n, 1);
	assert_opt(&o.opt[0], "a", "b=c");
}

static void test_mount_data_parse_limits(void **state)
{
	char text[MOUNT_DATA_MAX];
	struct mount_opts o;

	(void)state;
	/* fsconfig() copies at most 255 characters of a key or value */
	memset(text, 'k', 255);
	text[255] = '\0';
	assert_int_equal(parse(text, &o), 0);
	memset(text, 'k', 256);
	text[256] = '\0';
	assert_int_equal(parse(text, &o), -EINVAL);
	snprintf(text, sizeof(text), "k=%0255d", 7);
	assert_int_equal(parse(text, &o), 0);
	snprintf(text, sizeof(text), "k=%0256d", 7);
	assert_int_equal(parse(text, &o), -EINVAL);
	/* a page without a NUL, cut by the kernel at 4095 characters */
	memset(text, 'A', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(parse(text, &o), -EINVAL);
	assert_int_equal(parse("=x", &o), -EINVAL);
	/* MOUNT_OPTS_MAX options fit, one more does not */
	text[0] = '\0';
	for (int i = 0; i < MOUNT_OPTS_MAX; i++)
		strcat(text, "a,");
	assert_int_equal(parse(text, &o), 0);
	assert_int_equal(o.n, MOUNT_OPTS_MAX);
	strcat(text, "b");
	assert_int_equal(parse(text, &o), -EINVAL);
}

static void test_mount_data_parse_refuses_host_paths(void **state)
{
	static const struct {
		const char *text;
		int error;
	} cases[] = {
		{ "source=/dev/sda", -EINVAL },
		{ "ro,source=x", -EINVAL },
		{ "journal_path=/dev/sdb", -EPERM },
		{ "journal_dev=2049", -EPERM },
		{ "logdev=/dev/sdc", -EPERM },
		{ "rtdev=/dev/sdd", -EPERM },
		{ "device=/dev/sde", -EPERM },
		{ "errors=panic", -EPERM },
		{ "ro,errors=panic,noload", -EPERM },
		{ "errors=remount-ro", 0 },
		{ "Source=x", 0 }, /* keys are case-sensitive: the filesystem refuses this one */
		{ "journal_checksum", 0 },
	};
	struct mount_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse(cases[i].text, &o) != cases[i].error)
			fail_msg("'%s': want %d", cases[i].text, cases[i].error);
}

static void test_mount_sb_is_rdonly(void **state)
{
	static const struct {
		uint64_t flags;
		const char *data;
		bool is_rdonly;
	} cases[] = {
		{ 0, "", false },
		{ MS_RDONLY, "", true },
		{ 0, "noload,ro", true },
		{ MS_RDONLY, "rw", false },        /* the data wins: a writable superblock */
		{ MS_RDONLY, "ro,rw", false },     /* the last one wins */
		{ 0, "rw,ro", true },
		{ MS_RDONLY, "rw=anything", false }, /* the kernel looks at the key only */
		{ 0, "ro=0", true },
		{ MS_RDONLY, "rwx", true },
	};
	struct mount_attrs a;
	struct mount_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mount_flags_translate(cases[i].flags, false, &a), 0);
		assert_int_equal(parse(cases[i].data, &o), 0);
		if (mount_sb_is_rdonly(&a, &o) != cases[i].is_rdonly)
			fail_msg("%#llx '%s': want %d", (unsigned long long)cases[i].flags,
				 cases[i].data, cases[i].is_rdonly);
	}
}

/* ---- the FUSE binary's limits ---- */

static void test_mount_limits_parse(void **state)
{
	char text[4096];
	struct rlimit lim[RLIM_NLIMITS];
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "%-25s %-20s %-20s %-10s\n", "Limit",
			       "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		if (i == RLIMIT_NOFILE)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%-25s %-20lu %-20lu %-10s\n", "Max open files",
						256ul, 18446744073709551614ul, "files");
		else
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%-25s %-20s %-20s \n", "Max realtime timeout",
						"unlimited", "unlimited");
	}
	assert_int_equal(mount_limits_parse(text, lim), 0);
	assert_int_equal(lim[RLIMIT_NOFILE].rlim_cur, 256);
	assert_int_equal(lim[RLIMIT_NOFILE].rlim_max, 18446744073709551614ull);
	assert_true(lim[RLIMIT_CPU].rlim_cur == RLIM_INFINITY &&
		    lim[RLIMIT_RTTIME].rlim_max == RLIM_INFINITY);
	/* a line missing, a value that is no number */
	text[len - 1] = '\0';
	assert_int_equal(mount_limits_parse(text, lim), -EINVAL);
	assert_int_equal(mount_limits_parse("Limit\nMax cpu time\n", lim), -EINVAL);
	memcpy(strstr(text, "256 "), "2x6 ", 4);
	text[len - 1] = '\n';
	assert_int_equal(mount_limits_parse(text, lim), -EINVAL);
}

/* ---- hugetlbfs ---- */

static const struct idmap map_100000 = { .n = 1, .e = { { 0, 100000, 65536 } } };

static const char *opt_value(const struct mount_opts *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->opt[i].key, key) == 0)
			return o->opt[i].value;
	return NULL;
}

static void test_mount_hugetlbfs_ids_added(void **state)
{
	struct mount_id_text text;
	struct mount_opts o;

	(void)state;
	assert_int_equal(parse("", &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 101000, 100005, &text), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(opt_value(&o, "uid"), "101000");
	assert_string_equal(opt_value(&o, "gid"), "100005");
}

static void test_mount_hugetlbfs_ids_translated(void **state)
{
	struct mount_id_text text;
	struct mount_opts o;

	(void)state;
	assert_int_equal(parse("uid=1000,mode=0700,gid=0", &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text), 0);
	assert_int_equal(o.n, 3);
	assert_string_equal(opt_value(&o, "uid"), "101000");
	assert_string_equal(opt_value(&o, "gid"), "100000");
	assert_string_equal(opt_value(&o, "mode"), "0700");
	/* the kernel reads the number in any base */
	assert_int_equal(parse("uid=0x10", &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text), 0);
	assert_string_equal(opt_value(&o, "uid"), "100016");
	assert_string_equal(opt_value(&o, "gid"), "100000");
}

static void test_mount_hugetlbfs_ids_refused(void **state)
{
	static const char *const bad[] = { "uid=65536", "gid=70000", "uid=abc", "uid=", "uid",
					   "gid=-1", "uid=1x", "uid=4294967296" };
	struct mount_id_text text;
	struct mount_opts o;
	char full[MOUNT_DATA_MAX] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &o), 0);
		if (mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text) !=
		    -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	/* a reservation from the host's pool, in any form the kernel would parse */
	assert_int_equal(parse("size=4M,min_size=4M", &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text),
			 -EPERM);
	assert_int_equal(parse("min_size", &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text),
			 -EPERM);
	/* no room left for uid= and gid= */
	for (int i = 0; i < MOUNT_OPTS_MAX; i++)
		strcat(full, "a,");
	assert_int_equal(parse(full, &o), 0);
	assert_int_equal(mount_hugetlbfs_ids(&o, &map_100000, &map_100000, 100000, 100000, &text),
			 -EINVAL);
}

/* ---- FUSE options ---- */

static void test_mount_fuse_options(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(mount_fuse_options(0, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(mount_fuse_options(0, "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(mount_fuse_options(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
						    MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME |
						    MS_SILENT | MS_LAZYTIME,
					    "a=b", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "ro,nosuid,nodev,noexec,sync,dirsync,noatime,a=b");
	assert_int_equal(mount_fuse_options(0, "x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x");
	assert_int_equal(mount_fuse_options(MS_RDONLY, "0123456789", buf, 12), -EINVAL);
	assert_int_equal(mount_fuse_options(MS_RDONLY, "012345678", buf, 13), 0);
	assert_string_equal(buf, "ro,012345678");
}

/* What libfuse cannot be told is set on the mount afterwards; the rest it is told. */
static void test_mount_fuse_attrs(void **state)
{
	(void)state;
	assert_int_equal(mount_fuse_attrs(0), 0);
	assert_int_equal(mount_fuse_attrs(MS_NOSYMFOLLOW), MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(mount_fuse_attrs(MS_NODIRATIME | MS_NOSYMFOLLOW | MS_RDONLY),
			 MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW);
	assert_int_equal(mount_fuse_attrs(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
					  MS_SYNCHRONOUS | MS_DIRSYNC | MS_NOATIME),
			 0);
}

/* ---- route and decision ---- */

static struct config *make_config(const char *allowed, const char *fuse)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct config *cfg = NULL;

	values[CONFIG_MOUNT] = "true";
	values[CONFIG_MOUNT_ALLOWED] = allowed;
	values[CONFIG_MOUNT_FUSE] = fuse;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

static void test_mount_route(void **state)
{
	/* proc and tmpfs as an older version may have stored them: loaded, never emulated */
	_cleanup_(config_unrefp) struct config *cfg =
		make_config("ext4,proc,hugetlbfs,tmpfs", "xfs=fuse-xfs");

	(void)state;
	assert_int_equal(mount_route(cfg, "ext4"), MOUNT_ROUTE_DIRECT);
	assert_int_equal(mount_route(cfg, "hugetlbfs"), MOUNT_ROUTE_DIRECT);
	assert_int_equal(mount_route(cfg, "xfs"), MOUNT_ROUTE_FUSE);
	assert_int_equal(mount_route(cfg, "proc"), MOUNT_ROUTE_NONE);
	assert_int_equal(mount_route(cfg, "tmpfs"), MOUNT_ROUTE_NONE);
	assert_int_equal(mount_route(cfg, "btrfs"), MOUNT_ROUTE_NONE);
	assert_int_equal(mount_route(cfg, "EXT4"), MOUNT_ROUTE_NONE);
	assert_int_equal(mount_route(cfg, NULL), MOUNT_ROUTE_NONE);
	assert_int_equal(mount_route(NULL, "ext4"), MOUNT_ROUTE_NONE);
}

static void test_mount_decide_table(void **state)
{
	static const struct {
		const char *what;
		enum mount_route route;
		enum target_userns userns;
		uint64_t caps;
		bool is_mntns_owned;
		int source_r, data_r, target_r;
		enum decision_kind kind;
		int error;
	} cases[] = {
		{ "emulated", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN), true, 0, 0, 0, DECISION_EMULATE, 0 },
		{ "fuse", MOUNT_ROUTE_FUSE, TARGET_USERNS_CONTAINER, ALL_CAPS, true, 0, 0, 0, DECISION_EMULATE, 0 },
		{ "type not listed", MOUNT_ROUTE_NONE, TARGET_USERNS_CONTAINER, ALL_CAPS, true, 0, 0, 0, DECISION_CONTINUE, 0 },
		{ "no CAP_SYS_ADMIN", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS & ~CAP(CAP_SYS_ADMIN), true, 0, 0, 0, DECISION_CONTINUE, 0 },
		{ "nested userns", MOUNT_ROUTE_DIRECT, TARGET_USERNS_OTHER, ALL_CAPS, true, 0, 0, 0, DECISION_CONTINUE, 0 },
		{ "host caller", MOUNT_ROUTE_DIRECT, TARGET_USERNS_HOST, ALL_CAPS, true, 0, 0, 0, DECISION_CONTINUE, 0 },
		{ "foreign mount ns", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS, false, 0, 0, 0, DECISION_CONTINUE, 0 },
		{ "bad source", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS, true, -EFAULT, -EFAULT, -EFAULT, DECISION_ERRNO, -EFAULT },
		{ "long source", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS, true, -EINVAL, 0, -EFAULT, DECISION_ERRNO, -EINVAL },
		{ "bad data", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS, true, 0, -EFAULT, -ENAMETOOLONG, DECISION_ERRNO, -EFAULT },
		{ "bad target", MOUNT_ROUTE_FUSE, TARGET_USERNS_CONTAINER, ALL_CAPS, true, 0, 0, -EFAULT, DECISION_ERRNO, -EFAULT },
		{ "long target", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, ALL_CAPS, true, 0, 0, -ENAMETOOLONG, DECISION_ERRNO, -ENAMETOOLONG },
		{ "bad pointer, no cap", MOUNT_ROUTE_DIRECT, TARGET_USERNS_CONTAINER, 0, true, -EFAULT, 0, 0, DECISION_CONTINUE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mount_caller c = { cases[i].userns, cases[i].caps, cases[i].is_mntns_owned };
		struct decision d = mount_decide(cases[i].route, &c, cases[i].source_r,
						 cases[i].data_r, cases[i].target_r);

		if (d.kind != cases[i].kind || (d.kind == DECISION_ERRNO && d.error != cases[i].error))
			fail_msg("%s: kind %d error %d", cases[i].what, d.kind, d.error);
	}
}

/* ---- id maps ---- */

static void test_idmap_parse_and_translate(void **state)
{
	struct idmap m;
	uint32_t id;

	(void)state;
	assert_int_equal(idmap_parse("         0     100000      65536\n\n 65536 1000 1\n", &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(idmap_to_host(&m, 0, &id), 0);
	assert_int_equal(id, 100000);
	assert_int_equal(idmap_to_host(&m, 65535, &id), 0);
	assert_int_equal(id, 165535);
	assert_int_equal(idmap_to_host(&m, 65536, &id), 0);
	assert_int_equal(id, 1000);
	assert_int_equal(idmap_to_host(&m, 65537, &id), -EINVAL);
	assert_int_equal(idmap_to_ns(&m, 100000, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(idmap_to_ns(&m, 1000, &id), 0);
	assert_int_equal(id, 65536);
	assert_int_equal(idmap_to_ns(&m, 99999, &id), -EINVAL);
	assert_int_equal(idmap_to_ns(&m, 165536, &id), -EINVAL);
	/* the initial namespace's own map */
	assert_int_equal(idmap_parse("0 0 4294967295", &m), 0);
	assert_int_equal(idmap_to_host(&m, 4294967294u, &id), 0);
	assert_int_equal(id, 4294967294u);
	assert_int_equal(idmap_parse("", &m), 0);
	assert_int_equal(idmap_to_host(&m, 0, &id), -EINVAL);
}

static void test_idmap_parse_malformed(void **state)
{
	static const char *const bad[] = { "0 100000", "0 100000 65536 7", "a b c", "0 100000 0",
					   "4294967295 0 2", "0 4294967295 2", "0 100000 4294967296",
					   "-1 0 1" };
	static char many[IDMAP_EXTENTS_MAX * 8 + 16];
	struct idmap m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (idmap_parse(bad[i], &m) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	for (int i = 0; i <= IDMAP_EXTENTS_MAX; i++)
		strcat(many, "1 1 1\n");
	assert_int_equal(idmap_parse(many, &m), -E2BIG);
}

/* ---- cgroup placement: mountinfo lines and hierarchy names ---- */

static void test_cgroup_join_parse_mount(void **state)
{
	struct cgroup_join_mount m;

	(void)state;
	assert_int_equal(cgroup_join_parse_mount("35 25 0:30 / /sys/fs/cgroup/devices rw,nosuid shared:15 - cgroup cgroup rw,devices", &m), 1);
	assert_false(m.is_v2);
	assert_string_equal(m.path, "/sys/fs/cgroup/devices");
	assert_string_equal(m.options, "rw,devices");
	assert_int_equal(cgroup_join_parse_mount("31 25 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate", &m), 1);
	assert_true(m.is_v2);
	assert_string_equal(m.path, "/sys/fs/cgroup/unified");
	/* an escaped space in the mount point; no optional fields */
	assert_int_equal(cgroup_join_parse_mount("40 25 0:33 / /a\\040b rw - cgroup cgroup rw,cpu,cpuacct", &m), 1);
	assert_string_equal(m.path, "/a b");
	/* a bind of a cgroup below the root names other paths; other types */
	assert_int_equal(cgroup_join_parse_mount("41 25 0:30 /lxc /x rw - cgroup cgroup rw,devices", &m), 0);
	assert_int_equal(cgroup_join_parse_mount("22 1 254:0 / / rw - ext4 /dev/vda rw", &m), 0);
	assert_int_equal(cgroup_join_parse_mount("22 1 254:0 / / rw", &m), -EINVAL);
}

static void test_cgroup_join_matches(void **state)
{
	(void)state;
	assert_true(cgroup_join_matches("rw,devices", "devices"));
	assert_true(cgroup_join_matches("rw,cpu,cpuacct", "cpu,cpuacct"));
	assert_true(cgroup_join_matches("rw,cpu,cpuacct", "cpuacct"));
	assert_true(cgroup_join_matches("rw,xattr,name=systemd", "name=systemd"));
	assert_false(cgroup_join_matches("rw,devices", "cpu"));
	assert_false(cgroup_join_matches("rw,cpuset", "cpu"));
	assert_false(cgroup_join_matches("rw,devices", ""));
	assert_false(cgroup_join_matches("rw,devices", "devices,"));
}

/* The capability sets the FUSE helper gives the binary come from /proc/TID/status. */
static void test_target_status_cap_sets(void **state)
{
	char text[] = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nTgid:\t1\n"
		      "CapInh:\t0000000000000001\nCapPrm:\t000001ffffffffff\n"
		      "CapEff:\t000001fffffffffe\nCapBnd:\t000001feffffffff\n"
		      "CapAmb:\t0000000000000002\n";
	struct target_status st = {};

	(void)state;
	assert_int_equal(target_status_parse(&st, text), 0);
	assert_int_equal(st.cap_inh, 1);
	assert_int_equal(st.cap_prm, 0x1ffffffffffULL);
	assert_int_equal(st.cap_eff, 0x1fffffffffeULL);
	assert_int_equal(st.cap_bnd, 0x1feffffffffULL);
	assert_int_equal(st.cap_amb, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_flags_strip_magic),
		cmocka_unit_test(test_mount_creates_superblock_table),
		cmocka_unit_test(test_mount_flags_translate_table),
		cmocka_unit_test(test_mount_flags_translate_nouser_einval),
		cmocka_unit_test(test_mount_sb_flag_name),
		cmocka_unit_test(test_mount_data_parse_split),
		cmocka_unit_test(test_mount_data_parse_limits),
		cmocka_unit_test(test_mount_data_parse_refuses_host_paths),
		cmocka_unit_test(test_mount_sb_is_rdonly),
		cmocka_unit_test(test_mount_limits_parse),
		cmocka_unit_test(test_mount_hugetlbfs_ids_added),
		cmocka_unit_test(test_mount_hugetlbfs_ids_translated),
		cmocka_unit_test(test_mount_hugetlbfs_ids_refused),
		cmocka_unit_test(test_mount_fuse_options),
		cmocka_unit_test(test_mount_fuse_attrs),
		cmocka_unit_test(test_mount_route),
		cmocka_unit_test(test_mount_decide_table),
		cmocka_unit_test(test_idmap_parse_and_translate),
		cmocka_unit_test(test_idmap_parse_malformed),
		cmocka_unit_test(test_cgroup_join_parse_mount),
		cmocka_unit_test(test_cgroup_join_matches),
		cmocka_unit_test(test_target_status_cap_sets),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
