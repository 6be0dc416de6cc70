/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for daemon/escape.c (what a peer's text looks like in a log line
 * or an API message) and for the cut on a character boundary in
 * icd_error_set().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/error.h"
#include "daemon/escape.h"

static void test_escape_is_clean_accepts_printable_utf8(void **state)
{
	static const char *const clean[] = {
		"", "GET /1.0/containers/c1 uid=0", "na\xc3\xafve \xe2\x82\xac",
		"\xf0\x9d\x84\x9e", "\xc2\xa0", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(clean) / sizeof(clean[0]); i++)
		assert_true(escape_is_clean(clean[i], strlen(clean[i])));
}

static void test_escape_is_clean_rejects_controls_and_bad_utf8(void **state)
{
	static const char *const dirty[] = {
		"a\nb",		    /* newline: a forged log line */
		"\r",		    /* carriage return */
		"\t",		    /* any C0 control */
		"\x1b[31m",	    /* terminal escape */
		"\x7f",		    /* DEL */
		"\xc2\x9b",	    /* C1 control (CSI) */
		"\xff",		    /* never valid */
		"\x80",		    /* lone continuation */
		"\xc0\xaf",	    /* overlong '/' */
		"\xe0\x80\xaf",	    /* overlong '/' */
		"\xed\xa0\x80",	    /* surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"ab\xe2\x82",	    /* cut in the middle of a character */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
		assert_false(escape_is_clean(dirty[i], strlen(dirty[i])));
}

static void test_escape_text_writes_hex_escapes(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "/1.0/\n<0>forged", "/1.0/\\x0a<0>forged" },
		{ "a\r\n", "a\\x0d\\x0a" },
		{ "/\xff", "/\\xff" },
		{ "\xc2\x9b" "2J", "\\xc2\\x9b2J" },
		{ "ok \xe2\x82\xac", "ok \xe2\x82\xac" },
		{ "cut \xe2\x82", "cut \\xe2\\x82" },
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },
		{ "back\\slash", "back\\slash" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);

		assert_int_equal(escape_text(buf, sizeof(buf), cases[i].in, len), len);
		assert_string_equal(buf, cases[i].out);
		assert_true(escape_is_clean(buf, strlen(buf)));
	}
}

static void test_escape_text_never_splits_a_character_or_an_escape(void **state)
{
	char buf[8];

	(void)state;
	/* "ab€" needs 5 bytes + NUL: only "ab" fits in 4 */
	assert_int_equal(escape_text(buf, 4, "ab\xe2\x82\xac", 5), 2);
	assert_string_equal(buf, "ab");
	/* "a\n" escaped is "a\x0a": the escape does not fit in 5 */
	assert_int_equal(escape_text(buf, 5, "a\n", 2), 1);
	assert_string_equal(buf, "a");
	assert_int_equal(escape_text(buf, 6, "a\n", 2), 2);
	assert_string_equal(buf, "a\\x0a");
	assert_int_equal(escape_text(buf, 1, "abc", 3), 0);
	assert_string_equal(buf, "");
}

static void test_escape_echo_cuts_on_a_boundary_with_dots(void **state)
{
	char euros[3 * 100 + 1] = "";
	const char *e;

	(void)state;
	for (size_t i = 0; i < 100; i++)
		strcat(euros, "\xe2\x82\xac");
	e = ESCAPED(euros, 10);
	/* 3 whole euro signs (9 bytes) fit in 10, then the dots */
	assert_string_equal(e, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac...");
	assert_string_equal(ESCAPED("short", 10), "short");
	assert_string_equal(ESCAPED(NULL, 10), "");
	assert_string_equal(ESCAPED("\xff\xff\xff\xff", 10), "\\xff\\xff...");
	/* exactly at the limit: no dots */
	assert_string_equal(ESCAPED("0123456789abc", 10), "0123456789abc");
	assert_string_equal(ESCAPED("0123456789abcd", 10), "0123456789...");
}

static void test_escape_utf8_boundary_drops_a_split_character(void **state)
{
	static const struct {
		const char *s;
		size_t len, keep;
	} cases[] = {
		{ "abc", 3, 3 },
		{ "", 0, 0 },
		{ "ab\xe2\x82\xac", 5, 5 },
		{ "ab\xe2\x82", 4, 2 },
		{ "ab\xe2", 3, 2 },
		{ "a\xc3", 2, 1 },
		{ "\xf0\x9d\x84", 3, 0 },
		{ "\xf0\x9d\x84\x9e", 4, 4 },
		{ "x\xf0\x9d\x84\x9e", 5, 5 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(escape_utf8_boundary(cases[i].s, cases[i].len), cases[i].keep);
}

/* A message longer than struct icd_error holds ends on a whole character. */
static void test_icd_error_set_cuts_on_a_character_boundary(void **state)
{
	char value[3 * 200 + 1] = "";
	struct icd_error err;

	(void)state;
	for (size_t i = 0; i < 200; i++)
		strcat(value, "\xe2\x82\xac");
	/* 17 + 3k never lands on 255: the cut falls inside a euro sign */
	assert_int_equal(icd_error_set(&err, -EINVAL, "invalid boolean '%s'", value), -EINVAL);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_true(strlen(err.msg) >= sizeof(err.msg) - 3);
	assert_true(escape_is_clean(err.msg, strlen(err.msg)));
}

/* escape_json(): the same escapes, '\' and '"' doubled up, decoding to escape_text()'s text. */
static void test_escape_json_decodes_to_escape_text(void **state)
{
	static const char *const inputs[] = {
		"plain", "quote \" and backslash \\", "/1.0/\n<0>\"forged\"\\\xff", "\xc2\x9b\x7f\t",
		"caf\xc3\xa9 \xe2\x82\xac", "\\x41 is not an escape",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char text[256], quoted[300], doc[320];
		json_error_t err;
		json_t *j;

		assert_int_equal(escape_text(text, sizeof(text), inputs[i], strlen(inputs[i])),
				 strlen(inputs[i]));
		assert_int_equal(escape_json(quoted, sizeof(quoted), inputs[i], strlen(inputs[i])),
				 strlen(inputs[i]));
		snprintf(doc, sizeof(doc), "[\"%s\"]", quoted);
		j = json_loads(doc, 0, &err);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_array_get(j, 0)), text);
		json_decref(j);
	}
}

/* A cut never leaves half of a "\\xNN" or of a "\"" in the output. */
static void test_escape_json_never_splits_an_escape(void **state)
{
	char out[8];

	(void)state;
	/* "ab" fits, then "\\x0a" (5 bytes) would need 8 with the NUL */
	assert_int_equal(escape_json(out, 7, "ab\ncd", 5), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(escape_json(out, 3, "a\"b", 3), 1);
	assert_string_equal(out, "a");
	assert_int_equal(escape_json(out, sizeof(out), "a\"b", 3), 3);
	assert_string_equal(out, "a\\\"b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_is_clean_accepts_printable_utf8),
		cmocka_unit_test(test_escape_is_clean_rejects_controls_and_bad_utf8),
		cmocka_unit_test(test_escape_text_writes_hex_escapes),
		cmocka_unit_test(test_escape_text_never_splits_a_character_or_an_escape),
		cmocka_unit_test(test_escape_echo_cuts_on_a_boundary_with_dots),
		cmocka_unit_test(test_escape_utf8_boundary_drops_a_split_character),
		cmocka_unit_test(test_icd_error_set_cuts_on_a_character_boundary),
		cmocka_unit_test(test_escape_json_decodes_to_escape_text),
		cmocka_unit_test(test_escape_json_never_splits_an_escape),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
