/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "daemon/store/config.h"

enum policy_action {
	POLICY_ACTION_NOTIFY,
	POLICY_ACTION_ERRNO,
};

enum policy_op {
	POLICY_OP_EQ,
	POLICY_OP_MASKED_EQ, /* (arg & mask) == value */
};

/* One seccomp rule: a syscall, an action and at most one argument filter. */
struct policy_rule {
	const char *syscall;
	enum policy_action action;
	int errno_value; /* POLICY_ACTION_ERRNO only */
	bool has_arg;
	unsigned arg_index;
	enum policy_op op;
	uint64_t value;
	uint64_t mask;
};

#define POLICY_MAX_RULES 32

/* The rules @cfg needs, in a stable order. Returns the number written to @rules. */
size_t policy_rules(const struct config *cfg, struct policy_rule rules[static POLICY_MAX_RULES]);

/*
 * interceptd's default deny list, the same in both renderings: LXC's
 * common.seccomp (force umount, kexec_load, open_by_handle_at, module
 * loading) plus keyctl, add_key and request_key. Returns a static table and
 * its length in *ret_n.
 */
const struct policy_rule *policy_deny_list(size_t *ret_n);

/*
 * The OCI form of one rule ({"names":[..],"action":..,"errnoRet"?,"args"?}),
 * or NULL on ENOMEM. Returns a new reference.
 */
json_t *policy_rule_to_oci(const struct policy_rule *r);

/* One OCI argument filter {"index","value","valueTwo","op"}; a new reference or NULL. */
json_t *policy_oci_arg(unsigned index, const char *op, uint64_t value, uint64_t value_two);

/*
 * The LXC seccomp policy file (version 2, denylist): the deny list, then the
 * rules of @cfg. Returns malloc'd text or NULL.
 */
char *policy_render_lxc(const struct config *cfg);

/*
 * The OCI linux.seccomp object: defaultAction ALLOW, the native and compat
 * architectures, listenerPath, listenerMetadata = @name, the deny list as
 * ERRNO rules, then the rules of @cfg.
 * Returns a new reference or NULL.
 */
json_t *policy_render_oci(const struct config *cfg, const char *listener_path, const char *name);

#define POLICY_MAX_WARNINGS 6
#define POLICY_WARNING_LEN 384

/* What a merge changed that its caller should hear about; fixed size, no malloc. */
struct policy_warnings {
	size_t n;
	char msg[POLICY_MAX_WARNINGS][POLICY_WARNING_LEN];
};

/* policy_merge_oci() @flags */
#define POLICY_MERGE_TRAP_DENIED (1u << 0) /* trap calls the base denies too */

/*
 * Merge @cfg's rules into @base, an OCI linux.seccomp object (a runtime's
 * default, Docker's or containerd's, a custom one): the trapped syscalls are
 * taken out of @base's rules and its behaviour for them kept wherever our
 * conditions do not match, so no rule of @base shadows ours; our rules are
 * added; listenerPath = @listener_path, listenerMetadata = @name;
 * defaultAction, architectures and the other rules are kept; flags is dropped.
 * A call @base denies (an ERRNO, KILL or TRAP rule, or a denying default) is
 * not trapped: it keeps @base's answer, by argument shape where the merge can
 * tell the shapes apart, else for the whole syscall. Our ERRNO rules (seccomp
 * with a listener, fsopen, fsconfig) replace only what @base lets run or
 * answers with an errno: its KILL, TRAP or TRACE stays the same way. With
 * POLICY_MERGE_TRAP_DENIED in @flags both are merged as for any base, and a
 * trapped call interceptd does not emulate then reaches the kernel.
 * The result is built with this host's libseccomp as a runtime builds it and
 * checked (policy_bpf_check()). On success *ret is a new reference and
 * @warnings (may be NULL) says what was dropped, weakened or left untrapped.
 * Bad input, a base rule for a trapped syscall that libseccomp would misread
 * once narrowed, or a merged profile libseccomp would build into a wrong
 * filter: -EINVAL with the reason in @reterr; a merge too large: -E2BIG;
 * -ENOMEM.
 */
int policy_merge_oci(const json_t *base, const struct config *cfg, const char *listener_path,
		     const char *name, unsigned flags, json_t **ret,
		     struct policy_warnings *warnings, struct icd_error *reterr);

/*
 * Write @cfg's LXC policy to @name inside @dir_fd atomically (temp, fsync,
 * rename, fsync dir), mode 0600. Returns 0 or a negative errno.
 */
int policy_write_lxc_file(int dir_fd, const char *name, const struct config *cfg);
