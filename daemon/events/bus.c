/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event bus (see bus.h): events built by their publishers, subscribers
 * with a ring of packed events each, and the filters of GET /1.0/events. Publishers run
 * on the store's writer threads, the workers and the intake thread; readers
 * on the API's MHD thread; keep-alives on the API's stream thread. One lock,
 * b->lock, guards the subscriber table and every ring; it is held only to
 * copy events in or out (and, by a parking reader, across its suspend, see
 * event_sub_next()), never across I/O. Logs nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/escape.h"
#include "daemon/events/bus.h"
#include "daemon/macro.h"
#include "daemon/store/config.h"

/*
 * An event as its ring holds it: this header, then its action, container and
 * fields, back to back and unterminated. A profile change publishes an event
 * for every container using it; packed, a few hundred bytes each, a ring
 * takes a thousand and more of those where it would take 256 struct events.
 */
struct packed_event {
	int64_t time_ns;
	uint16_t fields_len;
	uint8_t type, action_len, container_len;
	bool is_truncated;
};

_Static_assert(EVENT_ACTION_MAX <= UINT8_MAX && CONTAINER_NAME_MAX <= UINT8_MAX &&
		       EVENT_FIELDS_MAX <= UINT16_MAX && EVENT_TYPE_COUNT <= UINT8_MAX,
	       "a packed event's lengths and type fit its header");

struct event_sub {
	struct event_filter filter;
	const struct event_sub_ops *ops;
	void *userdata;
	unsigned char ring[EVENT_RING_BYTES];
	size_t head, used, n; /* the oldest event's offset, bytes in use, events waiting */
	size_t n_at_drop;     /* events that were waiting when it was dropped */
	uint64_t n_lost;      /* events left out once dropped */
	bool is_parked;  /* its reader waits for @wake */
	bool is_dropped, has_sent_drop, is_closed, wants_keepalive;
};

struct event_bus {
	struct event_bus_public pub; /* first: event_bus_wants() reads it */
	pthread_mutex_t lock;        /* guards what follows */
	struct event_sub *subs[EVENT_SUBSCRIBERS_MAX];
	size_t n_subs;
	bool is_closed;
	uint64_t n_dropped;
};

static const char *const type_names[EVENT_TYPE_COUNT] = {
	[EVENT_LIFECYCLE] = "lifecycle", [EVENT_LISTENER] = "listener", [EVENT_WORKER] = "worker",
	[EVENT_LXC] = "lxc",             [EVENT_AUDIT] = "audit",
};

const char *event_type_name(enum event_type t)
{
	return t < EVENT_TYPE_COUNT ? type_names[t] : "unknown";
}

/* ---- building and rendering ---- */

void event_init(struct event *ev, enum event_type type, const char *action, const char *container)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ev->type = type;
	ev->time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	(void)snprintf(ev->action, sizeof(ev->action), "%s", action);
	(void)snprintf(ev->container, sizeof(ev->container), "%s", strempty(container));
	ev->fields[0] = '\0';
	ev->len = 0;
	ev->is_truncated = false;
}

/* Append @text (@len bytes) to the fields, whole or not at all. */
static bool append(struct event *ev, const char *text, size_t len)
{
	if (len >= sizeof(ev->fields) - ev->len) {
		ev->fields[ev->len] = '\0';
		ev->is_truncated = true;
		return false;
	}
	memcpy(ev->fields + ev->len, text, len);
	ev->len += len;
	ev->fields[ev->len] = '\0';
	return true;
}

/* ',"key":' (keys are ours: plain ASCII). */
static bool append_key(struct event *ev, const char *key)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), ",\"%s\":", key);

	return n > 0 && (size_t)n < sizeof(buf) && append(ev, buf, (size_t)n);
}

/* A JSON string of @value, escaped; false (nothing added) when it does not fit whole. */
static bool append_string(struct event *ev, const char *value)
{
	char escaped[EVENT_FIELDS_MAX];
	size_t len = strlen(value);

	if (escape_json(escaped, sizeof(escaped), value, len) != len) {
		ev->is_truncated = true;
		return false;
	}
	return append(ev, "\"", 1) && append(ev, escaped, strlen(escaped)) && append(ev, "\"", 1);
}

