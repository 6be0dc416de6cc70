/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the lifecycle events the store publishes about profiles and
 * ephemeral containers, read from a real event bus: profile-created,
 * -updated (the keys that changed) and -deleted, each followed by a
 * container-updated for every container whose expanded configuration it
 * changed (none for a container whose own key hides the profile's, nor for
 * one that does not use it) and restart-required where an attached filter
 * does not trap a key turned on; nothing for a change that failed; ephemeral
 * containers created and deleted with their profile and Kubernetes names
 * (the longest ones still valid JSON); and ?container= leaving the profile's
 * own events out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/events/publish.h"
#include "daemon/store/store.h"

#include "tmpdir_fixture.h"

static struct fixture *F;
static struct registry *R;
static struct store *S;
static struct event_bus *B;

#include "store_change.h"

static void no_op(void *userdata)
{
	(void)userdata;
}

static const struct event_sub_ops ops = { .wake = no_op, .dropped = no_op };

static int world_setup(void **state)
{
	struct icd_error err = { 0 };

	(void)state;
	setup((void **)&F);
	R = registry_new();
	B = event_bus_new();
	assert_int_equal(store_open(F->dir, R, &S, &err), 0);
	store_set_events(S, B);
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	assert_int_equal(store_close(S, 2000), 0);
	S = store_free(S);
	R = registry_free(R);
	event_bus_close(B);
	B = event_bus_free(B);
	return teardown((void **)&F);
}

static struct event_sub *subscribe(const char *container)
{
	struct event_filter f;
	struct event_sub *s = NULL;

	assert_int_equal(event_filter_parse("lifecycle", container, &f, NULL), 0);
	assert_int_equal(event_bus_subscribe(B, &f, true, &ops, NULL, &s), 0);
	return s;
}

/* The next event of @s as JSON (a new reference), NULL when none waits. */
static json_t *next_event(struct event_sub *s)
{
	char line[EVENT_LINE_MAX];
	struct event ev;
	json_t *j, *m;

	if (event_sub_next(B, s, &ev, NULL, NULL) != EVENT_NEXT_EVENT)
		return NULL;
	event_render(&ev, line, sizeof(line));
	j = json_loads(line, 0, NULL);
	assert_non_null(j);
	m = json_incref(json_object_get(j, "metadata"));
	json_decref(j);
	return m;
}

/* A configuration: each "short-key=value" of the NULL-terminated list. */
static struct config *cfg_of(const char *const *pairs)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	char name[128];
	struct config *cfg = NULL;

	for (size_t i = 0; pairs && pairs[i]; i++) {
		size_t len = strcspn(pairs[i], "=");
		int k;

		snprintf(name, sizeof(name), CONFIG_KEY_PREFIX "%.*s", (int)len, pairs[i]);
		k = config_key_lookup(name);
		assert_true(k >= 0);
		values[k] = pairs[i] + len + 1;
	}
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

#define CFG(...) cfg_of((const char *const[]){ __VA_ARGS__, NULL })
#define NO_KEYS cfg_of(NULL)

/* The names in @m's member @key (an array of configuration keys), short, joined with ','. */
static const char *keys_of(const json_t *m, const char *key, char *buf, size_t size)
{
	const json_t *keys = json_object_get(m, key);
	size_t i, len = 0;
	json_t *k;

	assert_true(json_is_array(keys));
	buf[0] = '\0';
	json_array_foreach(keys, i, k)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					json_string_value(k) + strlen(CONFIG_KEY_PREFIX));
	return buf;
}

static const char *str_of(const json_t *m, const char *key)
{
	return json_string_value(json_object_get(m, key));
}

/*
 * The next event of @s must be @action about container @container ("" for
 * none) or profile @profile (NULL: no such member), with @keys in changed_keys
 * (or keys, for restart-required; NULL: no such member).
 */
static void expect(struct event_sub *s, const char *action, const char *container,
		   const char *profile, const char *keys)
{
	json_auto_t *m = next_event(s);
	char buf[512];

	if (!m)
		fail_msg("no event, expected '%s'", action);
	assert_string_equal(str_of(m, "action"), action);
	if (container[0])
		assert_string_equal(str_of(m, "container"), container);
	else
		assert_null(json_object_get(m, "container"));
	if (profile)
		assert_string_equal(str_of(m, "profile"), profile);
	else
		assert_null(json_object_get(m, "profile"));
	if (keys)
		assert_string_equal(keys_of(m, strcmp(action, "restart-required") == 0 ? "keys"
										  : "changed_keys",
					    buf, sizeof(buf)),
				    keys);
	else
		assert_null(json_object_get(m, "changed_keys"));
}

