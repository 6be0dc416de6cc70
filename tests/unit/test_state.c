/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the durable state file: round trip, corrupt files, leftovers. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "daemon/fileio.h"
#include "daemon/store/state.h"

#include "tmpdir_fixture.h"

/* @name may be "DIR/FILE" (one level), as write_file_atomic() takes a plain name. */
static void put_file(struct fixture *f, const char *name, const char *text)
{
	const char *slash = strchr(name, '/');
	char dir[64];
	int dir_fd = f->dir_fd;

	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
		dir_fd = openat(f->dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(dir_fd >= 0);
		name = slash + 1;
	}
	assert_int_equal(write_file_atomic(dir_fd, name, text, strlen(text), 0600, WRITE_DURABLE), 0);
	if (slash)
		close(dir_fd);
}

static char *get_file(struct fixture *f, const char *name)
{
	static char buf[65536];
	int fd = openat(f->dir_fd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void add_container(struct registry *r, const char *name, const char *sysinfo)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = sysinfo,
						 [CONFIG_MOUNT_FUSE] = "ext4=fuse2fs" };
	struct config *cfg = NULL;
	struct container *c;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	c = container_new(name, 1764300000, cfg);
	assert_non_null(c);
	assert_int_equal(registry_add(r, c), 0);
	container_unref(c);
}

/* A registry only for a state_load() that creates the directories; freed at once. */
static struct registry *registry_new_tmp(void)
{
	static struct registry *last;

	registry_free(last);
	last = registry_new();
	return last;
}

static void save_all(struct fixture *f, struct registry *r)
{
	_cleanup_free_ struct container **list = NULL;
	size_t n = 0;

	assert_int_equal(registry_list(r, &list, &n), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(state_save_container(f->dir_fd, list[i]), 0);
		container_unref(list[i]);
	}
}

static void assert_same_etag(struct registry *a, struct registry *b, const char *name)
{
	char etag_a[CONTAINER_ETAG_LEN + 1], etag_b[CONTAINER_ETAG_LEN + 1];
	struct container *ca = registry_get(a, name), *cb = registry_get(b, name);

	assert_non_null(ca);
	assert_non_null(cb);
	container_get_etag(ca, etag_a);
	container_get_etag(cb, etag_b);
	assert_string_equal(etag_a, etag_b);
	assert_int_equal(ca->revision, cb->revision);
	assert_int_equal(ca->created_at, cb->created_at);
	container_unref(ca);
	container_unref(cb);
}

static void test_state_round_trip_keeps_etags(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *a = registry_new(), *b = registry_new(),
						   *empty = registry_new();
	struct container *ca, *cb;
	struct config *cfg;

	assert_int_equal(state_load(f->dir_fd, empty, NULL), 0); /* creates containers/ */
	add_container(a, "web", "on");
	add_container(a, "db", "false");
	ca = registry_get(a, "web");
	assert_int_equal(config_new((const char *[CONFIG_KEY_COUNT]){ [CONFIG_MKNOD] = "1" }, &cfg,
				    NULL),
			 0);
	container_config_swap(ca, cfg); /* revision 1, new etag */
	container_unref(ca);
	save_all(f, a);
	assert_non_null(get_file(f, STATE_CONTAINERS_DIR "/web.json"));
	assert_int_equal(state_load(f->dir_fd, b, NULL), 0);
	assert_int_equal(registry_count(b), 2);
	assert_same_etag(a, b, "web");
	assert_same_etag(a, b, "db");
	cb = registry_get(b, "web");
	assert_int_equal(cb->revision, 1);
	cfg = container_config_get(cb);
	assert_true(config_enabled(cfg, CONFIG_MKNOD));
	config_unref(cfg);
	container_unref(cb);
}

static void test_state_remove_container(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *a = registry_new(), *b = registry_new();

	add_container(a, "web", "on");
	add_container(a, "db", "on");
	assert_int_equal(state_load(f->dir_fd, registry_new_tmp(), NULL), 0);
	save_all(f, a);
	assert_int_equal(state_remove_container(f->dir_fd, "web"), 0);
	assert_int_equal(state_remove_container(f->dir_fd, "web"), 0); /* already gone: fine */
	assert_null(get_file(f, STATE_CONTAINERS_DIR "/web.json"));
	assert_int_equal(state_load(f->dir_fd, b, NULL), 0);
	assert_int_equal(registry_count(b), 1);
	assert_same_etag(a, b, "db");
}

