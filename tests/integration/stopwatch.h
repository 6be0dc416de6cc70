/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Wall-clock bounds on the daemon's answers that a loaded host cannot break.
 * The test machines are shared and virtual: a runnable process may wait
 * seconds for a CPU, and the hypervisor may take the CPUs away (steal time).
 * A stopwatch gives the time elapsed less the time the host kept the
 * processes on the path waiting, so that its bound speaks of the daemon only:
 * a daemon that is slow or stuck itself is running or sleeping, not waiting
 * for a CPU, and gets no discount. Test thread only.
 */
#define STOPWATCH_SOURCES 4 /* steal time, this process, the daemon, a peer */

struct stopwatch {
	struct timespec t0;
	uint64_t stalled0_ns[STOPWATCH_SOURCES]; /* the counters at the start */
	pid_t pids[2];                           /* the daemon, a peer (0: none) */
};

/* Start @s over the processes @daemon and @peer (0 for none), and this one. */
void stopwatch_start(struct stopwatch *s, pid_t daemon, pid_t peer);

/*
 * The time the processes' threads waited for a CPU since stopwatch_start(),
 * in ns: the stalls without steal time, which /proc/stat counts in 10 ms ticks
 * and for the whole machine, too coarse to set against a few ms.
 */
uint64_t stopwatch_run_queue_ns(const struct stopwatch *s);

/*
 * Seconds since stopwatch_start() less the host's stalls meanwhile (time the
 * processes' threads waited for a CPU, and steal time); prints both, as a TAP
 * comment naming @what.
 */
double stopwatch_unstalled_s(const struct stopwatch *s, const char *what);

/*
 * Sleep until @ms have passed in which the host did not keep @daemon (and
 * this process) waiting: for a test that lets the daemon act on its own clock
 * (a watchdog tick) before it looks. At most a hundred times @ms.
 */
void stopwatch_sleep_ms(pid_t daemon, long ms);
