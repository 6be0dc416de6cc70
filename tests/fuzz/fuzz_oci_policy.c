/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the body of POST /1.0/containers/NAME/seccomp?format=oci,
 * an OCI linux.seccomp object merged with a container's rules
 * (daemon/store/policy_merge.c, policy_merge_oci()), as api/routes_policy.c
 * calls it: json_body_parse() first, then the merge with every key on.
 *
 * Beyond "no crash, no leak": a refusal names its reason in a message the API
 * can render; an accepted base yields an object that renders, keeps the base's
 * defaultAction, names our listener, and is refused when merged a second time
 * (it now holds NOTIFY rules: merging twice would trap twice).
 */
#include <jansson.h>
#include <string.h>

#include "api/json.h"
#include "daemon/store/policy.h"
#include "tests/fuzz/fuzz.h"

#define LISTENER "/run/interceptd/oci.sock"

static struct config *all_on;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *values[CONFIG_KEY_COUNT] = {
		[CONFIG_MKNOD] = "true",      [CONFIG_SETXATTR] = "true",
		[CONFIG_SYSINFO] = "true",    [CONFIG_SCHED_SETSCHEDULER] = "true",
		[CONFIG_MOUNT] = "true",      [CONFIG_MOUNT_ALLOWED] = "ext4",
		[CONFIG_BPF] = "true",        [CONFIG_BPF_DEVICES] = "true",
	};

	(void)argc;
	(void)argv;
	FUZZ_CHECK(config_new(values, &all_on, NULL) == 0, "the configuration is invalid");
	return 0;
}

/* Whether @merged hands some call to a listener (it then cannot be merged into again). */
static bool has_notify_rule(const json_t *merged)
{
	size_t i;
	json_t *rule;

	json_array_foreach(json_object_get(merged, "syscalls"), i, rule)
		if (strcmp(json_string_value(json_object_get(rule, "action")) ?: "", "SCMP_ACT_NOTIFY") == 0)
			return true;
	return false;
}

static void check_merged(const json_t *base, const json_t *merged, unsigned flags)
{
	const json_t *want = json_object_get(base, "defaultAction");
	struct policy_warnings warnings = { 0 };
	struct icd_error err = { 0 };
	json_t *again = NULL;
	char *text;
	int r;

	FUZZ_CHECK(json_is_object(merged), "the merge is not an object");
	FUZZ_CHECK(json_equal(json_object_get(merged, "defaultAction"), want),
		   "the merge changed defaultAction");
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(merged, "listenerPath")) ?: "", LISTENER) == 0,
		   "the merge names no listener");
	text = json_dumps(merged, JSON_COMPACT);
	FUZZ_CHECK(text, "the merge does not render");
	free(text);
	/* a base that denies every call we trap gets no NOTIFY rule unless asked (flags) */
	if (!has_notify_rule(merged))
		return;
	r = policy_merge_oci(merged, all_on, LISTENER, "c1", flags, &again, &warnings, &err);
	FUZZ_CHECK(r < 0 && !again, "a merged profile was merged again (%d)", r);
	fuzz_check_refusal(r, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_warnings warnings = { 0 };
	struct icd_error err = { 0 };
	json_t *body = NULL, *merged = NULL;
	/* both merges, told apart by the parity of the length (trailing blanks change it) */
	unsigned flags = size & 1 ? POLICY_MERGE_TRAP_DENIED : 0;
	int r;

	r = json_body_parse((const char *)data, size, &body, &err);
	if (r < 0) {
		fuzz_check_refusal(r, &err);
		return 0;
	}
	r = policy_merge_oci(body, all_on, LISTENER, "c1", flags, &merged, &warnings, &err);
	if (r < 0) {
		FUZZ_CHECK(!merged, "a merge was returned with error %d", r);
		fuzz_check_refusal(r, &err);
	} else {
		check_merged(body, merged, flags);
	}
	FUZZ_CHECK(warnings.n <= POLICY_MAX_WARNINGS, "%zu warnings", warnings.n);
	json_decref(merged);
	json_decref(body);
	return 0;
}
