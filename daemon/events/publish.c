/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building the daemon's events (see publish.h) and handing them to the bus.
 * Called on the store's writer threads, the workers, the intake thread and
 * the config directory's reconciling thread,
 * the profile and ephemeral ones under the store's ephemeral lock (so that
 * they come in the order the changes were made); takes a container's lock
 * (restart-required, an ephemeral container's keys) and the bus lock, one
 * at a time. An event is built on the stack: no allocation.
 */
#include <errno.h>
#include <string.h>

#include "daemon/events/publish.h"

unsigned publish_changed_keys(const struct config *before, const struct config *after)
{
	unsigned mask = 0;

	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const char *a = before ? before->values[i] : NULL;
		const char *b = after ? after->values[i] : NULL;

		if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
			mask |= 1u << i;
	}
	return mask;
}

static const char *change_action(enum store_op op)
{
	switch (op) {
	case STORE_CREATE:
		return "container-created";
	case STORE_DELETE:
		return "container-deleted";
	default:
		return "container-updated";
	}
}

/* restart-required for @c when @cfg turns on, among @changed, a key some listener does not trap. */
static void publish_restart_required(struct event_bus *b, struct container *c,
				     const struct config *cfg, unsigned changed)
{
	struct event ev;
	unsigned missing = container_untrapped_keys(c, cfg) & changed;

	if (!missing)
		return;
	event_init(&ev, EVENT_LIFECYCLE, "restart-required", c->name);
	event_add_keys(&ev, "keys", missing);
	event_bus_publish(b, &ev);
}

