/* SPDX-License-Identifier: Apache-2.0 */
/* Filling struct icd_error; safe from any thread, no allocation. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/error.h"

int icd_error_set(struct icd_error *reterr, int code, const char *fmt, ...)
{
	va_list ap;

	if (!reterr)
		return code;
	reterr->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(reterr->msg, sizeof(reterr->msg), fmt, ap);
	va_end(ap);
	return code;
}
