/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure half of mknod: allowlist, capabilities, path split; and status parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "handlers/decide.h"

#define DEV(ma, mi) ((uint32_t)(((ma) << 8) | ((mi) & 0xff) | (((mi) & ~0xffu) << 12)))
#define CAP(c) ((uint64_t)1 << (c))
#define ALL_CAPS (~(uint64_t)0)

static const struct {
	const char *what;
	unsigned mode;
	uint32_t dev;
	int path_r;
	enum target_userns userns;
	uint64_t caps;
	enum decision_kind kind;
	int error;
} decide_cases[] = {
	{ "null", S_IFCHR | 0666, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, CAP(CAP_MKNOD), DECISION_EMULATE, 0 },
	{ "zero", S_IFCHR | 0666, DEV(1, 5), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "full", S_IFCHR | 0666, DEV(1, 7), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "random", S_IFCHR | 0666, DEV(1, 8), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "urandom", S_IFCHR | 0666, DEV(1, 9), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "tty", S_IFCHR | 0666, DEV(5, 0), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "console", S_IFCHR | 0600, DEV(5, 1), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_EMULATE, 0 },
	{ "whiteout", S_IFCHR | 0, DEV(0, 0), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "mem", S_IFCHR | 0600, DEV(1, 1), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "kmsg", S_IFCHR | 0600, DEV(1, 11), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "ptmx", S_IFCHR | 0666, DEV(5, 2), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "big minor aliasing null", S_IFCHR, DEV(1, 3 + 256), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "block 1:3", S_IFBLK | 0600, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "block sda", S_IFBLK | 0600, DEV(8, 0), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "fifo", S_IFIFO | 0600, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "regular", S_IFREG | 0600, 0, 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "dir type", S_IFDIR | 0700, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "bad type", 0170000 | 0600, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "no type", 0600, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "no CAP_MKNOD", S_IFCHR | 0666, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, ALL_CAPS & ~CAP(CAP_MKNOD), DECISION_ERRNO, -EPERM },
	{ "no caps", S_IFCHR | 0666, DEV(1, 3), 0, TARGET_USERNS_CONTAINER, 0, DECISION_ERRNO, -EPERM },
	{ "nested userns", S_IFCHR | 0666, DEV(1, 3), 0, TARGET_USERNS_OTHER, ALL_CAPS, DECISION_ERRNO, -EPERM },
	{ "host caller", S_IFCHR | 0666, DEV(1, 3), 0, TARGET_USERNS_HOST, ALL_CAPS, DECISION_CONTINUE, 0 },
	{ "bad pointer", S_IFCHR | 0666, DEV(1, 3), -EFAULT, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_ERRNO, -EFAULT },
	{ "long path", S_IFCHR | 0666, DEV(1, 3), -ENAMETOOLONG, TARGET_USERNS_CONTAINER, ALL_CAPS, DECISION_ERRNO, -ENAMETOOLONG },
	{ "bad pointer, no cap", S_IFCHR, DEV(1, 3), -EFAULT, TARGET_USERNS_CONTAINER, 0, DECISION_ERRNO, -EFAULT },
	{ "bad pointer, whiteout", S_IFCHR, DEV(0, 0), -EFAULT, TARGET_USERNS_CONTAINER, 0, DECISION_CONTINUE, 0 },
};

static void test_mknod_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		struct decision d = mknod_decide(decide_cases[i].mode, decide_cases[i].dev,
						 decide_cases[i].path_r, decide_cases[i].userns,
						 decide_cases[i].caps);

		print_message("# %s\n", decide_cases[i].what);
		assert_int_equal(d.kind, decide_cases[i].kind);
		if (d.kind == DECISION_ERRNO)
			assert_int_equal(d.error, decide_cases[i].error);
	}
}

static const struct {
	const char *what;
	unsigned mode;
	uint32_t dev;
	bool is_console;
} console_cases[] = {
	{ "console", S_IFCHR | 0600, DEV(5, 1), true },
	{ "console, any permissions", S_IFCHR | 07777, DEV(5, 1), true },
	{ "tty", S_IFCHR | 0666, DEV(5, 0), false },
	{ "ptmx", S_IFCHR | 0666, DEV(5, 2), false },
	{ "null", S_IFCHR | 0666, DEV(1, 3), false },
	{ "block 5:1", S_IFBLK | 0600, DEV(5, 1), false },
	{ "big minor aliasing console", S_IFCHR, DEV(5, 1 + 256), false },
	{ "fifo", S_IFIFO | 0600, DEV(5, 1), false },
};

