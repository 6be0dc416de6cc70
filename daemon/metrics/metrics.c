/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interception and API counters. Workers record with relaxed atomics and
 * never take a lock, nor does the API thread counting its requests; render.c
 * reads whatever values are there, which is what a scrape expects.
 */
#include <inttypes.h>
#include <string.h>

#include "daemon/macro.h"
#include "daemon/metrics/metrics.h"

const double metrics_bucket_bounds[METRICS_BUCKET_COUNT] = {
	5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 2.5e-2, 0.1, 0.25, 1.0,
};
static const uint64_t bucket_ns[METRICS_BUCKET_COUNT] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 10000000, 25000000, 100000000, 250000000, 1000000000,
};

static const char *const syscall_names[METRICS_SYSCALL_COUNT] = {
	[METRICS_SYSCALL_MKNOD] = "mknod",
	[METRICS_SYSCALL_MKNODAT] = "mknodat",
	[METRICS_SYSCALL_SETXATTR] = "setxattr",
	[METRICS_SYSCALL_LSETXATTR] = "lsetxattr",
	[METRICS_SYSCALL_FSETXATTR] = "fsetxattr",
	[METRICS_SYSCALL_SCHED_SETSCHEDULER] = "sched_setscheduler",
	[METRICS_SYSCALL_SYSINFO] = "sysinfo",
	[METRICS_SYSCALL_MOUNT] = "mount",
	[METRICS_SYSCALL_BPF] = "bpf",
	[METRICS_SYSCALL_OTHER] = "other",
};

static const char *const outcome_names[METRICS_OUTCOME_COUNT] = {
	[METRICS_OUTCOME_EMULATED] = "emulated",
	[METRICS_OUTCOME_CONTINUED] = "continued",
	[METRICS_OUTCOME_ERRNO] = "errno",
	[METRICS_OUTCOME_UNREGISTERED] = "unregistered",
};

const char *metrics_syscall_name(enum metrics_syscall s)
{
	return s < METRICS_SYSCALL_COUNT ? syscall_names[s] : "other";
}

const char *metrics_outcome_name(enum metrics_outcome o)
{
	return o < METRICS_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

enum metrics_syscall metrics_syscall_from_name(const char *name)
{
	for (size_t i = 0; name && i < METRICS_SYSCALL_OTHER; i++)
		if (strcmp(name, syscall_names[i]) == 0)
			return (enum metrics_syscall)i;
	return METRICS_SYSCALL_OTHER;
}

void metrics_record(struct container_metrics *m, enum metrics_syscall s, enum metrics_outcome o,
		    uint64_t duration_ns)
{
	struct syscall_metrics *sm;
	size_t b = 0;

	if (!m || s >= METRICS_SYSCALL_COUNT || o >= METRICS_OUTCOME_COUNT)
		return;
	sm = &m->syscalls[s];
	while (b < METRICS_BUCKET_COUNT && duration_ns > bucket_ns[b])
		b++;
	atomic_fetch_add_explicit(&sm->outcomes[o], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sm->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sm->sum_ns, duration_ns, memory_order_relaxed);
}

/* API requests: a small fixed table of methods × status codes. */
static const char *const api_methods[METRICS_API_METHOD_COUNT] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "OTHER",
};
static const unsigned api_codes[METRICS_API_CODE_COUNT - 1] = {
	200, 201, 400, 403, 404, 405, 409, 412, 413, 500, 503,
};
static atomic_uint_fast64_t api_counts[METRICS_API_METHOD_COUNT][METRICS_API_CODE_COUNT];

void metrics_api_request(const char *method, unsigned status)
{
	size_t m = ARRAY_SIZE(api_methods) - 1, c = ARRAY_SIZE(api_codes);

	for (size_t i = 0; method && i + 1 < ARRAY_SIZE(api_methods); i++)
		if (strcmp(method, api_methods[i]) == 0)
			m = i;
	for (size_t i = 0; i < ARRAY_SIZE(api_codes); i++)
		if (api_codes[i] == status)
			c = i;
	atomic_fetch_add_explicit(&api_counts[m][c], 1, memory_order_relaxed);
}

const char *metrics_api_method_name(size_t method)
{
	return method < METRICS_API_METHOD_COUNT ? api_methods[method] : "OTHER";
}

unsigned metrics_api_code(size_t code)
{
	return code < ARRAY_SIZE(api_codes) ? api_codes[code] : 0;
}

uint64_t metrics_api_count(size_t method, size_t code)
{
	if (method >= METRICS_API_METHOD_COUNT || code >= METRICS_API_CODE_COUNT)
		return 0;
	return atomic_load_explicit(&api_counts[method][code], memory_order_relaxed);
}
