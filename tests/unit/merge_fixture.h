/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Test helpers shared by the policy_merge_oci() unit tests: bases written
 * inline, merging with a set of keys, compiling the result the way runc and
 * crun do (seccomp_eval.h), and checking a call against what the merge must
 * decide, in a child so that a libseccomp that never returns fails the test.
 * Include after <cmocka.h>.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "daemon/store/policy.h"
#include "seccomp_eval.h"

#define NOTIFY SCMP_ACT_NOTIFY
#define ALLOW SCMP_ACT_ALLOW
#define S_CHR 0020000
#define S_BLK 0060000
#define S_FIFO 0010000
#define S_REG 0100000
#define S_SOCK 0140000
#define S_DIR 0040000

#define ARCH_X86_BASE "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
#define BASE(def, extra, rules) "{\"defaultAction\":\"" def "\"," extra "\"syscalls\":[" rules "]}"
#define RULE(name, action, rest) "{\"names\":[\"" name "\"],\"action\":\"" action "\"" rest "}"
#define ARGS(...) ",\"args\":[" __VA_ARGS__ "]"
#define ARG(i, op, v) "{\"index\":" #i ",\"value\":" #v ",\"op\":\"SCMP_CMP_" op "\"}"
#define MASKED(i, m, v) \
	"{\"index\":" #i ",\"value\":" #m ",\"valueTwo\":" #v ",\"op\":\"SCMP_CMP_MASKED_EQ\"}"

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define K(x) CONFIG_KEY_PREFIX x
#define TRAP_DENIED POLICY_MERGE_TRAP_DENIED

static inline json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (!j)
		fail_msg("bad test JSON: %s", jerr.text);
	return j;
}

static inline struct config *cfg_keys(const char *const *keys)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct config *cfg = NULL;

	for (; *keys; keys++)
		values[config_key_lookup(*keys)] = "true";
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

/* Merge @base_text with @keys on and @flags; the result, and the warnings in *w when given. */
static inline json_t *merge_with(const char *base_text, const char *const *keys, unsigned flags,
				 struct policy_warnings *w)
{
	json_t *base = parse(base_text), *out = NULL;
	struct config *cfg = cfg_keys(keys);
	struct icd_error err = { 0 };
	int r = policy_merge_oci(base, cfg, "/run/i/oci.sock", "c1", flags, &out, w, &err);

	if (r < 0)
		fail_msg("merge failed: %d %s", r, err.msg);
	json_decref(base);
	config_unref(cfg);
	return out;
}

static inline json_t *merge(const char *base_text, const char *const *keys,
			    struct policy_warnings *w)
{
	return merge_with(base_text, keys, 0, w);
}

static inline struct compiled *compile(const json_t *sec)
{
	struct compiled *p = malloc(sizeof(*p));

	assert_non_null(p);
	assert_int_equal(eval_compile(sec, p), 0);
	return p;
}

static inline uint32_t call1(const struct compiled *p, const char *name, unsigned idx, uint64_t v)
{
	uint64_t args[6] = { 0 };

	args[idx] = v;
	return eval_call(p, name, args);
}

static inline bool rule_matches(const struct policy_rule *r, uint64_t v)
{
	if (!r->has_arg)
		return true;
	return r->op == POLICY_OP_EQ ? v == r->value : (v & r->mask) == r->value;
}

static inline uint32_t rule_action(const struct policy_rule *r)
{
	return r->action == POLICY_ACTION_NOTIFY ? NOTIFY : SCMP_ACT_ERRNO(r->errno_value);
}

/* What a merged profile must answer a call with, given the base's answer. */
enum merge_want {
	WANT_OURS,	/* trap_denied: ours where one matches, else the base's */
	WANT_PER_SHAPE,	/* ours where one matches and the base let the call run, else the base's */
	WANT_BASE,	/* the base's: the syscall was left to it */
};

/* Exit status of the child checking a merged profile. */
enum { CHECK_OK, CHECK_BASE_FAILS, CHECK_MERGED_FAILS, CHECK_DIFFERS };

static inline int check_call(const json_t *base, const json_t *out, const struct policy_rule *rules,
			     size_t n, enum merge_want mode, const char *syscall, uint32_t arch,
			     const uint64_t args[6])
{
	struct compiled *pb = malloc(sizeof(*pb)), *pm = malloc(sizeof(*pm));
	uint32_t want, got, from_base;

	if (!pb || !pm || eval_compile(base, pb) < 0)
		return CHECK_BASE_FAILS;
	if (eval_compile(out, pm) < 0)
		return CHECK_MERGED_FAILS;
	want = from_base = eval_call_arch(pb, arch, syscall, args);
	for (size_t i = 0; mode != WANT_BASE && i < n; i++)
		if (strcmp(rules[i].syscall, syscall) == 0 &&
		    rule_matches(&rules[i], args[rules[i].has_arg ? rules[i].arg_index : 0])) {
			if (mode == WANT_OURS || from_base == ALLOW || from_base == SCMP_ACT_LOG)
				want = rule_action(&rules[i]);
			break;
		}
	got = eval_call_arch(pm, arch, syscall, args);
	fprintf(stderr, "# %s: base %#x, merged %#x, want %#x\n", syscall, from_base, got, want);
	return got == want ? CHECK_OK : CHECK_DIFFERS;
}

/* The merge of @base with @key answers the call as @mode says; checked in a child. */
static inline void assert_merged_as(const json_t *base, const json_t *out, const char *key,
				    enum merge_want mode, const char *syscall, uint32_t arch,
				    const uint64_t args[6])
{
	static const char *const what[] = { "", "the base does not compile",
					    "libseccomp refuses the merged profile",
					    "the merged profile answers otherwise" };
	struct config *cfg = cfg_keys((const char *const[]){ key, NULL });
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules);
	int status = 0;
	pid_t pid;

	config_unref(cfg);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(check_call(base, out, rules, n, mode, syscall, arch, args));
	for (int ms = 0; ms < 10000 && waitpid(pid, &status, WNOHANG) == 0; ms += 10)
		(void)usleep(10000);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		fail_msg("%s: libseccomp still compiling the merged profile after 10 s", syscall);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != CHECK_OK)
		fail_msg("%s: %s", syscall,
			 WIFEXITED(status) && WEXITSTATUS(status) < 4 ? what[WEXITSTATUS(status)] : "crash");
}
