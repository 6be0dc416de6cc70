/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "daemon/macro.h"

/*
 * Human-readable detail for a failed parse or validation. Fixed size so that
 * filling it never allocates. Only api/ renders it.
 */
struct icd_error {
	int code;      /* negative errno */
	char msg[256]; /* names the offending key, field or value */
};

/* vsnprintf() into @dst, cut (when it must be) on a whole UTF-8 character. */
void icd_vformat(char *dst, size_t size, const char *fmt, va_list ap) _printf_(3, 0);

/* Fill @reterr (may be NULL) and return @code, which must be a negative errno. */
int icd_error_set(struct icd_error *reterr, int code, const char *fmt, ...) _printf_(3, 4);
