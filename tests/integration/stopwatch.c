/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stopwatch of stopwatch.h: the run-queue wait of every thread of the
 * processes on the path (/proc/PID/task/TID/schedstat, second field) plus the
 * machine's steal time (/proc/stat), sampled at both ends. Threads and
 * processes that end meanwhile take their wait with them, which only makes a
 * bound stricter.
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

/* The stall counters now: steal, this process, then s->pids (0 for one gone or unset). */
static void sample(const struct stopwatch *s, uint64_t ret_ns[STOPWATCH_SOURCES])
{
	ret_ns[0] = steal_ns();
	ret_ns[1] = run_queue_wait_ns(getpid());
	for (size_t i = 0; i < 2; i++)
		ret_ns[2 + i] = s->pids[i] > 0 ? run_queue_wait_ns(s->pids[i]) : 0;
}

void stopwatch_start(struct stopwatch *s, pid_t daemon, pid_t peer)
{
	*s = (struct stopwatch){ .pids = { daemon, peer } };
	sample(s, s->stalled0_ns);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
}

/* Sources @from on; a process that ended meanwhile counts for nothing (it reads 0 now). */
static uint64_t stalled_ns(const struct stopwatch *s, size_t from)
{
	uint64_t now[STOPWATCH_SOURCES], total = 0;

	sample(s, now);
	for (size_t i = from; i < STOPWATCH_SOURCES; i++)
		total += now[i] > s->stalled0_ns[i] ? now[i] - s->stalled0_ns[i] : 0;
	return total;
}

uint64_t stopwatch_run_queue_ns(const struct stopwatch *s)
{
	return stalled_ns(s, 1);
}

static double unstalled_s(const struct stopwatch *s, double *ret_elapsed, double *ret_stalled)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ret_elapsed = (double)(t1.tv_sec - s->t0.tv_sec) + (double)(t1.tv_nsec - s->t0.tv_nsec) / 1e9;
	*ret_stalled = (double)stalled_ns(s, 0) / 1e9;
	return *ret_elapsed - *ret_stalled;
}

double stopwatch_unstalled_s(const struct stopwatch *s, const char *what)
{
	double elapsed, stalled, unstalled = unstalled_s(s, &elapsed, &stalled);

	fprintf(stderr, "# %s: %.3f s, of which the host stalled %.3f s\n", what, elapsed, stalled);
	return unstalled;
}

void stopwatch_sleep_ms(pid_t daemon, long ms)
{
	double elapsed, stalled, left;
	struct stopwatch s;

	stopwatch_start(&s, daemon, 0);
	do {
		left = (double)ms / 1e3 - unstalled_s(&s, &elapsed, &stalled);
		if (left > 0)
			(void)nanosleep(&(struct timespec){ .tv_sec = (time_t)left,
				.tv_nsec = (long)((left - (double)(time_t)left) * 1e9) }, NULL);
	} while (left > 0 && elapsed < (double)ms / 10.0); /* at most a hundredfold, in s */
}
