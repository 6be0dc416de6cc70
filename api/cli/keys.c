/* SPDX-License-Identifier: Apache-2.0 */
/* Short and full configuration keys (keys.h). Pure; no state. */
#include <stdio.h>
#include <string.h>

#include "api/cli/keys.h"
#include "daemon/macro.h"

char *keys_expand(const char *key)
{
	char *full = NULL;

	if (strncmp(key, "security.", strlen("security.")) == 0)
		return strdup(key);
	if (asprintf(&full, "%s%s", KEY_PREFIX, key) < 0)
		return NULL;
	return full;
}

const char *keys_shorten(const char *key)
{
	size_t n = strlen(KEY_PREFIX);

	return strncmp(key, KEY_PREFIX, n) == 0 && key[n] ? key + n : key;
}

int keys_parse_assignment(const char *arg, char **ret_key, const char **ret_value)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *key = NULL;

	if (!eq || eq == arg)
		return -EINVAL;
	key = strndup(arg, (size_t)(eq - arg));
	if (!key)
		return -ENOMEM;
	*ret_key = keys_expand(key);
	if (!*ret_key)
		return -ENOMEM;
	*ret_value = eq + 1;
	return 0;
}
