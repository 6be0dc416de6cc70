/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the intercept key table, value normalization and snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/store/config.h"

struct value_case {
	const char *key;
	const char *value;
	const char *expect; /* normalized value, NULL = unset; ignored on error */
	int error;          /* 0 or the expected negative errno */
	const char *message_part; /* substring expected in the error message */
};

#define K(x) CONFIG_KEY_PREFIX x

static const struct value_case value_cases[] = {
	/* booleans: every spelling, any case, whitespace trimmed */
	{ K("mknod"), "true", "true", 0, NULL },
	{ K("mknod"), "TRUE", "true", 0, NULL },
	{ K("mknod"), "True", "true", 0, NULL },
	{ K("mknod"), "yes", "true", 0, NULL },
	{ K("mknod"), "YeS", "true", 0, NULL },
	{ K("mknod"), "on", "true", 0, NULL },
	{ K("mknod"), "ON", "true", 0, NULL },
	{ K("mknod"), "1", "true", 0, NULL },
	{ K("mknod"), " true ", "true", 0, NULL },
	{ K("setxattr"), "false", "false", 0, NULL },
	{ K("setxattr"), "FALSE", "false", 0, NULL },
	{ K("setxattr"), "no", "false", 0, NULL },
	{ K("setxattr"), "off", "false", 0, NULL },
	{ K("setxattr"), "Off", "false", 0, NULL },
	{ K("setxattr"), "0", "false", 0, NULL },
	{ K("sysinfo"), "", NULL, 0, NULL },
	{ K("sysinfo"), "   ", NULL, 0, NULL },
	{ K("sysinfo"), "2", NULL, -EINVAL, "invalid boolean '2'" },
	{ K("sysinfo"), "truee", NULL, -EINVAL, "sysinfo" },
	{ K("sysinfo"), "y", NULL, -EINVAL, "invalid boolean" },
	{ K("sysinfo"), "t", NULL, -EINVAL, "invalid boolean" },
	{ K("sysinfo"), "enabled", NULL, -EINVAL, "invalid boolean" },
	{ K("sysinfo"), "-1", NULL, -EINVAL, "invalid boolean" },
	{ K("sched_setscheduler"), "on", "true", 0, NULL },
	{ K("mount"), "yes", "true", 0, NULL },
	{ K("mount.shift"), "no", "false", 0, NULL },
	{ K("bpf"), "1", "true", 0, NULL },
	{ K("bpf.devices"), "0", "false", 0, NULL },
	{ K("bpf.devices"), "maybe", NULL, -EINVAL, "bpf.devices" },
	/* mount.allowed */
	{ K("mount.allowed"), "ext4", "ext4", 0, NULL },
	{ K("mount.allowed"), "ext4,xfs", "ext4,xfs", 0, NULL },
	{ K("mount.allowed"), " ext4 , xfs ", "ext4,xfs", 0, NULL },
	{ K("mount.allowed"), "fuse.sshfs,9p", "fuse.sshfs,9p", 0, NULL },
	{ K("mount.allowed"), "ext4,,xfs", NULL, -EINVAL, "empty entry" },
	{ K("mount.allowed"), "ext4,", NULL, -EINVAL, "empty entry" },
	{ K("mount.allowed"), ",ext4", NULL, -EINVAL, "empty entry" },
	{ K("mount.allowed"), "ext4, ,xfs", NULL, -EINVAL, "empty entry" },
	{ K("mount.allowed"), "ext 4", NULL, -EINVAL, "invalid filesystem type 'ext 4'" },
	{ K("mount.allowed"), "ext4;rm", NULL, -EINVAL, "invalid filesystem type" },
	{ K("mount.allowed"), "ext4,ext4", NULL, -EINVAL, "listed twice" },
	{ K("mount.allowed"), "ext4=fuse2fs", NULL, -EINVAL, "invalid filesystem type" },
	{ K("mount.allowed"), "", NULL, 0, NULL },
	/* mount.fuse */
	{ K("mount.fuse"), "ext4=fuse2fs", "ext4=fuse2fs", 0, NULL },
	{ K("mount.fuse"), " ext4 = fuse2fs , xfs=/usr/bin/xfuse ", "ext4=fuse2fs,xfs=/usr/bin/xfuse", 0, NULL },
	{ K("mount.fuse"), "ext4", NULL, -EINVAL, "filesystem=fuse-binary" },
	{ K("mount.fuse"), "ext4=", NULL, -EINVAL, "invalid FUSE binary" },
	{ K("mount.fuse"), "=fuse2fs", NULL, -EINVAL, "invalid filesystem type" },
	{ K("mount.fuse"), "ext4=fuse2fs,", NULL, -EINVAL, "empty entry" },
	{ K("mount.fuse"), "ext4=fuse 2fs", NULL, -EINVAL, "invalid FUSE binary" },
	{ K("mount.fuse"), "ext4=a=b", NULL, -EINVAL, "invalid FUSE binary" },
	{ K("mount.fuse"), "ext4=fuse2fs,ext4=other", NULL, -EINVAL, "listed twice" },
};

static void test_config_normalize_value_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *c = &value_cases[i];
		struct icd_error err = { 0 };
		char *out = (char *)"untouched";
		int key = config_key_lookup(c->key), r;

		assert_true(key >= 0);
		r = config_normalize_value(key, c->value, &out, &err);
		if (r != c->error)
			print_error("case %zu: '%s'='%s': got %d want %d (%s)\n", i, c->key, c->value, r,
				    c->error, err.msg);
		assert_int_equal(r, c->error);
		if (c->error) {
			assert_string_equal(out, "untouched");
			const char *part = c->message_part ? c->message_part : "";

			if (!strstr(err.msg, part))
				print_error("case %zu: message '%s' lacks '%s'\n", i, err.msg, part);
			assert_non_null(strstr(err.msg, part));
			continue;
		}
		if (c->expect) {
			assert_non_null(out);
			assert_string_equal(out, c->expect);
		} else {
			assert_null(out);
		}
		free(out);
	}
}

