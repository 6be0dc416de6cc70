/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/macro.h"

/*
 * Human-readable detail for a failed parse or validation. Fixed size so that
 * filling it never allocates. Only api/ renders it.
 */
struct icd_error {
	int code;      /* negative errno */
	char msg[256]; /* names the offending key, field or value */
};

/* Fill @reterr (may be NULL) and return @code, which must be a negative errno. */
int icd_error_set(struct icd_error *reterr, int code, const char *fmt, ...) _printf_(3, 4);
