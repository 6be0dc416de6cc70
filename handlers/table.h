/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "daemon/store/config.h"
#include "daemon/metrics/metrics.h"
#include "handlers/handler.h"

/* What the worker needs to know about a trapped syscall. */
struct handler_entry {
	const char *name;
	handler_fn *fn;           /* NULL: we trap it but emulate nothing (CONTINUE) */
	enum config_key key;      /* the key that must be on to call fn */
	enum metrics_syscall slot;
};

/*
 * Resolve every handled syscall's number for the native and compat
 * architectures with libseccomp. Call once from the main thread before
 * workers start. Returns 0 or a negative errno.
 */
int handler_table_init(void);

/* The entry for (@arch, @nr) as the kernel reports them in seccomp_data, or NULL. */
const struct handler_entry *handler_lookup(uint32_t arch, int nr);
