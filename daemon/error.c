/* SPDX-License-Identifier: Apache-2.0 */
/* Filling struct icd_error; safe from any thread, no allocation. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/error.h"
#include "daemon/escape.h"

int icd_error_set(struct icd_error *reterr, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!reterr)
		return code;
	reterr->code = code;
	va_start(ap, fmt);
	n = vsnprintf(reterr->msg, sizeof(reterr->msg), fmt, ap);
	va_end(ap);
	/* a message cut to fit must not end in half a character: API replies are UTF-8 */
	if (n >= (int)sizeof(reterr->msg))
		reterr->msg[escape_utf8_boundary(reterr->msg, sizeof(reterr->msg) - 1)] = '\0';
	return code;
}
