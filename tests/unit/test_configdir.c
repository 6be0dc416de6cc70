/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for reading a --config-dir (daemon/store/configdir_read.c and
 * configdir_yaml.c): file names, JSON and YAML parsing and validation, a
 * generation refused as a whole, and hostile directories (symlinks leaving
 * it, huge, binary and special files, too many files). No root needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "daemon/store/configdir.h"
#include "daemon/store/configdir_yaml.h"
#include "tmpdir_fixture.h"

#define KEY "security.syscalls.intercept."
#define MKNOD_ON "{\"config\": {\"" KEY "mknod\": \"yes\"}}"

static void write_at(struct fixture *f, const char *name, const char *content)
{
	int fd = openat(f->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* Is there a YAML parser in this build? */
static bool has_yaml(void)
{
	json_t *j = NULL;
	int r = configdir_yaml_to_json("a: b", 4, &j, NULL);

	json_decref(j);
	return r != -EOPNOTSUPP;
}

/* An error cut to fit ends on a whole character: GET /1.0 renders the errors as JSON. */
static void test_configdir_errors_cut_on_a_character(void **state)
{
	struct configdir_errors errs = { 0 };
	char text[400] = "";
	json_t *s;

	(void)state;
	/* 'é' is two bytes: one of the cuts at an odd length splits it */
	for (size_t i = 0; i + 2 < sizeof(text); i += 2)
		strcat(text, "\xc3\xa9");
	configdir_errors_add(&errs, "x%s", text);
	configdir_errors_add(&errs, "%s", text);
	for (size_t i = 0; i < errs.n_kept; i++) {
		s = json_string(errs.msg[i]);
		assert_non_null(s); /* NULL: not UTF-8 */
		json_decref(s);
	}
	assert_int_equal(errs.n_total, 2);
}

static void test_configdir_file_kind_names(void **state)
{
	char name[CONTAINER_NAME_MAX + 1];
	struct icd_error err = { 0 };
	bool is_yaml = true;

	(void)state;
	assert_int_equal(configdir_file_kind("profile.web.json", name, &is_yaml, &err), 1);
	assert_string_equal(name, "web");
	assert_false(is_yaml);
	assert_int_equal(configdir_file_kind("profile.a.b-c.yaml", name, &is_yaml, &err), 1);
	assert_string_equal(name, "a.b-c");
	assert_true(is_yaml);
	assert_int_equal(configdir_file_kind("profile.x.yml", name, &is_yaml, &err), 1);
	/* a ConfigMap's own entries and dotfiles are skipped */
	assert_int_equal(configdir_file_kind("..data", name, &is_yaml, &err), 0);
	assert_int_equal(configdir_file_kind("..2026_12_04_22_00_00.123", name, &is_yaml, &err),
			 0);
	assert_int_equal(configdir_file_kind("profiles.web.json", name, &is_yaml, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a profile file"));
	assert_int_equal(configdir_file_kind("profile.web.txt", name, &is_yaml, &err), -EINVAL);
	assert_int_equal(configdir_file_kind("profile..json", name, &is_yaml, &err), -EINVAL);
	assert_int_equal(configdir_file_kind("profile.Web.json", name, &is_yaml, &err), -EINVAL);
	assert_int_equal(configdir_file_kind("profile.json", name, &is_yaml, &err), -EINVAL);
	/* a file name is anyone's text: it cannot start a line of its own in the log */
	assert_int_equal(configdir_file_kind("profile.a\n<3>forged.json", name, &is_yaml, &err),
			 -EINVAL);
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "invalid profile name"));
}

static void test_configdir_parse_json(void **state)
{
	struct config *cfg = NULL;
	struct icd_error err = { 0 };
	const char *bad_key = "{\"config\": {\"" KEY "nope\": \"1\"}}";
	const char *extra = "{\"config\": {}, \"name\": \"x\"}";
	const char *profiles = "{\"config\": {}, \"profiles\": [\"a\"]}";

	(void)state;
	assert_int_equal(configdir_parse("p.json", MKNOD_ON, strlen(MKNOD_ON), false, &cfg, &err),
			 0);
	assert_string_equal(cfg->values[CONFIG_MKNOD], "true");
	config_unref(cfg);
	assert_int_equal(configdir_parse("p.json", bad_key, strlen(bad_key), false, &cfg, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'p.json'"));
	assert_non_null(strstr(err.msg, "nope"));
	assert_int_equal(configdir_parse("p.json", extra, strlen(extra), false, &cfg, &err),
			 -EINVAL);
	assert_int_equal(configdir_parse("p.json", profiles, strlen(profiles), false, &cfg, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "'profiles'"));
	assert_int_equal(configdir_parse("p.json", "[]", 2, false, &cfg, &err), -EINVAL);
	assert_int_equal(configdir_parse("p.json", "{", 1, false, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "line 1"));
	/* jansson quotes the bytes it stopped at: the message shows them escaped */
	assert_int_equal(configdir_parse("p.json", "\x1b[2J", 4, false, &cfg, &err), -EINVAL);
	assert_null(strchr(err.msg, '\x1b'));
}

static void test_configdir_parse_yaml(void **state)
{
	static const char good[] = "# a comment\nconfig:\n  " KEY "mknod: on\n  " KEY
				   "mount.allowed: \"ext4, xfs\"\n";
	static const char *const bad[] = {
		"config:\n  a: &x b\n  c: *x\n",    /* anchors and aliases: no billion laughs */
		"config: [a, [b, [c, [d, [e, [f, [g, [h, [i]]]]]]]]]\n", /* too deep */
		"config: {}\n---\nconfig: {}\n",    /* two documents */
		"config:\n  a: b\n  a: c\n",        /* duplicate keys */
		"config: {\n",                      /* syntax */
		"",                                 /* empty */
		/* a NUL in a key or a value would end it early: refused, as in a JSON file */
		"config:\n  \"" KEY "mknod\\0junk\": on\n",
		"config:\n  " KEY "mknod: \"on\\0junk\"\n",
	};
	static const char dup_esc[] = "config:\n  \"\\e[2J\": a\n  \"\\e[2J\": b\n";
	struct config *cfg = NULL;
	struct icd_error err = { 0 };

	(void)state;
	if (!has_yaml()) {
		assert_int_equal(configdir_parse("p.yaml", good, strlen(good), true, &cfg, &err),
				 -EOPNOTSUPP);
		skip();
	}
	assert_int_equal(configdir_parse("p.yaml", good, strlen(good), true, &cfg, &err), 0);
	assert_string_equal(cfg->values[CONFIG_MKNOD], "true");
	assert_string_equal(cfg->values[CONFIG_MOUNT_ALLOWED], "ext4,xfs");
	config_unref(cfg);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err.msg[0] = '\0';
		assert_int_equal(configdir_parse("p.yaml", bad[i], strlen(bad[i]), true, &cfg, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "'p.yaml'"));
	}
	/* a duplicate key is quoted escaped: a terminal showing the error gets no control bytes */
	assert_int_equal(configdir_parse("p.yaml", dup_esc, strlen(dup_esc), true, &cfg, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "duplicate key"));
	assert_null(strchr(err.msg, '\x1b'));
}

static void test_configdir_read_valid(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;

	write_at(f, "profile.web.json", MKNOD_ON);
	write_at(f, "profile.db.json", "{\"config\": {}}");
	write_at(f, ".hidden", "not read");
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), 0);
	assert_int_equal(errs.n_total, 0);
	assert_int_equal(set.n_entries, 2);
	assert_string_equal(set.entries[0].name, "db");
	assert_string_equal(set.entries[1].name, "web");
	assert_string_equal(set.entries[1].file, "profile.web.json");
	assert_string_equal(set.entries[1].cfg->values[CONFIG_MKNOD], "true");
	configdir_set_clear(&set);
}

/* One bad file refuses the whole generation, every problem reported. */
static void test_configdir_read_refused_whole(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { .n_entries = 77 };
	struct configdir_errors errs;

	write_at(f, "profile.good.json", MKNOD_ON);
	write_at(f, "profile.bad.json", "{\"config\": {\"" KEY "mknod\": \"maybe\"}}");
	write_at(f, "README", "hello");
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
	assert_int_equal(set.n_entries, 77); /* untouched */
	assert_int_equal(errs.n_total, 2);
	assert_non_null(strstr(errs.msg[0], "'README'"));
	assert_non_null(strstr(errs.msg[1], "'profile.bad.json'"));
	assert_non_null(strstr(errs.msg[1], "maybe"));
}

static void test_configdir_read_same_name_twice(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;

	write_at(f, "profile.web.json", MKNOD_ON);
	write_at(f, "profile.web.yaml", "config: {}\n");
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
	assert_int_equal(errs.n_total, 1);
	assert_non_null(strstr(errs.msg[0], "also declared"));
}

/* The layout of a mounted ConfigMap: files are symlinks through "..data". */
static void test_configdir_read_configmap_links(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;

	assert_int_equal(mkdirat(f->dir_fd, "..2026_12_04_22_00_00.1", 0755), 0);
	write_at(f, "..2026_12_04_22_00_00.1/profile.web.json", MKNOD_ON);
	assert_int_equal(symlinkat("..2026_12_04_22_00_00.1", f->dir_fd, "..data"), 0);
	assert_int_equal(symlinkat("..data/profile.web.json", f->dir_fd, "profile.web.json"), 0);
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), 0);
	assert_int_equal(set.n_entries, 1);
	assert_string_equal(set.entries[0].cfg->values[CONFIG_MKNOD], "true");
	configdir_set_clear(&set);
}

