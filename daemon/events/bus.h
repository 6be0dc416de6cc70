/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/error.h"
#include "daemon/store/container.h"

/*
 * The event bus behind GET /1.0/events. Publishers (the store's writer
 * threads, workers, the intake thread and its watchdog, the config
 * directory's watcher) build a struct event
 * on their stack and hand it to event_bus_publish(), which copies it into the
 * ring of every subscriber whose filter takes it: a bounded copy under one
 * short lock, no allocation, no I/O, never a wait on a client. A subscriber
 * whose ring is full is dropped: it gets what its ring holds, then one final
 * "dropped" event, and nothing more.
 *
 * Audit events cost nothing while nobody asked for them: a publisher first
 * asks event_bus_wants(), one relaxed atomic load.
 */

enum event_type {
	EVENT_LIFECYCLE, /* containers and profiles changed; restart required; config dir */
	EVENT_LISTENER,  /* listener attached, detached */
	EVENT_WORKER,    /* worker stuck, replaced, free again */
	EVENT_LXC,       /* an LXC notification answered at its deadline */
	EVENT_AUDIT,     /* one emulated call (opt-in) */
	EVENT_TYPE_COUNT,
};

/* Room for the metadata members after "action" and "container", as JSON text. */
#define EVENT_FIELDS_MAX 640
#define EVENT_ACTION_MAX 31
/* An event rendered as one line, newline included, never needs more than this. */
#define EVENT_LINE_MAX (EVENT_FIELDS_MAX + CONTAINER_NAME_MAX + 256)
/*
 * Bytes of events a subscriber may have waiting before it is dropped: an
 * event takes a 16-byte header and its action, container and fields (a
 * profile change's container-updated about 150 bytes, at most 750).
 */
#define EVENT_RING_BYTES (256u * 1024u)
/* Subscribers at once; more are refused (-EAGAIN). */
#define EVENT_SUBSCRIBERS_MAX 64
/* Of those, the last ones only administrators get: readers cannot lock them out. */
#define EVENT_SUBSCRIBERS_RESERVED 16

/* One event, plain C: it crosses threads by copy. */
struct event {
	enum event_type type;
	int64_t time_ns; /* CLOCK_REALTIME */
	char action[EVENT_ACTION_MAX + 1];
	char container[CONTAINER_NAME_MAX + 1]; /* "" when about no container */
	char fields[EVENT_FIELDS_MAX];          /* ',"key":value' pieces, valid JSON */
	size_t len;                             /* of fields */
	bool is_truncated;                      /* a member did not fit and was left out */
};

const char *event_type_name(enum event_type t);

/* Start @ev: @type, now, @action, @container (NULL: none; longer names are cut). */
void event_init(struct event *ev, enum event_type type, const char *action, const char *container);

/*
 * Add a metadata member. Strings (container-chosen text included) are escaped
 * as escape_json() does. A member that does not fit whole is left out and
 * marks the event truncated.
 */
void event_add_str(struct event *ev, const char *key, const char *value);
/*
 * The same, but a value too long to fit whole (a container's path: up to five
 * bytes of JSON a byte) is cut on a whole character or escape to the room left,
 * and marks the event truncated, rather than being left out. Add it last.
 */
void event_add_str_cut(struct event *ev, const char *key, const char *value);
void event_add_int(struct event *ev, const char *key, int64_t value);
void event_add_bool(struct event *ev, const char *key, bool value);
/*
 * An object member of string members: @n pairs {name, value}, those whose
 * value is NULL or "" left out (no member at all when every one is). Whole
 * or not at all, as event_add_str().
 */
void event_add_strs(struct event *ev, const char *key, const char *const (*pairs)[2], size_t n);
/* The names of the configuration keys in @mask (bit i: config_keys[i]) as a JSON array. */
void event_add_keys(struct event *ev, const char *key, unsigned mask);

/*
 * @ev as one line of JSON ending in '\n': {"type","timestamp","metadata":
 * {"action","container"?,...}}. Returns its length (< @size; @size >=
 * EVENT_LINE_MAX always suffices).
 */
size_t event_render(const struct event *ev, char *buf, size_t size);

/* Which events a subscriber takes. */
struct event_filter {
	unsigned types; /* bit (1 << enum event_type) */
	char container[CONTAINER_NAME_MAX + 1]; /* "" for every container */
};

