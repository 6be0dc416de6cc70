/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_merge_oci() against bases drawn at random (a fixed seed, so a failure
 * repeats): the base and the merged profile are compiled with libseccomp the way
 * runc and crun do it and run on many calls. Without trap_denied, a call the base
 * does not let run must get the base's answer from the merged profile (our ERRNO
 * rules may only swap one errno for another), and a call it lets run must get the
 * base's answer or that of the first of our rules matching it. The merge may
 * refuse a base; a base libseccomp refuses is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "merge_fixture.h"

#define N_BASES 300
#define N_CALLS 200

static uint64_t rng_state;

static uint32_t pick(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

#define PICK(array) (array)[pick(ARRAY_SIZE(array))]

/* Ours and a neighbour, seccomp and fsopen for our ERRNO rules. */
static const char *const syscalls[] = { "mknod", "mknodat", "mount", "bpf", "sysinfo",
					"sched_setscheduler", "setxattr", "fsetxattr", "seccomp",
					"fsopen", "read" };
static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
				       "SCMP_ACT_ERRNO", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS",
				       "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE" };
static const char *const defaults[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO",
					"SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP" };
/* Our conditions' values (device types, a bind mount, bpf commands, the listener flag) and others. */
static const uint64_t values[] = { 0, 1, 2, 3, 5, 7, 8, 9, 16, 28, 0x21, S_FIFO, S_CHR, S_BLK,
				   S_CHR | 0600, S_FIFO | 0644, S_REG, S_SOCK, 0x1000,
				   UINT64_C(0x100000005) };
static const uint64_t masks[] = { 0xF000, 1, 3, 8, 0xFF, 0x1000, 0x6000, 0xFFFFFFFF,
				  UINT64_C(0x100000000) /* no bit libseccomp compares on x86 */ };
static const char *const plain_ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ" };
static const char *const any_ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ",
				       "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_GT" };

static json_t *random_arg(bool is_plain, unsigned index)
{
	const char *op = is_plain ? PICK(plain_ops) : PICK(any_ops);
	uint64_t value = PICK(values), mask = PICK(masks);

	if (strcmp(op, "SCMP_CMP_MASKED_EQ") == 0)
		return json_pack("{s:i, s:I, s:I, s:s}", "index", index, "value", (json_int_t)mask,
				 "valueTwo", (json_int_t)(value & mask), "op", op);
	return json_pack("{s:i, s:I, s:s}", "index", index, "value", (json_int_t)value, "op", op);
}

/* A rule for one to three of @names (or of all syscalls), with up to two comparisons. */
static json_t *random_rule(const char *only, bool is_plain)
{
	const char *action = PICK(actions);
	json_t *rule = json_pack("{s:[], s:s}", "names", "action", action);
	json_t *names = json_object_get(rule, "names"), *args = json_array();
	uint32_t n_names = only ? 1 : 1 + pick(3), n_args = (only ? 1 : 0) + pick(3);

	for (uint32_t i = 0; i < n_names; i++)
		json_array_append_new(names, json_string(only ? only : PICK(syscalls)));
	if (strcmp(action, "SCMP_ACT_ERRNO") == 0 && pick(2))
		json_object_set_new(rule, "errnoRet", json_integer(pick(2) ? 13 : 38));
	for (uint32_t i = 0; i < n_args; i++)
		json_array_append_new(args, random_arg(is_plain, pick(6)));
	json_object_set_new(rule, "args", args);
	return rule;
}

