/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for interceptctl's pure parts (api/cli/): short keys and
 * KEY=VALUE words, path encoding, tables, the YAML writer (quoting what a
 * YAML reader would take for something else; checked by reading it back with
 * PyYAML when python3-yaml is installed), and the reader of the daemon's
 * Prometheus exposition behind `interceptctl metrics`.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/cli/client.h"
#include "api/cli/keys.h"
#include "api/cli/output.h"
#include "api/cli/promtext.h"

static void test_keys_expand_and_shorten(void **state)
{
	_cleanup_free_ char *a = keys_expand("mknod"), *b = keys_expand("mount.allowed");
	_cleanup_free_ char *c = keys_expand("security.syscalls.intercept.sysinfo");
	_cleanup_free_ char *d = keys_expand("security.other");

	(void)state;
	assert_string_equal(a, "security.syscalls.intercept.mknod");
	assert_string_equal(b, "security.syscalls.intercept.mount.allowed");
	assert_string_equal(c, "security.syscalls.intercept.sysinfo");
	assert_string_equal(d, "security.other"); /* left whole: the daemon names it in its 400 */
	assert_string_equal(keys_shorten("security.syscalls.intercept.mount.fuse"), "mount.fuse");
	assert_string_equal(keys_shorten("security.syscalls.intercept."), "security.syscalls.intercept.");
	assert_string_equal(keys_shorten("other"), "other");
}

static void test_keys_parse_assignment(void **state)
{
	const char *value = NULL;
	char *key = NULL;

	(void)state;
	assert_int_equal(keys_parse_assignment("mount.fuse=ext4=fuse2fs", &key, &value), 0);
	assert_string_equal(key, "security.syscalls.intercept.mount.fuse");
	assert_string_equal(value, "ext4=fuse2fs"); /* split at the first '=' */
	free(key);
	assert_int_equal(keys_parse_assignment("mknod=", &key, &value), 0);
	assert_string_equal(value, "");
	free(key);
	key = NULL;
	assert_int_equal(keys_parse_assignment("mknod", &key, &value), -EINVAL);
	assert_int_equal(keys_parse_assignment("=true", &key, &value), -EINVAL);
	assert_null(key);
}

static void test_client_escape_keeps_a_name_one_segment(void **state)
{
	_cleanup_free_ char *a = client_escape("c1.web_2-x~"), *b = client_escape("a/b?c=d&e f%");
	_cleanup_free_ char *p = client_container_path("c 1", "/state");

	(void)state;
	assert_string_equal(a, "c1.web_2-x~");
	assert_string_equal(b, "a%2Fb%3Fc%3Dd%26e%20f%25");
	assert_string_equal(p, "/1.0/containers/c%201/state");
}

/* What @print writes to a memory stream. */
static char *captured(void (*print)(FILE *f, void *arg), void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f, arg);
	fclose(f);
	return text;
}

static void print_table(FILE *f, void *arg)
{
	table_print(arg, f);
}

static void test_table_aligns_and_escapes(void **state)
{
	_cleanup_(table_freep) struct table *t =
		table_new(3, (const char *const[]){ "NAME", "CREATED", "CONFIG" });
	_cleanup_free_ char *text = NULL;

	(void)state;
	assert_int_equal(table_add(t, (const char *const[]){ "caf\xc3\xa9", "x", "a\x1b[2Jb" }), 0);
	assert_int_equal(table_add(t, (const char *const[]){ "c10", NULL, "" }), 0);
	text = captured(print_table, t);
	/* columns by characters, not bytes; control characters escaped; no trailing blanks */
	assert_string_equal(text, "NAME  CREATED  CONFIG\n"
				  "caf\xc3\xa9  x        a\\x1b[2Jb\n"
				  "c10\n");
}

static void print_yaml(FILE *f, void *arg)
{
	assert_int_equal(output_yaml(f, arg), 0);
}

/* Strings a YAML 1.1 or 1.2 reader would turn into booleans, numbers, null or dates. */
static const char *const tricky[] = {
	"true", "False", "yes", "No", "on", "OFF", "y", "n", "null", "~", "", "0", "1", "-1", "+1",
	"1.5", ".5", "1e3", "0x1f", "0o17", "017", "1_000", "12:30", ".inf", "-.Inf", ".nan",
	"2026-01-01", "2026-12-01T10:00:00Z", "- a", "a: b", "# c", "a #b", "'q'", "\"d\"", "@x",
	"`y", "!t", "&a", "*a", "%p", "|", ">", "[1]", "{}", "? q", " lead", "trail ", "line\nbreak",
	"tab\there", "esc\x1b", "NULL", "Null", "caf\xc3\xa9", "\xe2\x80\xa8", "<<", "=",
};

