/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for seccomp policy generation, rule by rule, in both renderings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/store/policy.h"

static struct config *cfg_with(enum config_key key)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct config *cfg = NULL;

	if (key < CONFIG_KEY_COUNT)
		values[key] = "true";
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

/* The exact LXC policy text for each key switched on alone. */
static const struct {
	enum config_key key;
	const char *rules;
} lxc_cases[] = {
	{ CONFIG_KEY_COUNT, "" },
	{ CONFIG_MKNOD, "mknod notify [1,8192,SCMP_CMP_MASKED_EQ,61440]\n"
			"mknod notify [1,24576,SCMP_CMP_MASKED_EQ,61440]\n"
			"mknodat notify [2,8192,SCMP_CMP_MASKED_EQ,61440]\n"
			"mknodat notify [2,24576,SCMP_CMP_MASKED_EQ,61440]\n" },
	{ CONFIG_SETXATTR, "setxattr notify [3,1,SCMP_CMP_EQ]\n"
			   "lsetxattr notify [3,1,SCMP_CMP_EQ]\n"
			   "fsetxattr notify [3,1,SCMP_CMP_EQ]\n" },
	{ CONFIG_SCHED_SETSCHEDULER, "sched_setscheduler notify\n" },
	{ CONFIG_SYSINFO, "sysinfo notify\n" },
	{ CONFIG_MOUNT, "mount notify [3,0,SCMP_CMP_MASKED_EQ,1007825696]\n"
			"fsopen errno 38\n"
			"fsconfig errno 38\n" },
	{ CONFIG_BPF, "bpf notify [0,5,SCMP_CMP_MASKED_EQ,4294967295]\n"
		      "bpf notify [0,8,SCMP_CMP_MASKED_EQ,4294967295]\n"
		      "bpf notify [0,9,SCMP_CMP_MASKED_EQ,4294967295]\n"
		      "bpf notify [0,16,SCMP_CMP_MASKED_EQ,4294967295]\n"
		      "bpf notify [0,28,SCMP_CMP_MASKED_EQ,4294967295]\n" },
	/* keys without traps of their own add nothing */
	{ CONFIG_MOUNT_SHIFT, "" },
	{ CONFIG_BPF_DEVICES, "" },
};

/* LXC's common.seccomp (reject_force_umount written out), the keyring, our guard */
#define LXC_HEADER                                                                                 \
	"2\ndenylist\n[all]\n"                                                                     \
	"umount2 errno 13 [1,1,SCMP_CMP_MASKED_EQ,1]\n"                                            \
	"kexec_load errno 1\nopen_by_handle_at errno 1\ninit_module errno 1\n"                     \
	"finit_module errno 1\ndelete_module errno 1\n"                                            \
	"keyctl errno 1\nadd_key errno 1\nrequest_key errno 1\n"                                   \
	"seccomp errno 22 [1,8,SCMP_CMP_MASKED_EQ,8]\n"

static void test_policy_render_lxc_per_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lxc_cases) / sizeof(lxc_cases[0]); i++) {
		struct config *cfg = cfg_with(lxc_cases[i].key);
		char *text = policy_render_lxc(cfg), expect[1024];

		snprintf(expect, sizeof(expect), "%s%s", LXC_HEADER, lxc_cases[i].rules);
		assert_non_null(text);
		assert_string_equal(text, expect);
		free(text);
		config_unref(cfg);
	}
}

static void test_policy_mount_mask_traps_only_new_superblocks(void **state)
{
	struct config *cfg = cfg_with(CONFIG_MOUNT);
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules);
	const struct policy_rule *mount = NULL;

	(void)state;
	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].syscall, "mount") == 0)
			mount = &rules[i];
	assert_non_null(mount);
	/* the kernel traps when (flags & mask) == value */
#define TRAPS(flags) (((uint64_t)(flags) & mount->mask) == mount->value)
	assert_true(TRAPS(0));
	assert_true(TRAPS(0x1 /* MS_RDONLY */ | 0x2 /* MS_NOSUID */ | 0x4 | 0x8));
	assert_true(TRAPS(0xC0ED0000u /* MS_MGC_VAL */));
	assert_false(TRAPS(0x20 /* MS_REMOUNT */));
	assert_false(TRAPS(0x1000 /* MS_BIND */));
	assert_false(TRAPS(0x1000 | 0x4000 /* MS_BIND|MS_REC */));
	assert_false(TRAPS(0x2000 /* MS_MOVE */));
	assert_false(TRAPS(0x100000 /* MS_SHARED */));
	assert_false(TRAPS(0x20000 /* MS_UNBINDABLE */));
#undef TRAPS
	config_unref(cfg);
}

