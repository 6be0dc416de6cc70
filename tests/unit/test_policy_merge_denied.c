/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for policy_merge_oci() and the calls a base profile denies: by
 * default such a call keeps the base's answer (not trapped, or trapped only
 * where the base let the call run) and a warning names the syscalls; with
 * POLICY_MERGE_TRAP_DENIED they are trapped as the merge did before. Each
 * merged profile is compiled with libseccomp and run on concrete calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "merge_fixture.h"

#define MS_BIND 0x1000
#define BPF_PROG_LOAD 5

/*
 * Shaped like the profile Docker and containerd write for a container without
 * CAP_SYS_ADMIN: deny by default (EPERM), an allow list without mount and bpf,
 * and here an explicit rule for bpf with its own errno.
 */
static const char docker_like[] = BASE(
	"SCMP_ACT_ERRNO", "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],",
	"{\"names\":[\"read\",\"write\",\"mknod\",\"mknodat\",\"sysinfo\",\"seccomp\"],"
	"\"action\":\"SCMP_ACT_ALLOW\"},"
	RULE("bpf", "SCMP_ACT_ERRNO", ",\"errnoRet\":38"));

#define DOCKER_KEYS KEYS(K("mount"), K("bpf"), K("sysinfo"), K("mknod"))

/* Whether a rule of @sec naming @syscall has SCMP_ACT_NOTIFY. */
static bool notifies(const json_t *sec, const char *syscall)
{
	size_t i, j;
	json_t *rule, *n;

	json_array_foreach(json_object_get(sec, "syscalls"), i, rule)
		json_array_foreach(json_object_get(rule, "names"), j, n)
			if (strcmp(json_string_value(n), syscall) == 0 &&
			    strcmp(json_string_value(json_object_get(rule, "action")), "SCMP_ACT_NOTIFY") == 0)
				return true;
	return false;
}

/* Whether @sec holds @rule exactly as it is. */
static bool holds_rule(const json_t *sec, const json_t *rule)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(sec, "syscalls"), i, r)
		if (json_equal(r, (json_t *)rule))
			return true;
	return false;
}

/* The one warning of @w holding @text, or a failure. */
static const char *warning_with(const struct policy_warnings *w, const char *text)
{
	for (size_t i = 0; i < w->n; i++)
		if (strstr(w->msg[i], text))
			return w->msg[i];
	fail_msg("no warning holds '%s' (%zu warnings)", text, w->n);
	return NULL;
}

static void test_merge_denied_mount_keeps_base_answer(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *base = parse(docker_like), *out = merge(docker_like, DOCKER_KEYS, &w);
	struct compiled *p = compile(out);
	const char *msg;

	(void)state;
	assert_false(notifies(out, "mount"));
	assert_false(notifies(out, "bpf"));
	assert_int_equal(call1(p, "mount", 3, 0), SCMP_ACT_ERRNO(1));
	assert_int_equal(call1(p, "mount", 3, MS_BIND), SCMP_ACT_ERRNO(1));
	assert_int_equal(call1(p, "bpf", 0, BPF_PROG_LOAD), SCMP_ACT_ERRNO(38));
	assert_int_equal(eval_call_arch(p, SCMP_ARCH_X86, "mount", (uint64_t[6]){ 0 }),
			 SCMP_ACT_ERRNO(1));
	/* the base's own rule for bpf is kept as it was */
	assert_true(holds_rule(out, json_array_get(json_object_get(base, "syscalls"), 1)));
	/* what the base allows is trapped as before */
	assert_int_equal(call1(p, "sysinfo", 0, 0), NOTIFY);
	assert_int_equal(call1(p, "mknodat", 2, S_CHR), NOTIFY);
	assert_int_equal(call1(p, "mknodat", 2, S_FIFO), ALLOW);
	msg = warning_with(&w, "not trapped, the base profile denies them: 'mount', 'bpf';");
	assert_non_null(strstr(msg, "trap_denied=true"));
	assert_non_null(strstr(msg, "--trap-denied"));
	free(p);
	json_decref(out);
	json_decref(base);
}

