/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for what shutdown reads to find the FUSE connection a stuck
 * worker waits on: the devices under a range of a caller's /proc/TID/maps,
 * and a device's mount in its mountinfo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/engine/fuse_abort.h"

/* A caller: its binary on 8:1, an anonymous page (a userfaultfd one, say), a FUSE file on 0:47. */
static const char maps[] =
	"55d0c0a00000-55d0c0a21000 r-xp 00000000 08:01 1311 /usr/bin/caller\n"
	"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
	"7f0000001000-7f0000002000 r--p 00000000 00:2f 2 /tmp/fuse/f\n"
	"7f0000002000-7f0000004000 r--p 00001000 00:2f 2 /tmp/fuse/f (deleted)\n"
	"7f0000010000-7f0000011000 r--s 00000000 00:12f 0 /mnt/big-minor/g\n"
	"garbage line\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]";

static void test_fuse_mapped_devs_under_the_range(void **state)
{
	struct fuse_dev devs[4];
	enum fuse_found how;

	(void)state;
	/* a path string that starts in the FUSE page */
	assert_int_equal(fuse_mapped_devs(maps, 0x7f0000001ff0, 0x7f0000002010, devs, 4, &how), 1);
	assert_int_equal(how, FUSE_FOUND_BY_RANGE);
	assert_int_equal(devs[0].major, 0);
	assert_int_equal(devs[0].minor, 0x2f);
	/* minors above 255 are printed with more hex digits */
	assert_int_equal(fuse_mapped_devs(maps, 0x7f0000010000, 0x7f0000010001, devs, 4, &how), 1);
	assert_int_equal(devs[0].minor, 0x12f);
}

static void test_fuse_mapped_devs_anonymous_range_gives_none(void **state)
{
	struct fuse_dev devs[4];
	enum fuse_found how;

	(void)state;
	/* a userfaultfd page: attributed, and no file behind it (no fallback) */
	assert_int_equal(fuse_mapped_devs(maps, 0x7f0000000100, 0x7f0000000200, devs, 4, &how), 0);
	assert_int_equal(how, FUSE_FOUND_BY_RANGE);
	/* a range spanning the anonymous page and the FUSE one has the FUSE one */
	assert_int_equal(fuse_mapped_devs(maps, 0x7f0000000ff0, 0x7f0000001010, devs, 4, &how), 1);
	assert_int_equal(devs[0].minor, 0x2f);
}

static void test_fuse_mapped_devs_falls_back_to_every_file(void **state)
{
	struct fuse_dev devs[4];
	enum fuse_found how;

	(void)state;
	/* no copy recorded */
	assert_int_equal(fuse_mapped_devs(maps, 0, 0, devs, 4, &how), 3);
	assert_int_equal(how, FUSE_FOUND_BY_MAPPINGS);
	assert_int_equal(devs[0].major, 8);
	assert_int_equal(devs[0].minor, 1);
	assert_int_equal(devs[1].minor, 0x2f); /* once, though mapped twice */
	assert_int_equal(devs[2].minor, 0x12f);
	/* a range nothing maps any more (unmapped while the worker waits) */
	assert_int_equal(fuse_mapped_devs(maps, 0x10000, 0x10010, devs, 4, &how), 3);
	assert_int_equal(how, FUSE_FOUND_BY_MAPPINGS);
	/* bounded by @max */
	assert_int_equal(fuse_mapped_devs(maps, 0, 0, devs, 2, &how), 2);
	assert_int_equal(fuse_mapped_devs("", 0, 0, devs, 4, &how), 0);
}

static const char mountinfo[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"40 22 0:47 / /tmp/my\\040fuse rw,nosuid,nodev shared:20 master:3 - fuse interceptd-test "
	"rw,user_id=0,group_id=0\n"
	"41 22 0:48 / /home/u/remote rw - fuse.sshfs u@host: rw,user_id=1000\n"
	"42 22 0:49 / /broken rw no-separator-here\n";

static void test_fuse_mount_of_finds_type_and_mount_point(void **state)
{
	char fstype[32], mountpoint[128];

	(void)state;
	assert_true(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 47 }, fstype, sizeof(fstype),
				  mountpoint, sizeof(mountpoint)));
	assert_string_equal(fstype, "fuse");
	assert_string_equal(mountpoint, "/tmp/my\\040fuse");
	assert_true(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 48 }, fstype, sizeof(fstype),
				  mountpoint, sizeof(mountpoint)));
	assert_string_equal(fstype, "fuse.sshfs");
	/* cut to the sizes given */
	assert_true(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 48 }, fstype, 5, mountpoint, 6));
	assert_string_equal(fstype, "fuse");
	assert_string_equal(mountpoint, "/home");
}

static void test_fuse_mount_of_unknown_or_malformed(void **state)
{
	char fstype[32], mountpoint[128];

	(void)state;
	/* not mounted where the caller sees it (e.g. unmounted lazily after the mmap) */
	assert_false(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 50 }, fstype, sizeof(fstype),
				   mountpoint, sizeof(mountpoint)));
	/* 0:4 must not match 0:47 */
	assert_false(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 4 }, fstype, sizeof(fstype),
				   mountpoint, sizeof(mountpoint)));
	assert_false(fuse_mount_of(mountinfo, (struct fuse_dev){ 0, 49 }, fstype, sizeof(fstype),
				   mountpoint, sizeof(mountpoint)));
	assert_false(fuse_mount_of("", (struct fuse_dev){ 0, 47 }, fstype, sizeof(fstype),
				   mountpoint, sizeof(mountpoint)));
}

static void test_fuse_may_abort_spares_shared_mounts(void **state)
{
	/* the daemon's own namespace mounts 0:47 (say lxcfs), not 0:48 */
	static const char own[] = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
				  "30 22 0:47 / /var/lib/lxcfs rw - fuse.lxcfs lxcfs rw\n";
	struct fuse_dev shared = { 0, 47 }, private = { 0, 48 };

	(void)state;
	/* never one the host mounts, even under the range read (the caller may have
	 * mapped it there since), nor when that is unknown */
	assert_false(fuse_may_abort(shared, own));
	assert_true(fuse_may_abort(private, own));
	assert_false(fuse_may_abort(private, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuse_mapped_devs_under_the_range),
		cmocka_unit_test(test_fuse_mapped_devs_anonymous_range_gives_none),
		cmocka_unit_test(test_fuse_mapped_devs_falls_back_to_every_file),
		cmocka_unit_test(test_fuse_mount_of_finds_type_and_mount_point),
		cmocka_unit_test(test_fuse_mount_of_unknown_or_malformed),
		cmocka_unit_test(test_fuse_may_abort_spares_shared_mounts),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
