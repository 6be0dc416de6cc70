/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The worker pool's internals, shared by pool.c (threads, serving,
 * placement, shutdown), hot.c (hot mode) and watchdog.c (stuck workers). Not
 * for other modules.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/engine/fuse_abort.h"
#include "daemon/engine/pool.h"

/* A worker busy this long in one notification is stuck: nothing new goes to it. */
#define STUCK_NS (1000u * 1000000u)
/*
 * A notification that takes this long is slow. A worker that has spent
 * STUCK_NS in slow ones within SLOW_WINDOW_NS is stuck as soon as the one it
 * is in is slow too: a caller holding it just under STUCK_NS each time would
 * otherwise never be, and delay every call of the containers beside it.
 */
#define SLOW_NS (100u * 1000000u)
#define SLOW_WINDOW_NS (10000ull * 1000000u)
/* engine_listener.shard of a listener no worker serves yet (every worker is stuck). */
#define SHARD_NONE UINT_MAX

struct shard {
	struct workers *w;
	int epoll_fd; /* owned */
	pthread_t thread;
	bool has_thread;
	atomic_uint n_listeners;

	pthread_mutex_t lock; /* guards current against the watchdog */
	/*
	 * Being served (the worker holds a reference), or NULL. Atomic so that
	 * placement may read it under the pool lock alone (container_shard()),
	 * where it is dereferenced only once found among the pool's listeners,
	 * which that lock keeps alive.
	 */
	struct engine_listener *_Atomic current;
	atomic_uint_fast64_t busy_since_ns; /* when serving current began; 0 = idle */
	atomic_uint_fast64_t slow_ns;        /* spent in slow notifications since: */
	atomic_uint_fast64_t slow_window_ns; /* (both written by the worker only) */
	struct caller_watch watch;           /* the caller and range it is in, for shutdown */

	/* hot mode: the worker blocks in RECV on its only listener, no epoll step */
	atomic_bool is_hot;
	atomic_int recv_state;           /* enum recv_state (hot.c) */
	atomic_uint_fast64_t hot_served; /* notifications answered in hot mode */
	uint64_t hot_served_seen;        /* the watchdog's last look */

	/* the watchdog's verdict: intake thread only */
	bool is_held;                         /* stuck in one caller's notification */
	char held_by[CONTAINER_NAME_MAX + 1]; /* that caller's container, "" when unnamed */
	int kept_maps_fd;      /* while held: the caller's maps for shutdown (fuse_abort.h), or < 0 */
	uint64_t kept_maps_id; /* the notification they are for */
};

struct workers {
	struct daemon *d;
	int stop_fd; /* eventfd, level-triggered: wakes every worker */
	struct shard *shards; /* max_shards allocated up front, so pointers stay valid */
	unsigned n_shards;    /* started; grows on the intake thread only */
	unsigned n_base;      /* --workers */
	unsigned max_shards;  /* n_base plus at most as many replacements */
	unsigned n_held;      /* shards with is_held; intake thread only */

	pthread_mutex_t lock; /* guards the list below and every listener's shard */
	struct engine_listener **all;
	size_t n_all, n_alloc;
	size_t n_parked; /* listeners in all with shard == SHARD_NONE */
};

/*
 * Whether @sh has been serving one notification for over STUCK_NS at @now, or
 * for over SLOW_NS after slow ones that make up the rest within SLOW_WINDOW_NS.
 */
bool shard_stuck(struct shard *sh, uint64_t now);

/* The worker of @sh spent @began..@now in one notification: count it if it was slow. Its worker only. */
void shard_account_slow(struct shard *sh, uint64_t began, uint64_t now);

/* Interrupt @sh's hot RECV, if it is in one. Any thread. */
void shard_kick(struct shard *sh);

/* Install the signal handler shard_kick() relies on. pool_start(), once. */
int hot_init(void);

/*
 * Should @sh, which just served @l at @now, serve it in hot mode? Only a
 * notify-fd listener that is its worker's only one and came back within the
 * hot window. Worker of @sh.
 */
bool hot_wanted(struct shard *sh, struct engine_listener *l, uint64_t now);

/* Serve @l in hot mode until it cools, another listener joins or a kick. Worker of @sh. */
void hot_serve(struct shard *sh, struct engine_listener *l);

/* Start the worker thread of @sh (its epoll set first). Intake or main thread. */
int shard_start(struct workers *w, struct shard *sh);

/* The stuck shard held by container @name, or NULL. Intake thread. */
struct shard *pool_held_by(struct workers *w, const char *name);

/*
 * Where @l should be served: the stuck worker its container already holds (so
 * that a hostile container only ever stalls itself), else the worker serving
 * its container's other listeners (so that a container blocking in all of them
 * at once still holds one worker) unless another container holds it or has it
 * stuck (held or not yet), else the healthy worker with the fewest listeners,
 * else NULL (every worker is stuck). Never a worker stuck in another
 * container's notification. Intake thread, pool lock held.
 */
struct shard *pool_place(struct workers *w, const struct engine_listener *l);

/*
 * Hot mode takes @l out of its shard's epoll set while the worker blocks in
 * RECV on it (each notification and each RECV would otherwise run the epoll
 * callback: about 0.13 µs of a 5.4 µs round trip), and puts it back after,
 * unless it has been moved meanwhile. @l stays on @sh for the pool's
 * bookkeeping; if putting it back fails it is parked, and the watchdog places
 * it again. Worker of @sh; each takes the pool lock.
 */
void pool_hot_enter(struct workers *w, struct shard *sh, struct engine_listener *l);
void pool_hot_leave(struct workers *w, struct shard *sh, struct engine_listener *l);

/* Serve @l on @to (it is on none). Pool lock held. */
int pool_attach(struct workers *w, struct engine_listener *l, struct shard *to);

/*
 * Move @l from its shard to @to and count it; on failure @l is left parked.
 * Pool lock held, and either the caller is the worker of @l's shard, or that
 * shard is stuck in another listener (checked under its lock): no other
 * worker may hold an event of @l.
 */
int pool_move(struct workers *w, struct engine_listener *l, struct shard *to);
