/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the event bus (daemon/events/bus.c) and the events the
 * daemon builds (daemon/events/publish.c): filters (audit only when asked
 * for), the per-subscriber ring of packed events (kept in order and whole
 * whatever their sizes and wherever they wrap, filled to its last byte,
 * dropped with a final event when full, the others unaffected), parking and
 * wake-ups (a wake-up for every park that has something new, never one
 * without a park), keep-alives, the subscriber cap, closing, and the
 * rendering (valid JSON whatever a container put in a path). No threads: the
 * bus's callbacks are counted.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/events/publish.h"

struct reader {
	unsigned n_wakes, n_parks, n_drops;
};

static void on_wake(void *userdata)
{
	((struct reader *)userdata)->n_wakes++;
}

static void on_dropped(void *userdata)
{
	((struct reader *)userdata)->n_drops++;
}

static void on_park(void *userdata)
{
	((struct reader *)userdata)->n_parks++;
}

static const struct event_sub_ops ops = { .wake = on_wake, .dropped = on_dropped };

static struct event_bus *bus;

static int setup(void **state)
{
	(void)state;
	bus = event_bus_new();
	return bus ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	bus = event_bus_free(bus);
	return 0;
}

static struct event_sub *subscribe(const char *types, const char *container, struct reader *rd)
{
	struct event_filter f;
	struct event_sub *s = NULL;

	assert_int_equal(event_filter_parse(types, container, &f, NULL), 0);
	assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, rd, &s), 0);
	return s;
}

static void publish(enum event_type type, const char *action, const char *container)
{
	struct event ev;

	event_init(&ev, type, action, container);
	event_bus_publish(bus, &ev);
}

/* The rendered line of @ev, parsed; it must be one line of valid JSON. */
static json_t *rendered(const struct event *ev)
{
	char line[EVENT_LINE_MAX];
	size_t len = event_render(ev, line, sizeof(line));
	json_t *j;

	assert_true(len > 0 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));
	j = json_loadb(line, len, 0, NULL);
	assert_non_null(j);
	return j;
}

static void test_event_filter_parse_defaults_leave_audit_out(void **state)
{
	struct event_filter f;
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(event_filter_parse(NULL, NULL, &f, NULL), 0);
	assert_true(f.types & (1u << EVENT_LIFECYCLE));
	assert_true(f.types & (1u << EVENT_LXC));
	assert_false(f.types & (1u << EVENT_AUDIT));
	assert_int_equal(event_filter_parse("audit,listener", "", &f, NULL), 0);
	assert_int_equal(f.types, (1u << EVENT_AUDIT) | (1u << EVENT_LISTENER));
	assert_string_equal(f.container, "");
	assert_int_equal(event_filter_parse("lifecycle,bogus", NULL, &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'bogus'"));
	assert_int_equal(event_filter_parse("lifecycles", NULL, &f, &err), -EINVAL);
	assert_int_equal(event_filter_parse(NULL, "Bad/Name", &f, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "container"));
}

static void test_event_filter_match_type_and_container(void **state)
{
	struct event_filter f;
	struct event ev;

	(void)state;
	assert_int_equal(event_filter_parse("lifecycle", "c1", &f, NULL), 0);
	event_init(&ev, EVENT_LIFECYCLE, "container-created", "c1");
	assert_true(event_filter_match(&f, &ev));
	event_init(&ev, EVENT_LIFECYCLE, "container-created", "c2");
	assert_false(event_filter_match(&f, &ev));
	event_init(&ev, EVENT_LIFECYCLE, "x", NULL); /* about no container */
	assert_false(event_filter_match(&f, &ev));
	event_init(&ev, EVENT_LISTENER, "attached", "c1");
	assert_false(event_filter_match(&f, &ev));
}

static void test_event_bus_wants_counts_subscribers(void **state)
{
	struct reader rd = { 0 };
	struct event_sub *s, *t;

	(void)state;
	assert_false(event_bus_wants(NULL, EVENT_AUDIT));
	assert_false(event_bus_wants(bus, EVENT_LIFECYCLE));
	s = subscribe(NULL, NULL, &rd);
	assert_true(event_bus_wants(bus, EVENT_LIFECYCLE));
	assert_false(event_bus_wants(bus, EVENT_AUDIT)); /* the emulation path pays nothing */
	t = subscribe("audit", NULL, &rd);
	assert_true(event_bus_wants(bus, EVENT_AUDIT));
	event_bus_unsubscribe(bus, t);
	assert_false(event_bus_wants(bus, EVENT_AUDIT));
	event_bus_unsubscribe(bus, s);
	assert_false(event_bus_wants(bus, EVENT_LIFECYCLE));
}

static void test_event_sub_next_in_order_then_parks_and_wakes_once(void **state)
{
	struct reader rd = { 0 };
	struct event_sub *s = subscribe("lifecycle", NULL, &rd);
	struct event ev;

	(void)state;
	assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_NONE);
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_PARKED);
	assert_int_equal(rd.n_parks, 1);
	publish(EVENT_LIFECYCLE, "one", "c1");
	publish(EVENT_LISTENER, "not-taken", "c1");
	publish(EVENT_LIFECYCLE, "two", "c1");
	assert_int_equal(rd.n_wakes, 1); /* the first event woke it; the second found it awake */
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_EVENT);
	assert_string_equal(ev.action, "one");
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_EVENT);
	assert_string_equal(ev.action, "two");
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_PARKED);
	assert_int_equal(rd.n_parks, 2);
	event_bus_unsubscribe(bus, s);
	publish(EVENT_LIFECYCLE, "gone", "c1");
	assert_int_equal(rd.n_wakes, 1);
}

