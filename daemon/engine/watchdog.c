/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool's watchdog, run by the intake thread after every wake-up
 * (at least every 200 ms). A hostile caller can make the worker handling its
 * notification block in the kernel for as long as it likes: a pointer into a
 * userfaultfd- or FUSE-backed page blocks the read of the argument, and no
 * signal short of the daemon's death interrupts it. So a worker busy in one
 * notification for over STUCK_NS (or in a slow one, after slow ones that make
 * up the rest within SLOW_WINDOW_NS: see shard_stuck()) is declared held by
 * that caller's container:
 *  - nothing new is placed on it and its other listeners move to healthy
 *    workers, except those of the same container, which are gathered onto it
 *    (quarantine): a hostile container only ever stalls itself;
 *  - a replacement thread is started while fewer than --workers are healthy,
 *    at most one per container and --workers in all (the pool never exceeds
 *    twice its size); a held worker that gets free rejoins the pool.
 * Listeners are moved off a held worker here, under its lock, only while it is
 * still busy in another listener; a listener on a healthy worker is moved by
 * that worker itself (move_to), so no worker can hold an event of a listener
 * that moved away. Locks: a shard's lock, then the pool lock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/events/publish.h"
#include "daemon/log.h"
#include "daemon/engine/pool_internal.h"

/* What became of a worker found stuck. */
enum replacement {
	REPLACEMENT_NOT_NEEDED,     /* --workers others are still healthy */
	REPLACEMENT_STARTED,        /* arg: the new worker */
	REPLACEMENT_SAME_CONTAINER, /* arg: the worker its container already holds */
	REPLACEMENT_AT_LIMIT,       /* arg: replacements running */
	REPLACEMENT_FAILED,         /* arg: errno */
};

/* What a look at one shard found, logged once its locks are released. */
struct verdict {
	bool is_new_hold, is_release;
	char name[CONTAINER_NAME_MAX + 1];
	pid_t pid;
	uint64_t busy_ms; /* in the notification holding the worker */
	enum replacement replacement;
	unsigned arg;
	size_t moved, failed;
};

/* Kick hot workers whose listener went quiet (or died) since the last look. */
static void cool_idle_hot(struct workers *w)
{
	for (unsigned i = 0; i < w->n_shards; i++) {
		struct shard *sh = &w->shards[i];
		uint64_t served = atomic_load_explicit(&sh->hot_served, memory_order_relaxed);

		if (atomic_load(&sh->is_hot) && served == sh->hot_served_seen)
			shard_kick(sh);
		sh->hot_served_seen = served;
	}
}

/* The listeners' own ticks (an LXC message past its deadline gets CONTINUE there). */
static void tick_listeners(struct workers *w, uint64_t now)
{
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n_all; i++)
		if (w->all[i]->ops->tick)
			w->all[i]->ops->tick(w->all[i], now);
	pthread_mutex_unlock(&w->lock);
}

static unsigned healthy_shards(const struct workers *w)
{
	return w->n_shards - w->n_held;
}

/* Start a worker in place of the one just held by @v->name, if the bounds allow. */
static void replace(struct workers *w, struct shard *held, struct verdict *v)
{
	struct shard *other = NULL, *fresh = &w->shards[w->n_shards];
	int r;

	for (unsigned i = 0; v->name[0] && i < w->n_shards && !other; i++)
		if (&w->shards[i] != held && w->shards[i].is_held &&
		    strcmp(w->shards[i].held_by, v->name) == 0)
			other = &w->shards[i];
	v->replacement = REPLACEMENT_NOT_NEEDED;
	v->arg = healthy_shards(w);
	if (other) {
		v->replacement = REPLACEMENT_SAME_CONTAINER;
		v->arg = (unsigned)(other - w->shards);
	} else if (healthy_shards(w) >= w->n_base) {
		return;
	} else if (w->n_shards == w->max_shards) {
		v->replacement = REPLACEMENT_AT_LIMIT;
		v->arg = w->n_shards - w->n_base;
	} else if ((r = shard_start(w, fresh)) < 0) {
		v->replacement = REPLACEMENT_FAILED;
		v->arg = (unsigned)-r;
	} else {
		v->replacement = REPLACEMENT_STARTED;
		v->arg = w->n_shards++;
		atomic_fetch_add_explicit(&w->d->workers_replaced, 1, memory_order_relaxed);
	}
}

/* @sh has just been found stuck serving its current listener. Its lock held. */
static void hold(struct workers *w, struct shard *sh, struct verdict *v)
{
	snprintf(v->name, sizeof(v->name), "%s", listener_name(sh->current));
	v->pid = sh->current->pub.pid;
	v->busy_ms = (now_ns() - atomic_load(&sh->busy_since_ns)) / 1000000u;
	v->is_new_hold = true;
	sh->is_held = true;
	strcpy(sh->held_by, v->name);
	/* so that shutdown still finds what holds the worker if the caller dies */
	sh->kept_maps_fd = caller_watch_keep_maps(&sh->watch, &sh->kept_maps_id);
	w->n_held++;
	replace(w, sh, v);
}

