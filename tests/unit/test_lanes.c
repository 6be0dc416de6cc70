/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the lanes the store runs its changes on: one key's jobs run
 * one at a time in submission order; another key's jobs do not wait behind a
 * job that is stuck (a write held by the disk) as long as a thread is free;
 * at most max_threads run at once; closing refuses new jobs and reports a job
 * that does not finish. Real threads; a job "stuck on the disk" waits on a
 * semaphore the test posts.
 */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/store/lanes.h"

#define N_ORDERED 200

struct job {
	struct lane_job lj;
	unsigned index;
	sem_t *hold;      /* waited on before finishing: a stalled write */
	sem_t done;       /* posted when it finished */
	atomic_bool has_run;
};

static atomic_uint in_flight[2];   /* per key ("a", "b"): jobs running now */
static atomic_uint max_in_flight[2];
static unsigned order[N_ORDERED];
static atomic_uint n_order;

static unsigned key_index(const char *key)
{
	return key[0] == 'b';
}

static void run(struct lane_job *lj)
{
	struct job *j = container_of(lj, struct job, lj);
	unsigned k = key_index(lj->key), now = atomic_fetch_add(&in_flight[k], 1) + 1;

	if (now > atomic_load(&max_in_flight[k]))
		atomic_store(&max_in_flight[k], now);
	if (j->hold)
		sem_wait(j->hold);
	order[atomic_fetch_add(&n_order, 1)] = j->index;
	atomic_store(&j->has_run, true);
	atomic_fetch_sub(&in_flight[k], 1);
	sem_post(&j->done);
}

static void job_init(struct job *j, const char *key, unsigned index, sem_t *hold)
{
	*j = (struct job){ .lj = { .run = run }, .index = index, .hold = hold };
	strcpy(j->lj.key, key);
	sem_init(&j->done, 0, 0);
}

/* Did @j finish within @ms? */
static bool finished_within(struct job *j, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (sem_timedwait(&j->done, &until) < 0)
		return false;
	sem_post(&j->done); /* leave it readable for a later check */
	return true;
}

static int reset(void **state)
{
	(void)state;
	atomic_store(&n_order, 0);
	for (int k = 0; k < 2; k++) {
		atomic_store(&in_flight[k], 0);
		atomic_store(&max_in_flight[k], 0);
	}
	return 0;
}

static void test_lanes_one_key_runs_in_order_one_at_a_time(void **state)
{
	static struct job jobs[N_ORDERED];
	struct lanes *l = lanes_new(4);

	(void)state;
	assert_non_null(l);
	for (unsigned i = 0; i < N_ORDERED; i++) {
		job_init(&jobs[i], "a", i, NULL);
		assert_int_equal(lanes_submit(l, &jobs[i].lj), 0);
	}
	assert_int_equal(lanes_close(l, 5000), 0);
	assert_int_equal(atomic_load(&n_order), N_ORDERED);
	for (unsigned i = 0; i < N_ORDERED; i++)
		assert_int_equal(order[i], i);
	assert_int_equal(atomic_load(&max_in_flight[0]), 1);
	lanes_free(l);
}

/* One container's changes, one after another, never need a second thread. */
static void test_lanes_one_at_a_time_needs_one_thread(void **state)
{
	static struct job jobs[20];
	struct lanes *l = lanes_new(8);

	(void)state;
	for (unsigned i = 0; i < 20; i++) {
		job_init(&jobs[i], "a", i, NULL);
		assert_int_equal(lanes_submit(l, &jobs[i].lj), 0);
		assert_true(finished_within(&jobs[i], 2000));
	}
	assert_int_equal(lanes_n_threads(l), 1);
	assert_int_equal(lanes_close(l, 2000), 0);
	lanes_free(l);
}

static void test_lanes_other_key_does_not_wait_behind_a_stuck_one(void **state)
{
	static struct job stuck, behind, other;
	struct lanes *l = lanes_new(4);
	sem_t disk;

	(void)state;
	sem_init(&disk, 0, 0);
	job_init(&stuck, "a", 0, &disk);
	job_init(&behind, "a", 1, NULL);
	job_init(&other, "b", 2, NULL);
	assert_int_equal(lanes_submit(l, &stuck.lj), 0);
	assert_int_equal(lanes_submit(l, &behind.lj), 0);
	assert_int_equal(lanes_submit(l, &other.lj), 0);
	assert_true(finished_within(&other, 2000));
	/* the same key waits its turn */
	assert_false(finished_within(&behind, 100));
	assert_false(atomic_load(&stuck.has_run));
	sem_post(&disk);
	assert_true(finished_within(&behind, 2000));
	assert_int_equal(lanes_close(l, 2000), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
	lanes_free(l);
}

static void test_lanes_at_most_max_threads(void **state)
{
	static struct job a, b, c;
	struct lanes *l = lanes_new(2);
	sem_t disk;

	(void)state;
	sem_init(&disk, 0, 0);
	job_init(&a, "a", 0, &disk);
	job_init(&b, "b", 1, &disk);
	job_init(&c, "c", 2, NULL);
	assert_int_equal(lanes_submit(l, &a.lj), 0);
	assert_int_equal(lanes_submit(l, &b.lj), 0);
	assert_int_equal(lanes_submit(l, &c.lj), 0);
	/* both threads are held: the third key waits for one of them */
	assert_false(finished_within(&c, 100));
	sem_post(&disk);
	assert_true(finished_within(&c, 2000));
	sem_post(&disk);
	assert_int_equal(lanes_close(l, 2000), 0);
	lanes_free(l);
}

static void test_lanes_close_refuses_and_reports_a_stuck_job(void **state)
{
	static struct job stuck, late;
	struct lanes *l = lanes_new(2);
	sem_t disk;

	(void)state;
	sem_init(&disk, 0, 0);
	job_init(&stuck, "a", 0, &disk);
	job_init(&late, "b", 1, NULL);
	assert_int_equal(lanes_submit(l, &stuck.lj), 0);
	assert_int_equal(lanes_close(l, 100), -ETIMEDOUT);
	assert_int_equal(lanes_submit(l, &late.lj), -ESHUTDOWN);
	sem_post(&disk);
	assert_int_equal(lanes_close(l, 2000), 0);
	assert_true(atomic_load(&stuck.has_run));
	assert_false(atomic_load(&late.has_run));
	lanes_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lanes_one_key_runs_in_order_one_at_a_time, reset),
		cmocka_unit_test_setup(test_lanes_one_at_a_time_needs_one_thread, reset),
		cmocka_unit_test_setup(test_lanes_other_key_does_not_wait_behind_a_stuck_one, reset),
		cmocka_unit_test_setup(test_lanes_at_most_max_threads, reset),
		cmocka_unit_test_setup(test_lanes_close_refuses_and_reports_a_stuck_job, reset),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