/* Links out of the directory, absolute or relative, are refused, never read. */
static void test_configdir_read_links_out(void **state)
{
	static const char *const targets[] = { "/etc/shadow", "../../etc/passwd", "/proc/self/environ" };
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;

	assert_int_equal(symlinkat("..data/nothing", f->dir_fd, "profile.x.json"), 0);
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
	assert_non_null(strstr(errs.msg[0], "a symlink to nothing"));
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		assert_int_equal(unlinkat(f->dir_fd, "profile.x.json", 0) == 0 || errno == ENOENT, 1);
		assert_int_equal(symlinkat(targets[i], f->dir_fd, "profile.x.json"), 0);
		assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
		assert_non_null(strstr(errs.msg[0], "leaving the directory"));
	}
}

static void test_configdir_read_hostile_files(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;
	char *huge = malloc(CONFIGDIR_FILE_MAX + 2);

	memset(huge, ' ', CONFIGDIR_FILE_MAX + 1);
	huge[CONFIGDIR_FILE_MAX + 1] = '\0';
	huge[0] = '{';
	huge[CONFIGDIR_FILE_MAX] = '}';
	write_at(f, "profile.huge.json", huge);
	free(huge);
	write_at(f, "profile.bin.json", "{\"config\": {}}");
	{
		int fd = openat(f->dir_fd, "profile.bin.json", O_WRONLY | O_APPEND);

		assert_int_equal(write(fd, "\0\xff\x01", 3), 3);
		close(fd);
	}
	/* a FIFO nobody writes to: the open must not block */
	assert_int_equal(mkfifoat(f->dir_fd, "profile.fifo.json", 0644), 0);
	assert_int_equal(mkdirat(f->dir_fd, "profile.dir.json", 0755), 0);
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
	assert_int_equal(errs.n_total, 4);
	assert_non_null(strstr(errs.msg[0], "binary"));
	assert_non_null(strstr(errs.msg[1], "not a regular file"));
	assert_non_null(strstr(errs.msg[2], "not a regular file"));
	assert_non_null(strstr(errs.msg[3], "larger than"));
}

