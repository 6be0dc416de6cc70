/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker pool: N threads, each with its own epoll set (a shard) over the
 * OCI notify fds and LXC proxy connections assigned to it; a new listener
 * goes to the shard serving its container's other listeners, else to the one
 * with the fewest (so a container stalls at most one worker: pool_place()).
 * A listener is served by one thread only, so no listener state needs a lock, and the set is level-triggered: no
 * re-arm syscall per notification, and no hand-off of a busy listener
 * between threads (which cost a cross-CPU wake-up per notification with one
 * shared EPOLLONESHOT set). Each wake-up serves one ready listener and the
 * level-triggered ready list rotates, so a busy container cannot starve the
 * others in its shard. A worker stuck in one notification (a hostile caller
 * can make a memory read block, e.g. on a userfaultfd or FUSE mapping) is
 * handled by the watchdog (watchdog.c): nothing new is placed on it, and it is
 * replaced. At shutdown, a worker still stuck after a grace has the FUSE
 * connection it waits on aborted (fuse_abort.c) so that the process can end.
 * A listener changes shard only under the pool lock, and only by its own
 * worker or off a stuck worker, so no other worker can hold an event of a
 * listener being moved. Hot mode (a worker blocking in RECV on its only
 * busy listener) is hot.c; deciding a notification is dispatch.c.
 *
 * The pool serves every listener through its ops table (listener.h) and names
 * no protocol. Threads: the workers (worker_main()); pool_add() on the intake
 * thread (main before it starts); pool_start() and pool_stop() on main. Locks:
 * the pool lock guards the listener list and every listener's shard; a shard's
 * lock guards what its worker serves (the watchdog takes a shard's lock, then
 * the pool lock; the workers take one at a time).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "daemon/engine/pool_internal.h"
#include "daemon/log.h"

/*
 * How long shutdown waits for busy workers before aborting the FUSE
 * connections that hold those still stuck, and how long it waits for them
 * after that before leaving them behind: within the 5 s a stop may take.
 */
#define STOP_GRACE_NS (2000ull * 1000000u)
#define ABORT_GRACE_NS (1500ull * 1000000u)

/* Take @l off the list. Pool lock held. */
static void forget(struct workers *w, struct engine_listener *l)
{
	for (size_t i = 0; i < w->n_all; i++)
		if (w->all[i] == l) {
			w->all[i] = w->all[--w->n_all];
			break;
		}
}

/* Take @l out of its shard's epoll set. Pool lock held. */
static void unplace(struct workers *w, struct engine_listener *l)
{
	struct shard *sh;

	if (l->shard == SHARD_NONE) {
		w->n_parked--;
		return;
	}
	sh = &w->shards[l->shard];
	(void)epoll_ctl(sh->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
	atomic_fetch_sub(&sh->n_listeners, 1);
	l->shard = SHARD_NONE;
}

int pool_attach(struct workers *w, struct engine_listener *l, struct shard *to)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };

	if (epoll_ctl(to->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) < 0)
		return negative_errno();
	l->shard = (unsigned)(to - w->shards);
	atomic_fetch_add(&to->n_listeners, 1);
	if (atomic_load(&to->is_hot))
		shard_kick(to); /* the newcomer must not wait for the hot listener to cool */
	return 0;
}

void pool_hot_enter(struct workers *w, struct shard *sh, struct engine_listener *l)
{
	pthread_mutex_lock(&w->lock);
	if (l->shard == (unsigned)(sh - w->shards))
		(void)epoll_ctl(sh->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
	pthread_mutex_unlock(&w->lock);
}

void pool_hot_leave(struct workers *w, struct shard *sh, struct engine_listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
	int r = 0;

	pthread_mutex_lock(&w->lock);
	/* moved meanwhile: pool_move() has put it in its new shard's set */
	if (l->shard == (unsigned)(sh - w->shards) &&
	    epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) < 0 && errno != EEXIST) {
		r = negative_errno();
		unplace(w, l);
		w->n_parked++; /* the watchdog places it again at its next tick */
	}
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		log_warning_errno(r, "Cannot serve listener of '%s' on worker %u again, parked: %m",
				  l->name, (unsigned)(sh - w->shards));
}