static json_t *find_rule(json_t *syscalls, const char *name, size_t nth)
{
	size_t i;
	json_t *r;

	json_array_foreach(syscalls, i, r) {
		json_t *names = json_object_get(r, "names");

		if (strcmp(json_string_value(json_array_get(names, 0)), name) == 0 && nth-- == 0)
			return r;
	}
	return NULL;
}

static void test_policy_render_oci_mknod(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MKNOD] = "1", [CONFIG_SYSINFO] = "on" };
	struct config *cfg = NULL;
	json_t *o, *sys, *r, *arg;

	(void)state;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	o = policy_render_oci(cfg, "/run/interceptd/oci.sock", "c1");
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "defaultAction")), "SCMP_ACT_ALLOW");
	assert_string_equal(json_string_value(json_object_get(o, "listenerPath")),
			    "/run/interceptd/oci.sock");
	assert_string_equal(json_string_value(json_object_get(o, "listenerMetadata")), "c1");
	/* runc 1.1 rejects any flags key */
	assert_null(json_object_get(o, "flags"));
	sys = json_object_get(o, "syscalls");
	/* 9 deny-list rules + seccomp guard + 4 mknod + 1 sysinfo */
	assert_int_equal(json_array_size(sys), 15);
	r = find_rule(sys, "mknodat", 1);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_NOTIFY");
	arg = json_array_get(json_object_get(r, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "index")), 2);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 0170000);
	assert_int_equal(json_integer_value(json_object_get(arg, "valueTwo")), 0060000);
	assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ");
	r = find_rule(sys, "sysinfo", 0);
	assert_non_null(r);
	assert_null(json_object_get(r, "args"));
	r = find_rule(sys, "seccomp", 0);
	assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(r, "errnoRet")), 22);
	assert_null(find_rule(sys, "setxattr", 0));
	json_decref(o);
	config_unref(cfg);
}

/* The OCI policy carries the same deny list as the LXC one, as ERRNO rules. */
static void test_policy_render_oci_deny_list(void **state)
{
	struct config *cfg = cfg_with(CONFIG_KEY_COUNT);
	json_t *o = policy_render_oci(cfg, "/x.sock", "c3"), *sys = json_object_get(o, "syscalls"), *r;
	static const char *const eperm[] = { "kexec_load", "open_by_handle_at", "init_module",
					     "finit_module", "delete_module", "keyctl", "add_key",
					     "request_key" };

	(void)state;
	for (size_t i = 0; i < sizeof(eperm) / sizeof(eperm[0]); i++) {
		r = find_rule(sys, eperm[i], 0);
		assert_non_null(r);
		assert_string_equal(json_string_value(json_object_get(r, "action")), "SCMP_ACT_ERRNO");
		assert_int_equal(json_integer_value(json_object_get(r, "errnoRet")), 1);
		assert_null(json_object_get(r, "args"));
	}
	/* reject_force_umount: umount2 with MNT_FORCE gets EACCES */
	r = find_rule(sys, "umount2", 0);
	assert_int_equal(json_integer_value(json_object_get(r, "errnoRet")), 13);
	r = json_array_get(json_object_get(r, "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "index")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "value")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "valueTwo")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "op")), "SCMP_CMP_MASKED_EQ");
	json_decref(o);
	config_unref(cfg);
}

static void test_policy_render_oci_bpf_and_setxattr_args(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_BPF] = "true", [CONFIG_SETXATTR] = "true" };
	struct config *cfg = NULL;
	json_t *o, *sys, *arg;

	(void)state;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	o = policy_render_oci(cfg, "/x.sock", "c2");
	sys = json_object_get(o, "syscalls");
	for (size_t i = 0; i < 5; i++) {
		/* load, attach, detach, query (runc and crun ask first), link_create */
		static const int cmds[] = { 5, 8, 9, 16, 28 };

		arg = json_array_get(json_object_get(find_rule(sys, "bpf", i), "args"), 0);
		/* the kernel reads the command as an int: the mask takes the low half */
		assert_int_equal(json_integer_value(json_object_get(arg, "index")), 0);
		assert_int_equal(json_integer_value(json_object_get(arg, "value")), 0xFFFFFFFF);
		assert_int_equal(json_integer_value(json_object_get(arg, "valueTwo")), cmds[i]);
		assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ");
	}
	arg = json_array_get(json_object_get(find_rule(sys, "fsetxattr", 0), "args"), 0);
	assert_int_equal(json_integer_value(json_object_get(arg, "index")), 3);
	assert_int_equal(json_integer_value(json_object_get(arg, "value")), 1);
	json_decref(o);
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_render_lxc_per_key),
		cmocka_unit_test(test_policy_mount_mask_traps_only_new_superblocks),
		cmocka_unit_test(test_policy_render_oci_mknod),
		cmocka_unit_test(test_policy_render_oci_deny_list),
		cmocka_unit_test(test_policy_render_oci_bpf_and_setxattr_args),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
