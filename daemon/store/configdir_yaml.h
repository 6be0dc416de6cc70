/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "daemon/error.h"

/*
 * One YAML document of mappings, sequences and scalars as JSON, every scalar
 * a string (config values are strings: "true" and true mean the same). No
 * anchors or aliases, at most a few levels deep: enough for a profile file,
 * and nothing a hostile file can blow up. -EINVAL with a message, or
 * -EOPNOTSUPP when interceptd was built without libyaml. Pure.
 */
int configdir_yaml_to_json(const char *buf, size_t len, json_t **ret, struct icd_error *reterr);