int pool_move(struct workers *w, struct engine_listener *l, struct shard *to)
{
	int r;

	unplace(w, l);
	r = pool_attach(w, l, to);
	if (r < 0) {
		w->n_parked++; /* the watchdog places it again at its next tick */
		return r;
	}
	atomic_fetch_add_explicit(&w->d->watchdog_moves, 1, memory_order_relaxed);
	return 0;
}

/* Serving worker only: @l is gone (closed, or its filter has no task left). */
static void drop(struct workers *w, struct engine_listener *l)
{
	pthread_mutex_lock(&w->lock);
	unplace(w, l);
	forget(w, l);
	pthread_mutex_unlock(&w->lock);
	log_debug("Listener of '%s' (%s, pid %d) detached", l->name,
		  listener_source_name(l->pub.source), (int)l->pub.pid);
	engine_listener_detach(l);
	engine_listener_unref(l);
}

void shard_account_slow(struct shard *sh, uint64_t began, uint64_t now)
{
	uint64_t window;

	if (_likely_(now - began <= SLOW_NS))
		return;
	window = atomic_load_explicit(&sh->slow_window_ns, memory_order_relaxed);
	if (now - window > SLOW_WINDOW_NS) {
		atomic_store_explicit(&sh->slow_ns, 0, memory_order_relaxed);
		atomic_store_explicit(&sh->slow_window_ns, now, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&sh->slow_ns, now - began, memory_order_relaxed);
}

/* Serve one event of @l; true when @l was dropped from the pool (the caller's reference remains). */
static bool serve(struct workers *w, struct engine_listener *l, uint32_t events)
{
	int r = 0;

	if (events & EPOLLIN)
		r = l->ops->serve(l);
	/* HUP on a notify fd: no task uses the filter any more, nothing can be pending */
	if (r < 0 || ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))) {
		drop(w, l);
		return true;
	}
	return false;
}

/*
 * The worker starts serving @l: the watchdog sees it as current, and a
 * reference keeps it alive even if the serve step drops it from the pool (an
 * LXC monitor may close its connection while one of its notifications is
 * being handled).
 */
static void serving_begin(struct shard *sh, struct engine_listener *l)
{
	engine_listener_ref(l);
	pthread_mutex_lock(&sh->lock);
	sh->current = l;
	atomic_store_explicit(&sh->busy_since_ns, now_ns(), memory_order_relaxed);
	pthread_mutex_unlock(&sh->lock);
}

static void serving_end(struct shard *sh)
{
	shard_account_slow(sh, atomic_load_explicit(&sh->busy_since_ns, memory_order_relaxed), now_ns());
	pthread_mutex_lock(&sh->lock);
	sh->current = NULL;
	atomic_store_explicit(&sh->busy_since_ns, 0, memory_order_relaxed);
	pthread_mutex_unlock(&sh->lock);
}

/*
 * The watchdog asked @l (an event of which this worker holds) to join the
 * stuck worker its container holds: move it there instead of serving it here,
 * so that the container stalls only itself. True when moved.
 */
static bool move_requested(struct shard *sh, struct engine_listener *l)
{
	struct workers *w = sh->w;
	unsigned to;
	int r = 0;

	if (_likely_(!atomic_load_explicit(&l->move_to, memory_order_relaxed)))
		return false;
	pthread_mutex_lock(&w->lock);
	to = atomic_exchange(&l->move_to, 0);
	if (to)
		r = pool_move(w, l, &w->shards[to - 1]);
	pthread_mutex_unlock(&w->lock);
	if (r < 0)
		log_warning_errno(r, "Cannot move listener of '%s' to worker %u, parked: %m", l->name,
				  to - 1);
	return to != 0;
}

