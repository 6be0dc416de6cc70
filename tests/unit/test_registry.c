/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the registry and live config snapshots, including a
 * multi-threaded test: writers swap configs while readers check that every
 * snapshot they take is internally consistent. The suite also runs this
 * binary under ThreadSanitizer.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/store/registry.h"

static struct container *make(const char *name)
{
	struct container *c = container_new(name, 1700000000, config_new_empty());

	assert_non_null(c);
	return c;
}

static void test_container_name_valid_table(void **state)
{
	static const struct {
		const char *name;
		bool valid;
	} cases[] = {
		{ "c1", true }, { "a", true }, { "0", true }, { "web-1.prod_x", true },
		{ "", false }, { "-a", false }, { ".a", false }, { "_a", false }, { "A", false },
		{ "a b", false }, { "a/b", false }, { "..", false }, { "caf\xc3\xa9", false },
		{ "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc", true },
		{ "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (container_name_valid(cases[i].name) != cases[i].valid)
			print_error("name '%s'\n", cases[i].name);
		assert_int_equal(container_name_valid(cases[i].name), cases[i].valid);
	}
	assert_false(container_name_valid(NULL));
}

static void test_registry_add_get_remove(void **state)
{
	_cleanup_(registry_freep) struct registry *r = registry_new();
	_cleanup_(container_unrefp) struct container *c = make("c1"), *dup = make("c1");
	struct container *got, *removed = NULL;
	uint64_t gen;

	(void)state;
	assert_non_null(r);
	gen = registry_generation(r);
	assert_int_equal(registry_add(r, c), 0);
	assert_true(registry_generation(r) > gen);
	assert_int_equal(registry_add(r, dup), -EEXIST);
	assert_int_equal(registry_count(r), 1);
	got = registry_get(r, "c1");
	assert_ptr_equal(got, c);
	container_unref(got);
	assert_null(registry_get(r, "c2"));
	assert_int_equal(registry_remove(r, "c2", NULL), -ENOENT);
	assert_int_equal(registry_remove(r, "c1", &removed), 0);
	assert_ptr_equal(removed, c);
	assert_true(atomic_load(&c->is_removed));
	container_unref(removed);
	assert_int_equal(registry_count(r), 0);
	assert_null(registry_get(r, "c1"));
}

static void test_registry_grow_and_list_sorted(void **state)
{
	_cleanup_(registry_freep) struct registry *r = registry_new();
	struct container **list = NULL;
	size_t n = 0;
	char name[32];

	(void)state;
	for (int i = 999; i >= 0; i--) {
		struct container *c;

		snprintf(name, sizeof(name), "c%04d", i);
		c = make(name);
		assert_int_equal(registry_add(r, c), 0);
		container_unref(c);
	}
	/* remove every third one, leaving tombstones behind */
	for (int i = 0; i < 1000; i += 3) {
		snprintf(name, sizeof(name), "c%04d", i);
		assert_int_equal(registry_remove(r, name, NULL), 0);
	}
	assert_int_equal(registry_count(r), 666);
	assert_int_equal(registry_list(r, &list, &n), 0);
	assert_int_equal(n, 666);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(list[i - 1]->name, list[i]->name) < 0);
	registry_list_free(list, n);
	assert_null(registry_get(r, "c0003"));
	assert_non_null(list = (struct container **)registry_get(r, "c0004"));
	container_unref((struct container *)list);
}

static void test_container_swap_changes_etag_and_revision(void **state)
{
	_cleanup_(container_unrefp) struct container *c = make("c1");
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MKNOD] = "true" };
	char before[CONTAINER_ETAG_LEN + 1], after[CONTAINER_ETAG_LEN + 1];
	struct config *cfg = NULL, *old;

	(void)state;
	old = container_config_get(c);
	container_get_etag(c, before);
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	container_config_swap(c, cfg);
	container_get_etag(c, after);
	assert_string_not_equal(before, after);
	assert_int_equal(c->revision, 1);
	/* an in-flight reader keeps its old snapshot intact */
	assert_false(config_enabled(old, CONFIG_MKNOD));
	config_unref(old);
	cfg = container_config_get(c);
	assert_true(config_enabled(cfg, CONFIG_MKNOD));
	config_unref(cfg);
}

