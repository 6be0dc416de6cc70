/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profile expansion (profile.h). Pure apart from profile_expand(), which
 * reads the profiles registry (its lock, then each profile's lock, one at a
 * time). Called from the store's writer threads and the intake thread.
 */
#include <string.h>

#include "daemon/escape.h"
#include "daemon/store/profile.h"
#include "daemon/strv.h"

int profile_expand_layers(struct config *const *layers, size_t n_layers, const struct config *own,
			  struct config **ret, struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT];

	if (n_layers == 0) {
		*ret = config_ref((struct config *)own);
		return 0;
	}
	for (size_t k = 0; k < CONFIG_KEY_COUNT; k++) {
		values[k] = own->values[k];
		/* the last profile that sets a key wins among profiles; own keys win over all */
		for (size_t i = n_layers; !values[k] && i > 0; i--)
			values[k] = layers[i - 1]->values[k];
	}
	return config_new(values, ret, reterr);
}

int profile_expand(struct registry *profiles, char *const *names, const struct config *own,
		   struct config **ret, struct icd_error *reterr)
{
	struct config *layers[CONTAINER_PROFILES_MAX];
	size_t n = 0;
	int r = 0;

	for (; names && names[n] && r >= 0; n++) {
		_cleanup_(container_unrefp) struct container *p = NULL;

		if (n == CONTAINER_PROFILES_MAX) {
			r = icd_error_set(reterr, -EINVAL, "more than %d profiles",
					  CONTAINER_PROFILES_MAX);
			break;
		}
		p = registry_get(profiles, names[n]);
		if (!p) {
			r = icd_error_set(reterr, -ENOENT, "profile '%s' not found",
					  ESCAPED(names[n], CONTAINER_NAME_MAX));
			break;
		}
		layers[n] = container_config_get(p);
	}
	if (r >= 0)
		r = profile_expand_layers(layers, n, own, ret, reterr);
	for (size_t i = 0; i < n && layers[i]; i++)
		config_unref(layers[i]);
	return r;
}

int profile_names_check(char *const *names, struct icd_error *reterr)
{
	size_t n = strv_length(names);

	if (n > CONTAINER_PROFILES_MAX)
		return icd_error_set(reterr, -EINVAL, "more than %d profiles", CONTAINER_PROFILES_MAX);
	for (size_t i = 0; i < n; i++) {
		if (!container_name_valid(names[i]))
			return icd_error_set(reterr, -EINVAL, "invalid profile name '%s'",
					     ESCAPED(names[i], CONTAINER_NAME_MAX));
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return icd_error_set(reterr, -EINVAL, "profile '%s' listed twice",
						     names[i]);
	}
	return 0;
}

int profile_names_from_json(const json_t *arr, char ***ret, struct icd_error *reterr)
{
	_cleanup_strv_free_ char **names = NULL;
	size_t i, n = json_array_size(arr);
	json_t *v;
	int r;

	if (arr && !json_is_null(arr) && !json_is_array(arr))
		return icd_error_set(reterr, -EINVAL,
				     "field 'profiles' must be an array of profile names");
	if (n > CONTAINER_PROFILES_MAX)
		return icd_error_set(reterr, -EINVAL, "field 'profiles': more than %d profiles",
				     CONTAINER_PROFILES_MAX);
	names = n ? calloc(n + 1, sizeof(*names)) : NULL;
	if (n && !names)
		return -ENOMEM;
	json_array_foreach((json_t *)arr, i, v) {
		if (!json_is_string(v))
			return icd_error_set(reterr, -EINVAL,
					     "field 'profiles' must hold profile names (strings)");
		if (!(names[i] = strdup(json_string_value(v))))
			return -ENOMEM;
	}
	r = profile_names_check(names, reterr);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(names);
	return 0;
}
