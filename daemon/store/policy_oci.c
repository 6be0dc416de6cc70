/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checking and reading an OCI linux.seccomp object sent by a client, before
 * daemon/store/policy_merge.c merges into it. Pure functions on jansson values; the
 * API thread calls them. Every refusal names the field (syscalls[3].args[0].op).
 */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "daemon/escape.h"
#include "daemon/store/policy_oci.h"

#define OCI_MAX_ARGS 6		/* libseccomp compares at most six arguments */
#define OCI_MAX_ERRNO 65535	/* SECCOMP_RET_DATA holds 16 bits */
#define OCI_MAX_NAME 64
#define OCI_MAX_ARCHES 32

static const char *const actions[] = {
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
	"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
};

static const char *const comparisons[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

struct oci_action oci_action_of(const json_t *obj, const char *action_key, const char *errno_key)
{
	const char *name = json_string_value(json_object_get(obj, action_key));
	const json_t *err = json_object_get(obj, errno_key);

	if (name && strcmp(name, "SCMP_ACT_KILL") == 0)
		name = "SCMP_ACT_KILL_THREAD";
	if (name && (strcmp(name, "SCMP_ACT_ERRNO") == 0 || strcmp(name, "SCMP_ACT_TRACE") == 0))
		return (struct oci_action){ name, err ? json_integer_value(err) : EPERM };
	return (struct oci_action){ name, 0 };
}

bool oci_action_equal(struct oci_action a, struct oci_action b)
{
	return a.name && b.name && strcmp(a.name, b.name) == 0 && a.errno_value == b.errno_value;
}

bool oci_action_allows(struct oci_action a)
{
	return a.name && (strcmp(a.name, "SCMP_ACT_ALLOW") == 0 || strcmp(a.name, "SCMP_ACT_LOG") == 0);
}

bool oci_args_repeat_index(const json_t *args)
{
	unsigned seen = 0;
	size_t i;
	json_t *a;

	json_array_foreach(args, i, a) {
		unsigned bit = 1u << (json_integer_value(json_object_get(a, "index")) & 31);

		if (seen & bit)
			return true;
		seen |= bit;
	}
	return false;
}

static int check_uint(const json_t *j, json_int_t max, const char *path, struct icd_error *reterr)
{
	if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > max)
		return icd_error_set(reterr, -EINVAL, "%s must be an integer from 0 to %lld", path,
				     (long long)max);
	return 0;
}

static int check_string_in(const json_t *j, const char *const *list, size_t n, const char *what,
			   const char *path, struct icd_error *reterr)
{
	if (!json_is_string(j))
		return icd_error_set(reterr, -EINVAL, "%s must be a string", path);
	if (!in_list(json_string_value(j), list, n))
		return icd_error_set(reterr, -EINVAL, "%s: unknown %s '%s'", path, what,
				     ESCAPED(json_string_value(j), 64));
	return 0;
}

static int check_arg(const json_t *arg, const char *path, struct icd_error *reterr)
{
	char sub[128];
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(arg))
		return icd_error_set(reterr, -EINVAL, "%s must be an object", path);
	json_object_foreach((json_t *)arg, key, v) {
		/* only the known keys, all ASCII, use it */
		(void)snprintf(sub, sizeof(sub), "%s.%.16s", path, key);
		if (strcmp(key, "index") == 0)
			r = check_uint(v, OCI_MAX_ARGS - 1, sub, reterr);
		else if (strcmp(key, "value") == 0 || strcmp(key, "valueTwo") == 0)
			r = check_uint(v, INT64_MAX, sub, reterr);
		else if (strcmp(key, "op") == 0)
			r = check_string_in(v, comparisons, ARRAY_SIZE(comparisons), "comparison", sub,
					    reterr);
		else
			r = icd_error_set(reterr, -EINVAL, "%s: unknown field '%s'", path,
					  ESCAPED(key, 64));
		if (r < 0)
			return r;
	}
	if (!json_object_get(arg, "index") || !json_object_get(arg, "value") ||
	    !json_object_get(arg, "op"))
		return icd_error_set(reterr, -EINVAL, "%s needs 'index', 'value' and 'op'", path);
	return 0;
}