/* --- concurrency --- */

#define N_WRITERS 2
#define N_READERS 4
#define N_SWAPS 3000

struct race {
	struct registry *registry;
	atomic_bool stop;
	atomic_uint_fast64_t checks;
	atomic_uint_fast64_t bad;
};

/* Every snapshot a writer installs has all booleans equal and a matching list. */
static struct config *consistent_config(bool on, unsigned n)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	char allowed[64];
	struct config *cfg = NULL;

	for (size_t k = 0; k < CONFIG_KEY_COUNT; k++)
		if (config_keys[k].type == CONFIG_TYPE_BOOL)
			values[k] = on ? "true" : "false";
	snprintf(allowed, sizeof(allowed), "fs%u,%s", n, on ? "on" : "off");
	values[CONFIG_MOUNT_ALLOWED] = allowed;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

static bool snapshot_consistent(const struct config *cfg)
{
	bool on = cfg->enabled[CONFIG_MKNOD];

	for (size_t k = 0; k < CONFIG_KEY_COUNT; k++)
		if (config_keys[k].type == CONFIG_TYPE_BOOL &&
		    (cfg->enabled[k] != on || strcmp(cfg->values[k], on ? "true" : "false") != 0))
			return false;
	return cfg->n_mount_allowed == 2 &&
	       strcmp(cfg->mount_allowed[1], on ? "on" : "off") == 0;
}

static void *writer(void *arg)
{
	struct race *race = arg;

	for (unsigned i = 0; i < N_SWAPS; i++) {
		struct container *c = registry_get(race->registry, "shared");

		container_config_swap(c, consistent_config(i & 1, i));
		container_unref(c);
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct race *race = arg;

	while (!atomic_load(&race->stop)) {
		struct container *c = registry_get(race->registry, "shared");
		struct config *cfg = container_config_get(c);

		if (!snapshot_consistent(cfg))
			atomic_fetch_add(&race->bad, 1);
		atomic_fetch_add(&race->checks, 1);
		config_unref(cfg);
		container_unref(c);
	}
	return NULL;
}

static void test_registry_snapshots_consistent_under_concurrent_swaps(void **state)
{
	struct race race = { .registry = registry_new() };
	pthread_t w[N_WRITERS], rd[N_READERS];
	struct container *c = container_new("shared", 0, consistent_config(false, 0));

	(void)state;
	assert_int_equal(registry_add(race.registry, c), 0);
	container_unref(c);
	for (int i = 0; i < N_READERS; i++)
		assert_int_equal(pthread_create(&rd[i], NULL, reader, &race), 0);
	for (int i = 0; i < N_WRITERS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer, &race), 0);
	for (int i = 0; i < N_WRITERS; i++)
		pthread_join(w[i], NULL);
	atomic_store(&race.stop, true);
	for (int i = 0; i < N_READERS; i++)
		pthread_join(rd[i], NULL);
	assert_true(atomic_load(&race.checks) > 0);
	assert_int_equal(atomic_load(&race.bad), 0);
	c = registry_get(race.registry, "shared");
	assert_int_equal(c->revision, N_WRITERS * N_SWAPS);
	container_unref(c);
	registry_free(race.registry);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_name_valid_table),
		cmocka_unit_test(test_registry_add_get_remove),
		cmocka_unit_test(test_registry_grow_and_list_sorted),
		cmocka_unit_test(test_container_swap_changes_etag_and_revision),
		cmocka_unit_test(test_registry_snapshots_consistent_under_concurrent_swaps),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
