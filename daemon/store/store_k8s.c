/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's kept Kubernetes labels (store.h, k8s_labels.h): written on the
 * intake thread when an ephemeral container from a pod registers, removed on
 * the worker whose listener was its last, read back and swept on the main
 * thread at start. A name can be removed and registered again at once (its
 * next listener) on two threads, so every write, removal and sweep runs under
 * the k8s lock and decides from what the registry holds under it: a file is
 * written only for a container still registered, removed only when no
 * container with labels holds the name. Taken with no other store lock held;
 * the registry's lock nests inside it. Logs nothing.
 */
#include "daemon/store/k8s_labels.h"
#include "daemon/store/store_internal.h"

int store_keep_k8s(struct store *s, struct container *c)
{
	const struct container_k8s *k8s = container_k8s(c);
	int r = 0;

	if (!k8s)
		return 0;
	pthread_mutex_lock(&s->k8s_lock);
	if (!atomic_load(&c->is_removed))
		r = k8s_labels_save(s->k8s_dir_fd, c->name, k8s);
	pthread_mutex_unlock(&s->k8s_lock);
	return r;
}

int store_load_k8s(struct store *s, const char *name, struct container_k8s *ret,
		   struct icd_error *reterr)
{
	/* no lock: a file is replaced by a rename, so it is read whole or not at all */
	return k8s_labels_load(s->k8s_dir_fd, name, ret, reterr);
}

/* Does the registry hold @name as an ephemeral container with labels now? */
static bool has_labels(const char *name, void *userdata)
{
	struct store *s = userdata;
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, name);

	return c && container_k8s(c);
}

void store_forget_k8s(struct store *s, const char *name)
{
	if (atomic_load(&s->is_stopping))
		return;
	pthread_mutex_lock(&s->k8s_lock);
	/* a container registered since with labels has written, or will write, its own */
	if (!has_labels(name, s))
		(void)k8s_labels_remove(s->k8s_dir_fd, name);
	pthread_mutex_unlock(&s->k8s_lock);
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