static void test_merge_denied_mount_trapped_when_asked(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *out = merge_with(docker_like, DOCKER_KEYS, TRAP_DENIED, &w);
	struct compiled *p = compile(out);

	(void)state;
	assert_int_equal(call1(p, "mount", 3, 0), NOTIFY);
	assert_int_equal(call1(p, "mount", 3, MS_BIND), SCMP_ACT_ERRNO(1));
	assert_int_equal(call1(p, "bpf", 0, BPF_PROG_LOAD), NOTIFY);
	assert_int_equal(call1(p, "bpf", 0, 1), SCMP_ACT_ERRNO(38));
	assert_int_equal(call1(p, "sysinfo", 0, 0), NOTIFY);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], "denies some calls to 'mount', 'bpf'; interceptd now traps"));
	free(p);
	json_decref(out);
}

/*
 * A denying default with conditional allow (and deny) rules: ours are confined to
 * the calls an allow rule lets run, and every other call keeps the base's answer,
 * for a syscall we trap by argument (mknodat) and one we take whole.
 */
static const char conditional[] = BASE(
	"SCMP_ACT_ERRNO", "\"defaultErrnoRet\":38,",
	RULE("mknodat", "SCMP_ACT_ALLOW", ARGS(ARG(3, "EQ", 0))) ","
	RULE("mknodat", "SCMP_ACT_ERRNO", ",\"errnoRet\":13" ARGS(ARG(3, "EQ", 7))) ","
	RULE("sched_setscheduler", "SCMP_ACT_ALLOW", ARGS(ARG(1, "EQ", 0))));

static void test_merge_denied_conditional_confined(void **state)
{
	static const uint64_t modes[] = { S_CHR | 0600, S_BLK, S_FIFO, S_REG, 0 };
	static const uint64_t dev[] = { 0, 5, 7 };
	struct policy_warnings w = { 0 };
	json_t *base = parse(conditional);
	json_t *out = merge(conditional, KEYS(K("mknod"), K("sched_setscheduler")), &w);
	struct compiled *p = compile(out);

	(void)state;
	for (size_t m = 0; m < ARRAY_SIZE(modes); m++)
		for (size_t d = 0; d < ARRAY_SIZE(dev); d++)
			assert_merged_as(base, out, K("mknod"), WANT_PER_SHAPE, "mknodat",
					 SCMP_ARCH_X86_64, (uint64_t[6]){ 0, 0, modes[m], dev[d] });
	for (uint64_t policy = 0; policy < 3; policy++)
		assert_merged_as(base, out, K("sched_setscheduler"), WANT_PER_SHAPE,
				 "sched_setscheduler", SCMP_ARCH_X86_64, (uint64_t[6]){ 0, policy });
	assert_int_equal(eval_call(p, "mknodat", (uint64_t[6]){ 0, 0, S_CHR, 0 }), NOTIFY);
	assert_int_equal(eval_call(p, "mknodat", (uint64_t[6]){ 0, 0, S_CHR, 7 }), SCMP_ACT_ERRNO(13));
	assert_int_equal(eval_call(p, "mknodat", (uint64_t[6]){ 0, 0, S_CHR, 5 }), SCMP_ACT_ERRNO(38));
	assert_int_equal(call1(p, "sched_setscheduler", 1, 1), SCMP_ACT_ERRNO(38));
	assert_int_equal(call1(p, "mknod", 1, S_CHR), SCMP_ACT_ERRNO(38));
	warning_with(&w, "trapped only where the base profile lets the call run: 'mknodat', "
			 "'sched_setscheduler';");
	warning_with(&w, "not trapped, the base profile denies them: 'mknod';");
	free(p);
	json_decref(out);
	json_decref(base);
}

/*
 * mknodat allowed for FIFOs alone: every call we would trap is denied, so mknodat
 * stays as the base has it. With trap_denied the base rule's filter on the mode
 * cannot be narrowed by ours: refused, as before.
 */
