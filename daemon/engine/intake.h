/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "daemon/store/container.h"

/*
 * The intake thread: one epoll set over the intake sockets (intake_lxc.c,
 * intake_oci.c) and the connections still handing a listener over. What it
 * watches never blocks it (non-blocking sockets), so a client that sends
 * nothing or garbage delays nobody. After every wake-up, and at least every
 * 200 ms, it runs its tick (deadlines, the pool's watchdog).
 */
struct daemon;
struct intake;
struct workers;

/* Something the intake thread watches, embedded in its owner. */
struct intake_watch {
	/* @w's fd is readable (or hung up). Intake thread. */
	void (*on_ready)(struct intake_watch *w);
};

/*
 * A listening socket the intake thread serves: what each intake starts from.
 * Its listeners go to @pool.
 */
struct intake_socket {
	struct daemon *d;
	struct workers *pool;
	struct intake *t;
	int fd;                    /* owned */
	struct intake_watch watch; /* of fd */
};

/*
 * Serve listening socket @fd (taken over, also on failure) on @t: @on_ready
 * runs on the intake thread when a client connects. Main thread.
 */
int intake_socket_open(struct intake_socket *s, struct daemon *d, struct intake *t,
		       struct workers *pool, int fd, void (*on_ready)(struct intake_watch *w));

/* Stop watching the socket and close it. After the intake thread stopped. */
void intake_socket_close(struct intake_socket *s);

/* A new, stopped intake thread (its epoll set). Returns 0 or a negative errno. */
int intake_new(struct intake **ret);

/* Watch @fd for input; @w must live until intake_unwatch() or intake_free(). */
int intake_watch(struct intake *t, int fd, struct intake_watch *w);

/* Stop watching @fd (before closing it). */
void intake_unwatch(struct intake *t, int fd);

/*
 * Start the thread; @tick(@userdata, now) runs on it after every wake-up, at
 * least every 200 ms. Main thread, once.
 */
int intake_start(struct intake *t, void (*tick)(void *userdata, uint64_t now), void *userdata);

/* Stop and join the thread (if it runs). Main thread. */
void intake_stop(struct intake *t);

/* Stop the thread, then free @t; what it watched is its owners' to close. Accepts NULL. */
struct intake *intake_free(struct intake *t);

/*
 * Register ephemeral container @name of @profile (@k8s may be NULL) for a
 * listener that names a profile (OCI listenerMetadata or LXC cookie
 * "profile=NAME"). Logs the outcome. Returns < 0 on failure: the caller
 * then leaves the listener unnamed, so that its calls are answered CONTINUE
 * and counted as unregistered (the name may be another container's). Any
 * thread.
 */
int intake_register_ephemeral(struct daemon *d, const char *name, const char *profile,
			       const struct container_k8s *k8s);
