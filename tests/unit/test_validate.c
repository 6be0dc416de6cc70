/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for api/validate.c and the JSON body parser: table-driven good
 * and bad request bodies for create, PUT and PATCH, checking the normalized
 * result or that the message names the offending key, field or value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/json.h"
#include "api/validate.h"

#define K(x) "\"security.syscalls.intercept." x "\""

enum op { OP_CREATE, OP_PUT, OP_PATCH };

struct vcase {
	enum op op;
	const char *body;
	int expect;            /* 0 or a negative errno */
	const char *needle;    /* on error: text the message must contain */
	enum config_key key;   /* on success: a key to check ... */
	const char *value;     /* ... and its normalized value (NULL = unset) */
};

static const struct vcase cases[] = {
	/* create: good */
	{ OP_CREATE, "{\"name\":\"c1\"}", 0, NULL, CONFIG_MKNOD, NULL },
	{ OP_CREATE, "{\"name\":\"c1\",\"config\":{}}", 0, NULL, CONFIG_MKNOD, NULL },
	{ OP_CREATE, "{\"name\":\"web-1.x_y\",\"config\":{" K("mknod") ":\"YES\"}}", 0, NULL, CONFIG_MKNOD, "true" },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("sysinfo") ":\"Off\"}}", 0, NULL, CONFIG_SYSINFO, "false" },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.allowed") ":\" ext4 , xfs \"}}", 0, NULL, CONFIG_MOUNT_ALLOWED, "ext4,xfs" },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.fuse") ":\"ext4=fuse2fs\"}}", 0, NULL, CONFIG_MOUNT_FUSE, "ext4=fuse2fs" },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("bpf") ":\"\"}}", 0, NULL, CONFIG_BPF, NULL },
	/* create: bad */
	{ OP_CREATE, "{}", -EINVAL, "missing field 'name'", 0, NULL },
	{ OP_CREATE, "{\"name\":5}", -EINVAL, "'name' must be a string", 0, NULL },
	{ OP_CREATE, "{\"name\":\"Bad\"}", -EINVAL, "invalid container name 'Bad'", 0, NULL },
	{ OP_CREATE, "{\"name\":\"-a\"}", -EINVAL, "invalid container name", 0, NULL },
	{ OP_CREATE, "{\"name\":\"a/b\"}", -EINVAL, "invalid container name", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"extra\":1}", -EINVAL, "unknown field 'extra'", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":[]}", -EINVAL, "'config' must be an object", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{\"x.y\":\"1\"}}", -EINVAL, "unknown configuration key 'x.y'", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mknod") ":true}}", -EINVAL, "must be a string, not a boolean", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mknod") ":null}}", -EINVAL, "must be a string, not null", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mknod") ":\"maybe\"}}", -EINVAL, "invalid boolean 'maybe'", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.fuse") ":\"ext4\"}}", -EINVAL, "not of the form", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.allowed") ":\"ext4,,xfs\"}}", -EINVAL, "empty entry", 0, NULL },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.allowed") ":\"ext4\"," K("mount.fuse") ":\"ext4=fuse2fs\"}}", -EINVAL, "'ext4' is in both", 0, NULL },
	/* put */
	{ OP_PUT, "{\"config\":{" K("setxattr") ":\"1\"}}", 0, NULL, CONFIG_SETXATTR, "true" },
	{ OP_PUT, "{\"config\":{}}", 0, NULL, CONFIG_MKNOD, NULL },
	{ OP_PUT, "{}", -EINVAL, "missing field 'config'", 0, NULL },
	{ OP_PUT, "{\"config\":{},\"name\":\"c\"}", -EINVAL, "unknown field 'name'", 0, NULL },
	{ OP_PUT, "{\"config\":\"x\"}", -EINVAL, "'config' must be an object, not a string", 0, NULL },
	{ OP_PUT, "{\"config\":{" K("bpf") ":1}}", -EINVAL, "must be a string, not a number", 0, NULL },
	/* patch (current config has mknod=true, sysinfo=true) */
	{ OP_PATCH, "{\"config\":{" K("bpf") ":\"on\"}}", 0, NULL, CONFIG_MKNOD, "true" },
	{ OP_PATCH, "{\"config\":{" K("bpf") ":\"on\"}}", 0, NULL, CONFIG_BPF, "true" },
	{ OP_PATCH, "{\"config\":{" K("mknod") ":\"\"}}", 0, NULL, CONFIG_MKNOD, NULL },
	{ OP_PATCH, "{\"config\":{" K("mknod") ":null}}", 0, NULL, CONFIG_MKNOD, NULL },
	{ OP_PATCH, "{\"config\":{" K("mknod") ":null}}", 0, NULL, CONFIG_SYSINFO, "true" },
	{ OP_PATCH, "{\"config\":{\"security.syscalls.intercept\":\"1\"}}", -EINVAL, "unknown configuration key 'security.syscalls.intercept'", 0, NULL },
	{ OP_PATCH, "{\"config\":{" K("mknod") ":[]}}", -EINVAL, "must be a string, not an array", 0, NULL },
	{ OP_PATCH, "{\"cfg\":{}}", -EINVAL, "unknown field 'cfg'", 0, NULL },
	/* mount.allowed: block-device filesystems and hugetlbfs only, with the reason */
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.allowed") ":\"proc\"}}", -EINVAL, "mount.allowed: 'proc' refused: a user namespace mounts it itself", 0, NULL },
	{ OP_PUT, "{\"config\":{" K("mount.allowed") ":\"ext4,tmpfs\"}}", -EINVAL, "'tmpfs' refused: a user namespace mounts it itself", 0, NULL },
	{ OP_PATCH, "{\"config\":{" K("mount.allowed") ":\"nfs\"}}", -EINVAL, "'nfs' refused: a network filesystem", 0, NULL },
	{ OP_PATCH, "{\"config\":{" K("mount.allowed") ":\"fuseblk\"}}", -EINVAL, "'fuseblk' refused: only ext2, ext3, ext4", 0, NULL },
	{ OP_PATCH, "{\"config\":{" K("mount.allowed") ":\"ext4, hugetlbfs,squashfs\"}}", 0, NULL, CONFIG_MOUNT_ALLOWED, "ext4,hugetlbfs,squashfs" },
	{ OP_CREATE, "{\"name\":\"c\",\"config\":{" K("mount.fuse") ":\"proc=procfuse\"}}", 0, NULL, CONFIG_MOUNT_FUSE, "proc=procfuse" },
};