/* Event @i of a run: its size varies (0 to 600 bytes of fields), so the ring wraps anywhere. */
static void make_tick(struct event *ev, unsigned i)
{
	char text[601];
	size_t len = (i * 37u) % sizeof(text);

	memset(text, 'a' + (int)(i % 26), len);
	text[len] = '\0';
	event_init(ev, EVENT_LIFECYCLE, "tick", i % 3 ? "c1" : NULL);
	ev->time_ns = (int64_t)i;
	event_add_int(ev, "i", i);
	if (len)
		event_add_str(ev, "text", text);
}

static void expect_same(const struct event *got, const struct event *want)
{
	assert_int_equal(got->type, want->type);
	assert_int_equal(got->time_ns, want->time_ns);
	assert_string_equal(got->action, want->action);
	assert_string_equal(got->container, want->container);
	assert_int_equal(got->len, want->len);
	assert_string_equal(got->fields, want->fields);
	assert_int_equal(got->is_truncated, want->is_truncated);
}

static void expect_tick(const struct event *got, unsigned i)
{
	struct event want;

	make_tick(&want, i);
	expect_same(got, &want);
}

static void test_event_bus_full_ring_drops_only_that_subscriber(void **state)
{
	struct reader slow = { 0 }, fast = { 0 };
	struct event_sub *s = subscribe(NULL, NULL, &slow);
	struct event_sub *f = subscribe(NULL, NULL, &fast);
	unsigned n_queued = 0, n_published = 0;
	struct event ev;
	json_t *j, *meta;

	(void)state;
	/* the fast reader takes each at once: its ring wraps many times, every event whole */
	for (; slow.n_drops == 0 || n_published < n_queued + 10; n_published++) {
		make_tick(&ev, n_published);
		event_bus_publish(bus, &ev);
		n_queued += slow.n_drops == 0; /* the one that did not fit dropped it */
		assert_int_equal(event_sub_next(bus, f, &ev, NULL, &fast), EVENT_NEXT_EVENT);
		expect_tick(&ev, n_published);
	}
	/* 256 KiB of events of 330 bytes on average: many more than 256 */
	assert_in_range(n_queued, EVENT_RING_BYTES / 700, EVENT_RING_BYTES / 50);
	assert_int_equal(slow.n_drops, 1);
	assert_int_equal(fast.n_drops, 0);
	/* a dropped subscriber no longer counts for event_bus_wants() */
	event_bus_unsubscribe(bus, f);
	assert_false(event_bus_wants(bus, EVENT_LIFECYCLE));
	for (unsigned i = 0; i < n_queued; i++) {
		assert_int_equal(event_sub_next(bus, s, &ev, on_park, &slow), EVENT_NEXT_EVENT);
		expect_tick(&ev, i);
	}
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &slow), EVENT_NEXT_DROPPED);
	j = rendered(&ev);
	meta = json_object_get(j, "metadata");
	assert_string_equal(json_string_value(json_object_get(meta, "action")), "dropped");
	assert_int_equal(json_integer_value(json_object_get(meta, "queued")), n_queued);
	assert_int_equal(json_integer_value(json_object_get(meta, "lost")), n_published - n_queued);
	json_decref(j);
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &slow), EVENT_NEXT_END);
	assert_int_equal(slow.n_parks, 0);
	event_bus_unsubscribe(bus, s);
}