static void test_configdir_read_too_many_files(void **state)
{
	struct fixture *f = *state;
	struct configdir_set set = { 0 };
	struct configdir_errors errs;

	for (int i = 0; i <= CONFIGDIR_ENTRIES_MAX; i++) {
		char name[64];

		snprintf(name, sizeof(name), "profile.p%d.json", i);
		write_at(f, name, "{\"config\": {}}");
	}
	assert_int_equal(configdir_read(f->dir_fd, &set, &errs), -EINVAL);
	assert_int_equal(errs.n_total, 1);
	assert_non_null(strstr(errs.msg[0], "more than"));
}

static void test_configdir_errors_bounded(void **state)
{
	struct configdir_errors errs = { 0 };

	(void)state;
	for (int i = 0; i < CONFIGDIR_ERRORS_MAX + 5; i++)
		configdir_errors_add(&errs, "problem %d", i);
	assert_int_equal(errs.n_kept, CONFIGDIR_ERRORS_MAX);
	assert_int_equal(errs.n_total, CONFIGDIR_ERRORS_MAX + 5);
	assert_string_equal(errs.msg[0], "problem 0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configdir_errors_cut_on_a_character),
		cmocka_unit_test(test_configdir_file_kind_names),
		cmocka_unit_test(test_configdir_parse_json),
		cmocka_unit_test(test_configdir_parse_yaml),
		cmocka_unit_test(test_configdir_errors_bounded),
		cmocka_unit_test_setup_teardown(test_configdir_read_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_refused_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_same_name_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_configmap_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_links_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_hostile_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configdir_read_too_many_files, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