/* As much of @value as fits as a JSON string, escaped; false when not even its quotes do. */
static bool append_string_cut(struct event *ev, const char *value)
{
	char escaped[EVENT_FIELDS_MAX];
	size_t len = strlen(value), room;

	if (ev->len + 2 >= sizeof(ev->fields)) {
		ev->is_truncated = true;
		return false;
	}
	/* escape_json() stops before what would not fit, and leaves room for its NUL */
	room = sizeof(ev->fields) - ev->len - 2;
	if (escape_json(escaped, room < sizeof(escaped) ? room : sizeof(escaped), value, len) != len)
		ev->is_truncated = true;
	return append(ev, "\"", 1) && append(ev, escaped, strlen(escaped)) && append(ev, "\"", 1);
}

/* ',"key":"value"', whole or cut (@may_cut), or nothing at all. */
static void add_str(struct event *ev, const char *key, const char *value, bool may_cut)
{
	size_t mark = ev->len;

	value = strempty(value);
	if (!append_key(ev, key) ||
	    !(may_cut ? append_string_cut(ev, value) : append_string(ev, value))) {
		ev->len = mark;
		ev->fields[mark] = '\0';
	}
}

void event_add_str(struct event *ev, const char *key, const char *value)
{
	add_str(ev, key, value, false);
}

void event_add_str_cut(struct event *ev, const char *key, const char *value)
{
	add_str(ev, key, value, true);
}

void event_add_int(struct event *ev, const char *key, int64_t value)
{
	size_t mark = ev->len;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%lld", (long long)value);

	if (!append_key(ev, key) || !append(ev, buf, (size_t)n)) {
		ev->len = mark;
		ev->fields[mark] = '\0';
	}
}

void event_add_bool(struct event *ev, const char *key, bool value)
{
	size_t mark = ev->len;
	const char *text = value ? "true" : "false";

	if (!append_key(ev, key) || !append(ev, text, strlen(text))) {
		ev->len = mark;
		ev->fields[mark] = '\0';
	}
}

void event_add_strs(struct event *ev, const char *key, const char *const (*pairs)[2], size_t n)
{
	size_t mark = ev->len, n_added = 0;
	bool ok = append_key(ev, key) && append(ev, "{", 1);

	for (size_t i = 0; ok && i < n; i++) {
		if (!pairs[i][1] || !pairs[i][1][0])
			continue;
		/* the names are ours: plain ASCII */
		ok = (n_added == 0 || append(ev, ",", 1)) && append_string(ev, pairs[i][0]) &&
		     append(ev, ":", 1) && append_string(ev, pairs[i][1]);
		n_added++;
	}
	if (!ok || n_added == 0 || !append(ev, "}", 1)) {
		ev->len = mark;
		ev->fields[mark] = '\0';
	}
}

void event_add_keys(struct event *ev, const char *key, unsigned mask)
{
	size_t mark = ev->len;
	bool ok = append_key(ev, key) && append(ev, "[", 1);
	bool is_first = true;

	for (size_t i = 0; ok && i < CONFIG_KEY_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		ok = (is_first || append(ev, ",", 1)) && append_string(ev, config_keys[i].name);
		is_first = false;
	}
	if (!ok || !append(ev, "]", 1)) {
		ev->len = mark;
		ev->fields[mark] = '\0';
	}
}

