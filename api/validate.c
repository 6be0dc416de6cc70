/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request-body validation for the container routes. Works on the parsed JSON
 * only and builds a config snapshot with config_new(), which normalizes the
 * values and checks the cross-key rules, or, for a PATCH, the normalized
 * values it sets (the store checks them against the configuration they
 * change). No locks, no I/O.
 */
#include <string.h>

#include "api/json.h"
#include "api/validate.h"
#include "daemon/store/profile.h"
#include "daemon/store/container.h"
#include "daemon/escape.h"

int validate_container_name(const char *name, struct icd_error *reterr)
{
	if (!container_name_valid(name))
		return icd_error_set(reterr, -EINVAL,
				     "invalid container name '%s': expected [a-z0-9][a-z0-9._-]{0,62}",
				     ESCAPED(name, 64));
	return 0;
}

/* Reject top-level fields other than those in @allowed (NULL-terminated). */
static int check_fields(const json_t *body, const char *const *allowed, struct icd_error *reterr)
{
	const char *field;
	json_t *v;

	json_object_foreach((json_t *)body, field, v) {
		bool known = false;

		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, field) == 0;
		if (!known)
			return icd_error_set(reterr, -EINVAL, "unknown field '%s'", ESCAPED(field, 64));
	}
	return 0;
}

/*
 * Copy the string values of @config into @values (pointers into @config) and
 * mark them in @is_set (may be NULL). With @allow_null, a null value clears
 * the key (PATCH).
 */
static int collect_values(const json_t *config, const char *values[CONFIG_KEY_COUNT],
			  bool *is_set, bool allow_null, struct icd_error *reterr)
{
	const char *key;
	json_t *v;

	if (!json_is_object(config))
		return icd_error_set(reterr, -EINVAL, "field 'config' must be an object, not %s",
				     json_type_name(config));
	json_object_foreach((json_t *)config, key, v) {
		int k = config_key_lookup(key);

		if (k < 0)
			return icd_error_set(reterr, -EINVAL, "unknown configuration key '%s'",
					     ESCAPED(key, 128));
		if (is_set)
			is_set[k] = true;
		if (json_is_null(v) && allow_null) {
			values[k] = NULL;
			continue;
		}
		if (!json_is_string(v))
			return icd_error_set(reterr, -EINVAL,
					     "configuration key '%s' must be a string, not %s", key,
					     json_type_name(v));
		values[k] = json_string_value(v);
	}
	return 0;
}

/*
 * Build the snapshot; mount.allowed, when this request sets it, may name only
 * types interceptd emulates. A value stored before that rule is left alone
 * (it loads, but is never emulated), so PATCHing another key still works.
 */
static int build_config(const json_t *config, const char *const values[CONFIG_KEY_COUNT],
			struct config **ret_cfg, struct icd_error *reterr)
{
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	int r;

	r = config_new(values, &cfg, reterr);
	if (r < 0)
		return r;
	if (json_is_string(json_object_get(config, config_keys[CONFIG_MOUNT_ALLOWED].name))) {
		r = config_check_mount_allowed(cfg, reterr);
		if (r < 0)
			return r;
	}
	*ret_cfg = TAKE_PTR(cfg);
	return 0;
}

int validate_create(const json_t *body, const char **ret_name, struct config **ret_cfg,
		    struct icd_error *reterr)
{
	static const char *const fields[] = { "name", "config", "profiles", NULL };
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	json_t *name = json_object_get(body, "name"), *config = json_object_get(body, "config");
	int r;

	r = check_fields(body, fields, reterr);
	if (r < 0)
		return r;
	if (!name)
		return icd_error_set(reterr, -EINVAL, "missing field 'name'");
	if (!json_is_string(name))
		return icd_error_set(reterr, -EINVAL, "field 'name' must be a string, not %s",
				     json_type_name(name));
	r = validate_container_name(json_string_value(name), reterr);
	if (r < 0)
		return r;
	if (config) {
		r = collect_values(config, values, NULL, false, reterr);
		if (r < 0)
			return r;
	}
	r = build_config(config, values, ret_cfg, reterr);
	if (r < 0)
		return r;
	*ret_name = json_string_value(name);
	return 0;
}

int validate_profile_list(const json_t *body, bool *ret_present, char ***ret,
			  struct icd_error *reterr)
{
	json_t *list = json_object_get(body, "profiles");

	*ret_present = list != NULL;
	return profile_names_from_json(list, ret, reterr);
}

/*
 * PUT and PATCH bodies: exactly {"config": {...}}, its values collected into
 * @values and @is_set as collect_values() does.
 */
static int config_body(const json_t *body, const char *values[CONFIG_KEY_COUNT], bool *is_set,
		       bool allow_null, struct icd_error *reterr)
{
	static const char *const fields[] = { "config", "profiles", NULL };
	json_t *config;
	int r = check_fields(body, fields, reterr);

	if (r < 0)
		return r;
	config = json_object_get(body, "config");
	/* a container's profiles alone may change: its own keys stay as they are (or none, PUT) */
	if (!config && json_object_get(body, "profiles"))
		return 0;
	if (!config)
		return icd_error_set(reterr, -EINVAL, "missing field 'config'");
	return collect_values(config, values, is_set, allow_null, reterr);
}

int validate_put(const json_t *body, struct config **ret_cfg, struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	int r = config_body(body, values, NULL, false, reterr);

	if (r < 0)
		return r;
	return build_config(json_object_get(body, "config"), values, ret_cfg, reterr);
}

int validate_patch(const json_t *body, struct store_patch *ret, struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	bool is_set[CONFIG_KEY_COUNT] = { 0 };
	struct store_patch p = { 0 };
	int r = config_body(body, values, is_set, true, reterr);

	/* in key order, as a whole configuration would be checked */
	for (size_t i = 0; r >= 0 && i < CONFIG_KEY_COUNT; i++)
		if ((p.is_set[i] = is_set[i]) && values[i])
			r = config_normalize_value(i, values[i], &p.values[i], reterr);
	if (r < 0) {
		store_patch_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