static void test_output_yaml_quotes_what_a_reader_would_misread(void **state)
{
	json_auto_t *j = json_pack("{s:s, s:b, s:i, s:f, s:n, s:[s, s], s:{}, s:[]}", "name", "c1",
				   "on", 1, "count", 3, "ratio", 1.0, "none", "list", "a/b.c",
				   "unix:/run/x.sock", "empty", "nothing");
	_cleanup_free_ char *text = NULL;

	(void)state;
	if (!output_yaml_available())
		skip();
	text = captured(print_yaml, j);
	assert_string_equal(text, "name: c1\n"
				  "\"on\": true\n"
				  "count: 3\n"
				  "ratio: 1.0\n"
				  "none: null\n"
				  "list:\n"
				  "- a/b.c\n"
				  "- \"unix:/run/x.sock\"\n"
				  "empty: {}\n"
				  "nothing: []\n");
	free(TAKE_PTR(text));
	for (size_t i = 0; i < ARRAY_SIZE(tricky); i++) {
		json_auto_t *one = json_pack("{s:s}", "k", tricky[i]);

		text = captured(print_yaml, one);
		/* every one of them is written double-quoted (a string), none plain */
		if (strncmp(text, "k: \"", 4) != 0)
			fail_msg("'%s' written as: %s", tricky[i], text);
		free(TAKE_PTR(text));
	}
}

/* Reading the YAML back with PyYAML (a YAML 1.1 reader) gives the JSON document again. */
static void test_output_yaml_reads_back_as_the_same_document(void **state)
{
	json_auto_t *doc = json_object(), *back = NULL;
	_cleanup_free_ char *yaml = NULL, *cmd = NULL;
	char path[] = "/tmp/icd-yaml-XXXXXX", out[65536];
	size_t n;
	FILE *f;
	int fd;

	(void)state;
	if (!output_yaml_available() || system("python3 -c 'import yaml' 2>/dev/null") != 0)
		skip(); /* python3-yaml is in tests/deps.sh; without it the exact tests above stand */
	for (size_t i = 0; i < ARRAY_SIZE(tricky); i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%zu", i);
		json_object_set_new(doc, key, json_string(tricky[i]));
		json_object_set_new(doc, tricky[i], json_integer((json_int_t)i)); /* as keys too */
	}
	json_object_set_new(doc, "nested", json_pack("{s:[b, n, f, i, f, f, f]}", "a", 0, 2.5, -7,
						     1e20, 1e-5, -2.5e-300));
	yaml = captured(print_yaml, doc);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(yaml, f);
	fclose(f);
	assert_true(asprintf(&cmd, "python3 -c 'import sys, json, yaml; json.dump(yaml.safe_load("
				   "open(sys.argv[1], \"rb\")), sys.stdout)' %s",
			     path) > 0);
	f = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	unlink(path); /* before any assertion can end the test */
	assert_int_equal(pclose(f), 0);
	back = json_loads(out, 0, NULL);
	assert_non_null(back);
	if (!json_equal(back, doc))
		fail_msg("read back differently:\n%s\nfrom YAML:\n%s", out, yaml);
}

