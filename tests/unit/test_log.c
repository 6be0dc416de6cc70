/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for daemon/log.c through a --log-file in a temporary directory:
 * text from a peer cannot end a line or forge one, clean lines are unchanged,
 * long lines stay one line of valid UTF-8, and %m still works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/escape.h"
#include "daemon/log.h"

#include "tmpdir_fixture.h"

/* Log through a fresh file in the fixture and return what was written (malloc'd). */
static char *log_file_text(struct fixture *f, const char *name, size_t *ret_len)
{
	char path[128], *buf = calloc(1, 65536);
	size_t len;
	FILE *in;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	in = fopen(path, "re");
	assert_non_null(in);
	len = fread(buf, 1, 65535, in);
	fclose(in);
	*ret_len = len;
	return buf;
}

static void log_to(struct fixture *f, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	assert_int_equal(log_open_file(path), 0);
	log_set_level(LOG_LEVEL_DEBUG);
}

/* The message part of a line: after "<N>" and the file's timestamp. */
static const char *message_of(const char *line)
{
	const char *p = strchr(line, ' ');

	assert_non_null(p);
	return p + 1;
}

static void test_log_internal_escapes_peer_text(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *text = NULL;
	size_t len;

	log_to(f, "forge.log");
	log_info("API %s %s status=%d", "G\xffT", "/1.0/\n<0>forged\r\x1b[2J\xc2\x9b", 404);
	text = log_file_text(f, "forge.log", &len);
	/* one line: the only newline is the last byte */
	assert_true(len > 0);
	assert_ptr_equal(strchr(text, '\n'), text + len - 1);
	assert_memory_equal(text, "<6>", 3);
	assert_string_equal(message_of(text),
			    "API G\\xffT /1.0/\\x0a<0>forged\\x0d\\x1b[2J\\xc2\\x9b status=404\n");
}

static void test_log_internal_keeps_clean_lines(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *text = NULL;
	size_t len;

	log_to(f, "clean.log");
	log_warning("Container 'caf\xc3\xa9' uses \\ and \"quotes\", ignoring");
	text = log_file_text(f, "clean.log", &len);
	assert_memory_equal(text, "<4>", 3);
	assert_string_equal(message_of(text),
			    "Container 'caf\xc3\xa9' uses \\ and \"quotes\", ignoring\n");
}

static void test_log_internal_long_line_stays_one_valid_line(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *text = NULL, *big = malloc(3 * 2000 + 1);
	const char *msg;
	size_t len;

	log_to(f, "long.log");
	big[0] = '\0';
	for (size_t i = 0; i < 2000; i++)
		strcat(big, i % 7 ? "\xe2\x82\xac" : "\n");
	log_error("%s", big);
	text = log_file_text(f, "long.log", &len);
	assert_true(len <= 2048);
	assert_ptr_equal(strchr(text, '\n'), text + len - 1);
	msg = message_of(text);
	assert_true(escape_is_clean(msg, strlen(msg) - 1));
}

static void test_log_internal_formats_errno(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *text = NULL;
	size_t len;

	log_to(f, "errno.log");
	assert_int_equal(log_error_errno(-ENOENT, "Cannot open '%s': %m", "x"), -ENOENT);
	text = log_file_text(f, "errno.log", &len);
	assert_string_equal(message_of(text), "Cannot open 'x': No such file or directory\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_internal_escapes_peer_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_keeps_clean_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_long_line_stays_one_valid_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_formats_errno, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
