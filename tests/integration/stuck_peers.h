/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "peers.h"

struct CMUnitTest;

/*
 * What the tests of callers that hold a worker share (test_engine_stuck*.c):
 * hostile callers, the daemon's log, and a daemon of its own for each test
 * (replacements and stuck workers outlive a test). They use the daemon in H.
 */

/* A root-owned caller with its own listener, registered as @name with mknod on. */
struct hostile {
	struct child c;
	int sock;
};

void hostile_start(struct hostile *h, const char *name);
/* Make @h's next notification hold the worker reading its path (a userfaultfd page). */
void hostile_block(struct hostile *h);
/* Kill the caller (which releases a stuck read), delete its container. */
void hostile_stop(struct hostile *h, const char *name);

/* Wait up to @ms for @needle in the daemon log. */
bool log_has(const char *needle, long ms);

/* Start the daemon in H with --workers @workers: 0, or -1 (then H is cleaned up). */
int stuck_daemon_up(const char *workers);
/* Stop it with SIGTERM (unless a test stopped it) and check it exited with 0: 0 or -1. */
int stuck_daemon_down(void);

/* main() of such a test program: skips without root or $INTERCEPTD_BIN, runs @tests as TAP. */
int stuck_run(const struct CMUnitTest *tests, size_t n_tests);
