/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "daemon/error.h"
#include "daemon/store/registry.h"

/*
 * Profiles: named sets of the same keys a container has, applied in order
 * before the container's own keys. A profile is kept as a struct container
 * in a registry of its own (name, config, revision, ETag, the same locking);
 * it has no listeners and no profiles itself.
 *
 * Expansion turns a container's profile names and own keys into the one
 * configuration workers read: for each key, the container's own value when
 * set, else the value of the last profile in the list that sets it. The
 * result is checked as a whole (config_new()), so a combination that breaks
 * a cross-key rule is refused where it is made.
 */

/*
 * The expansion of @own over @layers (profile configurations, in order). On
 * success *ret holds a new reference (@own itself when there are no layers).
 * Pure.
 */
int profile_expand_layers(struct config *const *layers, size_t n_layers, const struct config *own,
			  struct config **ret, struct icd_error *reterr);

/*
 * The same with the profiles @names (NULL-terminated or NULL) looked up in
 * @profiles as published now: -ENOENT naming the first that is not there.
 * Thread-safe.
 */
int profile_expand(struct registry *profiles, char *const *names, const struct config *own,
		   struct config **ret, struct icd_error *reterr);

/*
 * Check a profile list from a request or a state file: valid names, none
 * twice, at most CONTAINER_PROFILES_MAX. -EINVAL with a message. Pure.
 */
int profile_names_check(char *const *names, struct icd_error *reterr);

/*
 * The profile names of JSON array @arr (NULL or null: none) as a
 * NULL-terminated vector in *ret (NULL when empty; free with strv_free()),
 * checked as profile_names_check() does. -EINVAL with a message naming the
 * "profiles" field. Pure.
 */
int profile_names_from_json(const json_t *arr, char ***ret, struct icd_error *reterr);