static void test_merge_denied_fifo_only_base(void **state)
{
	static const char fifo_only[] = BASE(
		"SCMP_ACT_ERRNO", "",
		RULE("mknodat", "SCMP_ACT_ALLOW", ARGS(MASKED(2, 61440, 4096))));
	struct policy_warnings w = { 0 };
	json_t *base = parse(fifo_only), *out = merge(fifo_only, KEYS(K("mknod")), &w), *again = NULL;
	struct config *cfg = cfg_keys(KEYS(K("mknod")));
	struct compiled *p = compile(out);
	struct icd_error err = { 0 };

	(void)state;
	assert_false(notifies(out, "mknodat"));
	assert_true(holds_rule(out, json_array_get(json_object_get(base, "syscalls"), 0)));
	assert_int_equal(call1(p, "mknodat", 2, S_FIFO | 0644), ALLOW);
	assert_int_equal(call1(p, "mknodat", 2, S_CHR), SCMP_ACT_ERRNO(1));
	warning_with(&w, "not trapped at all: 'mknodat';");
	assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", TRAP_DENIED, &again, NULL, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "its filter on argument 2 of 'mknodat' overlaps"));
	assert_null(again);
	free(p);
	config_unref(cfg);
	json_decref(out);
	json_decref(base);
}

/* An allowing default with a conditional denial: ours cannot leave it out, so the base keeps all. */
static void test_merge_denied_under_allowing_default_left_to_base(void **state)
{
	static const char base_text[] = BASE(
		"SCMP_ACT_ALLOW", "", RULE("sysinfo", "SCMP_ACT_ERRNO", ARGS(ARG(0, "EQ", 0))));
	struct policy_warnings w = { 0 };
	json_t *base = parse(base_text), *out = merge(base_text, KEYS(K("sysinfo")), &w);

	(void)state;
	assert_false(notifies(out, "sysinfo"));
	for (uint64_t a = 0; a < 2; a++)
		assert_merged_as(base, out, K("sysinfo"), WANT_BASE, "sysinfo", SCMP_ARCH_X86_64,
				 (uint64_t[6]){ a });
	assert_non_null(strstr(warning_with(&w, "not trapped at all: 'sysinfo';"), "trap_denied=true"));
	json_decref(out);
	json_decref(base);
}

/*
 * A hardened base that kills, or traps, what it does not allow. interceptd's own
 * ERRNO rules (seccomp with a listener, fsopen and fsconfig under mount) must not
 * turn those answers into an errno the process survives: the base's answer stays.
 * Where the base answers with an errno, ours may replace it (fsopen's ENOSYS is
 * what sends libmount back to mount(2)).
 */
static const char killing[] = BASE(
	"SCMP_ACT_KILL_PROCESS", ARCH_X86_BASE,
	"{\"names\":[\"read\",\"write\",\"mount\"],\"action\":\"SCMP_ACT_ALLOW\"},"
	RULE("seccomp", "SCMP_ACT_TRAP", ""));

#define LISTENER_CALL ((uint64_t[6]){ SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER })

static void test_merge_denied_own_errno_keeps_base_kill(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *out = merge(killing, KEYS(K("mount")), &w);
	struct compiled *p = compile(out);

	(void)state;
	for (size_t a = 0; a < 2; a++) {
		uint32_t arch = a ? SCMP_ARCH_X86 : SCMP_ARCH_X86_64;

		assert_int_equal(eval_call_arch(p, arch, "fsopen", (uint64_t[6]){ 0 }),
				 SCMP_ACT_KILL_PROCESS);
		assert_int_equal(eval_call_arch(p, arch, "fsconfig", (uint64_t[6]){ 0 }),
				 SCMP_ACT_KILL_PROCESS);
		assert_int_equal(eval_call_arch(p, arch, "seccomp", LISTENER_CALL), SCMP_ACT_TRAP);
	}
	/* mount, which the base allows, is trapped as before */
	assert_int_equal(call1(p, "mount", 3, 0), NOTIFY);
	warning_with(&w, "not trapped, the base profile denies them: 'seccomp', 'fsopen', "
			 "'fsconfig';");
	free(p);
	json_decref(out);
}

