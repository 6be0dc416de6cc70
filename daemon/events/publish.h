/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "daemon/events/bus.h"
#include "daemon/store/store.h"

/*
 * The events the daemon publishes, one function per kind, so that each place
 * that emits one (the store, the engine's listeners, watchdog, LXC intake and
 * dispatch) needs a single call. Every function accepts a NULL bus, returns
 * at once when no subscriber takes the event's type, and never blocks or
 * allocates. Any thread.
 */

/* Bit (1 << key) for each key whose value differs between @before and @after (NULL: none set). */
unsigned publish_changed_keys(const struct config *before, const struct config *after);

/*
 * lifecycle: container-created, -updated (with the changed keys) or -deleted
 * for @ch, done and published (never for a change that failed); then
 * restart-required when an attached listener's filter does not trap a key
 * this change turned on. Nothing for a profile change: the store publishes
 * those as it makes them (the functions below). The writer thread that ran @ch.
 */
void publish_store_change(struct event_bus *b, const struct store_change *ch);

/*
 * lifecycle: profile-created, profile-updated (@changed_keys) or
 * profile-deleted (by @op) of profile @name, with @etag unless deleted.
 * About no container: the event names the profile in "profile".
 */
void publish_profile_change(struct event_bus *b, enum store_op op, const char *name,
			    unsigned changed_keys, const char *etag);

/*
 * lifecycle: container-updated for container @c whose expanded configuration
 * a change of profile @profile took from @before to @after (the keys that
 * differ, and the profile), then restart-required as for a direct change.
 * Nothing when no key differs. Takes @c's lock.
 */
void publish_expanded_change(struct event_bus *b, struct container *c, const char *profile,
			     const struct config *before, const struct config *after);

/*
 * lifecycle: container-created (@is_created, with the keys its profile sets
 * and its ETag) or container-deleted of ephemeral container @c, saying
 * "ephemeral": true, its profile and its Kubernetes names when known.
 */
void publish_ephemeral(struct event_bus *b, struct container *c, bool is_created);

/*
 * lifecycle: config-dir-refused, one problem that kept a reading of the
 * config directory from being applied: @message, and @file when it is about
 * one file (NULL or "": not). About no container. The reconciling thread.
 */
void publish_configdir_refused(struct event_bus *b, const char *file, const char *message);

/*
 * lifecycle: config-dir-applied, a reading of the config directory applied
 * as generation @generation, having created, replaced or removed
 * @n_changed profiles. About no container. The reconciling thread.
 */
void publish_configdir_applied(struct event_bus *b, uint64_t generation, unsigned n_changed);

/* listener: @action ("attached", "detached") of a listener of @container. */
void publish_listener(struct event_bus *b, const char *action, const char *container,
		      enum listener_source source, pid_t pid);

/*
 * worker: "stuck" (worker @index held by @container's caller @pid for
 * @busy_ms, @replacement the worker started in its place or -1), or "free".
 */
void publish_worker(struct event_bus *b, const char *action, unsigned index,
		    const char *container, pid_t pid, uint64_t busy_ms, int replacement);

/* lxc: deadline-exceeded, a notification of @container's caller @pid answered @answer. */
void publish_lxc_deadline(struct event_bus *b, const char *container, pid_t pid,
			  unsigned deadline_ms, const char *answer);

/* What an audit event says about one emulated call. */
struct audit_call {
	const char *container;
	pid_t pid;
	const char *syscall;
	const char *outcome; /* metrics_outcome_name() */
	int error;           /* 0 or the negative errno answered */
	const char *path;   /* what the handler acted on, or NULL/"" */
	const char *device;
};

/* audit: one call a handler decided. Publish only when event_bus_wants(b, EVENT_AUDIT). */
void publish_audit(struct event_bus *b, const struct audit_call *call);