size_t event_render(const struct event *ev, char *buf, size_t size)
{
	time_t sec = (time_t)(ev->time_ns / 1000000000);
	struct tm tm;
	char when[32];
	int n;

	(void)gmtime_r(&sec, &tm);
	(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* action and container are ours or validated names: no escaping needed */
	n = snprintf(buf, size,
		     "{\"type\":\"%s\",\"timestamp\":\"%s.%06lldZ\",\"metadata\":{\"action\":\"%s\""
		     "%s%s%s%s%s}}\n",
		     event_type_name(ev->type), when, (long long)(ev->time_ns % 1000000000 / 1000),
		     ev->action, ev->container[0] ? ",\"container\":\"" : "", ev->container,
		     ev->container[0] ? "\"" : "", ev->fields,
		     ev->is_truncated ? ",\"truncated\":true" : "");
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* ---- filters ---- */

static int parse_types(const char *types, unsigned *ret, struct icd_error *reterr)
{
	unsigned mask = 0;
	const char *p = types;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t t;

		for (t = 0; t < EVENT_TYPE_COUNT; t++)
			if (strlen(type_names[t]) == len && strncmp(p, type_names[t], len) == 0)
				break;
		if (t == EVENT_TYPE_COUNT) {
			char name[64];

			(void)snprintf(name, sizeof(name), "%.*s", (int)(len < 48 ? len : 48), p);
			return icd_error_set(reterr, -EINVAL, "unknown event type '%s' (types: "
					     "lifecycle, listener, worker, lxc, audit)",
					     ESCAPED(name, 48));
		}
		mask |= 1u << t;
		p += len;
		if (*p == ',')
			p++;
	}
	*ret = mask;
	return 0;
}

int event_filter_parse(const char *types, const char *container, struct event_filter *ret,
		       struct icd_error *reterr)
{
	struct event_filter f = { .types = ((1u << EVENT_TYPE_COUNT) - 1) & ~(1u << EVENT_AUDIT) };
	int r;

	if (types && types[0]) {
		r = parse_types(types, &f.types, reterr);
		if (r < 0)
			return r;
	}
	if (container && container[0]) {
		if (!container_name_valid(container))
			return icd_error_set(reterr, -EINVAL, "invalid container name '%s' in "
					     "?container=", ESCAPED(container, 64));
		strcpy(f.container, container);
	}
	*ret = f;
	return 0;
}

bool event_filter_match(const struct event_filter *f, const struct event *ev)
{
	if (!(f->types & (1u << ev->type)))
		return false;
	return !f->container[0] || strcmp(f->container, ev->container) == 0;
}

/* ---- the bus ---- */

struct event_bus *event_bus_new(void)
{
	struct event_bus *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

struct event_bus *event_bus_free(struct event_bus *b)
{
	if (!b)
		return NULL;
	pthread_mutex_destroy(&b->lock);
	free(b);
	return NULL;
}

static void count_wanting(struct event_bus *b, const struct event_sub *s, int delta)
{
	for (size_t t = 0; t < EVENT_TYPE_COUNT; t++)
		if (s->filter.types & (1u << t))
			atomic_fetch_add_explicit(&b->pub.n_wanting[t], (unsigned)delta,
						  memory_order_relaxed);
}

int event_bus_subscribe(struct event_bus *b, const struct event_filter *filter, bool is_admin,
			const struct event_sub_ops *ops, void *userdata, struct event_sub **ret)
{
	const size_t max = is_admin ? EVENT_SUBSCRIBERS_MAX
				    : EVENT_SUBSCRIBERS_MAX - EVENT_SUBSCRIBERS_RESERVED;
	struct event_sub *s;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	if (b->is_closed)
		r = -ESHUTDOWN;
	else if (b->n_subs >= max)
		r = -EAGAIN;
	pthread_mutex_unlock(&b->lock);
	if (r < 0)
		return r;
	/* the ring is allocated outside the lock; the count is checked again under it */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct event_sub){ .filter = *filter, .ops = ops, .userdata = userdata };
	pthread_mutex_lock(&b->lock);
	if (b->is_closed || b->n_subs >= max)
		r = b->is_closed ? -ESHUTDOWN : -EAGAIN;
	else {
		b->subs[b->n_subs++] = s;
		count_wanting(b, s, +1);
	}
	pthread_mutex_unlock(&b->lock);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* Lock held: take @s off the table (no-op when it is not on it any more). */
static void forget(struct event_bus *b, struct event_sub *s)
{
	for (size_t i = 0; i < b->n_subs; i++)
		if (b->subs[i] == s) {
			b->subs[i] = b->subs[--b->n_subs];
			if (!s->is_dropped)
				count_wanting(b, s, -1);
			return;
		}
}

void event_bus_unsubscribe(struct event_bus *b, struct event_sub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&b->lock);
	forget(b, s);
	pthread_mutex_unlock(&b->lock);
	free(s);
}

/* Lock held: @s's ring is full. It takes nothing more; its reader ends with the drop event. */
static void drop(struct event_bus *b, struct event_sub *s)
{
	s->is_dropped = true;
	s->n_at_drop = s->n;
	s->n_lost = 1;
	b->n_dropped++;
	count_wanting(b, s, -1);
	if (s->ops->dropped)
		s->ops->dropped(s->userdata);
}

/* Lock held: @s has something new; true when its reader must be woken (by the caller, unlocked). */
static bool unpark(struct event_sub *s)
{
	bool was = s->is_parked;

	s->is_parked = false;
	return was;
}

/*
 * Run @visit on every subscriber under the lock; then, the lock released,
 * wake those it woke (unpark() true). A parked reader's connection is
 * suspended, so it cannot go away before that wake.
 */
static void visit_all(struct event_bus *b, bool (*visit)(struct event_bus *b, struct event_sub *s,
							 const void *arg),
		      const void *arg)
{
	struct event_sub *woken[EVENT_SUBSCRIBERS_MAX];
	size_t n_woken = 0;

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n_subs; i++)
		if (visit(b, b->subs[i], arg))
			woken[n_woken++] = b->subs[i];
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < n_woken; i++)
		woken[i]->ops->wake(woken[i]->userdata);
}

