/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/error.h"

/* Request bodies larger than this are refused with 413 (Incus parity). */
#define JSON_BODY_MAX ((size_t)1024 * 1024)

/*
 * Parse a request body: bounded by JSON_BODY_MAX, duplicate keys rejected,
 * the top level must be an object. Errors (-EINVAL, -EMSGSIZE) carry line and
 * column in @reterr. On success *ret holds a new reference.
 */
int json_body_parse(const char *buf, size_t len, json_t **ret, struct icd_error *reterr);

/* A JSON type name for messages ("string", "object", "null", ...). */
const char *json_type_name(const json_t *j);

/* RFC 3339 UTC text ("2024-01-02T03:04:05Z") for @t as a new JSON string. */
json_t *json_time(int64_t t);
