/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "daemon/daemon.h"
#include "daemon/listener.h"
#include "handlers/handler.h"

/* The LXC message a worker is handling, answerable by the watchdog at the deadline. */
enum lxc_answer_state {
	LXC_IDLE,        /* no message in progress */
	LXC_IN_PROGRESS, /* the worker is handling one */
	LXC_ANSWERED,    /* someone replied: nobody else may */
};

struct lxc_pending {
	atomic_int state;     /* enum lxc_answer_state; the CAS to ANSWERED owns the reply */
	uint64_t started_ns;  /* when the message arrived */
	size_t len;           /* of fallback */
	char fallback[32 + sizeof(struct seccomp_notif) + sizeof(struct seccomp_notif_resp)];
};

/*
 * An attached listener as the engine sees it: an OCI seccomp notify fd, or a
 * LXC monitor connection carrying proxy messages. Shared by the intake thread
 * (which creates it), the one worker that serves it and the container's
 * listener list (under its lock).
 */
struct engine_listener {
	struct listener pub; /* linked into container->listeners while attached */
	atomic_uint n_ref;
	int fd; /* owned */
	struct daemon *d;
	unsigned shard;       /* the worker serving it, or SHARD_NONE; changed under the pool lock */
	atomic_uint move_to;  /* 1 + the shard its worker moves it to before serving it again */
	atomic_bool has_name; /* name is final: other threads may read it */

	/* the container this listener speaks for; touched only by the serving worker */
	pid_t init_pid; /* the container's init: OCI state.pid, LXC message init_pid */
	char name[CONTAINER_NAME_MAX + 1]; /* empty until known (LXC: first message) */
	struct container *container;       /* ref while linked; NULL if unregistered */
	uint64_t registry_gen;             /* registry generation when resolved */
	bool is_resolved;
	struct handler_cache cache; /* handlers' per-listener scratch space */
	uint64_t last_served_ns;    /* for hot mode: when the previous notification was */
	struct lxc_pending lxc;     /* LXC connections only */
	int lxc_listener;           /* LXC: the last fd proven a seccomp listener (a dup), or -EBADF */
	struct config *cfg;  /* cached snapshot ref of container */
	uint64_t cfg_gen;    /* container->config_generation when cached */
};

/* Create a listener owning @fd. @name may be NULL (resolved later). */
struct engine_listener *engine_listener_new(struct daemon *d, int fd, enum listener_source source,
					    pid_t pid, const char *name);
struct engine_listener *engine_listener_ref(struct engine_listener *l);
struct engine_listener *engine_listener_unref(struct engine_listener *l);

/*
 * Return the registered container @l speaks for (a borrowed pointer valid
 * while @l is served), linking @l into its listener list, or NULL when the
 * name is not registered. Re-resolves when the registry changed. Serving
 * worker only.
 */
struct container *engine_listener_container(struct engine_listener *l);

/* Unlink @l from its container (listener gauge drops). */
void engine_listener_detach(struct engine_listener *l);

/* @l's container name when other threads may read it, else "". */
const char *listener_name(const struct engine_listener *l);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
