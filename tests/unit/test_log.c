/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for daemon/log.c through a --log-file in a temporary directory:
 * text from a peer cannot end a line or forge one, clean lines are unchanged,
 * long lines stay one line of valid UTF-8, and %m still works; in the JSON
 * format every line is one valid JSON object whose message decodes to the text
 * format's, with the container and syscall of the lines that name them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

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

/* Back to the text format on stderr for the next test, then the fixture's teardown. */
static int log_teardown(void **state)
{
	log_set_format(LOG_FORMAT_TEXT);
	return teardown(state);
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

/* Log one line in the JSON format and return it parsed; the raw line in *ret_line (malloc'd). */
static json_t *json_log_line(struct fixture *f, const char *name, char **ret_line)
{
	json_error_t err;
	size_t len;
	char *text = log_file_text(f, name, &len);
	json_t *j;

	/* one line: the only newline is the last byte, and nothing else is a control */
	assert_true(len > 0 && len <= 2048);
	assert_ptr_equal(strchr(text, '\n'), text + len - 1);
	for (size_t i = 0; i + 1 < len; i++)
		assert_true((unsigned char)text[i] >= 0x20);
	/* jansson refuses invalid UTF-8 and raw control characters in strings */
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		fail_msg("not JSON (%s): %s", err.text, text);
	assert_true(json_is_object(j));
	*ret_line = text;
	return j;
}

static void test_log_json_escapes_as_the_text_format(void **state)
{
	static const char *const peer = "/1.0/\n<0>\"forged\"\r\x1b[2J\xc2\x9b\\ G\xffT";
	struct fixture *f = *state;
	_cleanup_free_ char *line = NULL, *text = NULL;
	json_t *j;
	size_t len;

	log_to(f, "text.log");
	log_info("API %s status=%d", peer, 404);
	text = log_file_text(f, "text.log", &len);
	text[len - 1] = '\0';
	log_set_format(LOG_FORMAT_JSON);
	log_to(f, "json.log");
	log_info("API %s status=%d", peer, 404);
	j = json_log_line(f, "json.log", &line);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	/* the message decodes to exactly the text format's message */
	assert_string_equal(json_string_value(json_object_get(j, "message")), message_of(text));
	assert_null(json_object_get(j, "container"));
	assert_null(json_object_get(j, "syscall"));
	json_decref(j);
}

static void test_log_json_time_is_rfc3339_with_fraction(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *line = NULL;
	const char *t;
	json_t *j;
	int y, mo, d, h, mi, s, us, n = 0;

	log_set_format(LOG_FORMAT_JSON);
	log_to(f, "time.log");
	log_warning("Something, ignoring");
	j = json_log_line(f, "time.log", &line);
	t = json_string_value(json_object_get(j, "time"));
	assert_non_null(t);
	assert_int_equal(sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ%n", &y, &mo, &d, &h, &mi, &s, &us, &n), 7);
	assert_int_equal(n, (int)strlen(t));
	assert_int_equal(strlen(t), strlen("2026-01-02T03:04:05.123456Z"));
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warning");
	json_decref(j);
}

static void test_log_json_carries_container_and_syscall(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *line = NULL;
	json_t *j;

	log_set_format(LOG_FORMAT_JSON);
	log_to(f, "fields.log");
	assert_int_equal(log_about_errno(LOG_LEVEL_ERROR, -EPERM, "c\"1\n", "mknod",
					 "'%s': handler failed: %m", "c1"),
			 -EPERM);
	j = json_log_line(f, "fields.log", &line);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "container")), "c\"1\\x0a");
	assert_string_equal(json_string_value(json_object_get(j, "syscall")), "mknod");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
			    "'c1': handler failed: Operation not permitted");
	json_decref(j);
}

/* A message cut to fit ends on a whole character and escape: still one valid JSON line. */
static void test_log_json_long_line_stays_valid(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *line = NULL, *big = malloc(3 * 2000 + 1);
	const char *msg;
	json_t *j;

	big[0] = '\0';
	for (size_t i = 0; i < 2000; i++)
		strcat(big, i % 3 == 0 ? "\xe2\x82\xac" : i % 3 == 1 ? "\"" : "\\");
	log_set_format(LOG_FORMAT_JSON);
	log_to(f, "long.log");
	log_about_errno(LOG_LEVEL_DEBUG, 0, big, "sysinfo", "%s%s", big, big);
	j = json_log_line(f, "long.log", &line);
	msg = json_string_value(json_object_get(j, "message"));
	assert_non_null(msg);
	assert_true(strlen(msg) > 1000);
	assert_memory_equal(msg, big, strlen(msg) < strlen(big) ? strlen(msg) : strlen(big));
	assert_true(strlen(json_string_value(json_object_get(j, "container"))) <= 256);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_internal_escapes_peer_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_keeps_clean_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_long_line_stays_one_valid_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_internal_formats_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_json_escapes_as_the_text_format, setup,
						log_teardown),
		cmocka_unit_test_setup_teardown(test_log_json_time_is_rfc3339_with_fraction, setup,
						log_teardown),
		cmocka_unit_test_setup_teardown(test_log_json_carries_container_and_syscall, setup,
						log_teardown),
		cmocka_unit_test_setup_teardown(test_log_json_long_line_stays_valid, setup,
						log_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