/* An event taking @size bytes of a ring (bus.h: a 16-byte header, action, container, fields). */
static void make_sized(struct event *ev, unsigned i, size_t size)
{
	/* 16 + "x" + "c1" + ',"t":"' + text + '"' */
	size_t len = size - 16 - 1 - 2 - 7;
	char text[EVENT_FIELDS_MAX];

	memset(text, 'a' + (int)(i % 26), len);
	text[len] = '\0';
	event_init(ev, EVENT_LIFECYCLE, "x", "c1");
	ev->time_ns = (int64_t)i;
	event_add_str(ev, "t", text);
	assert_int_equal(ev->len, 7 + len);
}

/*
 * A ring filled exactly: after one event of 504 bytes, 512 events of 512
 * bytes take the whole ring, the last of them exactly the room left, and the
 * one that wraps has 8 bytes of its header at the end and 8 at the start.
 */
static void test_event_bus_ring_filled_exactly_with_a_header_across_the_end(void **state)
{
	const unsigned n_fit = EVENT_RING_BYTES / 512;
	struct reader rd = { 0 };
	struct event_sub *s = subscribe(NULL, NULL, &rd);
	struct event ev, want;

	(void)state;
	make_sized(&ev, 0, 504);
	event_bus_publish(bus, &ev);
	assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_EVENT);
	for (unsigned i = 1; i <= n_fit; i++) {
		make_sized(&ev, i, 512);
		event_bus_publish(bus, &ev);
		assert_int_equal(rd.n_drops, 0);
	}
	make_sized(&ev, n_fit + 1, 512);
	event_bus_publish(bus, &ev);
	assert_int_equal(rd.n_drops, 1);
	for (unsigned i = 1; i <= n_fit; i++) {
		assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_EVENT);
		make_sized(&want, i, 512);
		expect_same(&ev, &want);
	}
	assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_DROPPED);
	event_bus_unsubscribe(bus, s);
}

/* The next of a fixed pseudo-random sequence (an LCG: the same run every time). */
static unsigned next_random(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* @len letters chosen by @seed into @buf, terminated. */
static void random_text(char *buf, size_t len, unsigned *seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + next_random(seed) % 26);
	buf[len] = '\0';
}

/* An event of random size up to the largest: 31-byte action, 63-byte container, 639 of fields. */
static void make_random(struct event *ev, unsigned i, unsigned *seed)
{
	char action[EVENT_ACTION_MAX + 1], container[CONTAINER_NAME_MAX + 1];
	char text[EVENT_FIELDS_MAX];

	random_text(action, 1 + next_random(seed) % EVENT_ACTION_MAX, seed);
	random_text(container, next_random(seed) % (CONTAINER_NAME_MAX + 1), seed);
	/* "text" takes 9 bytes besides: above 630 letters it is left out, the event truncated */
	random_text(text, next_random(seed) % sizeof(text), seed);
	event_init(ev, (enum event_type)(i % EVENT_TYPE_COUNT), action, container);
	ev->time_ns = (int64_t)i;
	event_add_str(ev, "text", text);
}

/*
 * Readers that take events while more come: the ring holds a varying number
 * of events of every size, up to the largest, and wraps anywhere (inside a
 * header too) many times before it fills; each event comes out as it went in.
 */
static void test_event_bus_ring_keeps_every_size_across_wraps(void **state)
{
	static struct event queued[4096];
	struct reader rd = { 0 };
	struct event_sub *s = subscribe("lifecycle,listener,worker,lxc,audit", NULL, &rd);
	unsigned seed = 1, n_in = 0, n_out = 0;
	struct event got;

	(void)state;
	while (rd.n_drops == 0) {
		if (next_random(&seed) % 100 < 52) {
			make_random(&queued[n_in % 4096], n_in, &seed);
			event_bus_publish(bus, &queued[n_in++ % 4096]);
			assert_true(n_in - n_out < 4096);
			continue;
		}
		if (n_out == n_in) {
			assert_int_equal(event_sub_next(bus, s, &got, NULL, &rd), EVENT_NEXT_NONE);
			continue;
		}
		assert_int_equal(event_sub_next(bus, s, &got, NULL, &rd), EVENT_NEXT_EVENT);
		expect_same(&got, &queued[n_out++ % 4096]);
	}
	/* it filled only after many times its size went through */
	assert_true(n_out > 4 * (EVENT_RING_BYTES / 750));
	event_bus_unsubscribe(bus, s);
}

