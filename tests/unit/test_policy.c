/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for seccomp policy generation, rule by rule, in both renderings. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include <cmocka.h>

#include "daemon/store/policy.h"
#include "handlers/mount.h"
#include "seccomp_eval.h"

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
	{ CONFIG_MOUNT, "mount notify [3,0,SCMP_CMP_MASKED_EQ,1007824928]\n"
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

/* ---- which mount(2) calls trap, in each rendering ---- */

static const struct {
	uint64_t flags;
	bool traps;
} mount_cases[] = {
	{ 0, true },
	{ MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, true },
	/* a new superblock with a per-mount flag: emulated with MOUNT_ATTR_NOSYMFOLLOW */
	{ MS_NOSYMFOLLOW, true },
	{ MS_NOSYMFOLLOW | MS_RDONLY | MS_NODEV, true },
	{ MS_MGC_VAL | MS_NOSYMFOLLOW, true },
	{ MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME | MS_SILENT | MS_NOATIME | MS_NODIRATIME, true },
	{ MS_RELATIME | MS_STRICTATIME | MS_I_VERSION | MS_POSIXACL | MS_MANDLOCK, true },
	{ MS_MGC_VAL, true },
	/* no new superblock: the kernel's business */
	{ MS_REMOUNT, false },
	{ MS_REMOUNT | MS_BIND | MS_NOSYMFOLLOW, false },
	{ MS_BIND, false },
	{ MS_BIND | MS_REC | MS_NOSYMFOLLOW, false },
	{ MS_MOVE, false },
	{ MS_MGC_VAL | MS_MOVE, false },
	{ MS_SHARED, false },
	{ MS_UNBINDABLE | MS_REC, false },
};

static bool rule_traps(const struct policy_rule *r, uint64_t flags)
{
	/* the kernel runs the action when (arg & mask) == value */
	return (flags & r->mask) == r->value;
}

/* @r decides every case of mount_cases as the table says; @what names the rendering. */
static void assert_mount_cases(const struct policy_rule *r, const char *what)
{
	for (size_t i = 0; i < ARRAY_SIZE(mount_cases); i++)
		if (rule_traps(r, mount_cases[i].flags) != mount_cases[i].traps)
			fail_msg("%s: flags %#" PRIx64 ": %s", what, mount_cases[i].flags,
				 mount_cases[i].traps ? "not trapped" : "trapped");
}

static const struct policy_rule *mount_rule(const struct policy_rule *rules, size_t n)
{
	const struct policy_rule *mount = NULL;

	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].syscall, "mount") == 0) {
			assert_null(mount); /* one rule: the tests below read it alone */
			mount = &rules[i];
		}
	assert_non_null(mount);
	assert_int_equal(mount->arg_index, 3);
	assert_int_equal(mount->op, POLICY_OP_MASKED_EQ);
	return mount;
}

static void test_policy_mount_mask_traps_only_new_superblocks(void **state)
{
	struct config *cfg = cfg_with(CONFIG_MOUNT);
	struct policy_rule rules[POLICY_MAX_RULES];
	const struct policy_rule *mount = mount_rule(rules, policy_rules(cfg, rules));

	(void)state;
	assert_mount_cases(mount, "policy_rules()");
	config_unref(cfg);
}

/* The rule as LXC reads it from the policy file: [index,value,op,mask]. */
static void test_policy_lxc_mount_line_traps_only_new_superblocks(void **state)
{
	struct config *cfg = cfg_with(CONFIG_MOUNT);
	char *text = policy_render_lxc(cfg);
	const char *line = text ? strstr(text, "\nmount notify [") : NULL;
	struct policy_rule r = { .op = POLICY_OP_MASKED_EQ };

	(void)state;
	assert_non_null(line);
	assert_int_equal(sscanf(line, "\nmount notify [%u,%" SCNu64 ",SCMP_CMP_MASKED_EQ,%" SCNu64 "]",
				&r.arg_index, &r.value, &r.mask),
			 3);
	assert_int_equal(r.arg_index, 3);
	assert_mount_cases(&r, "LXC");
	free(text);
	config_unref(cfg);
}

/* The OCI rendering compiled with libseccomp, as runc and crun do, and run. */
static void test_policy_oci_mount_filter_traps_only_new_superblocks(void **state)
{
	struct config *cfg = cfg_with(CONFIG_MOUNT);
	json_t *o = policy_render_oci(cfg, "/x.sock", "c4");
	struct compiled *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	assert_int_equal(eval_compile(o, p), 0);
	for (size_t i = 0; i < ARRAY_SIZE(mount_cases); i++) {
		const uint64_t args[6] = { 0, 0, 0, mount_cases[i].flags, 0, 0 };
		uint32_t want = mount_cases[i].traps ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW;

		if (eval_call(p, "mount", args) != want)
			fail_msg("OCI: flags %#" PRIx64 ": %s", mount_cases[i].flags,
				 mount_cases[i].traps ? "not trapped" : "trapped");
	}
	free(p);
	json_decref(o);
	config_unref(cfg);
}

/*
 * Filter and handler agree, flag by flag: a flag with which path_mount() still
 * makes a new superblock, and which the handler therefore emulates, traps.
 * The kernel's own superblock bits (MS_SUBMOUNT to MS_BORN), which no mount
 * tool passes, are left to the kernel on purpose.
 */
static void test_policy_mount_traps_every_flag_the_handler_emulates(void **state)
{
	const uint64_t kernel_internal = MS_SUBMOUNT | MS_NOREMOTELOCK | MS_NOSEC | MS_BORN;
	struct config *cfg = cfg_with(CONFIG_MOUNT);
	struct policy_rule rules[POLICY_MAX_RULES];
	const struct policy_rule *mount = mount_rule(rules, policy_rules(cfg, rules));

	(void)state;
	for (unsigned bit = 0; bit < 32; bit++) {
		const uint64_t flags = UINT64_C(1) << bit;
		const bool is_new_sb = mount_creates_superblock(mount_flags_strip_magic(flags));

		if (flags & kernel_internal)
			continue;
		if (is_new_sb && !rule_traps(mount, flags))
			fail_msg("flag %#" PRIx64 " makes a new superblock but is not trapped", flags);
	}
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
		cmocka_unit_test(test_policy_lxc_mount_line_traps_only_new_superblocks),
		cmocka_unit_test(test_policy_oci_mount_filter_traps_only_new_superblocks),
		cmocka_unit_test(test_policy_mount_traps_every_flag_the_handler_emulates),
		cmocka_unit_test(test_policy_render_oci_mknod),
		cmocka_unit_test(test_policy_render_oci_deny_list),
		cmocka_unit_test(test_policy_render_oci_bpf_and_setxattr_args),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