static void *worker_main(void *arg)
{
	struct shard *sh = arg;

	/* `top -H` and the tests tell workers from the other threads by name */
	(void)pthread_setname_np(pthread_self(), "icd-worker");
	caller_watch_thread(&sh->watch);
	for (;;) {
		struct epoll_event ev;
		/* one event at a time: a stuck worker then holds no other listener's event */
		int n = epoll_wait(sh->epoll_fd, &ev, 1, -1);
		struct engine_listener *l;
		bool dropped;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error_errno(errno, "Worker epoll_wait failed: %m");
			return NULL;
		}
		if (n == 0)
			continue;
		if (!ev.data.ptr) /* the stop eventfd */
			return NULL;
		l = ev.data.ptr;
		if ((ev.events & EPOLLIN) && move_requested(sh, l))
			continue;
		serving_begin(sh, l);
		dropped = serve(sh->w, l, ev.events);
		serving_end(sh);
		if (!dropped && ev.events == EPOLLIN && hot_wanted(sh, l, now_ns()))
			hot_serve(sh, l);
		/* last, with current cleared: a listener dropped above is freed only here */
		engine_listener_unref(l);
	}
}

bool shard_stuck(struct shard *sh, uint64_t now)
{
	uint64_t since = atomic_load_explicit(&sh->busy_since_ns, memory_order_relaxed);
	uint64_t window = atomic_load_explicit(&sh->slow_window_ns, memory_order_relaxed);
	uint64_t slow = 0;

	if (!since || now <= since)
		return false;
	if (now - window <= SLOW_WINDOW_NS)
		slow = atomic_load_explicit(&sh->slow_ns, memory_order_relaxed);
	return now - since > STUCK_NS || (now - since > SLOW_NS && now - since + slow > STUCK_NS);
}

struct shard *pool_held_by(struct workers *w, const char *name)
{
	for (unsigned i = 0; name[0] && w->n_held > 0 && i < w->n_shards; i++)
		if (w->shards[i].is_held && strcmp(w->shards[i].held_by, name) == 0)
			return &w->shards[i];
	return NULL;
}

/*
 * Whether @sh is stuck in a notification of a container other than @name's
 * (not yet held: a held shard is known by its held_by). The listener it
 * serves is compared with the listeners of the pool's list, which are alive
 * under the pool lock, and only then read. Pool lock held.
 */
static bool stuck_in_other(struct workers *w, struct shard *sh, const char *name, uint64_t now)
{
	const struct engine_listener *serving = atomic_load(&sh->current);

	if (!serving || !shard_stuck(sh, now))
		return false;
	for (size_t i = 0; i < w->n_all; i++)
		if (w->all[i] == serving)
			return strcmp(listener_name(serving), name) != 0;
	return true; /* dropped meanwhile: not @name's to go to */
}

/*
 * The worker serving another listener of @l's container, unless another
 * container holds it or has it stuck, even if not held yet (stuck in this
 * container's own notification counts: its container's listeners go there
 * and are evacuated together). Pool lock held.
 */
static struct shard *container_shard(struct workers *w, const struct engine_listener *l)
{
	const char *name = listener_name(l);
	uint64_t now = now_ns();

	for (size_t i = 0; name[0] && i < w->n_all; i++) {
		const struct engine_listener *o = w->all[i];
		struct shard *sh;

		if (o == l || o->shard == SHARD_NONE || strcmp(listener_name(o), name) != 0)
			continue;
		sh = &w->shards[o->shard];
		if (!sh->is_held && !stuck_in_other(w, sh, name, now))
			return sh;
	}
	return NULL;
}

struct shard *pool_place(struct workers *w, const struct engine_listener *l)
{
	struct shard *best = pool_held_by(w, listener_name(l));
	uint64_t now = now_ns();

	if (!best)
		best = container_shard(w, l);
	if (best)
		return best;
	for (unsigned i = 0; i < w->n_shards; i++) {
		struct shard *sh = &w->shards[i];

		if (sh->is_held || shard_stuck(sh, now))
			continue;
		if (!best || atomic_load(&sh->n_listeners) < atomic_load(&best->n_listeners))
			best = sh;
	}
	return best;
}

/* Append @l to the list. Pool lock held. */
static int remember(struct workers *w, struct engine_listener *l)
{
	if (w->n_all == w->n_alloc) {
		size_t n = w->n_alloc ? w->n_alloc * 2 : 64;
		struct engine_listener **all = realloc(w->all, n * sizeof(*all));

		if (!all)
			return -ENOMEM;
		w->all = all;
		w->n_alloc = n;
	}
	w->all[w->n_all++] = l;
	return 0;
}