static int check_args(const json_t *args, const char *path, struct icd_error *reterr)
{
	char sub[96];
	size_t i;
	json_t *a;
	int r;

	if (!json_is_array(args))
		return icd_error_set(reterr, -EINVAL, "%s must be an array", path);
	if (json_array_size(args) > OCI_MAX_ARGS)
		return icd_error_set(reterr, -EINVAL, "%s has more than %d comparisons", path,
				     OCI_MAX_ARGS);
	json_array_foreach(args, i, a) {
		(void)snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		r = check_arg(a, sub, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_syscall_name(const char *s)
{
	size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	return len > 0 && len <= OCI_MAX_NAME && s[len] == '\0';
}

static int check_names(const json_t *names, const char *path, struct icd_error *reterr)
{
	size_t i;
	json_t *n;

	if (!json_is_array(names) || json_array_size(names) == 0)
		return icd_error_set(reterr, -EINVAL, "%s must be a non-empty array of syscall names",
				     path);
	json_array_foreach(names, i, n)
		if (!json_is_string(n) || !is_syscall_name(json_string_value(n)))
			return icd_error_set(reterr, -EINVAL, "%s[%zu] is not a syscall name", path, i);
	return 0;
}

static int docker_format(const char *where, const char *key, struct icd_error *reterr)
{
	return icd_error_set(reterr, -EINVAL,
			     "%s'%s' is Docker's seccomp.json format, not an OCI linux.seccomp "
			     "object: send the linux.seccomp of a runtime config.json instead",
			     where, key);
}

static bool is_docker_rule_field(const char *key)
{
	return strcmp(key, "name") == 0 || strcmp(key, "includes") == 0 ||
	       strcmp(key, "excludes") == 0 || strcmp(key, "comment") == 0;
}

static int check_rule_field(const char *key, const json_t *v, const char *path,
			    struct icd_error *reterr)
{
	char sub[64];

	/* only the known keys, all ASCII, use it */
	(void)snprintf(sub, sizeof(sub), "%s.%.16s", path, key);
	if (strcmp(key, "names") == 0)
		return check_names(v, sub, reterr);
	if (strcmp(key, "action") == 0)
		return check_string_in(v, actions, ARRAY_SIZE(actions), "action", sub, reterr);
	if (strcmp(key, "errnoRet") == 0)
		return check_uint(v, OCI_MAX_ERRNO, sub, reterr);
	if (strcmp(key, "args") == 0)
		return check_args(v, sub, reterr);
	if (is_docker_rule_field(key))
		return docker_format(path, key, reterr);
	return icd_error_set(reterr, -EINVAL, "%s: unknown field '%s'", path, ESCAPED(key, 64));
}

static int check_rule(const json_t *rule, size_t idx, struct icd_error *reterr)
{
	char path[32];
	const char *key;
	json_t *v;
	int r;

	(void)snprintf(path, sizeof(path), "syscalls[%zu]", idx);
	if (!json_is_object(rule))
		return icd_error_set(reterr, -EINVAL, "%s must be an object", path);
	json_object_foreach((json_t *)rule, key, v) {
		r = check_rule_field(key, v, path, reterr);
		if (r < 0)
			return r;
	}
	if (!json_object_get(rule, "names") || !json_object_get(rule, "action"))
		return icd_error_set(reterr, -EINVAL, "%s needs 'names' and 'action'", path);
	if (strcmp(json_string_value(json_object_get(rule, "action")), "SCMP_ACT_NOTIFY") == 0)
		return icd_error_set(reterr, -EINVAL,
				     "%s: the base already uses SCMP_ACT_NOTIFY; a filter has one "
				     "listener: merge into the profile without another agent's rules",
				     path);
	return 0;
}

static int check_rules(const json_t *rules, struct icd_error *reterr)
{
	size_t i;
	json_t *rule;
	int r;

	if (!json_is_array(rules))
		return icd_error_set(reterr, -EINVAL, "'syscalls' must be an array");
	json_array_foreach(rules, i, rule) {
		r = check_rule(rule, i, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "SCMP_ARCH_X86_64" → libseccomp's "x86_64" */
static bool is_known_arch(const char *s)
{
	char name[32];
	size_t i;

	if (strncmp(s, "SCMP_ARCH_", 10) != 0 || strlen(s + 10) >= sizeof(name))
		return false;
	for (i = 0; s[10 + i]; i++)
		name[i] = (char)tolower((unsigned char)s[10 + i]);
	name[i] = '\0';
	return seccomp_arch_resolve_name(name) != 0;
}

static int check_strings(const json_t *j, const char *field, bool is_arch, struct icd_error *reterr)
{
	size_t i;
	json_t *s;

	if (!json_is_array(j) || json_array_size(j) > OCI_MAX_ARCHES)
		return icd_error_set(reterr, -EINVAL, "'%s' must be an array of at most %d strings",
				     field, OCI_MAX_ARCHES);
	json_array_foreach(j, i, s) {
		if (!json_is_string(s))
			return icd_error_set(reterr, -EINVAL, "%s[%zu] must be a string", field, i);
		if (is_arch && !is_known_arch(json_string_value(s)))
			return icd_error_set(reterr, -EINVAL, "%s[%zu]: unknown architecture '%s'",
					     field, i, ESCAPED(json_string_value(s), 32));
	}
	return 0;
}

static bool is_config_json_field(const char *key)
{
	return strcmp(key, "ociVersion") == 0 || strcmp(key, "linux") == 0 ||
	       strcmp(key, "process") == 0 || strcmp(key, "root") == 0;
}

static int check_top_field(const char *key, const json_t *v, struct icd_error *reterr)
{
	if (strcmp(key, "defaultAction") == 0)
		return check_string_in(v, actions, ARRAY_SIZE(actions), "action", key, reterr);
	if (strcmp(key, "defaultErrnoRet") == 0)
		return check_uint(v, OCI_MAX_ERRNO, key, reterr);
	if (strcmp(key, "architectures") == 0)
		return check_strings(v, key, true, reterr);
	if (strcmp(key, "flags") == 0)
		return check_strings(v, key, false, reterr);
	if (strcmp(key, "listenerPath") == 0 || strcmp(key, "listenerMetadata") == 0)
		return json_is_string(v) ? 0 : icd_error_set(reterr, -EINVAL, "'%s' must be a string", key);
	if (strcmp(key, "syscalls") == 0)
		return check_rules(v, reterr);
	if (strcmp(key, "archMap") == 0)
		return docker_format("", key, reterr);
	if (is_config_json_field(key))
		return icd_error_set(reterr, -EINVAL,
				     "'%s' belongs to a whole config.json: send its linux.seccomp "
				     "object (jq .linux.seccomp config.json)", key);
	return icd_error_set(reterr, -EINVAL, "unknown field '%s' in the linux.seccomp object",
			     ESCAPED(key, 64));
}

int oci_seccomp_check(const json_t *seccomp, struct icd_error *reterr)
{
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(seccomp))
		return icd_error_set(reterr, -EINVAL, "the body must be a linux.seccomp object");
	json_object_foreach((json_t *)seccomp, key, v) {
		r = check_top_field(key, v, reterr);
		if (r < 0)
			return r;
	}
	if (!json_object_get(seccomp, "defaultAction"))
		return icd_error_set(reterr, -EINVAL, "missing 'defaultAction'");
	if (strcmp(json_string_value(json_object_get(seccomp, "defaultAction")), "SCMP_ACT_NOTIFY") == 0)
		return icd_error_set(reterr, -EINVAL,
				     "'defaultAction' SCMP_ACT_NOTIFY: runc refuses it, and the base "
				     "would hand every call to interceptd");
	return 0;
}
