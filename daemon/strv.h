/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/macro.h"

/*
 * NULL-terminated arrays of malloc'd strings ("string vectors"), as the
 * profile names of a container. A NULL vector is an empty one everywhere.
 */

/* Free @v and its strings. Returns NULL. */
char **strv_free(char **v);
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *v);

/* A deep copy of @v (NULL for an empty one). Returns 0 or -ENOMEM. */
int strv_copy(char *const *v, char ***ret);

bool strv_contains(char *const *v, const char *s);

/* Do @a and @b hold the same strings in the same order? */
bool strv_equal(char *const *a, char *const *b);
