/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seccomp policy generation from a config snapshot: the list of rules, and
 * its rendering as an LXC v2 policy file and as an OCI linux.seccomp object.
 * Pure functions plus one atomic file write; called from the API thread.
 */
#include <inttypes.h>
#include <linux/mount.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "daemon/fileio.h"
#include "daemon/store/policy.h"

#define S_IFMT_MASK 0170000u
#define S_IFCHR_BITS 0020000u
#define S_IFBLK_BITS 0060000u
/*
 * A mount(2) carrying any of these flags is left to the kernel untrapped: it
 * makes no new superblock (path_mount() dispatches remount, bind, move and
 * propagation changes first), or carries a bit of the kernel's own superblock
 * flags that no mount tool passes. Per-mount flags of a new mount (ro, nosuid,
 * nodev, noexec, nosymfollow, the atime modes) must stay out: the handler
 * emulates such mounts with the flag applied. MS_PRIVATE and MS_SLAVE cannot
 * be in the mask: they are bits of MS_MGC_VAL, which old callers still pass
 * with every mount; they trap and the handler answers CONTINUE.
 */
#define MOUNT_NOT_NEW_SB_MASK                                                                      \
	((uint64_t)(MS_REMOUNT | MS_BIND | MS_MOVE | MS_UNBINDABLE | MS_SHARED | MS_SUBMOUNT |      \
		    MS_NOREMOTELOCK | MS_NOSEC | MS_BORN))
#define SECCOMP_NEW_LISTENER_FLAG 8u
/* bpf(2)'s command is an int */
#define BPF_CMD_MASK UINT64_C(0xFFFFFFFF)
#define UMOUNT_MNT_FORCE 1u

/*
 * The protections of LXC's default profile (common.seccomp: reject_force_umount,
 * kexec_load, open_by_handle_at and the module calls, all EPERM but the force
 * umount's EACCES), plus the kernel keyring, which is not namespaced (Docker's
 * default denies it too). reject_force_umount is LXC's name for the umount2 rule.
 */
