/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>

#include "daemon/store/config.h"
#include "daemon/error.h"

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

/* PUT: {"config": {key: string}} replaces the whole config ("" leaves a key unset). */
int validate_put(const json_t *body, struct config **ret_cfg, struct icd_error *reterr);

/*
 * PATCH: {"config": {key: string|null}} merged into @current; a key set to ""
 * or null is removed. The merged result is checked as a whole.
 */
int validate_patch(const json_t *body, const struct config *current, struct config **ret_cfg,
		   struct icd_error *reterr);
