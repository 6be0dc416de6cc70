/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "daemon/error.h"
#include "daemon/store/config.h"
#include "daemon/store/store.h"

/*
 * JSON-level validation of request bodies on top of config_normalize_value()
 * and config_new(). Every error is -EINVAL with a message naming the field,
 * key or value. Pure functions, callable from any thread.
 */

/* -EINVAL unless @name is a valid container name ([a-z0-9][a-z0-9._-]{0,62}). */
int validate_container_name(const char *name, struct icd_error *reterr);

/*
 * POST /1.0/containers: {"name": string, "config"?: {key: string}}.
 * On success *ret_name points into @body and *ret_cfg is a new reference.
 */
int validate_create(const json_t *body, const char **ret_name, struct config **ret_cfg,
		    struct icd_error *reterr);

/*
 * The optional "profiles" field of a container body: an array of at most
 * CONTAINER_PROFILES_MAX distinct profile names. *ret_present says whether
 * the body names it; *ret is the list (NULL when empty or absent; free with
 * strv_free()). Whether the profiles exist is for the store to check.
 */
int validate_profile_list(const json_t *body, bool *ret_present, char ***ret,
			  struct icd_error *reterr);

/* PUT: {"config": {key: string}} replaces the whole config ("" leaves a key unset). */
int validate_put(const json_t *body, struct config **ret_cfg, struct icd_error *reterr);

/*
 * PATCH: {"config": {key: string|null}}: the keys it names, each value
 * normalized, NULL for a key set to "" or null (removed). Whether the merged
 * result holds together is for the store to check, against the configuration
 * the patch applies to. On success *ret owns the values.
 */
int validate_patch(const json_t *body, struct store_patch *ret, struct icd_error *reterr);