/* Copy @len bytes into @s's ring at offset @at, wrapping at its end. */
static void ring_put(struct event_sub *s, size_t at, const void *src, size_t len)
{
	size_t first = len < EVENT_RING_BYTES - at ? len : EVENT_RING_BYTES - at;

	memcpy(s->ring + at, src, first);
	memcpy(s->ring, (const unsigned char *)src + first, len - first);
}

static void ring_get(const struct event_sub *s, size_t at, void *dst, size_t len)
{
	size_t first = len < EVENT_RING_BYTES - at ? len : EVENT_RING_BYTES - at;

	memcpy(dst, s->ring + at, first);
	memcpy((unsigned char *)dst + first, s->ring, len - first);
}

/* Lock held: append @ev to @s's ring; false when it does not fit. */
static bool ring_push(struct event_sub *s, const struct event *ev)
{
	struct packed_event h = { .time_ns = ev->time_ns, .fields_len = (uint16_t)ev->len,
				  .type = (uint8_t)ev->type,
				  .action_len = (uint8_t)strlen(ev->action),
				  .container_len = (uint8_t)strlen(ev->container),
				  .is_truncated = ev->is_truncated };
	size_t size = sizeof(h) + h.action_len + h.container_len + h.fields_len;
	size_t at = (s->head + s->used) % EVENT_RING_BYTES;

	if (size > EVENT_RING_BYTES - s->used)
		return false;
	ring_put(s, at, &h, sizeof(h));
	at = (at + sizeof(h)) % EVENT_RING_BYTES;
	ring_put(s, at, ev->action, h.action_len);
	at = (at + h.action_len) % EVENT_RING_BYTES;
	ring_put(s, at, ev->container, h.container_len);
	at = (at + h.container_len) % EVENT_RING_BYTES;
	ring_put(s, at, ev->fields, h.fields_len);
	s->used += size;
	s->n++;
	return true;
}

/* Lock held, @s->n > 0: take its oldest event into @ev. */
static void ring_pop(struct event_sub *s, struct event *ev)
{
	struct packed_event h;
	size_t at = s->head, size;

	ring_get(s, at, &h, sizeof(h));
	at = (at + sizeof(h)) % EVENT_RING_BYTES;
	ring_get(s, at, ev->action, h.action_len);
	ev->action[h.action_len] = '\0';
	at = (at + h.action_len) % EVENT_RING_BYTES;
	ring_get(s, at, ev->container, h.container_len);
	ev->container[h.container_len] = '\0';
	at = (at + h.container_len) % EVENT_RING_BYTES;
	ring_get(s, at, ev->fields, h.fields_len);
	ev->fields[h.fields_len] = '\0';
	ev->type = (enum event_type)h.type;
	ev->time_ns = h.time_ns;
	ev->len = h.fields_len;
	ev->is_truncated = h.is_truncated;
	size = sizeof(h) + h.action_len + h.container_len + h.fields_len;
	s->head = (s->head + size) % EVENT_RING_BYTES;
	s->used -= size;
	s->n--;
}

