/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stddef.h>

/*
 * A tiny HTTP server on a unix socket, in a thread of the test, that answers
 * a script: connection i gets step i's answer, whatever it asked, and its
 * request (head and body) is kept for the test to check. For what the real
 * daemon cannot be made to do on demand: stream events split and garbled at
 * will, answer 412 twice in a row, answer with HTML.
 */

#define FAKE_STEPS_MAX 8
#define FAKE_PARTS_MAX 4

struct fake_step {
	/* raw bytes sent in order; before each part after the first, the server
	 * waits for fake_http_release() (NULL ends the list) */
	const char *parts[FAKE_PARTS_MAX];
};

struct fake_http {
	char path[108];
	int listen_fd;
	pthread_t thread;
	const struct fake_step *steps;
	size_t n_steps;
	char requests[FAKE_STEPS_MAX][4096]; /* head and body of each request served */
	size_t n_requests;		     /* written by the thread; read after fake_http_stop() */
	int gate[2];			     /* a pipe: one byte per release */
};

/* Listen on @dir/fake.sock and serve @steps (at most FAKE_STEPS_MAX) in a thread. */
void fake_http_start(struct fake_http *f, const char *dir, const struct fake_step *steps,
		     size_t n_steps);
/* Let the server send the next waiting part. */
void fake_http_release(struct fake_http *f);
/* Wait for the thread (it ends after the last step or when a client goes away), clean up. */
void fake_http_stop(struct fake_http *f);
