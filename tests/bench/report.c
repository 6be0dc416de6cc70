/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's statistics, targets, tables and JSON output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "results.h"

/* ------------------------------------------------------------------ statistics */

int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* nearest-rank percentile of a sorted array */
size_t rank(size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return k ? k - 1 : 0;
}

double stat_median(const struct stat_set *s)
{
	double v[MAX_ROUNDS];

	if (s->n == 0)
		return NAN;
	memcpy(v, s->v, s->n * sizeof(double));
	qsort(v, s->n, sizeof(double), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

void stat_add(struct stat_set *s, double v)
{
	if (s->n < MAX_ROUNDS)
		s->v[s->n++] = v;
}

double ms_percentile(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	return (double)v[rank(n, p)] / 1e6;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------ one latency round */

struct target {
	char name[64];
	double value, limit;
	bool at_most; /* value <= limit passes; else value >= limit */
	const char *skip; /* non-NULL: could not be evaluated */
	const char *fail; /* non-NULL: the daemon failed the measurement itself */
};

#define MAX_TARGETS 40

bool any_skipped(const struct bench *b)
{
	for (unsigned i = 0; i < CASE_COUNT; i++)
		if (b->cr[i].skip[0] && i != CASE_FLOOR_NOSYNC)
			return true;
	for (unsigned w = 0; w < 2; w++)
		for (unsigned s = 0; s < N_FAN_SIZES; s++)
			if (b->fr[w][s].skip[0])
				return true;
	/* a case the daemon failed is not skipped: any_failed() says so */
	return !b->api.ran || !b->mem.ran || (!b->stall.ran && !b->stall.fail[0]) ||
	       (!b->burst.ran && !b->burst.fail[0]);
}

bool any_failed(const struct bench *b)
{
	if (b->stall.fail[0])
		fprintf(stderr, "bench: api-stall failed: %s\n", b->stall.fail);
	if (b->burst.fail[0])
		fprintf(stderr, "bench: api-burst failed: %s\n", b->burst.fail);
	return b->stall.fail[0] || b->burst.fail[0];
}

/* Against the bare round trip (x_floor). */
static double case_ratio(const struct bench *b, enum case_id id)
{
	return stat_median(&b->cr[id].med_us) / stat_median(&b->cr[CASE_FLOOR].med_us);
}

static double cpu_ratio(const struct bench *b, enum case_id id)
{
	return stat_median(&b->cr[id].cpu_us) / stat_median(&b->cr[CASE_FLOOR].cpu_us);
}

/* An interceptd case, or a native floor, which is its own floor. */
static bool has_own_floor(enum case_id id)
{
	return cases[id].daemon || cases[id].native;
}

/* A case against one of its floors, in latency and in CPU. */
static double floor_ratio(const struct bench *b, enum case_id id, enum case_id floor)
{
	return stat_median(&b->cr[id].med_us) / stat_median(&b->cr[floor].med_us);
}

static double floor_cpu_ratio(const struct bench *b, enum case_id id, enum case_id floor)
{
	return stat_median(&b->cr[id].cpu_us) / stat_median(&b->cr[floor].cpu_us);
}

/* A case against the floor that does the same safe steps (x_own; NAN for a supervisor floor). */
static double own_ratio(const struct bench *b, enum case_id id)
{
	return has_own_floor(id) ? floor_ratio(b, id, cases[id].own_floor) : NAN;
}

static double own_cpu_ratio(const struct bench *b, enum case_id id)
{
	return has_own_floor(id) ? floor_cpu_ratio(b, id, cases[id].own_floor) : NAN;
}

/* Why a case cannot be compared with the floor @floor, or NULL. */
static const char *floor_skip(const struct bench *b, enum case_id id, enum case_id floor)
{
	const char *skip = b->cr[floor].skip;

	return b->cr[id].skip[0] ? b->cr[id].skip : skip[0] ? skip : NULL;
}

static const char *own_skip(const struct bench *b, enum case_id id)
{
	return floor_skip(b, id, cases[id].own_floor);
}

/* Latency and CPU of @id, each within @limit times those of the floor @floor. */
static size_t floor_targets(const struct bench *b, enum case_id id, enum case_id floor,
			    double limit, struct target *t)
{
	const char *floor_name = cases[floor].name;

	t[0] = (struct target){ .value = floor_ratio(b, id, floor), .limit = limit,
				.at_most = true, .skip = floor_skip(b, id, floor) };
	t[1] = (struct target){ .value = floor_cpu_ratio(b, id, floor), .limit = limit,
				.at_most = true, .skip = floor_skip(b, id, floor) };
	(void)snprintf(t[0].name, sizeof(t[0].name), "%s median <= %.2fx %s", cases[id].name,
		       limit, floor_name);
	(void)snprintf(t[1].name, sizeof(t[1].name), "%s CPU/notification <= %.2fx %s's",
		       cases[id].name, limit, floor_name);
	return 2;
}

static size_t own_floor_targets(const struct bench *b, enum case_id id, double limit,
				struct target *t)
{
	return floor_targets(b, id, cases[id].own_floor, limit, t);
}

static const char *target_status(const struct target *t)
{
	if (t->fail)
		return "FAIL";
	if (t->skip || isnan(t->value))
		return "SKIP";
	return (t->at_most ? t->value <= t->limit : t->value >= t->limit) ? "PASS" : "FAIL";
}

/* A target of a load case: its value if the case ran; else skipped, or failed, and why. */
static struct target load_target(const char *name, double value, double limit, bool at_most,
				 bool ran, const char *skip, const char *fail)
{
	struct target t = { .value = ran ? value : NAN, .limit = limit, .at_most = at_most,
			    .skip = ran || fail[0] ? NULL : skip, .fail = fail[0] ? fail : NULL };

	(void)snprintf(t.name, sizeof(t.name), "%s", name);
	return t;
}

static struct target stall_target(const struct bench *b, const char *name, double value,
				  double limit, bool at_most)
{
	return load_target(name, value, limit, at_most, b->stall.ran, b->stall.skip, b->stall.fail);
}

static struct target burst_target(const struct bench *b, const char *name, double value,
				  double limit, bool at_most)
{
	return load_target(name, value, limit, at_most, b->burst.ran, b->burst.skip, b->burst.fail);
}

static size_t collect_targets(const struct bench *b, struct target *t)
{
	const struct fanin_result *f1 = b->fr[0], *fc = b->fr[1];
	const char *fan_skip = fc[2].skip[0] ? fc[2].skip : fc[1].skip[0] ? fc[1].skip : NULL;
	double worst_starve = INFINITY, worst_workers = INFINITY;
	const char *starve_skip = NULL, *workers_skip = NULL;
	size_t n = 0;

	for (unsigned w = 0; w < 2; w++)
		for (unsigned s = 1; s < N_FAN_SIZES; s++) {
			const struct fanin_result *r = &b->fr[w][s];
			double v = stat_median(&r->slowest) / stat_median(&r->mean);

			if (r->skip[0])
				starve_skip = r->skip;
			else if (v < worst_starve)
				worst_starve = v;
		}
	/* one listener is served by one thread either way: that size gets its own, noise-wide check */
	for (unsigned s = 1; s < N_FAN_SIZES; s++) {
		double v = stat_median(&fc[s].total) / stat_median(&f1[s].total);

		if (fc[s].skip[0] || f1[s].skip[0])
			workers_skip = fc[s].skip[0] ? fc[s].skip : f1[s].skip;
		else if (v < worst_workers)
			worst_workers = v;
	}
	n += own_floor_targets(b, CASE_CONTINUE, 1.05, t + n);
	n += own_floor_targets(b, CASE_SYSINFO, 1.1, t + n);
	n += own_floor_targets(b, CASE_MKNOD, 1.1, t + n);
	n += own_floor_targets(b, CASE_SETXATTR, 1.1, t + n);
	n += own_floor_targets(b, CASE_SCHED, 1.1, t + n);
	n += own_floor_targets(b, CASE_MOUNT, 1.1, t + n);
	n += floor_targets(b, CASE_MOUNT, CASE_FLOOR_MOUNT_NOTIFY, 1.1, t + n);
	n += own_floor_targets(b, CASE_BPF, 1.1, t + n);
	n += floor_targets(b, CASE_BPF, CASE_FLOOR_BPF_NOTIFY, 1.1, t + n);
	t[n++] = (struct target){ "fan-in 256 >= 0.8x of 16 (workers=CPUs)",
				  stat_median(&fc[2].total) / stat_median(&fc[1].total), 0.8, false,
				  fan_skip };
	t[n++] = (struct target){ "fan-in 256 >= 0.8x of 16 (workers=1)",
				  stat_median(&f1[2].total) / stat_median(&f1[1].total), 0.8, false,
				  f1[2].skip[0] ? f1[2].skip : f1[1].skip[0] ? f1[1].skip : NULL };
	t[n++] = (struct target){ "fan-in workers=CPUs / workers=1 >= 1 (worst of 16/256)",
				  isinf(worst_workers) ? NAN : worst_workers, 1.0, false, workers_skip };
	t[n++] = (struct target){ "fan-in workers=CPUs / workers=1 >= 0.95 (1 listener, noise)",
				  stat_median(&fc[0].total) / stat_median(&f1[0].total), 0.95, false,
				  fc[0].skip[0] ? fc[0].skip : f1[0].skip[0] ? f1[0].skip : NULL };
	t[n++] = (struct target){ "slowest listener >= 0.5x mean (worst of 16/256)",
				  isinf(worst_starve) ? NAN : worst_starve, 0.5, false, starve_skip };
	t[n++] = (struct target){ "PATCH p99 < 5 ms (16 busy listeners)",
				  b->api.ran ? b->api.patch_p99 : NAN, 5.0, true,
				  b->api.ran ? NULL : b->api.skip };
	t[n++] = (struct target){ "GET /1.0/metrics (1,000 containers) median < 20 ms",
				  b->api.ran ? b->api.metrics_med : NAN, 20.0, true,
				  b->api.ran ? NULL : b->api.skip };
	t[n++] = stall_target(b, "GET /1.0 p99 < 10 ms while a write waits on the disk",
			      b->stall.get_p99, 10.0, true);
	t[n++] = stall_target(b, "GET /1.0/metrics p99 < 10 ms while a write waits",
			      b->stall.metrics_p99, 10.0, true);
	t[n++] = burst_target(b, "burst of 500 connections: every one answered (share)",
			      (double)b->burst.answered / b->burst.n, 1.0, false);
	t[n++] = burst_target(b, "burst: daemon fds 1 s after <= before",
			      b->burst.fds_after - b->burst.fds_before, 0.0, true);
	t[n++] = (struct target){ "daemon RSS <= 64 MiB (containers + listeners)",
				  b->mem.ran ? b->mem.rss_mib : NAN, 64.0, true,
				  b->mem.ran ? NULL : b->mem.skip };
	return n;
}

static void print_load(const struct bench *b)
{
	const typeof(b->stall) *s = &b->stall;
	const typeof(b->burst) *u = &b->burst;

	if (s->ran)
		printf("api under a stalled write (disk frozen %u ms while a PATCH writes): GET /1.0 "
		       "median %.3f p99 %.3f max %.3f ms (%u requests) | metrics p99 %.3f ms | "
		       "PATCH refused (400) p99 %.3f ms | the stalled PATCH answered %+.0f ms after "
		       "the thaw (HTTP %ld), a PATCH of another container %+.0f ms (HTTP %ld)\n",
		       s->freeze_ms, s->get_med, s->get_p99, s->get_max, s->n_get, s->metrics_p99,
		       s->bad_patch_p99, s->stalled_after_thaw_ms, s->stalled_status,
		       s->other_after_thaw_ms, s->other_status);
	else if (s->fail[0])
		printf("api under a stalled write FAILED: %s\n", s->fail);
	else
		printf("api under a stalled write skipped: %s\n", s->skip);
	if (u->ran)
		printf("api under a burst of %u connections (GET /1.0): %u answered within 20 s "
		       "(median %.1f p99 %.1f max %.1f ms), %u refused at connect (backlog full), "
		       "%u unanswered, %u failed | a PATCH among them %.1f ms (HTTP %ld) | daemon "
		       "fds %d before, %d one second after\n",
		       u->n, u->answered, u->med, u->p99, u->max, u->refused, u->unanswered,
		       u->failed, u->patch_ms, u->patch_status, u->fds_before, u->fds_after);
	else if (!u->fail[0])
		printf("api under a burst skipped: %s\n", u->skip);
	if (u->fail[0])
		printf("api under a burst FAILED: %s\n", u->fail);
}

static void print_tables(const struct bench *b)
{
	printf("\n%-18s %10s %10s %10s %8s %12s %8s   %-18s %6s %6s\n", "case", "median_us",
	       "p99_us", "calls/s", "x_floor", "cpu_us/notif", "cpu_x", "own floor", "x_own",
	       "cpu_x");
	for (enum case_id id = 0; id < CASE_COUNT; id++) {
		const struct case_result *r = &b->cr[id];

		if (r->skip[0]) {
			printf("%-18s skipped: %s\n", cases[id].name, r->skip);
			continue;
		}
		printf("%-18s %10.2f %10.2f %10.0f %8.2f %12.2f %8.2f", cases[id].name,
		       stat_median(&r->med_us), stat_median(&r->p99_us), stat_median(&r->rate),
		       case_ratio(b, id), stat_median(&r->cpu_us), cpu_ratio(b, id));
		if (has_own_floor(id) && !own_skip(b, id))
			printf("   %-18s %6.2f %6.2f", cases[cases[id].own_floor].name,
			       own_ratio(b, id), own_cpu_ratio(b, id));
		printf("\n");
		/* a second floor (bpf: the supervisor doing the safe steps), on a line of its own */
		if (cases[id].safe_floor && !floor_skip(b, id, cases[id].safe_floor))
			printf("%-82s   %-18s %6.2f %6.2f\n", "", cases[cases[id].safe_floor].name,
			       floor_ratio(b, id, cases[id].safe_floor),
			       floor_cpu_ratio(b, id, cases[id].safe_floor));
	}
	printf("bpf, floor-bpf, floor-bpf-notify: a call is a load, an attach and a detach "
	       "(3 notifications when trapped; cpu_us/notif is per call); mount, floor-mount, "
	       "floor-mount-notify: a call is a mount and its umount\n");
	printf("\n%-10s %8s %12s %10s %12s %12s %9s\n", "fan-in", "workers", "total/s", "x_of_16",
	       "mean/s", "slowest/s", "slow/mean");
	for (unsigned s = 0; s < N_FAN_SIZES; s++)
		for (unsigned w = 0; w < 2; w++) {
			const struct fanin_result *r = &b->fr[w][s];
			unsigned workers = w ? b->cpus : 1;

			if (r->skip[0]) {
				printf("%-10u %8u skipped: %s\n", fan_sizes[s], workers, r->skip);
				continue;
			}
			printf("%-10u %8u %12.0f %10.2f %12.0f %12.0f %9.2f\n", fan_sizes[s], workers,
			       stat_median(&r->total),
			       stat_median(&r->total) / stat_median(&b->fr[w][1].total),
			       stat_median(&r->mean), stat_median(&r->slowest),
			       stat_median(&r->slowest) / stat_median(&r->mean));
		}
	printf("\n");
	if (b->api.ran)
		printf("api (ms): GET /1.0 median %.3f p99 %.3f | PATCH median %.3f p99 %.3f | "
		       "metrics (1,000 containers, %zu bytes) median %.3f p99 %.3f\n",
		       b->api.get_med, b->api.get_p99, b->api.patch_med, b->api.patch_p99,
		       b->api.metrics_bytes, b->api.metrics_med, b->api.metrics_p99);
	else
		printf("api skipped: %s\n", b->api.skip);
	print_load(b);
	if (b->mem.ran_base)
		printf("memory: sockets up %.0f ms after the first start (writes every LXC policy file), "
		       "%.0f ms after a restart; "
		       "RSS %.1f MiB with %u containers",
		       b->mem.start_ms, b->mem.restart_ms, b->mem.rss_base_mib, b->mem.containers);
	if (b->mem.ran)
		printf(", %.1f MiB with %u listeners attached\n", b->mem.rss_mib, b->mem.listeners);
	else
		printf("%slisteners skipped: %s\n", b->mem.ran_base ? "; " : "memory ", b->mem.skip);
}

static void json_num(FILE *f, const char *key, double v, bool comma)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "\"%s\":null%s", key, comma ? "," : "");
	else
		fprintf(f, "\"%s\":%.4f%s", key, v, comma ? "," : "");
}

static void json_str(FILE *f, const char *key, const char *v, bool comma)
{
	fprintf(f, "\"%s\":\"", key);
	for (; v && *v; v++)
		if (*v == '"' || *v == '\\')
			fprintf(f, "\\%c", *v);
		else if ((unsigned char)*v >= 0x20)
			fputc(*v, f);
	fprintf(f, "\"%s", comma ? "," : "");
}

/* "api_stall" and "api_burst", after the "api" object (whose closing brace follows) */
static void write_json_load(FILE *f, const struct bench *b)
{
	const typeof(b->stall) *s = &b->stall;
	const typeof(b->burst) *u = &b->burst;

	fprintf(f, "},\n\"api_stall\":{\"freeze_ms\":%u,\"get_requests\":%u,", s->freeze_ms,
		s->n_get);
	json_str(f, "skipped", s->ran || s->fail[0] ? "" : s->skip, true);
	json_str(f, "failed", s->fail, true);
	json_num(f, "get_median_ms", s->ran ? s->get_med : NAN, true);
	json_num(f, "get_p99_ms", s->ran ? s->get_p99 : NAN, true);
	json_num(f, "get_max_ms", s->ran ? s->get_max : NAN, true);
	json_num(f, "metrics_p99_ms", s->ran ? s->metrics_p99 : NAN, true);
	json_num(f, "refused_patch_p99_ms", s->ran ? s->bad_patch_p99 : NAN, true);
	json_num(f, "stalled_patch_after_thaw_ms", s->ran ? s->stalled_after_thaw_ms : NAN, true);
	json_num(f, "other_patch_after_thaw_ms", s->ran ? s->other_after_thaw_ms : NAN, false);
	fprintf(f, "},\n\"api_burst\":{\"connections\":%u,\"answered\":%u,\"refused\":%u,"
		   "\"unanswered\":%u,\"failed\":%u,\"fds_before\":%d,\"fds_after\":%d,",
		u->n, u->answered, u->refused, u->unanswered, u->failed, u->fds_before, u->fds_after);
	json_str(f, "skipped", u->ran || u->fail[0] ? "" : u->skip, true);
	json_str(f, "failed", u->fail, true);
	json_num(f, "median_ms", u->ran ? u->med : NAN, true);
	json_num(f, "p99_ms", u->ran ? u->p99 : NAN, true);
	json_num(f, "max_ms", u->ran ? u->max : NAN, true);
	json_num(f, "patch_ms", u->ran ? u->patch_ms : NAN, false);
}

static int write_json(const struct bench *b, const struct target *t, size_t nt)
{
	struct utsname u;
	FILE *f = fopen(b->o.json, "we");

	if (!f)
		return NEG_ERRNO();
	(void)uname(&u);
	fprintf(f, "{\n\"machine\":{");
	json_str(f, "kernel", u.release, true);
	fprintf(f, "\"cpus\":%u,\"sync_wake_up\":%s},\n", b->cpus, b->has_sync ? "true" : "false");
	json_str(f, "mode", b->o.smoke ? "smoke" : "full", true);
	fprintf(f, "\"rounds\":%u,\"seconds_per_case\":%.2f,\n\"cases\":[\n", b->o.rounds, b->o.case_s);
	for (enum case_id id = 0; id < CASE_COUNT; id++) {
		const struct case_result *r = &b->cr[id];

		fprintf(f, " {");
		json_str(f, "name", cases[id].name, true);
		json_str(f, "skipped", r->skip, true);
		json_num(f, "median_us", stat_median(&r->med_us), true);
		json_num(f, "p99_us", stat_median(&r->p99_us), true);
		json_num(f, "calls_per_s", stat_median(&r->rate), true);
		json_num(f, "ratio_to_floor", case_ratio(b, id), true);
		json_num(f, "cpu_us_per_notification", stat_median(&r->cpu_us), true);
		json_num(f, "cpu_ratio_to_floor", cpu_ratio(b, id), true);
		json_str(f, "own_floor", has_own_floor(id) ? cases[cases[id].own_floor].name : "",
			 true);
		json_num(f, "ratio_to_own_floor", own_ratio(b, id), true);
		json_num(f, "cpu_ratio_to_own_floor", own_cpu_ratio(b, id), true);
		json_str(f, "safe_floor", cases[id].safe_floor ? cases[cases[id].safe_floor].name : "",
			 true);
		json_num(f, "ratio_to_safe_floor",
			 cases[id].safe_floor ? floor_ratio(b, id, cases[id].safe_floor) : NAN, true);
		json_num(f, "cpu_ratio_to_safe_floor",
			 cases[id].safe_floor ? floor_cpu_ratio(b, id, cases[id].safe_floor) : NAN, true);
		fprintf(f, "\"round_medians_us\":[");
		for (unsigned i = 0; i < r->med_us.n; i++)
			fprintf(f, "%s%.3f", i ? "," : "", r->med_us.v[i]);
		fprintf(f, "]}%s\n", id + 1 < CASE_COUNT ? "," : "");
	}
	fprintf(f, "],\n\"fanin\":[\n");
	for (unsigned s = 0; s < N_FAN_SIZES; s++)
		for (unsigned w = 0; w < 2; w++) {
			const struct fanin_result *r = &b->fr[w][s];

			fprintf(f, " {\"listeners\":%u,\"workers\":%u,", fan_sizes[s], w ? b->cpus : 1);
			json_str(f, "skipped", r->skip, true);
			json_num(f, "total_per_s", stat_median(&r->total), true);
			json_num(f, "mean_per_s", stat_median(&r->mean), true);
			json_num(f, "slowest_per_s", stat_median(&r->slowest), false);
			fprintf(f, "}%s\n", s + 1 < N_FAN_SIZES || w == 0 ? "," : "");
		}
	fprintf(f, "],\n\"api\":{");
	json_str(f, "skipped", b->api.ran ? "" : b->api.skip, true);
	json_num(f, "get_median_ms", b->api.ran ? b->api.get_med : NAN, true);
	json_num(f, "get_p99_ms", b->api.ran ? b->api.get_p99 : NAN, true);
	json_num(f, "patch_median_ms", b->api.ran ? b->api.patch_med : NAN, true);
	json_num(f, "patch_p99_ms", b->api.ran ? b->api.patch_p99 : NAN, true);
	json_num(f, "metrics_median_ms", b->api.ran ? b->api.metrics_med : NAN, true);
	json_num(f, "metrics_p99_ms", b->api.ran ? b->api.metrics_p99 : NAN, false);
	write_json_load(f, b);
	fprintf(f, "},\n\"memory\":{\"containers\":%u,\"listeners\":%u,", b->mem.containers,
		b->mem.listeners);
	json_str(f, "skipped", b->mem.ran ? "" : b->mem.skip, true);
	json_num(f, "start_ms", b->mem.ran_base ? b->mem.start_ms : NAN, true);
	json_num(f, "restart_ms", b->mem.restart_ms > 0 ? b->mem.restart_ms : NAN, true);
	json_num(f, "rss_containers_only_mib", b->mem.ran_base ? b->mem.rss_base_mib : NAN, true);
	json_num(f, "rss_mib", b->mem.ran ? b->mem.rss_mib : NAN, false);
	fprintf(f, "},\n\"targets\":[\n");
	for (size_t i = 0; i < nt; i++) {
		fprintf(f, " {");
		json_str(f, "name", t[i].name, true);
		json_num(f, "value", t[i].value, true);
		json_num(f, "limit", t[i].limit, true);
		json_str(f, "result", target_status(&t[i]), false);
		fprintf(f, "}%s\n", i + 1 < nt ? "," : "");
	}
	fprintf(f, "]\n}\n");
	return fclose(f) == 0 ? 0 : NEG_ERRNO();
}

void report(const struct bench *b)
{
	struct target t[MAX_TARGETS];
	size_t nt = collect_targets(b, t);

	print_tables(b);
	printf("\ntargets (checked, not asserted):\n");
	for (size_t i = 0; i < nt; i++) {
		printf("  %-4s %-52s", target_status(&t[i]), t[i].name);
		if (t[i].fail || t[i].skip)
			printf(" (%s)\n", t[i].fail ? t[i].fail : t[i].skip);
		else
			printf(" %.3f\n", t[i].value); /* a ratio at its limit shows which side */
	}
	if (b->o.json) {
		int r = write_json(b, t, nt);

		if (r < 0)
			fprintf(stderr, "bench: cannot write %s: %s\n", b->o.json, strerror(-r));
		else
			printf("results written to %s\n", b->o.json);
	}
}