static void test_state_missing_is_empty(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *r = registry_new();
	struct stat st;

	assert_int_equal(state_load(f->dir_fd, r, NULL), 0);
	assert_int_equal(registry_count(r), 0);
	assert_int_equal(fstatat(f->dir_fd, STATE_CONTAINERS_DIR, &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
}

#define ENTRY(name, config)                                                                        \
	"{\"name\":\"" name "\",\"created_at\":1,\"revision\":0,\"etag\":\"0000000000000000\","   \
	"\"config\":{" config "}}"

static const char *const bad_entries[] = {
	"{\"name\":\"a\",",                                             /* torn */
	ENTRY("A", ""),                                                 /* bad name */
	ENTRY("a", "\"security.syscalls.intercept.x\":\"1\""),          /* unknown key */
	ENTRY("a", "\"security.syscalls.intercept.mknod\":\"maybe\""),  /* bad value */
	"{\"name\":\"a\",\"created_at\":1,\"revision\":0,\"config\":{}}", /* no etag */
};

/* Put @doc at @file: loading must fail, say why (naming @named when set), keep the file. */
static void assert_refused(struct fixture *f, const char *file, const char *doc, const char *named)
{
	_cleanup_(registry_freep) struct registry *r = registry_new();
	struct icd_error err = { 0 };

	put_file(f, file, doc);
	assert_true(state_load(f->dir_fd, r, &err) < 0);
	assert_true(strlen(err.msg) > 0);
	if (named)
		assert_non_null(strstr(err.msg, named));
	assert_string_equal(get_file(f, file), doc);
}

static void test_state_corrupt_container_files_refused_and_untouched(void **state)
{
	static const char *const bad_docs[] = {
		"",                                       /* empty */
		"[]",                                     /* wrong layout */
		"{\"version\":2,\"container\":" ENTRY("a", "") "}", /* unknown version */
		"{\"version\":1,\"container\":" ENTRY("b", "") "}", /* names another container */
	};
	struct fixture *f = *state;
	const char *file = STATE_CONTAINERS_DIR "/a.json";
	char doc[512];

	assert_int_equal(state_load(f->dir_fd, registry_new_tmp(), NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_docs); i++)
		assert_refused(f, file, bad_docs[i], file);
	for (size_t i = 0; i < ARRAY_SIZE(bad_entries); i++) {
		snprintf(doc, sizeof(doc), "{\"version\":1,\"container\":%s}", bad_entries[i]);
		assert_refused(f, file, doc, file);
	}
}

static void test_state_corrupt_legacy_file_refused_and_untouched(void **state)
{
	static const char *const bad_docs[] = {
		"{\"version\":1,\"containers\":[", "", "[]", "{\"version\":2,\"containers\":[]}",
		"{\"version\":1,\"containers\":{}}",
	};
	struct fixture *f = *state;
	char doc[512];

	for (size_t i = 0; i < ARRAY_SIZE(bad_docs); i++)
		assert_refused(f, STATE_LEGACY_FILE, bad_docs[i], STATE_LEGACY_FILE);
	/* a bad entry names the file too (found by tests/fuzz/fuzz_state.c) */
	for (size_t i = 0; i < ARRAY_SIZE(bad_entries); i++) {
		snprintf(doc, sizeof(doc), "{\"version\":1,\"containers\":[%s]}", bad_entries[i]);
		assert_refused(f, STATE_LEGACY_FILE, doc, STATE_LEGACY_FILE);
	}
}

/* The single-file layout is converted: same containers and ETags, stray files dropped. */
static void test_state_legacy_file_converted(void **state)
{
	static const char legacy[] =
		"{\"version\":1,\"containers\":[" ENTRY("web", "\"security.syscalls.intercept.sysinfo\":\"true\"")
		"," ENTRY("db", "") "]}";
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *a = registry_new(), *b = registry_new();

	assert_int_equal(mkdirat(f->dir_fd, STATE_CONTAINERS_DIR, 0700), 0);
	put_file(f, STATE_CONTAINERS_DIR "/gone.json", "{\"stale\":true}");
	put_file(f, STATE_LEGACY_FILE, legacy);
	assert_int_equal(state_load(f->dir_fd, a, NULL), 0);
	assert_int_equal(registry_count(a), 2);
	assert_null(get_file(f, STATE_LEGACY_FILE));
	assert_null(get_file(f, STATE_CONTAINERS_DIR "/gone.json"));
	assert_non_null(get_file(f, STATE_CONTAINERS_DIR "/web.json"));
	assert_int_equal(state_load(f->dir_fd, b, NULL), 0);
	assert_int_equal(registry_count(b), 2);
	assert_same_etag(a, b, "web");
	assert_same_etag(a, b, "db");
}

static void test_state_leftovers_removed_and_strays_ignored(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *r = registry_new();

	assert_int_equal(state_load(f->dir_fd, registry_new_tmp(), NULL), 0);
	put_file(f, FILEIO_TMP_PREFIX "state.json.1234", "{garbage");
	put_file(f, STATE_CONTAINERS_DIR "/" FILEIO_TMP_PREFIX "web.json.1234", "{garbage");
	put_file(f, STATE_CONTAINERS_DIR "/README", "notes of an operator");
	assert_int_equal(state_load(f->dir_fd, r, NULL), 0);
	assert_int_equal(registry_count(r), 0);
	assert_null(get_file(f, FILEIO_TMP_PREFIX "state.json.1234"));
	assert_null(get_file(f, STATE_CONTAINERS_DIR "/" FILEIO_TMP_PREFIX "web.json.1234"));
	assert_non_null(get_file(f, STATE_CONTAINERS_DIR "/README"));
}

/* A container's "profiles" list round-trips; bad lists and a profile naming profiles are refused. */
static void test_state_profiles(void **state)
{
	static const char *const bad_lists[] = { "\"p\"", "[1]", "[\"P\"]", "[\"p\",\"p\"]" };
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *r = registry_new(), *profiles = registry_new();
	struct icd_error err = { 0 };
	char doc[512];

	assert_int_equal(state_load(f->dir_fd, registry_new_tmp(), NULL), 0);
	assert_int_equal(state_load_profiles(f->dir_fd, profiles, NULL), 0); /* creates profiles/ */
	put_file(f, STATE_CONTAINERS_DIR "/a.json",
		 "{\"version\":1,\"container\":{\"name\":\"a\",\"created_at\":1,\"revision\":0,"
		 "\"etag\":\"0000000000000000\",\"config\":{},\"profiles\":[\"p\",\"q\"]}}");
	assert_int_equal(state_load(f->dir_fd, r, NULL), 0);
	_cleanup_(container_unrefp) struct container *c = registry_get(r, "a");
	assert_non_null(c);
	assert_string_equal(c->profiles[0], "p");
	assert_string_equal(c->profiles[1], "q");
	assert_null(c->profiles[2]);
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "{\"version\":1,\"container\":{\"name\":\"a\",\"created_at\":1,"
			 "\"revision\":0,\"etag\":\"0000000000000000\",\"config\":{},"
			 "\"profiles\":%s}}", bad_lists[i]);
		assert_refused(f, STATE_CONTAINERS_DIR "/a.json", doc, "a.json");
	}
	put_file(f, STATE_PROFILES_DIR "/p.json",
		 "{\"version\":1,\"profile\":{\"name\":\"p\",\"created_at\":1,\"revision\":0,"
		 "\"etag\":\"0000000000000000\",\"config\":{},\"profiles\":[\"q\"]}}");
	assert_true(state_load_profiles(f->dir_fd, registry_new_tmp(), &err) < 0);
	assert_string_equal(err.msg, "profiles/p.json: a profile cannot apply profiles");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_round_trip_keeps_etags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_remove_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_missing_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_corrupt_container_files_refused_and_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_corrupt_legacy_file_refused_and_untouched,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_legacy_file_converted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_leftovers_removed_and_strays_ignored, setup,
						teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
