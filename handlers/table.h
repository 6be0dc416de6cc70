/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/store/config.h"
#include "handlers/handler.h"

/* What the worker needs to know about a trapped syscall. */
struct handler_entry {
	const char *name;         /* libseccomp's name: also what metrics count it under */
	handler_fn *fn;           /* NULL: we trap it but emulate nothing (CONTINUE) */
	enum config_key key;      /* the key that must be on to call fn */
	/*
	 * The answer when fn does not decide (its key is off, the container is
	 * not registered, fn failed, the LXC deadline passed): 0 for CONTINUE,
	 * the kernel deciding with the caller's own rights; else this negative
	 * errno, for a syscall whose kernel answer would grant the caller more
	 * than its container may have.
	 */
	int undecided_errno;
};

/* Room for the table's entries: callers may size per-entry arrays with it. */
#define HANDLER_TABLE_MAX 32

/*
 * Resolve every handled syscall's number for the native and compat
 * architectures with libseccomp. Call once from the main thread before
 * workers start. Returns 0 or a negative errno.
 */
int handler_table_init(void);

/* The entry for (@arch, @nr) as the kernel reports them in seccomp_data, or NULL. */
const struct handler_entry *handler_lookup(uint32_t arch, int nr);

/* How many entries the table has (at most HANDLER_TABLE_MAX). */
size_t handler_table_size(void);

/* Entry @index (< handler_table_size()). */
const struct handler_entry *handler_table_entry(size_t index);

/* The index of @e in the table: a plain slot for per-syscall arrays (e.g. metrics series). */
size_t handler_index(const struct handler_entry *e);
