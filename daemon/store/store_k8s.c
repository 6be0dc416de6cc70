/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's kept Kubernetes labels (store.h, k8s_labels.h). Writing a
 * container's file and removing it are asked for on the intake thread (an
 * ephemeral container from a pod registers) and on workers (its last
 * listener goes), which must never wait on the disk: a frozen state disk
 * would hold up new listeners, the LXC deadline answers and the watchdog. So
 * both run later on one lane of the store's writer threads (lanes.h), in the
 * order they were asked for; what is in flight is bounded, and beyond that a
 * request is dropped (a lost file loses labels only, a stale one is swept at
 * the next start). The sweep and the reads run on the main thread at start.
 * A name can be removed and registered again at once (its next listener), so
 * every write, removal and sweep runs under the k8s lock and decides from
 * what the registry holds under it: a file is written only for a container
 * still registered (or removed while the daemon stops), removed only when no
 * container with labels holds the name. Taken with no other store lock held;
 * the registry's lock nests inside it. Logs nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/store/k8s_labels.h"
#include "daemon/store/store_internal.h"

/* The lane of every labels file: not a name a container can have, so no container waits behind. */
#define K8S_LANE "/k8s-labels"
/* At most this many writes and removals wait for the disk at once. */
#define K8S_PENDING_MAX (2 * STORE_EPHEMERAL_MAX)

/* One write (of @container's labels) or removal (of @name's), waiting for its lane. */
struct k8s_job {
	struct lane_job job;
	struct store *store;
	struct container *container; /* owned: the one whose labels to write; NULL: a removal */
	char name[CONTAINER_NAME_MAX + 1];
	void (*failed)(const char *name, int r);
};

/* Does the registry hold @name as an ephemeral container with labels now? */
static bool has_labels(const char *name, void *userdata)
{
	struct store *s = userdata;
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, name);

	return c && container_k8s(c);
}

/* k8s lock held: write @c's file, unless it went meanwhile and a removal follows. */
static int keep_locked(struct store *s, struct container *c)
{
	/* removed while stopping: its listener is handed back at the restart, with its name */
	if (atomic_load(&c->is_removed) && !atomic_load(&s->is_stopping))
		return 0;
	return k8s_labels_save(s->k8s_dir_fd, c->name, container_k8s(c));
}

/* A lane thread: the job's turn has come. */
static void run_k8s_job(struct lane_job *job)
{
	struct k8s_job *j = container_of(job, struct k8s_job, job);
	struct store *s = j->store;
	int r = 0;

	pthread_mutex_lock(&s->k8s_lock);
	if (j->container)
		r = keep_locked(s, j->container);
	/* a container registered since with labels has written, or will write, its own */
	else if (!has_labels(j->name, s))
		(void)k8s_labels_remove(s->k8s_dir_fd, j->name);
	pthread_mutex_unlock(&s->k8s_lock);
	if (r < 0 && j->failed)
		j->failed(j->name, r);
	atomic_fetch_sub(&s->n_k8s_pending, 1);
	container_unref(j->container);
	free(j);
}

/* Queue the write of @c's labels (@c not NULL) or the removal of @name's. */
static int submit(struct store *s, struct container *c, const char *name,
		  void (*failed)(const char *name, int r))
{
	struct k8s_job *j;
	int r;

	if (atomic_fetch_add(&s->n_k8s_pending, 1) >= K8S_PENDING_MAX) {
		atomic_fetch_sub(&s->n_k8s_pending, 1);
		return -EAGAIN;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		atomic_fetch_sub(&s->n_k8s_pending, 1);
		return -ENOMEM;
	}
	*j = (struct k8s_job){ .job = { .key = K8S_LANE, .run = run_k8s_job }, .store = s,
			       .container = container_ref(c), .failed = failed };
	strcpy(j->name, name);
	r = lanes_submit(s->lanes, &j->job);
	if (r < 0) {
		atomic_fetch_sub(&s->n_k8s_pending, 1);
		container_unref(j->container);
		free(j);
	}
	return r;
}

int store_keep_k8s(struct store *s, struct container *c, void (*failed)(const char *name, int r))
{
	if (!container_k8s(c))
		return 0;
	return submit(s, c, c->name, failed);
}

int store_load_k8s(struct store *s, const char *name, struct container_k8s *ret,
		   struct icd_error *reterr)
{
	/* no lock: a file is replaced by a rename, so it is read whole or not at all */
	return k8s_labels_load(s->k8s_dir_fd, name, ret, reterr);
}

void store_forget_k8s(struct store *s, const char *name)
{
	/* decided now: a container removed before the daemon began to stop loses its file */
	if (atomic_load(&s->is_stopping))
		return;
	(void)submit(s, NULL, name, NULL);
}

int store_sweep_k8s(struct store *s)
{
	int r;

	pthread_mutex_lock(&s->k8s_lock);
	r = k8s_labels_sweep(s->k8s_dir_fd, has_labels, s);
	pthread_mutex_unlock(&s->k8s_lock);
	return r;
}

void store_stopping(struct store *s)
{
	if (s)
		atomic_store(&s->is_stopping, true);
}
