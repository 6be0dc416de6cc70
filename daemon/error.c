/* SPDX-License-Identifier: Apache-2.0 */
/* Filling struct icd_error; safe from any thread, no allocation. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/error.h"
#include "daemon/escape.h"

void icd_vformat(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, size, fmt, ap);

	/* a message cut to fit must not end in half a character: API replies are UTF-8 */
	if (n >= (int)size)
		dst[escape_utf8_boundary(dst, size - 1)] = '\0';
}

int icd_error_set(struct icd_error *reterr, int code, const char *fmt, ...)
{
	va_list ap;

	if (!reterr)
		return code;
	reterr->code = code;
	va_start(ap, fmt);
	icd_vformat(reterr->msg, sizeof(reterr->msg), fmt, ap);
	va_end(ap);
	return code;
}