void publish_store_change(struct event_bus *b, const struct store_change *ch)
{
	struct event ev;

	/* a profile change publishes its events as it is made (publish_profile_change()) */
	if (ch->result < 0 || ch->is_profile || !event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	event_init(&ev, EVENT_LIFECYCLE, change_action(ch->op), ch->name);
	if (ch->op != STORE_DELETE) {
		event_add_keys(&ev, "changed_keys", ch->changed_keys);
		event_add_str(&ev, "etag", ch->etag);
	}
	event_bus_publish(b, &ev);
	if (ch->op == STORE_DELETE || !ch->container || !ch->published)
		return;
	/* what the filter must trap is the expanded configuration's, profiles included */
	publish_restart_required(b, ch->container, ch->expanded ? ch->expanded : ch->published,
				 ch->changed_keys);
}

void publish_profile_change(struct event_bus *b, enum store_op op, const char *name,
			    unsigned changed_keys, const char *etag)
{
	static const char *const actions[] = {
		[STORE_CREATE] = "profile-created", [STORE_REPLACE] = "profile-updated",
		[STORE_PATCH] = "profile-updated",  [STORE_DELETE] = "profile-deleted",
	};
	struct event ev;

	if (!event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	event_init(&ev, EVENT_LIFECYCLE, actions[op], NULL);
	event_add_str(&ev, "profile", name);
	if (op != STORE_DELETE) {
		event_add_keys(&ev, "changed_keys", changed_keys);
		event_add_str(&ev, "etag", etag);
	}
	event_bus_publish(b, &ev);
}

void publish_expanded_change(struct event_bus *b, struct container *c, const char *profile,
			     const struct config *before, const struct config *after)
{
	unsigned changed;
	struct event ev;

	if (!event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	changed = publish_changed_keys(before, after);
	if (!changed)
		return;
	event_init(&ev, EVENT_LIFECYCLE, "container-updated", c->name);
	event_add_keys(&ev, "changed_keys", changed);
	event_add_str(&ev, "profile", profile);
	event_bus_publish(b, &ev);
	publish_restart_required(b, c, after, changed);
}

void publish_ephemeral(struct event_bus *b, struct container *c, bool is_created)
{
	const struct container_k8s *k8s = container_k8s(c);
	struct event ev;

	if (!event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	event_init(&ev, EVENT_LIFECYCLE, is_created ? "container-created" : "container-deleted",
		   c->name);
	event_add_bool(&ev, "ephemeral", true);
	event_add_str(&ev, "profile", c->origin->profile);
	/* before the keys: a long pod name may leave no room for them, never the reverse */
	if (k8s)
		event_add_strs(&ev, "kubernetes",
			       (const char *const[][2]){ { "namespace", k8s->namespace },
							 { "pod", k8s->pod },
							 { "container", k8s->container } },
			       3);
	if (is_created) {
		char etag[CONTAINER_ETAG_LEN + 1];
		_cleanup_(config_unrefp) struct config *cfg = container_config_get_etag(c, etag);

		event_add_keys(&ev, "changed_keys", publish_changed_keys(NULL, cfg));
		event_add_str(&ev, "etag", etag);
	}
	event_bus_publish(b, &ev);
}

void publish_configdir_refused(struct event_bus *b, const char *file, const char *message)
{
	struct event ev;

	if (!event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	event_init(&ev, EVENT_LIFECYCLE, "config-dir-refused", NULL);
	/* the file first: a long message may leave no room for it, never the reverse */
	if (file && file[0])
		event_add_str(&ev, "file", file);
	event_add_str(&ev, "message", message);
	event_bus_publish(b, &ev);
}

void publish_configdir_applied(struct event_bus *b, uint64_t generation, unsigned n_changed)
{
	struct event ev;

	if (!event_bus_wants(b, EVENT_LIFECYCLE))
		return;
	event_init(&ev, EVENT_LIFECYCLE, "config-dir-applied", NULL);
	event_add_int(&ev, "generation", (int64_t)generation);
	event_add_int(&ev, "changed", n_changed);
	event_bus_publish(b, &ev);
}

void publish_listener(struct event_bus *b, const char *action, const char *container,
		      enum listener_source source, pid_t pid)
{
	struct event ev;

	if (!event_bus_wants(b, EVENT_LISTENER))
		return;
	event_init(&ev, EVENT_LISTENER, action, container);
	event_add_str(&ev, "source", listener_source_name(source));
	event_add_int(&ev, "pid", pid);
	event_bus_publish(b, &ev);
}

void publish_worker(struct event_bus *b, const char *action, unsigned index,
		    const char *container, pid_t pid, uint64_t busy_ms, int replacement)
{
	struct event ev;

	if (!event_bus_wants(b, EVENT_WORKER))
		return;
	event_init(&ev, EVENT_WORKER, action, container);
	event_add_int(&ev, "worker", index);
	if (pid > 0)
		event_add_int(&ev, "pid", pid);
	if (busy_ms)
		event_add_int(&ev, "busy_ms", (int64_t)busy_ms);
	if (replacement >= 0)
		event_add_int(&ev, "replaced_by", replacement);
	event_bus_publish(b, &ev);
}

void publish_lxc_deadline(struct event_bus *b, const char *container, pid_t pid,
			  unsigned deadline_ms, const char *answer)
{
	struct event ev;

	if (!event_bus_wants(b, EVENT_LXC))
		return;
	event_init(&ev, EVENT_LXC, "deadline-exceeded", container);
	event_add_int(&ev, "pid", pid);
	event_add_int(&ev, "deadline_ms", deadline_ms);
	event_add_str(&ev, "answer", answer);
	event_bus_publish(b, &ev);
}

void publish_audit(struct event_bus *b, const struct audit_call *call)
{
	struct event ev;

	event_init(&ev, EVENT_AUDIT, "syscall", call->container);
	event_add_int(&ev, "pid", call->pid);
	event_add_str(&ev, "syscall", call->syscall);
	event_add_str(&ev, "outcome", call->outcome);
	if (call->error)
		event_add_str(&ev, "error", strerrorname_np(-call->error));
	if (call->device && call->device[0])
		event_add_str(&ev, "device", call->device);
	/* last, and cut to the room left: the container's path must not crowd out the rest */
	if (call->path && call->path[0])
		event_add_str_cut(&ev, "path", call->path);
	event_bus_publish(b, &ev);
}