/* Lock held: queue event @arg for @s if it takes it. */
static bool deliver(struct event_bus *b, struct event_sub *s, const void *arg)
{
	const struct event *ev = arg;

	if (s->is_closed || !event_filter_match(&s->filter, ev))
		return false;
	if (s->is_dropped) {
		s->n_lost++;
		return false;
	}
	if (!ring_push(s, ev)) {
		drop(b, s);
		return false;
	}
	return unpark(s);
}

void event_bus_publish(struct event_bus *b, const struct event *ev)
{
	if (b)
		visit_all(b, deliver, ev);
}

/* Lock held: the final event of dropped @s. */
static void drop_event(const struct event_sub *s, struct event *ev)
{
	event_init(ev, EVENT_LIFECYCLE, "dropped", s->filter.container);
	/* the subscriber's own type when it has one, so a ?type= filter still shows it */
	for (size_t t = 0; t < EVENT_TYPE_COUNT; t++)
		if (s->filter.types & (1u << t)) {
			ev->type = (enum event_type)t;
			break;
		}
	event_add_str(ev, "reason", "the reader fell behind: its queue of "
		      "events was full");
	event_add_int(ev, "queued", (int64_t)s->n_at_drop);
	event_add_int(ev, "lost", (int64_t)s->n_lost);
}

enum event_next event_sub_next(struct event_bus *b, struct event_sub *s, struct event *ret_ev,
			       void (*park)(void *userdata), void *userdata)
{
	enum event_next next;

	pthread_mutex_lock(&b->lock);
	if (s->n > 0) {
		ring_pop(s, ret_ev);
		next = EVENT_NEXT_EVENT;
	} else if (s->is_dropped && !s->has_sent_drop) {
		drop_event(s, ret_ev);
		s->has_sent_drop = true;
		next = EVENT_NEXT_DROPPED;
	} else if (s->is_dropped || s->is_closed) {
		next = EVENT_NEXT_END;
	} else if (s->wants_keepalive) {
		s->wants_keepalive = false;
		next = EVENT_NEXT_KEEPALIVE;
	} else if (!park) {
		next = EVENT_NEXT_NONE;
	} else {
		/* under the lock: a publisher sees is_parked only once the reader is parked */
		s->is_parked = true;
		park(userdata);
		next = EVENT_NEXT_PARKED;
	}
	pthread_mutex_unlock(&b->lock);
	return next;
}

/* Lock held: @s should send a keep-alive. */
static bool ask_keepalive(struct event_bus *b, struct event_sub *s, const void *arg)
{
	(void)b;
	(void)arg;
	s->wants_keepalive = true;
	return unpark(s);
}

/* Lock held: @s's stream ends (the bus closes). */
static bool end_stream(struct event_bus *b, struct event_sub *s, const void *arg)
{
	(void)b;
	(void)arg;
	s->is_closed = true;
	return unpark(s);
}

/* Lock held: end @s's stream if it is parked and its reader hung up. */
static bool end_if_gone(struct event_bus *b, struct event_sub *s, const void *arg)
{
	/* only a parked reader: a running one finds out by itself when it writes */
	if (!s->is_parked || !s->ops->is_gone || !s->ops->is_gone(s->userdata))
		return false;
	return end_stream(b, s, arg);
}

void event_bus_reap(struct event_bus *b)
{
	if (b)
		visit_all(b, end_if_gone, NULL);
}

void event_bus_keepalive(struct event_bus *b)
{
	if (b)
		visit_all(b, ask_keepalive, NULL);
}

void event_bus_close(struct event_bus *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->is_closed = true;
	pthread_mutex_unlock(&b->lock);
	visit_all(b, end_stream, NULL);
}

void event_bus_counts(struct event_bus *b, unsigned *ret_subscribers, uint64_t *ret_dropped)
{
	pthread_mutex_lock(&b->lock);
	*ret_subscribers = (unsigned)b->n_subs;
	*ret_dropped = b->n_dropped;
	pthread_mutex_unlock(&b->lock);
}
