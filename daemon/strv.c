/* SPDX-License-Identifier: Apache-2.0 */
/* String vectors (strv.h). Pure, callable from any thread. */
#include <string.h>

#include "daemon/strv.h"

char **strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
	return NULL;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_copy(char *const *v, char ***ret)
{
	size_t n = strv_length(v);
	char **copy;

	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	copy = calloc(n + 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = strdup(v[i]))) {
			strv_free(copy);
			return -ENOMEM;
		}
	*ret = copy;
	return 0;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

bool strv_equal(char *const *a, char *const *b)
{
	size_t n = strv_length(a);

	if (n != strv_length(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}
