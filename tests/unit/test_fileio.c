/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for whole-file reads, content checks and the skip of identical policy files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fileio.h"
#include "daemon/store/policy.h"

#include "tmpdir_fixture.h"

static void put(struct fixture *f, const char *name, const void *buf, size_t len)
{
	assert_int_equal(write_file_atomic(f->dir_fd, name, buf, len, 0600, 0), 0);
}

static void test_read_fd_all_whole_and_bounded(void **state)
{
	struct fixture *f = *state;
	static char big[10000];
	char *text = NULL;
	size_t len = 0;
	int fd;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	put(f, "big", big, sizeof(big));
	fd = openat(f->dir_fd, "big", O_RDONLY | O_CLOEXEC);
	assert_int_equal(read_fd_all(fd, 1 << 20, &text, &len), 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(text, big, len);
	assert_int_equal(text[len], '\0');
	free(text);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(read_fd_all(fd, 5000, &text, &len), -EFBIG);
	close(fd);
	put(f, "empty", "", 0);
	fd = openat(f->dir_fd, "empty", O_RDONLY | O_CLOEXEC);
	assert_int_equal(read_fd_all(fd, 100, &text, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
	close(fd);
}

static void test_file_has_content(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(file_has_content(f->dir_fd, "missing", "x", 1), 0);
	put(f, "p", "hello", 5);
	assert_int_equal(file_has_content(f->dir_fd, "p", "hello", 5), 1);
	assert_int_equal(file_has_content(f->dir_fd, "p", "hell", 4), 0);    /* file longer */
	assert_int_equal(file_has_content(f->dir_fd, "p", "hello!", 6), 0);  /* file shorter */
	assert_int_equal(file_has_content(f->dir_fd, "p", "jello", 5), 0);
}

static ino_t inode_of(struct fixture *f, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(f->dir_fd, name, &st, 0), 0);
	return st.st_ino;
}

/* A policy file that already says the right thing is left alone (no new inode). */
static void test_policy_file_rewritten_only_when_different(void **state)
{
	struct fixture *f = *state;
	const char *on[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = "true" };
	struct config *a = NULL, *b = NULL;
	ino_t first;

	assert_int_equal(config_new(on, &a, NULL), 0);
	assert_int_equal(config_new((const char *[CONFIG_KEY_COUNT]){ 0 }, &b, NULL), 0);
	assert_int_equal(policy_write_lxc_file(f->dir_fd, "c", a), 0);
	first = inode_of(f, "c");
	assert_int_equal(policy_write_lxc_file(f->dir_fd, "c", a), 0);
	assert_int_equal(inode_of(f, "c"), first);
	assert_int_equal(policy_write_lxc_file(f->dir_fd, "c", b), 0);
	assert_int_not_equal(inode_of(f, "c"), first);
	config_unref(a);
	config_unref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_fd_all_whole_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_has_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_file_rewritten_only_when_different, setup,
						teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