static void test_config_key_lookup_unknown(void **state)
{
	(void)state;
	assert_int_equal(config_key_lookup("security.syscalls.intercept.mknod"), CONFIG_MKNOD);
	assert_int_equal(config_key_lookup("security.syscalls.intercept.bpf.devices"),
			 CONFIG_BPF_DEVICES);
	assert_int_equal(config_key_lookup("security.syscalls.intercept.foo"), -ENOENT);
	assert_int_equal(config_key_lookup("security.syscalls.intercept.MKNOD"), -ENOENT);
	assert_int_equal(config_key_lookup("user.foo"), -ENOENT);
	assert_int_equal(config_key_lookup(""), -ENOENT);
	assert_int_equal(config_key_lookup(NULL), -ENOENT);
}

static void test_config_key_table_complete(void **state)
{
	(void)state;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		assert_non_null(config_keys[i].name);
		assert_non_null(config_keys[i].description);
		assert_int_equal(strncmp(config_keys[i].name, CONFIG_KEY_PREFIX,
					 strlen(CONFIG_KEY_PREFIX)), 0);
		/* keys without traps of their own always apply live */
		if (!config_keys[i].syscalls)
			assert_true(config_keys[i].is_live);
	}
}

static void test_config_new_cross_key_conflict(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct icd_error err = { 0 };
	struct config *cfg = NULL;

	(void)state;
	values[CONFIG_MOUNT] = "true";
	values[CONFIG_MOUNT_ALLOWED] = "ext4,xfs";
	values[CONFIG_MOUNT_FUSE] = "ext4=fuse2fs";
	assert_int_equal(config_new(values, &cfg, &err), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "'ext4'"));
	assert_non_null(strstr(err.msg, "mount.allowed"));
	assert_non_null(strstr(err.msg, "mount.fuse"));
}

static void test_config_new_parses_lists(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct config *cfg = NULL;

	(void)state;
	values[CONFIG_MKNOD] = "Yes";
	values[CONFIG_SYSINFO] = "off";
	values[CONFIG_MOUNT_ALLOWED] = "xfs, btrfs";
	values[CONFIG_MOUNT_FUSE] = "ext4=fuse2fs";
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	assert_true(config_enabled(cfg, CONFIG_MKNOD));
	assert_false(config_enabled(cfg, CONFIG_SYSINFO));
	assert_string_equal(cfg->values[CONFIG_SYSINFO], "false");
	assert_int_equal(cfg->n_mount_allowed, 2);
	assert_true(config_mount_fs_allowed(cfg, "btrfs"));
	assert_false(config_mount_fs_allowed(cfg, "ext4"));
	assert_string_equal(config_mount_fuse_binary(cfg, "ext4"), "fuse2fs");
	assert_null(config_mount_fuse_binary(cfg, "xfs"));
	assert_int_equal(config_trapped_keys(cfg), 1u << CONFIG_MKNOD);
	config_unref(cfg);
}

static void test_config_mount_type_refusal(void **state)
{
	static const char *const emulated[] = { "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat",
						"exfat", "ntfs3", "f2fs", "iso9660", "udf",
						"squashfs", "erofs", "hugetlbfs" };
	static const char *const refused[] = { "proc", "sysfs", "tmpfs", "devpts", "mqueue",
					       "cgroup", "cgroup2", "fuse", "overlay", "nfs",
					       "cifs", "fuseblk", "ntfs", "bpf", "Ext4" };

	(void)state;
	for (size_t i = 0; i < sizeof(emulated) / sizeof(emulated[0]); i++)
		assert_null(config_mount_type_refusal(emulated[i]));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!config_mount_type_refusal(refused[i]))
			fail_msg("'%s' is not refused", refused[i]);
	assert_non_null(strstr(config_mount_type_refusal("proc"), "host's namespaces"));
	assert_non_null(strstr(config_mount_type_refusal("nfs"), "host's network"));
}

/* Stored by an older version: loads, is reported, is never emulated, still conflicts. */
static void test_config_refused_type_loads_never_emulated(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT_ALLOWED] = "ext4,proc" };
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	struct config *other = NULL;
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	assert_true(config_mount_fs_allowed(cfg, "ext4"));
	assert_false(config_mount_fs_allowed(cfg, "proc"));
	assert_int_equal(config_check_mount_allowed(cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'proc' refused"));
	values[CONFIG_MOUNT_FUSE] = "proc=procfuse";
	assert_int_equal(config_new(values, &other, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'proc' is in both"));
}

static void test_config_ref_counting(void **state)
{
	struct config *cfg = config_new_empty();

	(void)state;
	assert_non_null(cfg);
	assert_ptr_equal(config_ref(cfg), cfg);
	assert_int_equal(atomic_load(&cfg->n_ref), 2);
	assert_null(config_unref(cfg));
	assert_int_equal(atomic_load(&cfg->n_ref), 1);
	assert_null(config_unref(cfg));
	assert_null(config_unref(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_normalize_value_table),
		cmocka_unit_test(test_config_key_lookup_unknown),
		cmocka_unit_test(test_config_key_table_complete),
		cmocka_unit_test(test_config_new_cross_key_conflict),
		cmocka_unit_test(test_config_new_parses_lists),
		cmocka_unit_test(test_config_mount_type_refusal),
		cmocka_unit_test(test_config_refused_type_loads_never_emulated),
		cmocka_unit_test(test_config_ref_counting),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