static const struct policy_rule deny_list[] = {
	{ .syscall = "umount2", .action = POLICY_ACTION_ERRNO, .errno_value = EACCES,
	  .has_arg = true, .arg_index = 1, .op = POLICY_OP_MASKED_EQ, .mask = UMOUNT_MNT_FORCE,
	  .value = UMOUNT_MNT_FORCE },
	{ .syscall = "kexec_load", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "open_by_handle_at", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "init_module", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "finit_module", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "delete_module", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "keyctl", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "add_key", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
	{ .syscall = "request_key", .action = POLICY_ACTION_ERRNO, .errno_value = EPERM },
};

const struct policy_rule *policy_deny_list(size_t *ret_n)
{
	*ret_n = ARRAY_SIZE(deny_list);
	return deny_list;
}

static void add(struct policy_rule *rules, size_t *n, struct policy_rule rule)
{
	if (*n < POLICY_MAX_RULES)
		rules[(*n)++] = rule;
}

static void add_notify_masked(struct policy_rule *rules, size_t *n, const char *syscall,
			      unsigned idx, uint64_t mask, uint64_t value)
{
	add(rules, n, (struct policy_rule){ .syscall = syscall, .action = POLICY_ACTION_NOTIFY,
					    .has_arg = true, .arg_index = idx,
					    .op = POLICY_OP_MASKED_EQ, .mask = mask, .value = value });
}

static void add_notify_eq(struct policy_rule *rules, size_t *n, const char *syscall, unsigned idx,
			  uint64_t value)
{
	add(rules, n, (struct policy_rule){ .syscall = syscall, .action = POLICY_ACTION_NOTIFY,
					    .has_arg = true, .arg_index = idx, .op = POLICY_OP_EQ,
					    .value = value });
}

static void add_plain(struct policy_rule *rules, size_t *n, const char *syscall,
		      enum policy_action action, int err)
{
	add(rules, n, (struct policy_rule){ .syscall = syscall, .action = action,
					    .errno_value = err });
}

size_t policy_rules(const struct config *cfg, struct policy_rule rules[static POLICY_MAX_RULES])
{
	size_t n = 0;

	/* a container must never install a notifier of its own beside ours */
	add(rules, &n, (struct policy_rule){ .syscall = "seccomp", .action = POLICY_ACTION_ERRNO,
					     .errno_value = EINVAL, .has_arg = true, .arg_index = 1,
					     .op = POLICY_OP_MASKED_EQ,
					     .mask = SECCOMP_NEW_LISTENER_FLAG,
					     .value = SECCOMP_NEW_LISTENER_FLAG });
	if (config_enabled(cfg, CONFIG_MKNOD)) {
		/* only device nodes trap; files, FIFOs and sockets never reach us */
		add_notify_masked(rules, &n, "mknod", 1, S_IFMT_MASK, S_IFCHR_BITS);
		add_notify_masked(rules, &n, "mknod", 1, S_IFMT_MASK, S_IFBLK_BITS);
		add_notify_masked(rules, &n, "mknodat", 2, S_IFMT_MASK, S_IFCHR_BITS);
		add_notify_masked(rules, &n, "mknodat", 2, S_IFMT_MASK, S_IFBLK_BITS);
	}
	if (config_enabled(cfg, CONFIG_SETXATTR)) {
		/* the only value we emulate, "y", has size 1 */
		add_notify_eq(rules, &n, "setxattr", 3, 1);
		add_notify_eq(rules, &n, "lsetxattr", 3, 1);
		add_notify_eq(rules, &n, "fsetxattr", 3, 1);
	}
	if (config_enabled(cfg, CONFIG_SCHED_SETSCHEDULER))
		add_plain(rules, &n, "sched_setscheduler", POLICY_ACTION_NOTIFY, 0);
	if (config_enabled(cfg, CONFIG_SYSINFO))
		add_plain(rules, &n, "sysinfo", POLICY_ACTION_NOTIFY, 0);
	if (config_enabled(cfg, CONFIG_MOUNT)) {
		add_notify_masked(rules, &n, "mount", 3, MOUNT_NOT_NEW_SB_MASK, 0);
		/* ENOSYS makes libmount fall back to mount(2), which we can trap */
		add_plain(rules, &n, "fsopen", POLICY_ACTION_ERRNO, ENOSYS);
		add_plain(rules, &n, "fsconfig", POLICY_ACTION_ERRNO, ENOSYS);
	}
	if (config_enabled(cfg, CONFIG_BPF)) {
		/* the kernel reads the command as an int: the high half must not dodge the trap */
		add_notify_masked(rules, &n, "bpf", 0, BPF_CMD_MASK, 5 /* BPF_PROG_LOAD */);
		add_notify_masked(rules, &n, "bpf", 0, BPF_CMD_MASK, 8 /* BPF_PROG_ATTACH */);
		add_notify_masked(rules, &n, "bpf", 0, BPF_CMD_MASK, 9 /* BPF_PROG_DETACH */);
		/* runc and crun query first; a link attaches without any capability */
		add_notify_masked(rules, &n, "bpf", 0, BPF_CMD_MASK, 16 /* BPF_PROG_QUERY */);
		add_notify_masked(rules, &n, "bpf", 0, BPF_CMD_MASK, 28 /* BPF_LINK_CREATE */);
	}
	return n;
}

static void render_lxc_rule(FILE *f, const struct policy_rule *r)
{
	if (r->action == POLICY_ACTION_NOTIFY)
		fprintf(f, "%s notify", r->syscall);
	else
		fprintf(f, "%s errno %d", r->syscall, r->errno_value);
	if (r->has_arg && r->op == POLICY_OP_EQ)
		fprintf(f, " [%u,%" PRIu64 ",SCMP_CMP_EQ]", r->arg_index, r->value);
	else if (r->has_arg)
		fprintf(f, " [%u,%" PRIu64 ",SCMP_CMP_MASKED_EQ,%" PRIu64 "]", r->arg_index,
			r->value, r->mask);
	fputc('\n', f);
}

char *policy_render_lxc(const struct config *cfg)
{
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules), size = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	fputs("2\ndenylist\n[all]\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(deny_list); i++)
		render_lxc_rule(f, &deny_list[i]);
	for (size_t i = 0; i < n; i++)
		render_lxc_rule(f, &rules[i]);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

json_t *policy_oci_arg(unsigned index, const char *op, uint64_t value, uint64_t value_two)
{
	return json_pack("{s:i, s:I, s:I, s:s}", "index", (int)index, "value", (json_int_t)value,
			 "valueTwo", (json_int_t)value_two, "op", op);
}

json_t *policy_rule_to_oci(const struct policy_rule *r)
{
	_cleanup_(json_decrefp) json_t *o = json_pack(
		"{s:[s], s:s}", "names", r->syscall, "action",
		r->action == POLICY_ACTION_NOTIFY ? "SCMP_ACT_NOTIFY" : "SCMP_ACT_ERRNO");

	if (!o)
		return NULL;
	if (r->action == POLICY_ACTION_ERRNO &&
	    json_object_set_new(o, "errnoRet", json_integer(r->errno_value)) < 0)
		return NULL;
	if (r->has_arg) {
		/* OCI MASKED_EQ: value is the mask, valueTwo the expected result */
		bool masked = r->op == POLICY_OP_MASKED_EQ;
		json_t *arg = policy_oci_arg(r->arg_index, masked ? "SCMP_CMP_MASKED_EQ" : "SCMP_CMP_EQ",
					     masked ? r->mask : r->value, masked ? r->value : 0);

		if (json_object_set_new(o, "args", json_pack("[o]", arg)) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

static json_t *oci_architectures(void)
{
	json_t *a = json_array();

	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64:
		json_array_append_new(a, json_string("SCMP_ARCH_X86_64"));
		json_array_append_new(a, json_string("SCMP_ARCH_X86"));
		json_array_append_new(a, json_string("SCMP_ARCH_X32"));
		break;
	case SCMP_ARCH_AARCH64:
		json_array_append_new(a, json_string("SCMP_ARCH_AARCH64"));
		json_array_append_new(a, json_string("SCMP_ARCH_ARM"));
		break;
	default:
		break; /* the runtime then uses only the native architecture */
	}
	return a;
}

/* Append the OCI form of each rule to @syscalls; -ENOMEM on the first failure. */
static int append_oci_rules(json_t *syscalls, const struct policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(syscalls, policy_rule_to_oci(&rules[i])) < 0)
			return -ENOMEM;
	return 0;
}

json_t *policy_render_oci(const struct config *cfg, const char *listener_path, const char *name)
{
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules);
	json_t *syscalls = json_array();

	if (!syscalls || append_oci_rules(syscalls, deny_list, ARRAY_SIZE(deny_list)) < 0 ||
	    append_oci_rules(syscalls, rules, n) < 0) {
		json_decref(syscalls);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:s, s:s, s:o}", "defaultAction", "SCMP_ACT_ALLOW",
			 "architectures", oci_architectures(), "listenerPath", listener_path,
			 "listenerMetadata", name, "syscalls", syscalls);
}

int policy_write_lxc_file(int dir_fd, const char *name, const struct config *cfg)
{
	_cleanup_free_ char *text = policy_render_lxc(cfg);

	if (!text)
		return -ENOMEM;
	/* checked at every start and on every change, and usually the same already */
	if (file_has_content(dir_fd, name, text, strlen(text)) > 0)
		return 0;
	/* derived from the durable state and rewritten at every start: no fsync needed */
	return write_file_atomic(dir_fd, name, text, strlen(text), 0600, 0);
}
