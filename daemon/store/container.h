/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/store/config.h"
#include "daemon/metrics/metrics.h"

#define CONTAINER_NAME_MAX 63
#define CONTAINER_ETAG_LEN 16
/* profiles one container may apply */
#define CONTAINER_PROFILES_MAX 16

/* What Kubernetes calls an ephemeral container's pod: "" when unknown. Never changes. */
struct container_k8s {
	char namespace[CONTAINER_NAME_MAX + 1];
	char pod[254]; /* a pod name is a DNS subdomain: up to 253 characters */
	char container[CONTAINER_NAME_MAX + 1];
};

/*
 * Can @ch be part of a Kubernetes label value here? [A-Za-z0-9._-]: what the
 * OCI intake reduces annotations to, and all a kept labels file may hold.
 */
static inline bool container_k8s_char_valid(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* Where an ephemeral container came from. */
struct container_origin {
	char profile[CONTAINER_NAME_MAX + 1]; /* the profile it registered with */
	struct container_k8s k8s;
};

/* Where a listener came from: which intake protocol attached it. */
enum listener_source {
	LISTENER_SOURCE_LXC,
	LISTENER_SOURCE_OCI,
	LISTENER_SOURCE_COUNT,
};

/* "lxc" or "oci" */
const char *listener_source_name(enum listener_source s);

/*
 * The public face of an attached seccomp listener (an OCI notify fd or a LXC
 * monitor connection), as linked into container->listeners under
 * container->lock: what the API and the metrics show. The engine embeds it in
 * its own struct engine_listener (daemon/engine/listener.h).
 */
struct listener {
	struct listener *next; /* guarded by the container's lock */
	enum listener_source source;
	pid_t pid;              /* the process that installed the filter (OCI) or init (LXC) */
	int64_t attached_at;    /* unix seconds */
	unsigned trapped_keys;  /* config_trapped_keys() of the config when it attached */
};

/*
 * One registered container. Shared by the registry, the API and workers through
 * its reference count. @name and @created_at never change; the rest is guarded
 * by @lock (lock order: registry → container).
 */
struct container {
	atomic_uint n_ref;
	char name[CONTAINER_NAME_MAX + 1];
	int64_t created_at; /* unix seconds */

	pthread_mutex_t lock;
	/*
	 * owned, guarded by lock: the EXPANDED configuration, its profiles
	 * applied in order and its own keys on top. What workers act on: the
	 * store recomputes it whenever the container or one of its profiles
	 * changes, so a notification reads one snapshot and merges nothing.
	 */
	struct config *config;
	struct config *own_config; /* owned, guarded by lock: the keys set on the container itself */
	char **profiles;           /* owned, guarded by lock: NULL-terminated names, in order */
	uint64_t revision;     /* guarded by lock; bumped by every accepted change */
	char etag[CONTAINER_ETAG_LEN + 1]; /* guarded by lock */

	atomic_bool is_removed;        /* set once when deleted from the registry */
	atomic_uint_fast64_t config_generation; /* bumped on every config swap */

	struct listener *listeners; /* guarded by lock; listener->next links them */

	struct container_metrics metrics; /* lock-free counters */

	/*
	 * owned; NULL unless the container is ephemeral: registered by its first
	 * listener (a profile named in its metadata), not in the state (only its
	 * Kubernetes names are kept, store_k8s.c), removed when its last
	 * listener closes. Set before it is published, never changed.
	 */
	struct container_origin *origin;
};

static inline bool container_is_ephemeral(const struct container *c)
{
	return c->origin != NULL;
}

/* The Kubernetes names of @c, NULL when it has none. */
static inline const struct container_k8s *container_k8s(const struct container *c)
{
	return c->origin && c->origin->k8s.pod[0] ? &c->origin->k8s : NULL;
}

/* true if @name matches [a-z0-9][a-z0-9._-]{0,62} */
bool container_name_valid(const char *name);

/*
 * A new container with @cfg (reference taken over) and revision 0.
 * Returns NULL on ENOMEM; @cfg is released then.
 */
struct container *container_new(const char *name, int64_t created_at, struct config *cfg);

/*
 * The same at @revision with @etag (computed when NULL or malformed): a
 * container read back from its state file, or the one a create is about to
 * publish.
 */
struct container *container_new_at(const char *name, int64_t created_at, struct config *cfg,
				   uint64_t revision, const char *etag);

struct container *container_ref(struct container *c);
struct container *container_unref(struct container *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct container *, container_unref)

/*
 * The container's own configuration, a copy of its profile names
 * (NULL-terminated, free with strv_free()) and its ETag, read together.
 * Returns the own configuration as a new reference, NULL on ENOMEM.
 * Thread-safe.
 */
struct config *container_spec_get(struct container *c, char ***ret_profiles,
				  char etag[static CONTAINER_ETAG_LEN + 1]);

/* Does @c apply profile @name? Thread-safe. */
bool container_uses_profile(struct container *c, const char *name);

/*
 * Keys @cfg makes the filter trap that some listener of @c attached without
 * (config_trapped_keys() of @cfg minus each listener's trapped_keys): what
 * waits for a restart. Thread-safe.
 */
unsigned container_untrapped_keys(struct container *c, const struct config *cfg);

/* Returns a new reference to the current (expanded) config snapshot. Thread-safe. */
struct config *container_config_get(struct container *c);

/*
 * The same, with the ETag published with it, read together: a reader never
 * pairs one revision's config with another's ETag. Thread-safe.
 */
struct config *container_config_get_etag(struct container *c,
					 char etag[static CONTAINER_ETAG_LEN + 1]);

/*
 * The ETag of container @name at @revision with @cfg: what the store writes
 * to disk before it publishes that revision. Pure.
 */
void container_etag_compute(const char *name, uint64_t revision, const struct config *cfg,
			    char buf[static CONTAINER_ETAG_LEN + 1]);

/* The same for a container that applies @profiles (NULL or NULL-terminated). Pure. */
void container_etag_compute_profiles(const char *name, uint64_t revision,
				     const struct config *cfg, char *const *profiles,
				     char buf[static CONTAINER_ETAG_LEN + 1]);

/* The current revision and ETag, read together. Thread-safe. */
void container_get_revision(struct container *c, uint64_t *ret_revision,
			    char etag[static CONTAINER_ETAG_LEN + 1]);

/*
 * Publish @cfg (ownership taken) as @revision with @etag: from the next
 * container_config_get() on, readers and workers see it. Only the store calls
 * this, after the change is on disk. The old snapshot is released after
 * unlocking; in-flight users keep theirs.
 */
void container_publish(struct container *c, struct config *cfg, uint64_t revision,
		       const char *etag);

/*
 * Publish a whole new specification: @own (its own keys), @profiles
 * (NULL-terminated or NULL) and @expanded, as @revision with @etag; all three
 * taken over. Only the store calls this, after the change is on disk.
 */
void container_publish_spec(struct container *c, struct config *own, char **profiles,
			    struct config *expanded, uint64_t revision, const char *etag);

/*
 * Publish a new expanded configuration (ownership taken) after one of the
 * container's profiles changed; its own keys, revision and ETag stay.
 */
void container_publish_expanded(struct container *c, struct config *expanded);

/* Publish @cfg (ownership taken) as the next revision, its ETag computed (tests). */
void container_config_swap(struct container *c, struct config *cfg);

/* Copy the current ETag into @buf (CONTAINER_ETAG_LEN + 1 bytes). */
void container_get_etag(struct container *c, char buf[static CONTAINER_ETAG_LEN + 1]);
