/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "daemon/config.h"

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

/* The LXC seccomp policy file (version 2, denylist). Returns malloc'd text or NULL. */
char *policy_render_lxc(const struct config *cfg);

/*
 * The OCI linux.seccomp object: defaultAction ALLOW, the native and compat
 * architectures, listenerPath, listenerMetadata = @name, and the rules.
 * Returns a new reference or NULL.
 */
json_t *policy_render_oci(const struct config *cfg, const char *listener_path, const char *name);

/*
 * Write @cfg's LXC policy to @name inside @dir_fd atomically (temp, fsync,
 * rename, fsync dir), mode 0600. Returns 0 or a negative errno.
 */
int policy_write_lxc_file(int dir_fd, const char *name, const struct config *cfg);