static void test_mknod_is_console_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(console_cases) / sizeof(console_cases[0]); i++) {
		print_message("# %s\n", console_cases[i].what);
		assert_int_equal(mknod_is_console(console_cases[i].mode, console_cases[i].dev),
				 console_cases[i].is_console);
	}
}

#define DEVPTS 0x1cd1
#define TMPFS 0x01021994

static const struct {
	const char *what;
	mode_t mode;
	unsigned major, minor;
	long fs_type;
	bool is_own;
} own_console_cases[] = {
	{ "runc/LXC: pty 136:0 on devpts", S_IFCHR | 0620, 136, 0, DEVPTS, true },
	{ "pty 143:1048575 on devpts", S_IFCHR | 0600, 143, 1048575, DEVPTS, true },
	{ "pty 140:7 on devpts", S_IFCHR | 0600, 140, 7, DEVPTS, true },
	{ "the host's console 5:1 bound in", S_IFCHR | 0600, 5, 1, DEVPTS, false },
	{ "the host's console on tmpfs", S_IFCHR | 0600, 5, 1, TMPFS, false },
	{ "a virtual console 4:1", S_IFCHR | 0620, 4, 1, DEVPTS, false },
	{ "serial 4:64", S_IFCHR | 0620, 4, 64, DEVPTS, false },
	{ "ptmx 5:2", S_IFCHR | 0666, 5, 2, DEVPTS, false },
	{ "below the pty range 135", S_IFCHR | 0600, 135, 0, DEVPTS, false },
	{ "above the pty range 144", S_IFCHR | 0600, 144, 0, DEVPTS, false },
	{ "a pty number on tmpfs", S_IFCHR | 0600, 136, 0, TMPFS, false },
	{ "block 136:0 on devpts", S_IFBLK | 0600, 136, 0, DEVPTS, false },
	{ "regular file (console path none)", S_IFREG | 0644, 0, 0, TMPFS, false },
	{ "directory", S_IFDIR | 0755, 0, 0, DEVPTS, false },
};

static void test_mknod_console_is_own_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(own_console_cases) / sizeof(own_console_cases[0]); i++) {
		print_message("# %s\n", own_console_cases[i].what);
		assert_int_equal(mknod_console_is_own(own_console_cases[i].mode,
						      makedev(own_console_cases[i].major,
							      own_console_cases[i].minor),
						      own_console_cases[i].fs_type),
				 own_console_cases[i].is_own);
	}
}

static const struct {
	const char *path;
	int r;
	const char *parent, *last;
	bool special, trailing;
} split_cases[] = {
	{ "/dev/null", 0, "/dev/", "null", false, false },
	{ "null", 0, ".", "null", false, false },
	{ "a/b/c", 0, "a/b/", "c", false, false },
	{ "../x", 0, "../", "x", false, false },
	{ "/x", 0, "/", "x", false, false },
	{ "//x", 0, "//", "x", false, false },
	{ "x/", 0, ".", "x", false, true },
	{ "/d/x//", 0, "/d/", "x", false, true },
	{ "/", 0, "/", ".", true, false },
	{ "///", 0, "/", ".", true, false },
	{ ".", 0, ".", ".", true, false },
	{ "a/..", 0, "a/", "..", true, false },
	{ "", -ENOENT, NULL, NULL, false, false },
};

static void test_mknod_path_split_table(void **state)
{
	static struct mknod_path sp;

	(void)state;
	for (size_t i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		print_message("# '%s'\n", split_cases[i].path);
		assert_int_equal(mknod_path_split(split_cases[i].path, &sp), split_cases[i].r);
		if (split_cases[i].r < 0)
			continue;
		assert_string_equal(sp.parent, split_cases[i].parent);
		assert_string_equal(sp.last, split_cases[i].last);
		assert_int_equal(sp.is_special, split_cases[i].special);
		assert_int_equal(sp.has_trailing_slash, split_cases[i].trailing);
	}
}

static void test_mknod_path_split_long_component(void **state)
{
	static char path[PATH_MAX + 8];
	static struct mknod_path sp;

	(void)state;
	memset(path, 'a', NAME_MAX);
	path[NAME_MAX] = '\0';
	assert_int_equal(mknod_path_split(path, &sp), 0);
	path[NAME_MAX] = 'a';
	path[NAME_MAX + 1] = '\0';
	assert_int_equal(mknod_path_split(path, &sp), -ENAMETOOLONG);
	memset(path, 'a', PATH_MAX);
	path[PATH_MAX] = '\0';
	assert_int_equal(mknod_path_split(path, &sp), -ENAMETOOLONG);
}

