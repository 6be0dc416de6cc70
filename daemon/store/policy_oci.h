/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "daemon/error.h"

/*
 * Reading an OCI linux.seccomp object (runtime-spec config-linux.md
 * "seccomp") the way runc and crun read it. Pure functions, any thread.
 */

/* A rule's action as the filter sees it: name and, for ERRNO and TRACE, the errno. */
struct oci_action {
	const char *name;	/* SCMP_ACT_KILL is given as SCMP_ACT_KILL_THREAD */
	json_int_t errno_value;	/* errnoRet, EPERM when absent (runc and crun); 0 for others */
};

/* The action of @obj from its @action_key and @errno_key fields ("action", "errnoRet"). */
struct oci_action oci_action_of(const json_t *obj, const char *action_key, const char *errno_key);

bool oci_action_equal(struct oci_action a, struct oci_action b);

/* true for SCMP_ACT_ALLOW and SCMP_ACT_LOG: the call runs. */
bool oci_action_allows(struct oci_action a);

/* true when @args (an OCI args array) tests one index twice: runc and crun then OR them. */
bool oci_args_repeat_index(const json_t *args);

/*
 * Check that @seccomp is an OCI linux.seccomp object a runtime accepts:
 * known fields only, the right types, known actions, comparisons and
 * architectures, at most 6 comparisons per rule, no SCMP_ACT_NOTIFY (a filter
 * has one listener). Docker's seccomp.json format and a whole config.json are
 * named as such. Returns 0 or -EINVAL with the field path in @reterr.
 */
int oci_seccomp_check(const json_t *seccomp, struct icd_error *reterr);
