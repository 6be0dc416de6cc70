/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interception and API counters, and their Prometheus text rendering (0.0.4).
 * Workers record with relaxed atomics and never take a lock; the API thread
 * renders whatever values it reads, which is what a scrape expects.
 */
#include <inttypes.h>
#include <string.h>

#include "daemon/macro.h"
#include "daemon/metrics/metrics.h"

const double metrics_bucket_bounds[METRICS_BUCKET_COUNT] = {
	5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 2.5e-2, 0.1, 0.25, 1.0,
};
static const char *const bucket_labels[METRICS_BUCKET_COUNT] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.01", "0.025", "0.1", "0.25", "1",
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
static const char *const api_methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OTHER" };
static const unsigned api_codes[] = { 200, 201, 400, 403, 404, 405, 409, 412, 413, 500, 503 };
static atomic_uint_fast64_t api_counts[ARRAY_SIZE(api_methods)][ARRAY_SIZE(api_codes) + 1];

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

void metrics_write_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_write_counter(FILE *f, const char *name, const char *help, uint64_t value)
{
	metrics_write_family(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, value);
}

void metrics_write_label_value(FILE *f, const char *value)
{
	fputc('"', f);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*p, f);
	}
	fputc('"', f);
}

static void write_counts(FILE *f, const char *container, const struct container_metrics *m)
{
	for (size_t s = 0; s < METRICS_SYSCALL_COUNT; s++)
		for (size_t o = 0; o < METRICS_OUTCOME_COUNT; o++) {
			uint64_t v = atomic_load_explicit(&m->syscalls[s].outcomes[o],
							  memory_order_relaxed);

			if (!v)
				continue;
			fputs("interceptd_syscalls_total{container=", f);
			metrics_write_label_value(f, container);
			fprintf(f, ",syscall=\"%s\",outcome=\"%s\"} %" PRIu64 "\n", syscall_names[s],
				outcome_names[o], v);
		}
}

static void write_histogram(FILE *f, const char *container, const struct syscall_metrics *sm,
			    const char *syscall)
{
	uint64_t cumulative = 0;

	for (size_t b = 0; b <= METRICS_BUCKET_COUNT; b++) {
		cumulative += atomic_load_explicit(&sm->buckets[b], memory_order_relaxed);
		fputs("interceptd_syscall_duration_seconds_bucket{container=", f);
		metrics_write_label_value(f, container);
		fprintf(f, ",syscall=\"%s\",le=\"%s\"} %" PRIu64 "\n", syscall,
			b < METRICS_BUCKET_COUNT ? bucket_labels[b] : "+Inf", cumulative);
	}
	fputs("interceptd_syscall_duration_seconds_sum{container=", f);
	metrics_write_label_value(f, container);
	fprintf(f, ",syscall=\"%s\"} %.9f\n", syscall,
		(double)atomic_load_explicit(&sm->sum_ns, memory_order_relaxed) / 1e9);
	fputs("interceptd_syscall_duration_seconds_count{container=", f);
	metrics_write_label_value(f, container);
	fprintf(f, ",syscall=\"%s\"} %" PRIu64 "\n", syscall, cumulative);
}

void metrics_write_container(FILE *f, const char *container, const struct container_metrics *m,
			     int family)
{
	if (family == 0) {
		write_counts(f, container, m);
		return;
	}
	for (size_t s = 0; s < METRICS_SYSCALL_COUNT; s++) {
		const struct syscall_metrics *sm = &m->syscalls[s];
		uint64_t n = 0;

		for (size_t b = 0; b <= METRICS_BUCKET_COUNT; b++)
			n += atomic_load_explicit(&sm->buckets[b], memory_order_relaxed);
		if (n)
			write_histogram(f, container, sm, syscall_names[s]);
	}
}

void metrics_write_api(FILE *f)
{
	metrics_write_family(f, "interceptd_api_requests_total", "counter",
			     "API requests answered, by method and HTTP status code");
	for (size_t m = 0; m < ARRAY_SIZE(api_methods); m++)
		for (size_t c = 0; c <= ARRAY_SIZE(api_codes); c++) {
			uint64_t v = atomic_load_explicit(&api_counts[m][c], memory_order_relaxed);

			if (!v)
				continue;
			if (c < ARRAY_SIZE(api_codes))
				fprintf(f, "interceptd_api_requests_total{method=\"%s\",code=\"%u\"} %" PRIu64 "\n",
					api_methods[m], api_codes[c], v);
			else
				fprintf(f, "interceptd_api_requests_total{method=\"%s\",code=\"other\"} %" PRIu64 "\n",
					api_methods[m], v);
		}
}
