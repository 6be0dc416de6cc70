/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>

/* Syscalls counted separately; everything else is "other". */
enum metrics_syscall {
	METRICS_SYSCALL_MKNOD,
	METRICS_SYSCALL_MKNODAT,
	METRICS_SYSCALL_SETXATTR,
	METRICS_SYSCALL_LSETXATTR,
	METRICS_SYSCALL_FSETXATTR,
	METRICS_SYSCALL_SCHED_SETSCHEDULER,
	METRICS_SYSCALL_SYSINFO,
	METRICS_SYSCALL_MOUNT,
	METRICS_SYSCALL_BPF,
	METRICS_SYSCALL_OTHER,
	METRICS_SYSCALL_COUNT,
};

enum metrics_outcome {
	METRICS_OUTCOME_EMULATED,
	METRICS_OUTCOME_CONTINUED,
	METRICS_OUTCOME_ERRNO,
	METRICS_OUTCOME_UNREGISTERED,
	METRICS_OUTCOME_COUNT,
};

/* Histogram upper bounds from 5 µs to 1 s; a final +Inf bucket is implicit. */
#define METRICS_BUCKET_COUNT 14
extern const double metrics_bucket_bounds[METRICS_BUCKET_COUNT];

struct syscall_metrics {
	atomic_uint_fast64_t outcomes[METRICS_OUTCOME_COUNT];
	atomic_uint_fast64_t buckets[METRICS_BUCKET_COUNT + 1]; /* not cumulative */
	atomic_uint_fast64_t sum_ns;
};

/* Lock-free per-container counters; workers record with relaxed atomics. */
struct container_metrics {
	struct syscall_metrics syscalls[METRICS_SYSCALL_COUNT];
};

const char *metrics_syscall_name(enum metrics_syscall s);
const char *metrics_outcome_name(enum metrics_outcome o);
/* Map a libseccomp syscall name to its counter slot. */
enum metrics_syscall metrics_syscall_from_name(const char *name);

/* Record one answered notification. Thread-safe, lock-free, no allocation. */
void metrics_record(struct container_metrics *m, enum metrics_syscall s, enum metrics_outcome o,
		    uint64_t duration_ns);

/* Daemon-wide API counters (method × status code), lock-free. */
void metrics_api_request(const char *method, unsigned status);

/* The API counters' table: methods (the last is every other one) × status codes. */
#define METRICS_API_METHOD_COUNT 6
#define METRICS_API_CODE_COUNT 12 /* 11 known codes, the last slot counts any other */

/* "GET", ..., "OTHER" */
const char *metrics_api_method_name(size_t method);
/* The HTTP status of column @code, or 0 for the "other" column. */
unsigned metrics_api_code(size_t code);
/* Requests answered with (@method, @code) so far. Any thread. */
uint64_t metrics_api_count(size_t method, size_t code);
