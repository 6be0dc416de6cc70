/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "daemon/daemon.h"
#include "daemon/clock.h"
#include "handlers/handler.h"

struct engine_listener;

/*
 * How the listeners of one intake protocol are served. The pool, hot mode and
 * the watchdog reach a protocol only through these, so they never name LXC or
 * OCI; each intake (intake_lxc.c, intake_oci.c) defines its table.
 */
struct listener_ops {
	enum listener_source source;
	/*
	 * @l's fd is readable: receive one notification, dispatch it and reply.
	 * Returns < 0 when @l is unusable (the pool then drops it). The worker
	 * serving @l.
	 */
	int (*serve)(struct engine_listener *l);
	/*
	 * Optional: called on every watchdog tick while @l is in the pool (intake
	 * thread, pool lock held), also while a worker serves @l; e.g. to answer a
	 * notification that is past its deadline.
	 */
	void (*tick)(struct engine_listener *l, uint64_t now);
	/* Free the allocation that embeds @l, once the last reference is gone (fd closed). */
	void (*free)(struct engine_listener *l);
	/*
	 * @l's fd is a seccomp notify fd: a worker may serve it in hot mode,
	 * blocking in RECV on it itself and answering with dispatch_answer().
	 */
	bool can_go_hot;
};

/*
 * An attached listener as the engine sees it: an OCI seccomp notify fd, or a
 * LXC monitor connection carrying proxy messages; its intake embeds it in a
 * structure of its own when the protocol needs more state. Shared by the
 * intake thread (which creates it), the one worker that serves it, the
 * watchdog (through the pool's list, under the pool lock) and the container's
 * listener list (under its lock).
 */
struct engine_listener {
	struct listener pub; /* linked into container->listeners while attached */
	const struct listener_ops *ops;
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
	struct config *cfg;  /* cached snapshot ref of container */
	uint64_t cfg_gen;    /* container->config_generation when cached */
};

/*
 * Set up @l (zeroed memory its intake allocated, freed by @ops->free) as a
 * listener served by @ops, owning @fd, with one reference. @name may be NULL
 * (resolved later).
 */
void engine_listener_init(struct engine_listener *l, const struct listener_ops *ops,
			  struct daemon *d, int fd, pid_t pid, const char *name);
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