/* An errno stays an errno: ours replaces it, as before, without a warning. */
static void test_merge_denied_own_errno_over_base_errno(void **state)
{
	static const char errno_base[] = BASE(
		"SCMP_ACT_ERRNO", "", RULE("seccomp", "SCMP_ACT_ERRNO", ",\"errnoRet\":13") ","
		RULE("mount", "SCMP_ACT_ALLOW", ""));
	struct policy_warnings w = { 0 };
	json_t *out = merge(errno_base, KEYS(K("mount")), &w);
	struct compiled *p = compile(out);

	(void)state;
	assert_int_equal(call1(p, "fsopen", 0, 0), SCMP_ACT_ERRNO(ENOSYS));
	assert_int_equal(eval_call(p, "seccomp", LISTENER_CALL), SCMP_ACT_ERRNO(EINVAL));
	assert_int_equal(call1(p, "seccomp", 1, 0), SCMP_ACT_ERRNO(13));
	assert_int_equal(w.n, 0);
	free(p);
	json_decref(out);
}

/* seccomp allowed for one operation under a killing default: ours only inside that rule. */
static void test_merge_denied_own_errno_confined(void **state)
{
	static const char confined[] = BASE(
		"SCMP_ACT_KILL_PROCESS", "",
		RULE("seccomp", "SCMP_ACT_ALLOW", ARGS(ARG(0, "EQ", 1))));
	struct policy_warnings w = { 0 };
	json_t *out = merge(confined, KEYS(K("mknod")), &w);
	struct compiled *p = compile(out);

	(void)state;
	assert_int_equal(eval_call(p, "seccomp", LISTENER_CALL), SCMP_ACT_ERRNO(EINVAL));
	assert_int_equal(eval_call(p, "seccomp", (uint64_t[6]){ 1, 0 }), ALLOW);
	assert_int_equal(eval_call(p, "seccomp", (uint64_t[6]){ 2, 8 }), SCMP_ACT_KILL_PROCESS);
	assert_int_equal(eval_call(p, "seccomp", (uint64_t[6]){ 0, 0 }), SCMP_ACT_KILL_PROCESS);
	warning_with(&w, "only where the base profile lets the call run: 'seccomp';");
	free(p);
	json_decref(out);
}

/* trap_denied: the merge as before, ours everywhere, and a warning says so. */
static void test_merge_denied_own_errno_trap_denied(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *out = merge_with(killing, KEYS(K("mount")), TRAP_DENIED, &w);
	struct compiled *p = compile(out);

	(void)state;
	assert_int_equal(call1(p, "fsopen", 0, 0), SCMP_ACT_ERRNO(ENOSYS));
	assert_int_equal(eval_call(p, "seccomp", LISTENER_CALL), SCMP_ACT_ERRNO(EINVAL));
	assert_int_equal(eval_call(p, "seccomp", (uint64_t[6]){ 1, 0 }), SCMP_ACT_TRAP);
	warning_with(&w, "interceptd's own errno replaces the base profile's answer to some "
			 "calls to 'seccomp', 'fsopen', 'fsconfig'");
	free(p);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_denied_mount_keeps_base_answer),
		cmocka_unit_test(test_merge_denied_mount_trapped_when_asked),
		cmocka_unit_test(test_merge_denied_conditional_confined),
		cmocka_unit_test(test_merge_denied_fifo_only_base),
		cmocka_unit_test(test_merge_denied_under_allowing_default_left_to_base),
		cmocka_unit_test(test_merge_denied_own_errno_keeps_base_kill),
		cmocka_unit_test(test_merge_denied_own_errno_over_base_errno),
		cmocka_unit_test(test_merge_denied_own_errno_confined),
		cmocka_unit_test(test_merge_denied_own_errno_trap_denied),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