static void test_event_bus_keepalive_and_close_wake_parked(void **state)
{
	struct reader rd = { 0 };
	struct event_sub *s = subscribe(NULL, NULL, &rd);
	struct event_filter f;
	struct event_sub *late;
	struct event ev;

	(void)state;
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_PARKED);
	event_bus_keepalive(bus);
	assert_int_equal(rd.n_wakes, 1);
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_KEEPALIVE);
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_PARKED);
	event_bus_close(bus);
	assert_int_equal(rd.n_wakes, 2);
	assert_int_equal(event_sub_next(bus, s, &ev, on_park, &rd), EVENT_NEXT_END);
	assert_int_equal(event_filter_parse(NULL, NULL, &f, NULL), 0);
	assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, &rd, &late), -ESHUTDOWN);
	event_bus_unsubscribe(bus, s);
}

static void test_event_bus_subscribe_refused_past_the_cap(void **state)
{
	struct reader rd = { 0 };
	struct event_sub *subs[EVENT_SUBSCRIBERS_MAX], *more = NULL;
	struct event_filter f;
	unsigned n;
	uint64_t n_dropped;

	(void)state;
	for (size_t i = 0; i < EVENT_SUBSCRIBERS_MAX; i++)
		subs[i] = subscribe(NULL, NULL, &rd);
	assert_int_equal(event_filter_parse(NULL, NULL, &f, NULL), 0);
	assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, &rd, &more), -EAGAIN);
	event_bus_counts(bus, &n, &n_dropped);
	assert_int_equal(n, EVENT_SUBSCRIBERS_MAX);
	event_bus_unsubscribe(bus, subs[0]);
	assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, &rd, &subs[0]), 0);
	for (size_t i = 0; i < EVENT_SUBSCRIBERS_MAX; i++)
		event_bus_unsubscribe(bus, subs[i]);
}

/* Readers that are not administrators leave the last places to administrators. */
static void test_event_bus_keeps_places_for_admins(void **state)
{
	const size_t n_readers = EVENT_SUBSCRIBERS_MAX - EVENT_SUBSCRIBERS_RESERVED;
	struct event_sub *subs[EVENT_SUBSCRIBERS_MAX + 1] = { 0 };
	struct reader rd = { 0 };
	struct event_filter f;

	(void)state;
	assert_int_equal(event_filter_parse(NULL, NULL, &f, NULL), 0);
	for (size_t i = 0; i < n_readers; i++)
		assert_int_equal(event_bus_subscribe(bus, &f, false, &ops, &rd, &subs[i]), 0);
	assert_int_equal(event_bus_subscribe(bus, &f, false, &ops, &rd, &subs[n_readers]), -EAGAIN);
	for (size_t i = n_readers; i < EVENT_SUBSCRIBERS_MAX; i++)
		assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, &rd, &subs[i]), 0);
	assert_int_equal(event_bus_subscribe(bus, &f, true, &ops, &rd, &subs[EVENT_SUBSCRIBERS_MAX]),
			 -EAGAIN);
	for (size_t i = 0; i < EVENT_SUBSCRIBERS_MAX; i++)
		event_bus_unsubscribe(bus, subs[i]);
}

static void test_event_render_escapes_what_a_container_chose(void **state)
{
	struct event ev;
	json_t *j, *meta;

	(void)state;
	event_init(&ev, EVENT_AUDIT, "syscall", "c1");
	event_add_int(&ev, "pid", 42);
	event_add_str(&ev, "path", "/tmp/\"x\"\\\n\xff\x1b[2J");
	event_add_keys(&ev, "keys", 1u << CONFIG_SYSINFO | 1u << CONFIG_MKNOD);
	j = rendered(&ev);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "audit");
	assert_non_null(strstr(json_string_value(json_object_get(j, "timestamp")), "Z"));
	meta = json_object_get(j, "metadata");
	assert_string_equal(json_string_value(json_object_get(meta, "container")), "c1");
	assert_int_equal(json_integer_value(json_object_get(meta, "pid")), 42);
	assert_string_equal(json_string_value(json_object_get(meta, "path")),
			    "/tmp/\"x\"\\\\x0a\\xff\\x1b[2J");
	assert_int_equal(json_array_size(json_object_get(meta, "keys")), 2);
	assert_null(json_object_get(meta, "truncated"));
	json_decref(j);
}

static void test_event_add_str_too_long_is_left_out_whole(void **state)
{
	char big[EVENT_FIELDS_MAX * 2];
	struct event ev;
	json_t *j, *meta;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	event_init(&ev, EVENT_AUDIT, "syscall", "c1");
	event_add_int(&ev, "pid", 7);
	event_add_str(&ev, "path", big);
	event_add_str(&ev, "outcome", "emulated");
	j = rendered(&ev);
	meta = json_object_get(j, "metadata");
	assert_null(json_object_get(meta, "path"));
	assert_int_equal(json_integer_value(json_object_get(meta, "pid")), 7);
	assert_string_equal(json_string_value(json_object_get(meta, "outcome")), "emulated");
	assert_true(json_is_true(json_object_get(meta, "truncated")));
	json_decref(j);
}