static struct config *current_config(void)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MKNOD] = "true", [CONFIG_SYSINFO] = "yes" };
	struct config *cfg = NULL;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

/* A PATCH as the store makes it: the values checked here, then merged into @current. */
static int patch(const json_t *body, struct config *current, struct config **ret_cfg,
		 struct icd_error *err)
{
	struct store_patch p;
	int r = validate_patch(body, &p, err);

	if (r < 0)
		return r;
	r = store_patch_apply(&p, current, ret_cfg, err);
	store_patch_clear(&p);
	return r;
}

/* A type refused now but stored by an older version stays stored while other keys change. */
static void test_validate_patch_keeps_refused_stored_type(void **state)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT_ALLOWED] = "ext4,proc" };
	_cleanup_(config_unrefp) struct config *current = NULL, *next = NULL;
	const char *other = "{\"config\":{" K("mknod") ":\"on\"}}";
	const char *again = "{\"config\":{" K("mount.allowed") ":\"ext4,proc\"}}";
	struct icd_error err = { 0 };
	json_auto_t *body = NULL, *body2 = NULL;

	(void)state;
	assert_int_equal(config_new(values, &current, NULL), 0);
	assert_int_equal(json_body_parse(other, strlen(other), &body, &err), 0);
	assert_int_equal(patch(body, current, &next, &err), 0);
	assert_string_equal(next->values[CONFIG_MOUNT_ALLOWED], "ext4,proc");
	assert_false(config_mount_fs_allowed(next, "proc"));
	assert_true(config_mount_fs_allowed(next, "ext4"));
	assert_int_equal(json_body_parse(again, strlen(again), &body2, &err), 0);
	assert_int_equal(patch(body2, current, &next, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'proc' refused"));
}

static int run_case(const struct vcase *c, struct config *current, struct config **ret_cfg,
		    struct icd_error *err)
{
	json_auto_t *body = NULL;
	const char *name = NULL;

	assert_int_equal(json_body_parse(c->body, strlen(c->body), &body, err), 0);
	switch (c->op) {
	case OP_CREATE: return validate_create(body, &name, ret_cfg, err);
	case OP_PUT: return validate_put(body, ret_cfg, err);
	default: return patch(body, current, ret_cfg, err);
	}
}

static void test_validate_table(void **state)
{
	_cleanup_(config_unrefp) struct config *current = current_config();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vcase *c = &cases[i];
		_cleanup_(config_unrefp) struct config *cfg = NULL;
		struct icd_error err = { 0 };
		int r = run_case(c, current, &cfg, &err);

		if (r != c->expect || (c->needle && !strstr(err.msg, c->needle)))
			print_error("case %zu '%s': r=%d msg='%s'\n", i, c->body, r, err.msg);
		assert_int_equal(r, c->expect);
		if (r < 0) {
			assert_non_null(strstr(err.msg, c->needle));
			assert_null(cfg);
			continue;
		}
		if (c->value)
			assert_string_equal(cfg->values[c->key], c->value);
		else
			assert_null(cfg->values[c->key]);
	}
}

static void test_json_body_parse_errors(void **state)
{
	static const struct {
		const char *body;
		int expect;
		const char *needle;
	} bad[] = {
		{ "", -EINVAL, "empty" },
		{ "{", -EINVAL, "malformed JSON at line 1" },
		{ "[1]", -EINVAL, "must be a JSON object, not an array" },
		{ "\"x\"", -EINVAL, "malformed JSON" }, /* jansson refuses bare scalars by default */
		{ "{\"a\":1,\"a\":2}", -EINVAL, "duplicate" },
	};
	json_t *j = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct icd_error err = { 0 };

		assert_int_equal(json_body_parse(bad[i].body, strlen(bad[i].body), &j, &err),
				 bad[i].expect);
		if (!strstr(err.msg, bad[i].needle))
			print_error("body '%s': '%s'\n", bad[i].body, err.msg);
		assert_non_null(strstr(err.msg, bad[i].needle));
	}
	assert_int_equal(json_body_parse("{}", JSON_BODY_MAX + 1, &j, NULL), -EMSGSIZE);
}

static void test_validate_container_name_limits(void **state)
{
	char name[80];

	(void)state;
	memset(name, 'a', sizeof(name));
	name[63] = '\0';
	assert_int_equal(validate_container_name(name, NULL), 0);
	name[63] = 'a';
	name[64] = '\0';
	assert_int_equal(validate_container_name(name, NULL), -EINVAL);
	assert_int_equal(validate_container_name(NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_table),
		cmocka_unit_test(test_validate_patch_keeps_refused_stored_type),
		cmocka_unit_test(test_json_body_parse_errors),
		cmocka_unit_test(test_validate_container_name_limits),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
