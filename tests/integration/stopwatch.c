/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stopwatch of stopwatch.h: the run-queue wait of every thread of the
 * processes on the path (/proc/PID/task/TID/schedstat, second field) plus the
 * machine's steal time (/proc/stat), sampled at both ends. Threads that end
 * meanwhile take their wait with them, which only makes a bound stricter.
 */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "stopwatch.h"

/* ns that the threads of @pid have waited on a run queue, 0 if it is gone. */
static uint64_t run_queue_wait_ns(pid_t pid)
{
	unsigned long long wait;
	char path[96];
	struct dirent *de;
	uint64_t total = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue; /* the thread ended */
		if (fscanf(f, "%*u %llu", &wait) == 1)
			total += wait;
		fclose(f);
	}
	closedir(d);
	return total;
}

/* ns the hypervisor ran something else on this machine's CPUs (all of them). */
static uint64_t steal_ns(void)
{
	unsigned long long steal = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (!f)
		return 0;
	/* cpu user nice system idle iowait irq softirq steal, in clock ticks */
	if (fscanf(f, "cpu %*u %*u %*u %*u %*u %*u %*u %llu", &steal) != 1)
		steal = 0;
	fclose(f);
	return steal * (1000000000u / (uint64_t)sysconf(_SC_CLK_TCK));
}

static uint64_t stalled_ns(const struct stopwatch *s)
{
	uint64_t total = steal_ns() + run_queue_wait_ns(getpid());

	for (size_t i = 0; i < sizeof(s->pids) / sizeof(s->pids[0]); i++)
		if (s->pids[i] > 0)
			total += run_queue_wait_ns(s->pids[i]);
	return total;
}

void stopwatch_start(struct stopwatch *s, pid_t daemon, pid_t peer)
{
	*s = (struct stopwatch){ .pids = { daemon, peer } };
	s->stalled0_ns = stalled_ns(s);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
}

double stopwatch_unstalled_s(const struct stopwatch *s, const char *what)
{
	struct timespec t1;
	double elapsed, stalled;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - s->t0.tv_sec) + (double)(t1.tv_nsec - s->t0.tv_nsec) / 1e9;
	stalled = (double)(stalled_ns(s) - s->stalled0_ns) / 1e9;
	fprintf(stderr, "# %s: %.3f s, of which the host stalled %.3f s\n", what, elapsed, stalled);
	return elapsed - stalled;
}
