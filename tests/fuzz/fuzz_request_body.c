/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a request body of POST, PUT or PATCH /1.0/containers[/NAME]
 * as the API thread handles it. json_body_parse() (size cap, duplicate keys,
 * top-level object), then validate_create(), validate_put() and
 * validate_patch() as api/routes_containers.c calls them, the patch merged
 * into a current configuration as the store does (store_patch_apply()).
 *
 * Beyond "no crash, no leak": every refusal names its reason in a message the
 * API can render; every accepted configuration is normalized (validating its
 * own values again changes nothing) and renders as the container object the
 * API answers with.
 */
#include <jansson.h>
#include <stdlib.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/routes_common.h"
#include "api/validate.h"
#include "tests/fuzz/fuzz.h"

static struct config *current; /* what PATCH bodies are merged into */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *values[CONFIG_KEY_COUNT] = {
		[CONFIG_MKNOD] = "true",
		[CONFIG_SYSINFO] = "on",
		[CONFIG_MOUNT] = "yes",
		[CONFIG_MOUNT_ALLOWED] = "ext4,xfs",
		[CONFIG_MOUNT_FUSE] = "fuse.sshfs=sshfs",
	};

	(void)argc;
	(void)argv;
	FUZZ_CHECK(config_new(values, &current, NULL) == 0, "the current configuration is invalid");
	return 0;
}

/* An accepted body: the snapshot is normalized and renders as the API's container object. */
static void check_accepted(const char *name, struct config *cfg)
{
	struct container *c;
	json_t *env;
	char *text;

	FUZZ_CHECK(container_name_valid(name), "accepted invalid name '%s'", name);
	fuzz_check_config_normalized(cfg);
	c = container_new(name, 0, config_ref(cfg));
	FUZZ_CHECK(c, "out of memory");
	env = errors_envelope_sync(routes_container_json(c));
	text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	FUZZ_CHECK(text, "container '%s' does not render", name);
	free(text);
	json_decref(env);
	container_unref(c);
}

static void check_outcome(int r, const char *name, struct config *cfg, const struct icd_error *err)
{
	if (r < 0) {
		FUZZ_CHECK(!cfg, "a snapshot was returned with error %d", r);
		fuzz_check_refusal(r, err);
	} else {
		check_accepted(name, cfg);
	}
	config_unref(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icd_error err = { 0 };
	struct store_patch patch;
	struct config *cfg = NULL;
	const char *name = NULL;
	json_t *body = NULL;
	int r;

	r = json_body_parse((const char *)data, size, &body, &err);
	if (r < 0) {
		fuzz_check_refusal(r, &err);
		return 0;
	}
	FUZZ_CHECK(json_is_object(body), "a body that is not an object was accepted");

	err = (struct icd_error){ 0 };
	r = validate_create(body, &name, &cfg, &err);
	check_outcome(r, name, cfg, &err);

	err = (struct icd_error){ 0 };
	cfg = NULL;
	r = validate_put(body, &cfg, &err);
	check_outcome(r, "c1", cfg, &err);

	err = (struct icd_error){ 0 };
	cfg = NULL;
	r = validate_patch(body, &patch, &err);
	if (r >= 0) {
		/* as the store applies it, to the configuration it changes */
		r = store_patch_apply(&patch, current, &cfg, &err);
		store_patch_clear(&patch);
	}
	check_outcome(r, "c1", cfg, &err);

	json_decref(body);
	return 0;
}