static const char status_text[] =
	"Name:\tsh\n"
	"Umask:\t0027\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"Pid:\t4243\n"
	"Uid:\t100000\t100001\t100002\t100003\n"
	"Gid:\t100010\t100011\t100012\t100013\n"
	"Groups:\t100004 100005 \n"
	"NSpid:\t4243\t7\n"
	"CapInh:\t0000000000000000\n"
	"CapEff:\t000001ffffffffff\n";

static void test_target_status_parse_fields(void **state)
{
	char text[sizeof(status_text)];
	struct target_status st = {};

	(void)state;
	memcpy(text, status_text, sizeof(text));
	assert_int_equal(target_status_parse(&st, text), 0);
	assert_int_equal(st.seen & TARGET_HAS_REQUIRED, TARGET_HAS_REQUIRED);
	assert_int_equal(st.tgid, 4242);
	assert_int_equal(st.uid, 100000);
	assert_int_equal(st.euid, 100001);
	assert_int_equal(st.fsuid, 100003);
	assert_int_equal(st.fsgid, 100013);
	assert_int_equal(st.umask, 027);
	assert_int_equal(st.n_groups, 2);
	assert_int_equal(st.groups[1], 100005);
	assert_int_equal(st.n_nspid, 2);
	assert_int_equal(st.nspid[1], 7);
	assert_true(target_has_cap(&st, CAP_MKNOD));
	assert_true(target_has_cap(&st, 40));
	assert_false(target_has_cap(&st, 41));
}

static void test_target_status_parse_malformed(void **state)
{
	struct target_status st = {};

	(void)state;
	assert_int_equal(target_status_parse_line(&st, "Uid:\t1\t2\t3"), -EINVAL);
	assert_int_equal(target_status_parse_line(&st, "CapEff:\tzz"), -EINVAL);
	assert_int_equal(target_status_parse_line(&st, "Umask:\t1777"), -EINVAL);
	assert_int_equal(target_status_parse_line(&st, "Unrelated:\tanything"), 0);
	assert_int_equal(target_status_parse_line(&st, "no colon"), 0);
	assert_int_equal(st.seen, 0);
}

static void test_target_status_parse_many_groups(void **state)
{
	char line[1024] = "Groups:\t";
	struct target_status st = {};

	(void)state;
	for (int i = 0; i < TARGET_GROUPS_MAX + 1; i++)
		(void)snprintf(line + strlen(line), sizeof(line) - strlen(line), "%d ", 1000 + i);
	assert_int_equal(target_status_parse_line(&st, line), 0);
	assert_true(st.groups_overflow);
	assert_int_equal(st.n_groups, 0);
}

#define CAPS_SPLIT(c) { (uint32_t)(c), (uint32_t)((uint64_t)(c) >> 32) }
#define FS_CAPS                                                                                    \
	(CAP(CAP_CHOWN) | CAP(CAP_MKNOD) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_DAC_READ_SEARCH) |     \
	 CAP(CAP_FOWNER) | CAP(CAP_FSETID) | CAP(CAP_MAC_OVERRIDE))

static const struct {
	const char *what;
	uint64_t eff, prm;
	bool raises;
} fsuid_cases[] = {
	{ "full root", ALL_CAPS, ALL_CAPS, false },
	{ "nothing permitted", 0, 0, false },
	{ "fs caps effective already", FS_CAPS | CAP(CAP_SYS_ADMIN), ALL_CAPS, false },
	{ "fs caps not permitted", CAP(CAP_SYS_ADMIN), CAP(CAP_SYS_ADMIN), false },
	{ "fs caps permitted, not effective", CAP(CAP_SETUID), ALL_CAPS, true },
	{ "CAP_MAC_OVERRIDE (upper word) only", ALL_CAPS & ~CAP(CAP_MAC_OVERRIDE), ALL_CAPS, true },
	{ "CAP_CHOWN only", ALL_CAPS & ~CAP(CAP_CHOWN), ALL_CAPS, true },
	{ "non-fs cap missing from eff", ALL_CAPS & ~CAP(CAP_SYS_NICE), ALL_CAPS, false },
};

static void test_target_creds_fsuid_root_raises_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fsuid_cases) / sizeof(fsuid_cases[0]); i++) {
		const uint32_t eff[2] = CAPS_SPLIT(fsuid_cases[i].eff);
		const uint32_t prm[2] = CAPS_SPLIT(fsuid_cases[i].prm);

		print_message("# %s\n", fsuid_cases[i].what);
		assert_int_equal(target_creds_fsuid_root_raises(eff, prm), fsuid_cases[i].raises);
	}
}

