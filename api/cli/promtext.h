/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/macro.h"

/*
 * The per-container part of the daemon's Prometheus exposition (GET
 * /1.0/metrics), read back for `interceptctl metrics`: listeners, answers by
 * outcome, and the latency histogram of each syscall. Families and labels are
 * the daemon's (README, Metrics); other families are skipped. Pure.
 */

enum prom_outcome {
	PROM_EMULATED,
	PROM_CONTINUED,
	PROM_ERRNO,
	PROM_UNREGISTERED,
	PROM_OUTCOME_COUNT,
};

/* Finite histogram bounds kept per syscall; the daemon has 12. */
#define PROM_BUCKETS_MAX 32

struct prom_syscall {
	char *name; /* owned */
	uint64_t outcomes[PROM_OUTCOME_COUNT];
	uint64_t count; /* interceptd_syscall_duration_seconds_count */
	double sum;	/* seconds */
	size_t n_buckets;
	double le[PROM_BUCKETS_MAX];	       /* ascending finite bounds */
	uint64_t cumulative[PROM_BUCKETS_MAX]; /* samples <= le[i] */
};

struct prom_container {
	char *name; /* owned */
	unsigned listeners_lxc, listeners_oci;
	struct prom_syscall *syscalls; /* owned, in the order first seen */
	size_t n_syscalls;
};

struct prom_summary {
	struct prom_container *containers; /* owned, in the order first seen */
	size_t n_containers;
};

/*
 * Parse @text (NUL-terminated). Returns 0, -ENOMEM, or -EBADMSG for a sample
 * line of one of the daemon's families that does not parse (*ret_line gets
 * its 1-based number; may be NULL). Fills *ret only on success.
 */
int prom_parse(const char *text, struct prom_summary *ret, size_t *ret_line);

void prom_summary_clear(struct prom_summary *s);

/* The container named @name, or NULL. */
const struct prom_container *prom_find(const struct prom_summary *s, const char *name);

/* Answers counted for @s, all outcomes. */
uint64_t prom_answers(const struct prom_syscall *s);

/*
 * An upper bound of the @q quantile (0 < q <= 1) of @s's latencies: the
 * bound of the first bucket holding that rank. INFINITY when it lies past the
 * last finite bound; NAN without samples.
 */
double prom_quantile_bound(const struct prom_syscall *s, double q);