/*
 * Move the listeners of held shard @sh that it is not serving: to the held
 * worker of their own container if there is one (it may be @sh: they stay),
 * else to a healthy worker (none: they wait here). @sh's lock and the pool lock held.
 */
static void evacuate(struct workers *w, struct shard *sh, struct verdict *v)
{
	unsigned index = (unsigned)(sh - w->shards);

	for (size_t i = 0; i < w->n_all; i++) {
		struct engine_listener *l = w->all[i];
		struct shard *to;

		if (l->shard != index || l == sh->current)
			continue;
		to = pool_place(w, l);
		if (!to || to == sh)
			continue;
		atomic_store(&l->move_to, 0); /* any earlier request is settled by this move */
		if (pool_move(w, l, to) < 0)
			v->failed++;
		else
			v->moved++;
	}
}

static void check_shard(struct workers *w, struct shard *sh, struct verdict *v)
{
	bool stuck;

	pthread_mutex_lock(&sh->lock);
	/* under the lock: while current is set, the worker cannot take a new event */
	stuck = sh->current && shard_stuck(sh, now_ns());
	if (stuck && !sh->is_held) {
		hold(w, sh, v);
	} else if (!stuck && sh->is_held) {
		v->is_release = true;
		snprintf(v->name, sizeof(v->name), "%s", sh->held_by);
		sh->is_held = false;
		sh->held_by[0] = '\0';
		close_nointr(sh->kept_maps_fd);
		sh->kept_maps_fd = -EBADF;
		w->n_held--;
	}
	if (stuck) {
		pthread_mutex_lock(&w->lock);
		evacuate(w, sh, v);
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_unlock(&sh->lock);
}

static void report_hold(unsigned index, const struct verdict *v)
{
	char what[128];

	switch (v->replacement) {
	case REPLACEMENT_NOT_NEEDED:
		snprintf(what, sizeof(what), "%u workers are still healthy", v->arg);
		break;
	case REPLACEMENT_STARTED:
		snprintf(what, sizeof(what), "started worker %u in its place", v->arg);
		break;
	case REPLACEMENT_SAME_CONTAINER:
		snprintf(what, sizeof(what), "not replaced: the container already holds worker %u",
			 v->arg);
		break;
	case REPLACEMENT_AT_LIMIT:
		snprintf(what, sizeof(what), "not replaced: %u replacements are running already",
			 v->arg);
		break;
	case REPLACEMENT_FAILED:
		errno = (int)v->arg;
		snprintf(what, sizeof(what), "not replaced: cannot start a thread: %m");
		break;
	}
	log_about_errno(LOG_LEVEL_WARNING, 0, v->name, NULL,
			"Worker %u stuck for %llu ms in a notification of '%s' (pid %d)%s; %s", index,
			(unsigned long long)v->busy_ms, v->name, (int)v->pid,
			v->busy_ms * 1000000u > STUCK_NS ? "" : ", after slow ones", what);
}

static void report(const struct workers *w, unsigned index, const struct verdict *v)
{
	if (v->is_new_hold) {
		report_hold(index, v);
		publish_worker(w->d->events, "stuck", index, v->name, v->pid, v->busy_ms,
			       v->replacement == REPLACEMENT_STARTED ? (int)v->arg : -1);
	}
	if (v->moved)
		log_warning("Moved %zu listener(s) off stuck worker %u", v->moved, index);
	if (v->failed)
		log_error("Cannot move %zu listener(s) off stuck worker %u, parked", v->failed, index);
	if (v->is_release) {
		log_info("Worker %u is free again (it was held by '%s'); %u of %u workers healthy",
			 index, v->name, healthy_shards(w), w->n_shards);
		publish_worker(w->d->events, "free", index, v->name, 0, 0, -1);
	}
}

/*
 * Place parked listeners, and ask the workers of listeners whose container
 * holds a stuck worker to move them there. Pool lock held.
 */
static void rehome(struct workers *w)
{
	for (size_t i = 0; i < w->n_all && (w->n_parked > 0 || w->n_held > 0); i++) {
		struct engine_listener *l = w->all[i];
		struct shard *to, *at;

		if (l->shard == SHARD_NONE) {
			to = pool_place(w, l);
			if (to && pool_attach(w, l, to) >= 0)
				w->n_parked--;
			continue;
		}
		/* only quarantine moves a placed listener (and costs no scan of the list) */
		to = pool_held_by(w, listener_name(l));
		at = &w->shards[l->shard];
		if (!to || to == at || at->is_held)
			continue; /* not quarantined, or already there; held shards are evacuated */
		atomic_store(&l->move_to, (unsigned)(to - w->shards) + 1);
		if (atomic_load(&at->is_hot))
			shard_kick(at); /* back to epoll, where the move happens */
	}
}

void watchdog_tick(struct workers *w)
{
	if (!w)
		return;
	cool_idle_hot(w);
	tick_listeners(w, now_ns());
	for (unsigned i = 0; i < w->n_shards; i++) {
		struct verdict v = { 0 };

		check_shard(w, &w->shards[i], &v);
		report(w, i, &v);
	}
	pthread_mutex_lock(&w->lock);
	rehome(w);
	pthread_mutex_unlock(&w->lock);
}