static void expect_none(struct event_sub *s)
{
	json_auto_t *m = next_event(s);

	if (m)
		fail_msg("unexpected event '%s'", str_of(m, "action"));
}

static void test_profile_events_then_each_user_changed(void **state)
{
	struct event_sub *s = subscribe(NULL);

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", CFG("sysinfo=true"), NULL), 0);
	expect(s, "profile-created", "", "p", "sysinfo");
	assert_int_equal(change(false, STORE_CREATE, "c1", NO_KEYS, "p"), 0);
	assert_int_equal(change(false, STORE_CREATE, "c2", CFG("sysinfo=false"), "p"), 0);
	assert_int_equal(change(false, STORE_CREATE, "c3", NO_KEYS, NULL), 0);
	expect(s, "container-created", "c1", NULL, "sysinfo");
	expect(s, "container-created", "c2", NULL, "sysinfo");
	expect(s, "container-created", "c3", NULL, "");
	/* the profile first, then its users in any order; c3 does not use it */
	assert_int_equal(change(true, STORE_REPLACE, "p", CFG("sysinfo=true", "mknod=true"), NULL),
			 0);
	expect(s, "profile-updated", "", "p", "mknod");
	expect(s, "container-updated", "c1", "p", "mknod");
	expect(s, "container-updated", "c2", "p", "mknod");
	expect_none(s);
	/* c2's own sysinfo hides the profile's: its expansion does not change */
	assert_int_equal(change(true, STORE_REPLACE, "p", CFG("mknod=true"), NULL), 0);
	expect(s, "profile-updated", "", "p", "sysinfo");
	expect(s, "container-updated", "c1", "p", "sysinfo");
	expect_none(s);
	/* a change that fails publishes nothing */
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), -EBUSY);
	assert_int_equal(change(true, STORE_CREATE, "p", NO_KEYS, NULL), -EEXIST);
	expect_none(s);
	assert_int_equal(change(false, STORE_DELETE, "c1", NULL, NULL), 0);
	assert_int_equal(change(false, STORE_DELETE, "c2", NULL, NULL), 0);
	expect(s, "container-deleted", "c1", NULL, NULL);
	expect(s, "container-deleted", "c2", NULL, NULL);
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), 0);
	expect(s, "profile-deleted", "", "p", NULL);
	expect_none(s);
	event_bus_unsubscribe(B, s);
}

/* A key turned on through a profile that an attached filter does not trap asks a restart. */
static void test_profile_change_restart_required(void **state)
{
	struct event_sub *s = subscribe("c1");
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	struct listener l = { 0 };

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", CFG("sysinfo=true"), NULL), 0);
	assert_int_equal(change(false, STORE_CREATE, "c1", NO_KEYS, "p"), 0);
	expect(s, "container-created", "c1", NULL, "sysinfo"); /* the profile's own: left out */
	c = registry_get(R, "c1");
	cfg = container_config_get(c);
	l.trapped_keys = config_trapped_keys(cfg);
	c->listeners = &l;
	assert_int_equal(change(true, STORE_REPLACE, "p", CFG("sysinfo=true", "setxattr=true"),
				NULL), 0);
	expect(s, "container-updated", "c1", "p", "setxattr");
	expect(s, "restart-required", "c1", NULL, "setxattr");
	/* turning off what it traps needs nothing */
	assert_int_equal(change(true, STORE_REPLACE, "p", CFG("setxattr=true"), NULL), 0);
	expect(s, "container-updated", "c1", "p", "sysinfo");
	expect_none(s);
	c->listeners = NULL;
	assert_int_equal(change(false, STORE_DELETE, "c1", NULL, NULL), 0);
	event_bus_unsubscribe(B, s);
}

