/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Engine listeners: lifetime, and which registered container they speak for.
 * A listener's protocol is behind its ops table; this file knows none.
 * Resolution runs on the worker serving the listener (never two at once);
 * linking into container->listeners takes that container's lock only.
 */
#include <string.h>
#include <time.h>

#include "daemon/events/publish.h"
#include "daemon/log.h"
#include "daemon/engine/listener.h"
#include "daemon/store/store.h"

void engine_listener_init(struct engine_listener *l, const struct listener_ops *ops,
			  struct daemon *d, int fd, pid_t pid, const char *name)
{
	atomic_init(&l->n_ref, 1);
	l->ops = ops;
	l->fd = fd;
	l->d = d;
	l->pub.source = ops->source;
	l->pub.pid = pid;
	l->pub.attached_at = (int64_t)time(NULL);
	if (name && strlen(name) <= CONTAINER_NAME_MAX)
		strcpy(l->name, name);
	atomic_init(&l->has_name, l->name[0] != '\0');
}

struct engine_listener *engine_listener_ref(struct engine_listener *l)
{
	if (l)
		atomic_fetch_add_explicit(&l->n_ref, 1, memory_order_relaxed);
	return l;
}

struct engine_listener *engine_listener_unref(struct engine_listener *l)
{
	if (l && atomic_fetch_sub_explicit(&l->n_ref, 1, memory_order_acq_rel) == 1) {
		engine_listener_detach(l);
		close_nointr(l->fd);
		l->ops->free(l);
	}
	return NULL;
}

void engine_listener_detach(struct engine_listener *l)
{
	struct container *c = l->container;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (struct listener **p = &c->listeners; *p; p = &(*p)->next)
		if (*p == &l->pub) {
			*p = l->pub.next;
			break;
		}
	pthread_mutex_unlock(&c->lock);
	l->pub.next = NULL;
	l->cfg = config_unref(l->cfg);
	/* before its container-deleted, if it was the last one of an ephemeral container */
	publish_listener(l->d->events, "detached", l->name, l->pub.source, l->pub.pid);
	/* a container that registered itself goes with its last listener */
	if (container_is_ephemeral(c) && l->d->store &&
	    store_remove_ephemeral_if_unused(l->d->store, c) > 0)
		log_info("Ephemeral container '%s' removed: its last listener closed", c->name);
	l->container = container_unref(c);
}

/* Link @l to @c (reference taken over); false, and @c released, if @c was removed meanwhile. */
static bool attach(struct engine_listener *l, struct container *c)
{
	struct config *cfg = container_config_get(c);
	bool is_removed;

	/* what the filter traps is fixed when it attached: keys turned on later need a restart */
	l->pub.trapped_keys = config_trapped_keys(cfg);
	config_unref(cfg);
	pthread_mutex_lock(&c->lock);
	/* an ephemeral container is removed under its lock once it has no listener */
	is_removed = atomic_load(&c->is_removed);
	if (!is_removed) {
		l->pub.next = c->listeners;
		c->listeners = &l->pub;
	}
	pthread_mutex_unlock(&c->lock);
	if (is_removed) {
		container_unref(c);
		return false;
	}
	l->container = c;
	publish_listener(l->d->events, "attached", l->name, l->pub.source, l->pub.pid);
	return true;
}

struct container *engine_listener_container(struct engine_listener *l)
{
	uint64_t gen = registry_generation(l->d->registry);
	struct container *c;

	if (l->is_resolved && gen == l->registry_gen)
		return l->container;
	l->registry_gen = gen;
	l->is_resolved = true;
	/* a name learnt from the first LXC message is final: let the watchdog read it */
	if (l->name[0] && !atomic_load_explicit(&l->has_name, memory_order_relaxed))
		atomic_store_explicit(&l->has_name, true, memory_order_release);
	c = l->name[0] ? registry_get(l->d->registry, l->name) : NULL;
	if (c == l->container) { /* unchanged: drop the extra reference */
		container_unref(c);
		return l->container;
	}
	engine_listener_detach(l);
	if (c && attach(l, c)) {
		log_debug("Listener of '%s' (%s, pid %d) attached", l->name,
			  listener_source_name(l->pub.source), (int)l->pub.pid);
	}
	return l->container;
}

const char *listener_name(const struct engine_listener *l)
{
	return atomic_load_explicit(&l->has_name, memory_order_acquire) ? l->name : "";
}