/*
 * A cut value fills the fields to the last escape that fits ("\\x01": five
 * bytes of JSON), whatever room the members before it left; with no room for
 * its key and quotes it is left out. The event says truncated either way.
 */
static void test_event_add_str_cut_fills_the_room_on_whole_escapes(void **state)
{
	static const size_t key_len = sizeof(",\"path\":\"\"") - 1;
	char ctl[EVENT_FIELDS_MAX];
	struct event ev;
	json_t *j, *meta;

	(void)state;
	memset(ctl, '\x01', sizeof(ctl) - 1);
	ctl[sizeof(ctl) - 1] = '\0';
	for (size_t n_pad = 0; n_pad < EVENT_FIELDS_MAX / 5; n_pad++) {
		const char *path;
		size_t before;

		event_init(&ev, EVENT_AUDIT, "syscall", "c1");
		event_add_str(&ev, "pad", ctl + sizeof(ctl) - 1 - n_pad);
		before = ev.len;
		event_add_str_cut(&ev, "path", ctl);
		j = rendered(&ev);
		meta = json_object_get(j, "metadata");
		path = json_string_value(json_object_get(meta, "path"));
		assert_true(json_is_true(json_object_get(meta, "truncated")));
		if (before + key_len >= sizeof(ev.fields)) {
			assert_null(path);
		} else {
			assert_non_null(path);
			/* whole escapes, and no room for one more */
			assert_int_equal(strlen(path) % 4, 0);
			assert_true(strlen(path) == 0 || strncmp(path, "\\x01", 4) == 0);
			assert_true(ev.len + 5 >= sizeof(ev.fields) - 1);
		}
		json_decref(j);
	}
}

static void test_publish_changed_keys_and_failed_change_publishes_nothing(void **state)
{
	const char *a[CONFIG_KEY_COUNT] = { 0 }, *b[CONFIG_KEY_COUNT] = { 0 };
	_cleanup_(config_unrefp) struct config *before = NULL, *after = NULL;
	struct store_change ch = { .op = STORE_PATCH, .name = "c1", .result = -EIO };
	struct reader rd = { 0 };
	struct event_sub *s = subscribe(NULL, NULL, &rd);
	struct event ev;

	(void)state;
	a[CONFIG_SYSINFO] = "true";
	a[CONFIG_MKNOD] = "true";
	b[CONFIG_SYSINFO] = "true";
	b[CONFIG_MKNOD] = "false";
	b[CONFIG_SETXATTR] = "true";
	assert_int_equal(config_new(a, &before, NULL), 0);
	assert_int_equal(config_new(b, &after, NULL), 0);
	assert_int_equal(publish_changed_keys(before, after),
			 1u << CONFIG_MKNOD | 1u << CONFIG_SETXATTR);
	assert_int_equal(publish_changed_keys(NULL, before), 1u << CONFIG_SYSINFO | 1u << CONFIG_MKNOD);
	publish_store_change(bus, &ch);
	assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_NONE);
	ch.result = 0;
	ch.changed_keys = 1u << CONFIG_MKNOD;
	publish_store_change(bus, &ch);
	assert_int_equal(event_sub_next(bus, s, &ev, NULL, &rd), EVENT_NEXT_EVENT);
	assert_string_equal(ev.action, "container-updated");
	assert_non_null(strstr(ev.fields, "\"changed_keys\":[\"security.syscalls.intercept.mknod\"]"));
	event_bus_unsubscribe(bus, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_filter_parse_defaults_leave_audit_out),
		cmocka_unit_test(test_event_filter_match_type_and_container),
		cmocka_unit_test_setup_teardown(test_event_bus_wants_counts_subscribers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_sub_next_in_order_then_parks_and_wakes_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_bus_full_ring_drops_only_that_subscriber,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_bus_ring_keeps_every_size_across_wraps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_event_bus_ring_filled_exactly_with_a_header_across_the_end, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_event_bus_keepalive_and_close_wake_parked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_bus_subscribe_refused_past_the_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_bus_keeps_places_for_admins, setup,
						teardown),
		cmocka_unit_test(test_event_render_escapes_what_a_container_chose),
		cmocka_unit_test(test_event_add_str_cut_fills_the_room_on_whole_escapes),
		cmocka_unit_test(test_event_add_str_too_long_is_left_out_whole),
		cmocka_unit_test_setup_teardown(test_publish_changed_keys_and_failed_change_publishes_nothing,
						setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