static void test_mknod_nodev_lookup_empty(void **state)
{
	struct nodev_cache c = { 0 };

	(void)state;
	assert_int_equal(mknod_nodev_lookup(&c, 42), -ENOENT);
	assert_int_equal(mknod_nodev_lookup(&c, 0), -ENOENT);
	mknod_nodev_record(&c, 0, true); /* no unique id: never cached */
	assert_int_equal(mknod_nodev_lookup(&c, 0), -ENOENT);
	assert_int_equal(c.next, 0);
}

static void test_mknod_nodev_record_and_update(void **state)
{
	struct nodev_cache c = { 0 };

	(void)state;
	mknod_nodev_record(&c, 0x80000001, true);
	mknod_nodev_record(&c, 0x80000002, false);
	assert_int_equal(mknod_nodev_lookup(&c, 0x80000001), 1);
	assert_int_equal(mknod_nodev_lookup(&c, 0x80000002), 0);
	assert_int_equal(mknod_nodev_lookup(&c, 0x80000003), -ENOENT);
	/* a known mount is updated in place: no second slot */
	mknod_nodev_record(&c, 0x80000001, false);
	assert_int_equal(mknod_nodev_lookup(&c, 0x80000001), 0);
	assert_int_equal(c.next, 2);
}

static void test_mknod_nodev_record_round_robin(void **state)
{
	struct nodev_cache c = { 0 };

	(void)state;
	for (uint64_t id = 1; id <= NODEV_CACHE_SLOTS; id++)
		mknod_nodev_record(&c, id, id % 2);
	for (uint64_t id = 1; id <= NODEV_CACHE_SLOTS; id++)
		assert_int_equal(mknod_nodev_lookup(&c, id), (int)(id % 2));
	/* full: the oldest goes first, then the next oldest */
	mknod_nodev_record(&c, 100, true);
	assert_int_equal(mknod_nodev_lookup(&c, 1), -ENOENT);
	assert_int_equal(mknod_nodev_lookup(&c, 2), 0);
	assert_int_equal(mknod_nodev_lookup(&c, 100), 1);
	mknod_nodev_record(&c, 101, false);
	assert_int_equal(mknod_nodev_lookup(&c, 2), -ENOENT);
	assert_int_equal(mknod_nodev_lookup(&c, 3), 1);
	assert_int_equal(mknod_nodev_lookup(&c, 101), 0);
}

static const struct {
	const char *link;
	int r;
	uint64_t ino;
} ns_link_cases[] = {
	{ "user:[4026531837]", 0, 4026531837u },
	{ "user:[1]", 0, 1 },
	{ "user:[]", -EINVAL, 0 },
	{ "user:[12]x", -EINVAL, 0 },
	{ "user:[12", -EINVAL, 0 },
	{ "user:[-1]", -EINVAL, 0 },
	{ "user:[ 1]", -EINVAL, 0 },
	{ "user:[+1]", -EINVAL, 0 },
	{ "user:[99999999999999999999999]", -EINVAL, 0 },
	{ "pid:[4026531836]", -EINVAL, 0 },
	{ "userx:[1]", -EINVAL, 0 },
	{ "user", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

static void test_target_ns_link_inode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ns_link_cases) / sizeof(ns_link_cases[0]); i++) {
		uint64_t ino = 0;

		print_message("# '%s'\n", ns_link_cases[i].link);
		assert_int_equal(target_ns_link_inode(ns_link_cases[i].link, "user", &ino),
				 ns_link_cases[i].r);
		assert_int_equal(ino, ns_link_cases[i].ino);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mknod_decide_table),
		cmocka_unit_test(test_mknod_is_console_table),
		cmocka_unit_test(test_mknod_console_is_own_table),
		cmocka_unit_test(test_mknod_path_split_table),
		cmocka_unit_test(test_mknod_path_split_long_component),
		cmocka_unit_test(test_target_status_parse_fields),
		cmocka_unit_test(test_target_status_parse_malformed),
		cmocka_unit_test(test_target_status_parse_many_groups),
		cmocka_unit_test(test_target_creds_fsuid_root_raises_table),
		cmocka_unit_test(test_target_ns_link_inode_table),
		cmocka_unit_test(test_mknod_nodev_lookup_empty),
		cmocka_unit_test(test_mknod_nodev_record_and_update),
		cmocka_unit_test(test_mknod_nodev_record_round_robin),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
