/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "daemon/daemon.h"
#include "daemon/engine/listener.h"

/*
 * The worker pool: threads serving the listeners handed to them. It knows
 * listeners, not protocols: how one is served is its ops table's business.
 */
struct workers;

/* Start @n worker threads, each serving its own share of the listeners. */
int pool_start(struct daemon *d, unsigned n, struct workers **ret);

/*
 * Wake and join every worker, then detach and free every listener. Workers
 * still stuck in a caller's memory after 2 s have the FUSE connections they
 * wait on aborted (fuse_abort.h) and get 1.5 s more. One still stuck then is
 * left behind: nothing is freed (it may still touch it) and false is
 * returned, and the process must exit without waiting for that thread. Main
 * thread.
 */
bool pool_stop(struct workers *w);

/*
 * Watch the pool (intake thread, every 200 ms at most): a worker stuck in one
 * notification for over a second is replaced (at most --workers replacements,
 * one per container), its other listeners go to healthy workers, and the
 * container holding it has its listeners served there. Also runs every
 * listener's own tick (listener_ops.tick) and cools idle hot workers.
 */
void watchdog_tick(struct workers *w);

/* Hand a listener (reference taken over) to the pool. Intake thread (main before it starts). */
int pool_add(struct workers *w, struct engine_listener *l);

