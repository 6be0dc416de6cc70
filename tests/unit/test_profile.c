/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for profile expansion (daemon/store/profile.c): order, own keys, cross-key rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/store/profile.h"

static struct config *cfg_of(const char *mknod, const char *sysinfo, const char *allowed,
			     const char *fuse)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MKNOD] = mknod,
						 [CONFIG_SYSINFO] = sysinfo,
						 [CONFIG_MOUNT_ALLOWED] = allowed,
						 [CONFIG_MOUNT_FUSE] = fuse };
	struct config *cfg = NULL;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

static void test_profile_expand_layers_own_wins_last_profile_next(void **state)
{
	_cleanup_(config_unrefp) struct config *a = cfg_of("true", "true", NULL, NULL);
	_cleanup_(config_unrefp) struct config *b = cfg_of("false", NULL, NULL, NULL);
	_cleanup_(config_unrefp) struct config *own = cfg_of(NULL, "false", NULL, NULL);
	_cleanup_(config_unrefp) struct config *out = NULL;
	struct config *layers[] = { a, b };

	(void)state;
	assert_int_equal(profile_expand_layers(layers, 2, own, &out, NULL), 0);
	assert_string_equal(out->values[CONFIG_MKNOD], "false");  /* b after a */
	assert_false(out->enabled[CONFIG_MKNOD]);
	assert_string_equal(out->values[CONFIG_SYSINFO], "false"); /* own over a */
	assert_null(out->values[CONFIG_SETXATTR]);
}

static void test_profile_expand_layers_none_is_own(void **state)
{
	_cleanup_(config_unrefp) struct config *own = cfg_of("true", NULL, NULL, NULL);
	_cleanup_(config_unrefp) struct config *out = NULL;

	(void)state;
	assert_int_equal(profile_expand_layers(NULL, 0, own, &out, NULL), 0);
	assert_ptr_equal(out, own); /* no copy: the same snapshot */
}

/* Each side alone is valid; together a type is in both mount.allowed and mount.fuse. */
static void test_profile_expand_layers_cross_key_refused(void **state)
{
	_cleanup_(config_unrefp) struct config *p = cfg_of(NULL, NULL, "ext4", NULL);
	_cleanup_(config_unrefp) struct config *own = cfg_of(NULL, NULL, NULL, "ext4=/bin/fuse2fs");
	struct config *out = NULL;
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(profile_expand_layers(&p, 1, own, &out, &err), -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err.msg, "'ext4' is in both"));
}

static void add_profile(struct registry *r, const char *name, struct config *cfg)
{
	struct container *p = container_new(name, 1, cfg);

	assert_non_null(p);
	assert_int_equal(registry_add(r, p), 0);
	container_unref(p);
}

static void test_profile_expand_looks_up_names(void **state)
{
	_cleanup_(registry_freep) struct registry *r = registry_new();
	_cleanup_(config_unrefp) struct config *own = cfg_of(NULL, NULL, NULL, NULL);
	_cleanup_(config_unrefp) struct config *out = NULL;
	char *names[] = { "base", NULL }, *missing[] = { "base", "gone", NULL };
	struct icd_error err = { 0 };

	(void)state;
	add_profile(r, "base", cfg_of("true", NULL, NULL, NULL));
	assert_int_equal(profile_expand(r, names, own, &out, NULL), 0);
	assert_true(out->enabled[CONFIG_MKNOD]);
	assert_int_equal(profile_expand(r, missing, own, &out, &err), -ENOENT);
	assert_string_equal(err.msg, "profile 'gone' not found");
	assert_true(out->enabled[CONFIG_MKNOD]); /* untouched on failure */
}

static void test_profile_names_check(void **state)
{
	char *ok[] = { "a", "b.c", NULL }, *twice[] = { "a", "a", NULL },
	     *bad[] = { "A", NULL }, *path[] = { "../x", NULL };
	char *many[CONTAINER_PROFILES_MAX + 2] = { 0 };
	char names[CONTAINER_PROFILES_MAX + 1][8];
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(profile_names_check(NULL, NULL), 0);
	assert_int_equal(profile_names_check(ok, NULL), 0);
	assert_int_equal(profile_names_check(twice, &err), -EINVAL);
	assert_string_equal(err.msg, "profile 'a' listed twice");
	assert_int_equal(profile_names_check(bad, NULL), -EINVAL);
	assert_int_equal(profile_names_check(path, NULL), -EINVAL);
	for (size_t i = 0; i <= CONTAINER_PROFILES_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		many[i] = names[i];
	}
	assert_int_equal(profile_names_check(many, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_expand_layers_own_wins_last_profile_next),
		cmocka_unit_test(test_profile_expand_layers_none_is_own),
		cmocka_unit_test(test_profile_expand_layers_cross_key_refused),
		cmocka_unit_test(test_profile_expand_looks_up_names),
		cmocka_unit_test(test_profile_names_check),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