/* A base of up to six rules, for any syscalls or only for @only. */
static json_t *random_base(const char *only, bool is_plain)
{
	const char *def = PICK(defaults);
	json_t *base = json_pack("{s:s, s:[]}", "defaultAction", def, "syscalls");
	uint32_t n_rules = 1 + pick(6);

	if (strcmp(def, "SCMP_ACT_ERRNO") == 0 && pick(2))
		json_object_set_new(base, "defaultErrnoRet", json_integer(38));
	if (pick(2))
		json_object_set_new(base, "architectures",
				    json_pack("[s, s]", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"));
	for (uint32_t i = 0; i < n_rules; i++)
		json_array_append_new(json_object_get(base, "syscalls"), random_rule(only, is_plain));
	return base;
}

static bool lets_run(uint32_t action)
{
	return action == ALLOW || action == SCMP_ACT_LOG;
}

static bool is_errno(uint32_t action)
{
	return (action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO;
}

/* What the merged profile must answer, given the base's answer @from_base; true if @got fits. */
static bool answer_fits(const struct policy_rule *rules, size_t n, const char *syscall,
			const uint64_t args[6], uint32_t from_base, uint32_t got)
{
	const struct policy_rule *ours = NULL;

	for (size_t i = 0; !ours && i < n; i++)
		if (strcmp(rules[i].syscall, syscall) == 0 &&
		    rule_matches(&rules[i], args[rules[i].has_arg ? rules[i].arg_index : 0]))
			ours = &rules[i];
	if (got == from_base)
		return true;
	if (lets_run(from_base))
		return ours && got == rule_action(ours);
	/* an errno for an errno: fsopen's ENOSYS, the listener's EINVAL */
	return ours && ours->action == POLICY_ACTION_ERRNO && is_errno(from_base) &&
	       got == rule_action(ours);
}

static const char *const keys[] = { K("mknod"), K("mount"), K("bpf"), K("sysinfo"),
				    K("sched_setscheduler"), K("setxattr"), NULL };

/* Evaluate N_CALLS calls of each syscall on each architecture; fail on the first misfit. */
static void check_calls(const json_t *base, const json_t *out, const struct compiled *pb,
			const struct compiled *pm, const struct policy_rule *rules, size_t n)
{
	static const uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86 };
	size_t n_arches = json_object_get(base, "architectures") ? 2 : 1;

	for (size_t s = 0; s < ARRAY_SIZE(syscalls); s++)
		for (size_t a = 0; a < n_arches; a++)
			for (int c = 0; c < N_CALLS; c++) {
				uint64_t args[6];
				uint32_t want, got;

				for (int i = 0; i < 6; i++)
					args[i] = (pick(3) ? PICK(values) : (uint64_t)pick(16) << 12) &
						  (arches[a] == SCMP_ARCH_X86 ? UINT32_MAX : UINT64_MAX);
				want = eval_call_arch(pb, arches[a], syscalls[s], args);
				got = eval_call_arch(pm, arches[a], syscalls[s], args);
				if (answer_fits(rules, n, syscalls[s], args, want, got))
					continue;
				_cleanup_free_ char *b = json_dumps(base, JSON_COMPACT);
				_cleanup_free_ char *o = json_dumps(out, JSON_COMPACT);
				fail_msg("%s(%#jx, %#jx, %#jx, %#jx) on %#x: base %#x, merged %#x\n"
					 "# base %s\n# merged %s", syscalls[s], (uintmax_t)args[0],
					 (uintmax_t)args[1], (uintmax_t)args[2], (uintmax_t)args[3],
					 arches[a], want, got, b, o);
			}
}

/* Merge N_BASES random bases (for @only or any syscalls) and check each that compiles. */
static void check_random_bases(uint64_t seed, const char *const *only, bool is_plain)
{
	struct config *cfg = cfg_keys(keys);
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules), n_checked = 0;
	struct compiled *pb = malloc(sizeof(*pb)), *pm = malloc(sizeof(*pm));

	assert_non_null(pb);
	assert_non_null(pm);
	rng_state = seed;
	for (int i = 0; i < N_BASES; i++) {
		json_t *base = random_base(only ? only[pick(6)] : NULL, is_plain), *out = NULL;
		struct icd_error err = { 0 };

		if (policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err) == 0 &&
		    eval_compile(base, pb) == 0) {
			if (eval_compile(out, pm) < 0)
				fail_msg("libseccomp refuses the merge of %s",
					 json_dumps(base, JSON_COMPACT));
			check_calls(base, out, pb, pm, rules, n);
			n_checked++;
		}
		json_decref(out);
		json_decref(base);
	}
	fprintf(stderr, "# %zu of %d bases merged and checked\n", n_checked, N_BASES);
	assert_true(n_checked > N_BASES / 2);
	free(pm);
	free(pb);
	config_unref(cfg);
}

static void test_merge_random_any_base(void **state)
{
	(void)state;
	check_random_bases(UINT64_C(88172645463325252), NULL, false);
}

static void test_merge_random_plain_base(void **state)
{
	(void)state;
	check_random_bases(UINT64_C(777), NULL, true);
}

/* Several conditional rules for one syscall we trap: the confined and narrowed cases. */
static void test_merge_random_one_syscall(void **state)
{
	static const char *const trapped[] = { "mknodat", "sysinfo", "bpf", "mount", "seccomp",
					       "setxattr" };

	(void)state;
	check_random_bases(UINT64_C(5), trapped, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_random_any_base),
		cmocka_unit_test(test_merge_random_plain_base),
		cmocka_unit_test(test_merge_random_one_syscall),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
