/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keyed serial execution (see lanes.h). A lane exists while its key has jobs
 * queued or running; ready lanes wait in a FIFO for a thread. A thread takes
 * a lane and runs its jobs until none is left, so two jobs of one key never
 * run at once. Everything is guarded by one mutex, never held while a job
 * runs. Callers: the API thread submits, lane threads run, main closes.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "daemon/store/lanes.h"

struct lane {
	struct lane *next;       /* every lane, in lanes->lanes */
	struct lane *next_ready; /* the ready FIFO */
	char key[CONTAINER_NAME_MAX + 1];
	struct lane_job *head, *tail;
	bool is_queued_or_running; /* in the ready FIFO, or a thread is on it */
};

struct lanes {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a lane became ready, or the lanes are closing */
	pthread_cond_t idle; /* a job finished */
	struct lane *lanes;
	struct lane *ready_head, *ready_tail;
	unsigned n_ready, n_jobs, n_idle, n_threads, max_threads;
	unsigned n_starting; /* threads created that have not taken the lock yet: idle soon */
	pthread_t *threads; /* owned, max_threads entries */
	bool is_closing;
};

struct lanes *lanes_new(unsigned max_threads)
{
	struct lanes *l = calloc(1, sizeof(*l));
	pthread_condattr_t attr;

	if (!l || !(l->threads = calloc(max_threads ? max_threads : 1, sizeof(pthread_t)))) {
		free(l);
		return NULL;
	}
	l->max_threads = max_threads ? max_threads : 1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->idle, &attr);
	pthread_condattr_destroy(&attr);
	return l;
}

/* Lock held. The next ready lane, or NULL once closing with nothing left. */
static struct lane *take_ready(struct lanes *l)
{
	struct lane *lane;

	while (!l->ready_head && !l->is_closing) {
		l->n_idle++;
		pthread_cond_wait(&l->work, &l->lock);
		l->n_idle--;
	}
	lane = l->ready_head;
	if (lane) {
		l->ready_head = lane->next_ready;
		if (!l->ready_head)
			l->ready_tail = NULL;
		l->n_ready--;
	}
	return lane;
}

/* Lock held: unlink and free a lane whose last job is done. */
static void drop_lane(struct lanes *l, struct lane *lane)
{
	for (struct lane **p = &l->lanes; *p; p = &(*p)->next)
		if (*p == lane) {
			*p = lane->next;
			break;
		}
	free(lane);
}

static void *lane_thread(void *arg)
{
	struct lanes *l = arg;
	struct lane *lane;

	(void)pthread_setname_np(pthread_self(), "icd-store");
	pthread_mutex_lock(&l->lock);
	l->n_starting--;
	while ((lane = take_ready(l))) {
		struct lane_job *job;

		while ((job = lane->head)) {
			lane->head = job->next;
			if (!lane->head)
				lane->tail = NULL;
			pthread_mutex_unlock(&l->lock);
			job->run(job); /* the job may be freed from here on */
			pthread_mutex_lock(&l->lock);
			l->n_jobs--;
			pthread_cond_broadcast(&l->idle);
		}
		drop_lane(l, lane);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Lock held: the lane of @key, made if there is none. */
static struct lane *lane_for(struct lanes *l, const char *key)
{
	struct lane *lane;

	for (lane = l->lanes; lane; lane = lane->next)
		if (strcmp(lane->key, key) == 0)
			return lane;
	lane = calloc(1, sizeof(*lane));
	if (!lane)
		return NULL;
	strcpy(lane->key, key);
	lane->next = l->lanes;
	l->lanes = lane;
	return lane;
}

/* Lock held: start one more lane thread. */
static int spawn(struct lanes *l)
{
	if (pthread_create(&l->threads[l->n_threads], NULL, lane_thread, l) != 0)
		return -EAGAIN;
	l->n_threads++;
	l->n_starting++;
	return 0;
}

/* Lock held: put @job last in its lane, and the lane in the ready FIFO if idle. */
static void enqueue(struct lanes *l, struct lane *lane, struct lane_job *job)
{
	if (lane->tail)
		lane->tail->next = job;
	else
		lane->head = job;
	lane->tail = job;
	l->n_jobs++;
	if (lane->is_queued_or_running)
		return; /* its thread takes the job after the ones before it */
	lane->is_queued_or_running = true;
	if (l->ready_tail)
		l->ready_tail->next_ready = lane;
	else
		l->ready_head = lane;
	l->ready_tail = lane;
	l->n_ready++;
	pthread_cond_signal(&l->work);
}

int lanes_submit(struct lanes *l, struct lane_job *job)
{
	struct lane *lane = NULL;
	int r = 0;

	job->next = NULL;
	pthread_mutex_lock(&l->lock);
	if (l->is_closing)
		r = -ESHUTDOWN;
	else if (l->n_threads == 0)
		r = spawn(l); /* without one thread, nothing would ever run the job */
	if (r >= 0 && !(lane = lane_for(l, job->key)))
		r = -ENOMEM;
	if (r >= 0) {
		enqueue(l, lane, job);
		/* more ready lanes than idle threads: one more, if allowed (else they wait) */
		if (l->n_ready > l->n_idle + l->n_starting && l->n_threads < l->max_threads)
			(void)spawn(l);
	}
	pthread_mutex_unlock(&l->lock);
	return r;
}

int lanes_close(struct lanes *l, int timeout_ms)
{
	struct timespec until;
	int r = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&l->lock);
	l->is_closing = true;
	pthread_cond_broadcast(&l->work);
	while (l->n_jobs > 0 && r == 0)
		if (pthread_cond_timedwait(&l->idle, &l->lock, &until) == ETIMEDOUT)
			r = -ETIMEDOUT;
	pthread_mutex_unlock(&l->lock);
	return r;
}

unsigned lanes_n_threads(struct lanes *l)
{
	unsigned n;

	pthread_mutex_lock(&l->lock);
	n = l->n_threads;
	pthread_mutex_unlock(&l->lock);
	return n;
}

struct lanes *lanes_free(struct lanes *l)
{
	if (!l)
		return NULL;
	for (unsigned i = 0; i < l->n_threads; i++)
		(void)pthread_join(l->threads[i], NULL);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	free(l->threads);
	free(l);
	return NULL;
}
