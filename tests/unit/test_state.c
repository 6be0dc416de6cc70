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
#include "daemon/state.h"

struct fixture {
	char dir[64];
	int dir_fd;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/icd-state-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dir_fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->dir_fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->dir_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void put_file(struct fixture *f, const char *name, const char *text)
{
	assert_int_equal(write_file_atomic(f->dir_fd, name, text, strlen(text), 0600, WRITE_DURABLE), 0);
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

static void test_state_round_trip_keeps_etags(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *a = registry_new(), *b = registry_new();
	char etag_a[CONTAINER_ETAG_LEN + 1], etag_b[CONTAINER_ETAG_LEN + 1];
	struct container *ca, *cb;
	struct config *cfg;

	add_container(a, "web", "on");
	add_container(a, "db", "false");
	ca = registry_get(a, "web");
	assert_int_equal(config_new((const char *[CONFIG_KEY_COUNT]){ [CONFIG_MKNOD] = "1" }, &cfg,
				    NULL),
			 0);
	container_config_swap(ca, cfg); /* revision 1, new etag */
	assert_int_equal(state_save(f->dir_fd, a), 0);
	assert_int_equal(state_load(f->dir_fd, b, NULL), 0);
	assert_int_equal(registry_count(b), 2);
	cb = registry_get(b, "web");
	assert_non_null(cb);
	container_get_etag(ca, etag_a);
	container_get_etag(cb, etag_b);
	assert_string_equal(etag_a, etag_b);
	assert_int_equal(cb->revision, 1);
	assert_int_equal(cb->created_at, 1764300000);
	cfg = container_config_get(cb);
	assert_true(config_enabled(cfg, CONFIG_MKNOD));
	config_unref(cfg);
	container_unref(ca);
	container_unref(cb);
}

static void test_state_missing_file_is_empty(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *r = registry_new();

	assert_int_equal(state_load(f->dir_fd, r, NULL), 0);
	assert_int_equal(registry_count(r), 0);
}

static void test_state_corrupt_files_refused_and_untouched(void **state)
{
	static const char *const bad[] = {
		"{\"version\":1,\"containers\":[",             /* torn */
		"",                                            /* empty */
		"[]",                                          /* wrong layout */
		"{\"version\":2,\"containers\":[]}",            /* unknown version */
		"{\"version\":1,\"containers\":[{\"name\":\"A\",\"created_at\":1,\"revision\":0,"
		"\"etag\":\"0000000000000000\",\"config\":{}}]}", /* bad name */
		"{\"version\":1,\"containers\":[{\"name\":\"a\",\"created_at\":1,\"revision\":0,"
		"\"etag\":\"0000000000000000\",\"config\":{\"security.syscalls.intercept.x\":\"1\"}}]}",
		"{\"version\":1,\"containers\":[{\"name\":\"a\",\"created_at\":1,\"revision\":0,"
		"\"etag\":\"0000000000000000\",\"config\":{\"security.syscalls.intercept.mknod\":\"maybe\"}}]}",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_(registry_freep) struct registry *r = registry_new();
		struct icd_error err = { 0 };

		put_file(f, STATE_FILE_NAME, bad[i]);
		assert_true(state_load(f->dir_fd, r, &err) < 0);
		assert_true(strlen(err.msg) > 0);
		assert_string_equal(get_file(f, STATE_FILE_NAME), bad[i]);
	}
}

static void test_state_leftover_temp_files_removed(void **state)
{
	struct fixture *f = *state;
	_cleanup_(registry_freep) struct registry *r = registry_new();

	put_file(f, FILEIO_TMP_PREFIX "state.json.1234", "{garbage");
	assert_int_equal(state_load(f->dir_fd, r, NULL), 0);
	assert_null(get_file(f, FILEIO_TMP_PREFIX "state.json.1234"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_state_round_trip_keeps_etags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_missing_file_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_corrupt_files_refused_and_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_leftover_temp_files_removed, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
