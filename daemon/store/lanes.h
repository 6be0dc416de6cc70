/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "daemon/store/container.h"

/*
 * One lane per key: jobs with the same key run one after another, in the
 * order they were submitted; jobs with different keys run at the same time
 * on up to @max_threads threads, started when a job finds none idle. The
 * store keys its changes by container name, so writes to one container stay
 * ordered while writes to others do not wait behind a stalled disk write
 * more than the disk itself forces. Thread-safe; jobs are never copied.
 */
struct lanes;

struct lane_job {
	struct lane_job *next; /* private */
	char key[CONTAINER_NAME_MAX + 1];
	/* runs on a lane thread; the job belongs to @run from then on */
	void (*run)(struct lane_job *job);
};

/* Returns NULL on ENOMEM. No thread starts before the first job. */
struct lanes *lanes_new(unsigned max_threads);

/*
 * Queue @job behind the jobs of its key. Returns 0, -ESHUTDOWN once
 * lanes_close() was called, or -ENOMEM / -EAGAIN when no lane or thread
 * could be made; then @job was not taken.
 */
int lanes_submit(struct lanes *l, struct lane_job *job);

/*
 * Refuse new jobs and wait up to @timeout_ms for the queued ones to finish.
 * Returns 0 when all did, -ETIMEDOUT when some job is still running (a disk
 * that does not answer): its thread is then left alone.
 */
int lanes_close(struct lanes *l, int timeout_ms);

/* How many threads have been started (they stay until lanes_free()). Thread-safe. */
unsigned lanes_n_threads(struct lanes *l);

/* Join the threads and free. Only after lanes_close() returned 0. Returns NULL. */
struct lanes *lanes_free(struct lanes *l);
