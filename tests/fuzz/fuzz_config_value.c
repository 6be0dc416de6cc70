/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the security.syscalls.intercept.* values themselves
 * (daemon/store/config.c), without JSON around them. The input is up to ten
 * NUL-separated values, one per key in enum config_key order; the first one
 * is also looked up as a key name.
 *
 * Beyond "no crash, no leak": normalizing is idempotent and never grows a
 * list; config_new() accepts only when every value is accepted, and then
 * holds the normalized values with switches and lists that follow them.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Split @data at NUL bytes into at most CONFIG_KEY_COUNT strings; the rest stay NULL. */
static void split_values(const uint8_t *data, size_t size, char *values[CONFIG_KEY_COUNT])
{
	size_t start = 0;

	for (size_t k = 0; k < CONFIG_KEY_COUNT && start <= size; k++) {
		const uint8_t *nul = memchr(data + start, '\0', size - start);
		size_t end = nul ? (size_t)(nul - data) : size;

		values[k] = fuzz_strndup(data + start, end - start);
		start = end + 1;
	}
}

/* Normalize one value; returns whether it was accepted and the normalized text in *ret. */
static bool normalize_one(enum config_key k, const char *value, char **ret)
{
	struct icd_error err = { 0 };
	char *norm = NULL, *again = NULL;
	int r = config_normalize_value(k, value, &norm, &err);

	if (r < 0) {
		FUZZ_CHECK(!norm, "a normalized value was returned with error %d", r);
		fuzz_check_refusal(r, &err);
		return false;
	}
	if (norm) {
		/* lists are only trimmed; a boolean may grow ("1" is stored as "true") */
		FUZZ_CHECK(config_keys[k].type == CONFIG_TYPE_BOOL || strlen(norm) <= strlen(value),
			   "'%s' grew to '%s'", value, norm);
		FUZZ_CHECK(config_normalize_value(k, norm, &again, &err) == 0 && again &&
				   strcmp(again, norm) == 0,
			   "%s: '%s' normalizes to '%s', which does not normalize to itself",
			   config_keys[k].name, value, norm);
	}
	free(again);
	*ret = norm;
	return true;
}

static void check_snapshot(char *const values[CONFIG_KEY_COUNT], char *const norm[CONFIG_KEY_COUNT],
			   bool all_valid)
{
	struct icd_error err = { 0 };
	struct config *cfg = NULL;
	int r = config_new((const char *const *)values, &cfg, &err);

	if (r < 0) {
		fuzz_check_refusal(r, &err);
		return;
	}
	FUZZ_CHECK(all_valid, "config_new() accepted a value config_normalize_value() refuses");
	for (size_t k = 0; k < CONFIG_KEY_COUNT; k++) {
		FUZZ_CHECK(!cfg->values[k] == !norm[k] &&
				   (!norm[k] || strcmp(cfg->values[k], norm[k]) == 0),
			   "%s: the snapshot holds another value than the normalized one",
			   config_keys[k].name);
		FUZZ_CHECK(cfg->enabled[k] == (config_keys[k].type == CONFIG_TYPE_BOOL && norm[k] &&
					       strcmp(norm[k], "true") == 0),
			   "%s: switch does not follow the value", config_keys[k].name);
	}
	/* a stored type refused since loads, but is never emulated */
	for (size_t i = 0; i < cfg->n_mount_allowed; i++)
		FUZZ_CHECK(config_mount_fs_allowed(cfg, cfg->mount_allowed[i]) ==
				   !config_mount_type_refusal(cfg->mount_allowed[i]),
			   "lookup of '%s' fails", cfg->mount_allowed[i]);
	for (size_t i = 0; i < cfg->n_mount_fuse; i++)
		FUZZ_CHECK(config_mount_fuse_binary(cfg, cfg->mount_fuse[i].fstype), "lookup fails");
	fuzz_check_config_normalized(cfg);
	config_unref(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *values[CONFIG_KEY_COUNT] = { 0 }, *norm[CONFIG_KEY_COUNT] = { 0 };
	bool all_valid = true;
	int k;

	split_values(data, size, values);
	k = config_key_lookup(values[0]);
	FUZZ_CHECK(k == -ENOENT || (k >= 0 && strcmp(config_keys[k].name, values[0]) == 0),
		   "key lookup of '%s' gives %d", values[0], k);
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		if (values[i])
			all_valid &= normalize_one(i, values[i], &norm[i]);
	check_snapshot(values, norm, all_valid);
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		free(values[i]);
		free(norm[i]);
	}
	return 0;
}
