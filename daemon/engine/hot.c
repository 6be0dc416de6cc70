/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hot mode: a worker whose only listener sends notifications back to back
 * blocks in RECV on it directly, saving the epoll step per notification (and,
 * with the listener out of the epoll set meanwhile, the epoll callback),
 * until the listener goes quiet, another listener joins the worker, or the
 * daemon stops; the watchdog, pool_add() and pool_stop() kick it out of RECV
 * with a signal that is only ever delivered inside RECV.
 *
 * Owns the kick signal's handler (installed once by pool_start()) and each
 * shard's recv_state word. Runs on the worker thread of the shard, except
 * shard_kick(), which any thread may call. Takes the shard's lock only to
 * publish the listener it serves to the watchdog.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "daemon/engine/dispatch.h"
#include "daemon/engine/notify.h"
#include "daemon/engine/pool_internal.h"

/* Notifications closer than this make a worker's only listener "hot". */
#define HOT_WINDOW_NS (1000u * 1000u)
/* Interrupts a hot worker's blocking RECV; only ever delivered inside RECV. */
#define KICK_SIGNAL (SIGRTMIN + 3)

/* Where a hot worker is with respect to its kickable RECV. */
enum recv_state {
	RECV_IDLE,    /* not in RECV: must not be signalled */
	RECV_BLOCKED, /* in (or entering) RECV */
	RECV_KICKING, /* the watchdog is sending the signal */
	RECV_KICKED,  /* the signal has been sent */
};

/*
 * RECV that the watchdog may interrupt. The state word makes sure the kick
 * signal lands only in RECV (or in the one syscall below that takes it), never
 * in a handler or SEND: the watchdog signals only after moving BLOCKED →
 * KICKING, and a worker that finds its state moved waits for KICKED, claims it
 * and then makes one syscall so the pending signal is delivered. A kick that
 * arrives before the ioctl starts is lost, so the watchdog re-kicks a worker
 * still KICKED at its next tick. *ret_kicked tells the caller to leave hot mode
 * (after answering what it may still have received).
 */
static int recv_kickable(struct shard *sh, int fd, struct seccomp_notif *req, bool *ret_kicked)
{
	int expected = RECV_BLOCKED, r;

	/* release is enough: the kicker only ever CASes this one word */
	atomic_store_explicit(&sh->recv_state, RECV_BLOCKED, memory_order_release);
	r = notify_recv(fd, req);
	*ret_kicked = !atomic_compare_exchange_strong(&sh->recv_state, &expected, RECV_IDLE);
	if (*ret_kicked) {
		do
			expected = RECV_KICKED;
		while (!atomic_compare_exchange_weak(&sh->recv_state, &expected, RECV_IDLE));
		(void)syscall(SYS_getppid); /* delivers the pending kick here, harmlessly */
	}
	return r;
}

void shard_kick(struct shard *sh)
{
	int expected = RECV_BLOCKED;

	if (!atomic_compare_exchange_strong(&sh->recv_state, &expected, RECV_KICKING)) {
		expected = RECV_KICKED; /* a kick that arrived before the ioctl: send it again */
		if (!atomic_compare_exchange_strong(&sh->recv_state, &expected, RECV_KICKING))
			return;
	}
	(void)pthread_kill(sh->thread, KICK_SIGNAL);
	atomic_store(&sh->recv_state, RECV_KICKED);
}

static void on_kick(int sig)
{
	(void)sig; /* interrupting the ioctl is all it is for */
}

void hot_serve(struct shard *sh, struct engine_listener *l)
{
	bool kicked = false;

	pthread_mutex_lock(&sh->lock);
	sh->current = l;
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->is_hot, true);
	pool_hot_enter(sh->w, sh, l);
	while (!kicked && atomic_load(&sh->n_listeners) == 1) {
		struct seccomp_notif req;
		int r = recv_kickable(sh, l->fd, &req, &kicked);
		uint64_t t0 = now_ns();

		if (r == -ENOENT || (r == -EINTR && !kicked))
			continue;
		if (r < 0)
			break; /* kicked, or an error epoll will report */
		atomic_store_explicit(&sh->busy_since_ns, t0, memory_order_relaxed);
		shard_account_slow(sh, t0, dispatch_answer(l, &req, t0));
		atomic_store_explicit(&sh->busy_since_ns, 0, memory_order_relaxed);
		/* this thread is its only writer: no locked add on the hot path */
		atomic_store_explicit(&sh->hot_served,
				      atomic_load_explicit(&sh->hot_served, memory_order_relaxed) + 1,
				      memory_order_relaxed);
	}
	atomic_store(&sh->is_hot, false);
	pool_hot_leave(sh->w, sh, l);
	pthread_mutex_lock(&sh->lock);
	sh->current = NULL;
	pthread_mutex_unlock(&sh->lock);
}

bool hot_wanted(struct shard *sh, struct engine_listener *l, uint64_t now)
{
	bool hot = l->ops->can_go_hot && now - l->last_served_ns < HOT_WINDOW_NS &&
		   atomic_load(&sh->n_listeners) == 1;

	l->last_served_ns = now;
	return hot;
}

int hot_init(void)
{
	/* no SA_RESTART: the kick must make RECV return EINTR */
	return RET_NERRNO(sigaction(KICK_SIGNAL, &(struct sigaction){ .sa_handler = on_kick }, NULL));
}