int pool_add(struct workers *w, struct engine_listener *l)
{
	struct shard *to;
	int r;

	pthread_mutex_lock(&w->lock);
	r = remember(w, l);
	to = r >= 0 ? pool_place(w, l) : NULL;
	if (r >= 0 && to) {
		r = pool_attach(w, l, to);
		if (r < 0)
			forget(w, l);
	} else if (r >= 0) {
		/* every worker is stuck: the watchdog places it once one is free */
		l->shard = SHARD_NONE;
		w->n_parked++;
	}
	pthread_mutex_unlock(&w->lock);
	if (r < 0) {
		engine_listener_detach(l);
		engine_listener_unref(l);
	}
	return r;
}

int shard_start(struct workers *w, struct shard *sh)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int r;

	sh->epoll_fd = RET_NERRNO(epoll_create1(EPOLL_CLOEXEC));
	if (sh->epoll_fd < 0)
		return sh->epoll_fd;
	if (epoll_ctl(sh->epoll_fd, EPOLL_CTL_ADD, w->stop_fd, &ev) < 0)
		return negative_errno();
	r = -pthread_create(&sh->thread, NULL, worker_main, sh);
	sh->has_thread = r >= 0;
	return r;
}

int pool_start(struct daemon *d, unsigned n, struct workers **ret)
{
	struct workers *w = calloc(1, sizeof(*w));
	int r = 0;

	/* room for one replacement per worker, allocated now: shards never move */
	if (!w || !(w->shards = calloc(2 * (size_t)n, sizeof(struct shard)))) {
		free(w);
		return -ENOMEM;
	}
	w->d = d;
	w->n_base = n;
	w->max_shards = 2 * n;
	pthread_mutex_init(&w->lock, NULL);
	for (unsigned i = 0; i < w->max_shards; i++) {
		w->shards[i].w = w;
		w->shards[i].epoll_fd = -EBADF;
		w->shards[i].kept_maps_fd = -EBADF;
		pthread_mutex_init(&w->shards[i].lock, NULL);
	}
	r = hot_init();
	w->stop_fd = RET_NERRNO(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (r >= 0 && w->stop_fd < 0)
		r = w->stop_fd;
	for (; r >= 0 && w->n_shards < n; w->n_shards++)
		r = shard_start(w, &w->shards[w->n_shards]);
	if (r < 0) {
		(void)pool_stop(w);
		return r;
	}
	*ret = w;
	return 0;
}

/* Join @sh's thread, kicking it out of a hot RECV, until @deadline. */
static bool join_by(struct shard *sh, uint64_t deadline)
{
	while (pthread_tryjoin_np(sh->thread, NULL) == EBUSY) {
		if (now_ns() > deadline)
			return false;
		shard_kick(sh);
		(void)usleep(1000);
	}
	sh->has_thread = false;
	return true;
}

/* Join every worker still running by @deadline; how many are left. */
static unsigned join_all_by(struct workers *w, uint64_t deadline)
{
	unsigned left = 0;

	for (unsigned i = 0; i < w->n_shards; i++)
		left += w->shards[i].has_thread && !join_by(&w->shards[i], deadline);
	return left;
}

/* What the worker of @sh, still running at shutdown, is stuck in. */
static void describe_stuck(struct shard *sh, struct stuck_worker *out)
{
	const struct caller_watch *cw = &sh->watch;
	uint64_t since = atomic_load_explicit(&sh->busy_since_ns, memory_order_relaxed);

	out->index = (unsigned)(sh - sh->w->shards);
	pthread_mutex_lock(&sh->lock);
	(void)snprintf(out->name, sizeof(out->name), "%s",
		       sh->current ? listener_name(sh->current) : "");
	pthread_mutex_unlock(&sh->lock);
	out->busy_ms = since ? (now_ns() - since) / 1000000u : 0;
	(void)caller_watch_read(cw, &out->tid, &out->notify_fd, &out->id);
	out->end = atomic_load_explicit(&cw->range.end, memory_order_acquire);
	out->start = atomic_load_explicit(&cw->range.start, memory_order_relaxed);
	/* the job's own (it may outlive the pool), if of this notification (the worker
	 * may have got free and stuck again in another between two looks) */
	out->kept_maps_fd = -EBADF;
	if (sh->kept_maps_fd >= 0 && sh->kept_maps_id == out->id)
		out->kept_maps_fd = fcntl(sh->kept_maps_fd, F_DUPFD_CLOEXEC, 3);
}

/* The FUSE aborts of one shutdown, on a thread of their own: a /proc read may wait. */
struct abort_job {
	pthread_t thread;
	atomic_bool is_done;
	unsigned aborted; /* connections, once is_done */
	size_t n;
	struct stuck_worker stuck[];
};

static void *abort_main(void *arg)
{
	struct abort_job *job = arg;

	(void)pthread_setname_np(pthread_self(), "icd-fuse-abort");
	job->aborted = fuse_abort_stuck(job->stuck, job->n);
	atomic_store(&job->is_done, true);
	return NULL;
}

/* Start aborting the FUSE connections that hold the @left workers still running, or NULL. */
static struct abort_job *abort_start(struct workers *w, unsigned left)
{
	struct abort_job *job = calloc(1, sizeof(*job) + left * sizeof(job->stuck[0]));
	int r = -ENOMEM;

	for (unsigned i = 0; job && i < w->n_shards && job->n < left; i++)
		if (w->shards[i].has_thread)
			describe_stuck(&w->shards[i], &job->stuck[job->n++]);
	if (job && (r = -pthread_create(&job->thread, NULL, abort_main, job)) == 0)
		return job;
	log_error_errno(r, "Cannot start aborting the FUSE connections of stuck workers: %m");
	free(job);
	return NULL;
}

/*
 * Wait until @deadline for the workers left, once @job aborted something
 * (when it found nothing to abort, they stay stuck: no use waiting). How many
 * are left. The job is freed, or left with its thread to the process's end.
 */
static unsigned abort_wait(struct workers *w, struct abort_job *job, unsigned left,
			   uint64_t deadline)
{
	while (job && !atomic_load(&job->is_done) && now_ns() < deadline)
		(void)usleep(1000);
	if (!job || !atomic_load(&job->is_done) || job->aborted > 0)
		left = join_all_by(w, deadline);
	if (job && !atomic_load(&job->is_done)) {
		log_warning("Aborting the FUSE connections of stuck workers has not finished, "
			    "leaving it behind");
		(void)pthread_detach(job->thread);
		return left;
	}
	if (!job)
		return left;
	(void)pthread_join(job->thread, NULL);
	for (size_t i = 0; i < job->n; i++)
		close_nointr(job->stuck[i].kept_maps_fd);
	free(job);
	return left;
}

bool pool_stop(struct workers *w)
{
	unsigned left;

	if (!w)
		return true;
	if (w->stop_fd >= 0)
		(void)eventfd_write(w->stop_fd, 1);
	left = join_all_by(w, now_ns() + STOP_GRACE_NS);
	if (left > 0) {
		log_warning("%u worker(s) still stuck in a caller's memory after %llu ms, aborting "
			    "the FUSE connections that hold them", left, STOP_GRACE_NS / 1000000u);
		left = abort_wait(w, abort_start(w, left), left, now_ns() + ABORT_GRACE_NS);
	}
	if (left > 0) {
		log_warning("%u worker(s) still stuck in a caller's memory, leaving them behind", left);
		return false;
	}
	for (size_t i = 0; i < w->n_all; i++) {
		engine_listener_detach(w->all[i]);
		engine_listener_unref(w->all[i]);
	}
	for (unsigned i = 0; i < w->max_shards; i++) {
		close_nointr(w->shards[i].epoll_fd);
		close_nointr(w->shards[i].kept_maps_fd);
		pthread_mutex_destroy(&w->shards[i].lock);
	}
	free(w->all);
	free(w->shards);
	close_nointr(w->stop_fd);
	pthread_mutex_destroy(&w->lock);
	free(w);
	return true;
}