/*
 * Parse ?type= (a comma list of type names; NULL or "" means every type but
 * audit, which is only ever sent when asked for) and ?container= (NULL or ""
 * for all; else a valid container name: events about no container are then
 * left out). -EINVAL with a message naming the value.
 */
int event_filter_parse(const char *types, const char *container, struct event_filter *ret,
		       struct icd_error *reterr);

bool event_filter_match(const struct event_filter *f, const struct event *ev);

struct event_bus;
struct event_sub;

/* NULL on ENOMEM. */
struct event_bus *event_bus_new(void);
/* Free a bus with no subscriber left (event_bus_close() first). Returns NULL. */
struct event_bus *event_bus_free(struct event_bus *b);

/*
 * true when some subscriber takes events of @type: a publisher that has work
 * to do to build an event asks first. Any thread, lock-free; @b may be NULL.
 */
static inline bool event_bus_wants(const struct event_bus *b, enum event_type type);

/* Copy @ev to every subscriber that takes it. Any thread; never blocks on a subscriber. */
void event_bus_publish(struct event_bus *b, const struct event *ev);

/*
 * How the bus reaches a subscriber's reader. @wake is called, outside the
 * bus lock, once for every event_sub_next() that returned EVENT_NEXT_PARKED,
 * when there is something new to read (an event, the end, a keep-alive), by
 * whichever thread brought it. @dropped is called under the bus lock (it must
 * not call back into the bus or take a lock the bus may wait on) when the
 * subscriber is dropped for a full ring.
 */
struct event_sub_ops {
	void (*wake)(void *userdata);
	void (*dropped)(void *userdata);
	/*
	 * Optional: whether a parked subscriber's reader went away (its peer
	 * hung up). Called under the bus lock by event_bus_reap(); must not block.
	 */
	bool (*is_gone)(void *userdata);
};

/*
 * A new subscriber with @filter. -EAGAIN at EVENT_SUBSCRIBERS_MAX, or without
 * @is_admin once only the EVENT_SUBSCRIBERS_RESERVED places are left;
 * -ESHUTDOWN when closed.
 */
int event_bus_subscribe(struct event_bus *b, const struct event_filter *filter, bool is_admin,
			const struct event_sub_ops *ops, void *userdata, struct event_sub **ret);

/* Remove and free @s; its ops are not called any more once this returns. */
void event_bus_unsubscribe(struct event_bus *b, struct event_sub *s);

enum event_next {
	EVENT_NEXT_EVENT,     /* *ret_ev holds the next event */
	EVENT_NEXT_KEEPALIVE, /* nothing new for a while: say something so a gone reader shows */
	EVENT_NEXT_DROPPED,   /* the ring overflowed: *ret_ev is the final event, then END */
	EVENT_NEXT_END,       /* nothing more will come */
	EVENT_NEXT_PARKED,    /* nothing yet: @park ran under the bus lock, @wake will follow */
	EVENT_NEXT_NONE,      /* nothing yet, and @park was NULL: no wake-up will follow */
};

/*
 * What @s's reader sends next. When there is nothing, @park(@userdata) is
 * called under the bus lock before it returns EVENT_NEXT_PARKED, so that no
 * wake-up can come before the reader is parked (it suspends its connection);
 * @park may be NULL (EVENT_NEXT_NONE then). The reader's thread.
 */
enum event_next event_sub_next(struct event_bus *b, struct event_sub *s, struct event *ret_ev,
			       void (*park)(void *userdata), void *userdata);

/* Ask every subscriber to send a keep-alive (waking parked ones). Any thread. */
void event_bus_keepalive(struct event_bus *b);

/* End the streams of parked subscribers whose reader went away (ops->is_gone). Any thread. */
void event_bus_reap(struct event_bus *b);

/* End every stream (waking parked readers) and refuse new subscribers. */
void event_bus_close(struct event_bus *b);

/* Subscribers now; the number dropped for a full ring since the start. */
void event_bus_counts(struct event_bus *b, unsigned *ret_subscribers, uint64_t *ret_dropped);

/* ---- inline ---- */

struct event_bus_public {
	atomic_uint n_wanting[EVENT_TYPE_COUNT]; /* subscribers taking each type */
};

static inline bool event_bus_wants(const struct event_bus *b, enum event_type type)
{
	/* the public part is the bus's first member */
	const struct event_bus_public *p = (const struct event_bus_public *)b;

	return p && atomic_load_explicit(&p->n_wanting[type], memory_order_relaxed) > 0;
}