static void test_ephemeral_created_and_deleted(void **state)
{
	struct container_k8s k8s = { .namespace = "shop", .pod = "web-7d4b9", .container = "nginx" };
	struct event_sub *s = subscribe(NULL);
	struct container *c = NULL, *again = NULL;
	struct icd_error err = { 0 };
	json_t *m, *kube;
	char buf[256];

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", CFG("sysinfo=true"), NULL), 0);
	expect(s, "profile-created", "", "p", "sysinfo");
	assert_int_equal(store_add_ephemeral(S, "e1", "p", &k8s, &c, &err), 1);
	m = next_event(s);
	assert_non_null(m);
	assert_string_equal(str_of(m, "action"), "container-created");
	assert_string_equal(str_of(m, "container"), "e1");
	assert_true(json_is_true(json_object_get(m, "ephemeral")));
	assert_string_equal(str_of(m, "profile"), "p");
	kube = json_object_get(m, "kubernetes");
	assert_string_equal(str_of(kube, "namespace"), "shop");
	assert_string_equal(str_of(kube, "pod"), "web-7d4b9");
	assert_string_equal(str_of(kube, "container"), "nginx");
	assert_string_equal(keys_of(m, "changed_keys", buf, sizeof(buf)), "sysinfo");
	assert_int_equal(strlen(str_of(m, "etag")), CONTAINER_ETAG_LEN);
	json_decref(m);
	/* found again: no second event */
	assert_int_equal(store_add_ephemeral(S, "e1", "p", NULL, &again, &err), 0);
	expect_none(s);
	/* its profile changes it like any user */
	assert_int_equal(change(true, STORE_REPLACE, "p", CFG("sysinfo=true", "mknod=true"), NULL),
			 0);
	expect(s, "profile-updated", "", "p", "mknod");
	expect(s, "container-updated", "e1", "p", "mknod");
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	m = next_event(s);
	assert_non_null(m);
	assert_string_equal(str_of(m, "action"), "container-deleted");
	assert_true(json_is_true(json_object_get(m, "ephemeral")));
	assert_string_equal(str_of(m, "profile"), "p");
	assert_string_equal(str_of(json_object_get(m, "kubernetes"), "pod"), "web-7d4b9");
	json_decref(m);
	container_unref(c);
	container_unref(again);
	/* without Kubernetes names, no such member */
	assert_int_equal(store_add_ephemeral(S, "e2", "p", NULL, &c, &err), 1);
	m = next_event(s);
	assert_string_equal(str_of(m, "container"), "e2");
	assert_null(json_object_get(m, "kubernetes"));
	json_decref(m);
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	expect(s, "container-deleted", "e2", "p", NULL);
	container_unref(c);
	event_bus_unsubscribe(B, s);
}

/* The longest names and every key: the event stays valid JSON, the pod kept, the rest marked. */
static void test_ephemeral_longest_names_truncated_not_broken(void **state)
{
	struct container_k8s k8s = { 0 };
	struct event_sub *s = subscribe(NULL);
	struct icd_error err = { 0 };
	struct container *c = NULL;
	json_t *m;

	(void)state;
	memset(k8s.namespace, 'n', sizeof(k8s.namespace) - 1);
	memset(k8s.pod, 'p', sizeof(k8s.pod) - 1);
	memset(k8s.container, 'c', sizeof(k8s.container) - 1);
	assert_int_equal(change(true, STORE_CREATE, "p", CFG("mknod=true", "setxattr=true",
							     "sched_setscheduler=true", "sysinfo=true",
							     "mount=true", "mount.shift=true", "bpf=true",
							     "bpf.devices=true", "mount.allowed=ext4",
							     "mount.fuse=sshfs=/usr/bin/sshfs"),
				NULL), 0);
	json_decref(next_event(s));
	assert_int_equal(store_add_ephemeral(S, "e1", "p", &k8s, &c, &err), 1);
	m = next_event(s); /* rendered and parsed by next_event() */
	assert_non_null(m);
	assert_int_equal(strlen(str_of(json_object_get(m, "kubernetes"), "pod")), sizeof(k8s.pod) - 1);
	assert_true(json_is_true(json_object_get(m, "truncated")));
	json_decref(m);
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	json_decref(next_event(s));
	container_unref(c);
	event_bus_unsubscribe(B, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_profile_events_then_each_user_changed,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_profile_change_restart_required, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_ephemeral_created_and_deleted, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_ephemeral_longest_names_truncated_not_broken,
						world_setup, world_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