#define EXPOSITION                                                                                 \
	"# HELP interceptd_containers Registered containers\n"                                    \
	"# TYPE interceptd_containers gauge\n"                                                    \
	"interceptd_containers 2\n"                                                               \
	"interceptd_listeners{container=\"c1\",source=\"lxc\"} 0\n"                               \
	"interceptd_listeners{container=\"c1\",source=\"oci\"} 2\n"                               \
	"interceptd_listeners{container=\"we\\\"ird\\\\\",source=\"oci\"} 1\n"                    \
	"interceptd_syscalls_total{container=\"c1\",syscall=\"sysinfo\",outcome=\"emulated\"} 90\n" \
	"interceptd_syscalls_total{container=\"c1\",syscall=\"sysinfo\",outcome=\"errno\"} 10\n"  \
	"interceptd_syscall_duration_seconds_bucket{container=\"c1\",syscall=\"sysinfo\",le=\"0.00001\"} 50\n" \
	"interceptd_syscall_duration_seconds_bucket{container=\"c1\",syscall=\"sysinfo\",le=\"0.0001\"} 98\n" \
	"interceptd_syscall_duration_seconds_bucket{container=\"c1\",syscall=\"sysinfo\",le=\"0.001\"} 99\n" \
	"interceptd_syscall_duration_seconds_bucket{container=\"c1\",syscall=\"sysinfo\",le=\"+Inf\"} 100\n" \
	"interceptd_syscall_duration_seconds_sum{container=\"c1\",syscall=\"sysinfo\"} 0.002500000\n" \
	"interceptd_syscall_duration_seconds_count{container=\"c1\",syscall=\"sysinfo\"} 100\n"   \
	"interceptd_api_requests_total{method=\"GET\",code=\"200\"} 7\n"                           \
	"process_open_fds 19\n"

static void test_prom_parse_summarizes_containers(void **state)
{
	_cleanup_(prom_summary_clear) struct prom_summary sum = { 0 };
	const struct prom_container *c1, *weird;
	const struct prom_syscall *s;

	(void)state;
	assert_int_equal(prom_parse(EXPOSITION, &sum, NULL), 0);
	assert_int_equal(sum.n_containers, 2);
	c1 = prom_find(&sum, "c1");
	weird = prom_find(&sum, "we\"ird\\");
	assert_non_null(c1);
	assert_non_null(weird);
	assert_int_equal(c1->listeners_oci, 2);
	assert_int_equal(weird->listeners_oci, 1);
	assert_int_equal(c1->n_syscalls, 1);
	s = &c1->syscalls[0];
	assert_string_equal(s->name, "sysinfo");
	assert_int_equal(prom_answers(s), 100);
	assert_int_equal(s->outcomes[PROM_ERRNO], 10);
	assert_int_equal(s->count, 100);
	assert_true(fabs(s->sum - 0.0025) < 1e-12);
	assert_int_equal(s->n_buckets, 3);
	assert_true(prom_quantile_bound(s, 0.5) == 0.00001);
	assert_true(prom_quantile_bound(s, 0.98) == 0.0001);
	assert_true(prom_quantile_bound(s, 0.99) == 0.001);
	assert_true(isinf(prom_quantile_bound(s, 1.0)));
	assert_null(prom_find(&sum, "nosuch"));
}

static void test_prom_parse_refuses_broken_lines(void **state)
{
	static const char *const broken[] = {
		"interceptd_listeners{container=\"c1\",source=\"oci\"}\n",	 /* no value */
		"interceptd_listeners{container=\"c1\",source=\"oci\" 1\n",	 /* no '}' */
		"interceptd_listeners{container=\"c1\\x\",source=\"oci\"} 1\n", /* bad escape */
		"interceptd_listeners{source=\"oci\"} 1\n",			 /* no container */
		"interceptd_syscalls_total{container=\"c1\"} 1\n",		 /* no syscall */
		"interceptd_listeners{container=\"c1\",source=\"oci\"} one\n",
		"interceptd_syscall_duration_seconds_bucket{container=\"c\",syscall=\"s\",le=\"x\"} 1\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
		_cleanup_(prom_summary_clear) struct prom_summary sum = { 0 };
		char text[512];
		size_t line = 0;

		snprintf(text, sizeof(text), "# fine\nprocess_open_fds 3\n%s", broken[i]);
		if (prom_parse(text, &sum, &line) != -EBADMSG)
			fail_msg("accepted: %s", broken[i]);
		assert_int_equal(line, 3);
		assert_int_equal(sum.n_containers, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_expand_and_shorten),
		cmocka_unit_test(test_keys_parse_assignment),
		cmocka_unit_test(test_client_escape_keeps_a_name_one_segment),
		cmocka_unit_test(test_table_aligns_and_escapes),
		cmocka_unit_test(test_output_yaml_quotes_what_a_reader_would_misread),
		cmocka_unit_test(test_output_yaml_reads_back_as_the_same_document),
		cmocka_unit_test(test_prom_parse_summarizes_containers),
		cmocka_unit_test(test_prom_parse_refuses_broken_lines),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
