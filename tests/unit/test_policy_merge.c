/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for policy_merge_oci(): the merged linux.seccomp object is
 * compiled with libseccomp the way runc and crun do it and run on concrete
 * calls (tests/unit/seccomp_eval.h), so shadowing shows up as the kernel
 * would see it. Then the shape of the result, and bad bases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/escape.h"
#include "merge_fixture.h"

/* A Docker/Podman-shaped base: deny by default (ENOSYS), an allow list, an EPERM list. */
static const char podman_like[] =
	"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
	"\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
	"\"syscalls\":["
	"{\"names\":[\"read\",\"mknod\",\"mknodat\",\"sysinfo\",\"seccomp\",\"write\",\"bpf\","
	"\"mount\",\"setxattr\",\"lsetxattr\",\"fsetxattr\",\"sched_setscheduler\",\"fsopen\"],"
	"\"action\":\"SCMP_ACT_ALLOW\"},"
	"{\"names\":[\"keyctl\",\"add_key\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}";

/* The old way, appending our rules to the base as it is: the allow rule shadows them. */
static void test_merge_naive_append_is_shadowed(void **state)
{
	json_t *base = parse(podman_like), *ours;
	struct config *cfg = cfg_keys(KEYS(K("mknod")));
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t n = policy_rules(cfg, rules);
	struct compiled *p;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		ours = policy_rule_to_oci(&rules[i]);
		json_array_append_new(json_object_get(base, "syscalls"), ours);
	}
	p = compile(base);
	assert_int_equal(call1(p, "mknodat", 2, S_CHR | 0600), ALLOW);
	free(p);
	json_decref(base);
	config_unref(cfg);
}

static void test_merge_mknod_notify_and_fifo_allowed(void **state)
{
	json_t *out = merge(podman_like, KEYS(K("mknod"), K("sysinfo")), NULL);
	struct compiled *p = compile(out);

	(void)state;
	assert_int_equal(call1(p, "mknodat", 2, S_CHR | 0666), NOTIFY);
	assert_int_equal(call1(p, "mknodat", 2, S_BLK | 0600), NOTIFY);
	assert_int_equal(call1(p, "mknod", 1, S_CHR), NOTIFY);
	assert_int_equal(call1(p, "mknodat", 2, S_FIFO | 0644), ALLOW);
	assert_int_equal(call1(p, "mknodat", 2, S_REG | 0644), ALLOW);
	assert_int_equal(call1(p, "mknodat", 2, 0644), ALLOW);
	assert_int_equal(call1(p, "mknodat", 2, S_SOCK), ALLOW);
	assert_int_equal(call1(p, "mknodat", 2, S_DIR), ALLOW);	/* the kernel's EINVAL, as before */
	assert_int_equal(call1(p, "mknod", 1, S_FIFO), ALLOW);
	assert_int_equal(call1(p, "sysinfo", 0, 0), NOTIFY);
	/* the rest of the base is as it was */
	assert_int_equal(call1(p, "read", 0, 0), ALLOW);
	assert_int_equal(call1(p, "keyctl", 0, 0), SCMP_ACT_ERRNO(1));
	assert_int_equal(call1(p, "kexec_load", 0, 0), SCMP_ACT_ERRNO(38));
	assert_int_equal(call1(p, "setxattr", 3, 1), ALLOW);
	/* our guard: no second listener, but seccomp() itself stays allowed */
	assert_int_equal(call1(p, "seccomp", 1, 8), SCMP_ACT_ERRNO(22));
	assert_int_equal(call1(p, "seccomp", 1, 1), ALLOW);
	free(p);
	json_decref(out);
}

/*
 * The kernel reads bpf()'s command as an int: a command with high bits set is
 * the same command, and must trap as well (an untrapped BPF_LINK_CREATE attaches
 * a program fd the container holds to any cgroup it can open).
 */
static void test_merge_bpf_command_high_bits_trap(void **state)
{
	static const unsigned cmds[] = { 5, 8, 9, 16, 28 };
	json_t *out = merge(podman_like, KEYS(K("bpf"), K("bpf.devices")), NULL);
	struct compiled *p = compile(out);

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(call1(p, "bpf", 0, cmds[i]), NOTIFY);
		assert_int_equal(call1(p, "bpf", 0, ((uint64_t)1 << 32) | cmds[i]), NOTIFY);
		assert_int_equal(call1(p, "bpf", 0, UINT64_C(0xffffffff00000000) | cmds[i]), NOTIFY);
	}
	free(p);
	json_decref(out);
}

static void test_merge_keeps_default_arches_and_sets_listener(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *out = merge(podman_like, KEYS(K("sysinfo")), &w);
	json_t *base = parse(podman_like), *allow_names;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(out, "defaultAction")), "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(out, "defaultErrnoRet")), 38);
	assert_true(json_equal(json_object_get(out, "architectures"),
			       json_object_get(base, "architectures")));
	assert_string_equal(json_string_value(json_object_get(out, "listenerPath")), "/run/i/oci.sock");
	assert_string_equal(json_string_value(json_object_get(out, "listenerMetadata")), "c1");
	assert_null(json_object_get(out, "flags"));
	assert_int_equal(w.n, 0);
	/* sysinfo and seccomp (our guard) left the allow rule; read and mknod stayed */
	allow_names = json_object_get(json_array_get(json_object_get(out, "syscalls"), 0), "names");
	assert_int_equal(json_array_size(allow_names), 11);
	assert_string_equal(json_string_value(json_array_get(allow_names, 1)), "mknod");
	assert_string_equal(json_string_value(json_array_get(allow_names, 3)), "write");
	json_decref(base);
	json_decref(out);
}

static void test_merge_without_architectures_stays_without(void **state)
{
	json_t *out = merge("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", KEYS(K("mknod")), NULL);
	struct compiled *p = compile(out);

	(void)state;
	assert_null(json_object_get(out, "architectures"));
	/* a default-allow base needs no rules to keep FIFOs working */
	assert_int_equal(json_array_size(json_object_get(out, "syscalls")), 5);
	assert_int_equal(call1(p, "mknodat", 2, S_CHR), NOTIFY);
	assert_int_equal(call1(p, "mknodat", 2, S_FIFO), ALLOW);
	free(p);
	json_decref(out);
}

static void test_merge_flags_dropped_with_warning(void **state)
{
	struct policy_warnings w = { 0 };
	json_t *out = merge("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
			    "\"listenerPath\":\"/old.sock\"}",
			    KEYS(K("sysinfo")), &w);

	(void)state;
	assert_null(json_object_get(out, "flags"));
	assert_string_equal(json_string_value(json_object_get(out, "listenerPath")), "/run/i/oci.sock");
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], "dropped 'flags'"));
	json_decref(out);
}

/*
 * Base rules for a trapped call that filter other arguments are kept, narrowed to where our
 * conditions do not match; args repeating an index are an OR for runc and crun, and each
 * alternative is kept. The same on x86 where the base lists it. Where ours match, a call the
 * base let run is trapped and one it denied keeps its answer; with trap_denied, every call
 * ours match is trapped.
 */
static const struct {
	const char *base, *key, *syscall;
	struct {
		uint64_t args[6];
		uint32_t want;
	} calls[4];
} arg_cases[] = {
	{ "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mknodat\"],"
	  "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":3,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	  K("mknod"), "mknodat",
	  { { { 0, 0, S_FIFO, 0 }, ALLOW },
	    { { 0, 0, S_FIFO, 5 }, SCMP_ACT_ERRNO(1) },
	    { { 0, 0, S_CHR, 5 }, SCMP_ACT_ERRNO(1) },
	    { { 0, 0, S_CHR, 0 }, NOTIFY } } },
	{ "{\"defaultAction\":\"SCMP_ACT_ERRNO\"," ARCH_X86_BASE "\"syscalls\":[{\"names\":[\"mknod\"],"
	  "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":2,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
	  "{\"index\":2,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	  K("mknod"), "mknod",
	  { { { 0, S_BLK, 1 }, NOTIFY },
	    { { 0, S_FIFO, 0 }, ALLOW },
	    { { 0, S_REG, 1 }, ALLOW },
	    { { 0, S_CHR, 2 }, SCMP_ACT_ERRNO(1) } } },
};

static void test_merge_base_rules_with_args(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(arg_cases); i++) {
		json_t *out = merge(arg_cases[i].base, (const char *const[]){ arg_cases[i].key, NULL }, NULL);
		struct compiled *p = compile(out);
		bool has_x86 = strstr(arg_cases[i].base, "\"SCMP_ARCH_X86\"");

		for (size_t c = 0; c < ARRAY_SIZE(arg_cases[i].calls); c++)
			if (eval_call(p, arg_cases[i].syscall, arg_cases[i].calls[c].args) !=
				    arg_cases[i].calls[c].want ||
			    (has_x86 && eval_call_arch(p, SCMP_ARCH_X86, arg_cases[i].syscall,
						       arg_cases[i].calls[c].args) !=
						arg_cases[i].calls[c].want))
				fail_msg("case %zu call %zu: not %#x", i, c, arg_cases[i].calls[c].want);
		free(p);
		json_decref(out);
	}
}

static void test_merge_base_rules_with_args_trap_denied(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(arg_cases); i++) {
		json_t *base = parse(arg_cases[i].base);
		json_t *out = merge_with(arg_cases[i].base, KEYS(arg_cases[i].key), TRAP_DENIED, NULL);
		bool has_x86 = strstr(arg_cases[i].base, "\"SCMP_ARCH_X86\"");

		for (size_t c = 0; c < ARRAY_SIZE(arg_cases[i].calls); c++) {
			assert_merged_as(base, out, arg_cases[i].key, WANT_OURS, arg_cases[i].syscall,
					 SCMP_ARCH_X86_64, arg_cases[i].calls[c].args);
			if (has_x86)
				assert_merged_as(base, out, arg_cases[i].key, WANT_OURS,
						 arg_cases[i].syscall, SCMP_ARCH_X86,
						 arg_cases[i].calls[c].args);
		}
		json_decref(out);
		json_decref(base);
	}
}

/*
 * Of two unconditional base rules libseccomp keeps the first: here a denial, which the
 * merge keeps and names; with trap_denied, the call is trapped and the warning says so.
 */
static void test_merge_base_denial_is_warned(void **state)
{
	static const char base[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
				   "{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
				   "{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	struct policy_warnings w = { 0 }, wt = { 0 };
	json_t *out = merge(base, KEYS(K("sysinfo"), K("mknod")), &w);
	json_t *trapped = merge_with(base, KEYS(K("sysinfo"), K("mknod")), TRAP_DENIED, &wt);
	struct compiled *p = compile(out), *pt = compile(trapped);

	(void)state;
	assert_int_equal(call1(p, "sysinfo", 0, 0), SCMP_ACT_ERRNO(1));
	assert_int_equal(call1(p, "mknodat", 2, S_CHR), NOTIFY);
	assert_int_equal(w.n, 1);
	assert_non_null(strstr(w.msg[0], "not trapped, the base profile denies them: 'sysinfo';"));
	assert_non_null(strstr(w.msg[0], "trap_denied=true"));
	assert_int_equal(call1(pt, "sysinfo", 0, 0), NOTIFY);
	assert_int_equal(wt.n, 1);
	assert_non_null(strstr(wt.msg[0], "denies some calls to 'sysinfo';"));
	free(p);
	free(pt);
	json_decref(out);
	json_decref(trapped);
}

/* Our own ERRNO rules equal to the default would make libseccomp refuse the filter. */
static void test_merge_drops_rules_equal_to_default(void **state)
{
	json_t *out = merge(podman_like, KEYS(K("mount")), NULL);
	struct compiled *p = compile(out);
	size_t i;
	json_t *rule;

	(void)state;
	json_array_foreach(json_object_get(out, "syscalls"), i, rule)
		assert_false(strcmp(json_string_value(json_array_get(json_object_get(rule, "names"), 0)),
				    "fsconfig") == 0);
	assert_int_equal(call1(p, "fsopen", 0, 0), SCMP_ACT_ERRNO(38));
	assert_int_equal(call1(p, "mount", 3, 0), NOTIFY);
	assert_int_equal(call1(p, "mount", 3, 0x1000 /* MS_BIND */), ALLOW);
	assert_int_equal(call1(p, "mount", 3, 0x20 /* MS_REMOUNT */), ALLOW);
	free(p);
	json_decref(out);
}

/*
 * Every key against a base allowing all trapped calls outright: for a sweep of
 * argument values, each call does exactly what our rules say when one matches,
 * and what the base said (ALLOW) otherwise.
 */
static const uint64_t sweep[] = {
	0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 100, S_CHR, S_CHR | 0777, S_BLK, S_FIFO, S_REG, S_SOCK, S_DIR,
	0120000, 0170000, 0x20, 0x1000, 0x2000, 0x4000, 0x100000, 0xC0ED0000u, 0x3C123320u,
	UINT64_C(0xFFFFFFFF00000000), UINT64_C(0x100000005), UINT64_MAX,
};

static void check_sweep(const struct compiled *p, const struct policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < ARRAY_SIZE(sweep); s++) {
			uint32_t want = ALLOW;

			for (size_t j = 0; j < n; j++)
				if (strcmp(rules[j].syscall, rules[i].syscall) == 0 &&
				    rule_matches(&rules[j], sweep[s])) {
					want = rule_action(&rules[j]);
					break;
				}
			if (call1(p, rules[i].syscall, rules[i].has_arg ? rules[i].arg_index : 0,
				  sweep[s]) != want)
				fail_msg("%s(%#llx): not %#x", rules[i].syscall,
					 (unsigned long long)sweep[s], want);
		}
}

static void test_merge_every_key_complement_exact(void **state)
{
	static const char *const keys[] = { K("mknod"), K("setxattr"), K("sched_setscheduler"),
					    K("sysinfo"), K("mount"), K("bpf") };
	char base[1024];

	(void)state;
	snprintf(base, sizeof(base), "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":[{\"names\":"
		 "[\"mknod\",\"mknodat\",\"setxattr\",\"lsetxattr\",\"fsetxattr\",\"sched_setscheduler\","
		 "\"sysinfo\",\"mount\",\"fsopen\",\"fsconfig\",\"bpf\",\"seccomp\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		json_t *out = merge(base, (const char *const[]){ keys[k], NULL }, NULL);
		struct config *cfg = cfg_keys((const char *const[]){ keys[k], NULL });
		struct policy_rule rules[POLICY_MAX_RULES];
		size_t n = policy_rules(cfg, rules);
		struct compiled *p = compile(out);

		check_sweep(p, rules, n);
		free(p);
		config_unref(cfg);
		json_decref(out);
	}
}

/*
 * Bases that the merge used to turn into a profile libseccomp 2.5 (as runc and crun use it)
 * gets wrong: narrowed conditional rules it never finishes compiling (the runtime hangs at
 * start) or refuses (EEXIST), or whose verdict it settles differently from the base's; and
 * rules with args that libseccomp takes as unconditional (a MASKED_EQ without a mask bit in
 * the low 32 bits is skipped: everywhere for mask 0, on 32-bit architectures otherwise).
 * Each call is one the base answers differently once merged the old way.
 */
#define NARROWED "syscalls[0]: libseccomp 2.5 cannot"
#define NO_LOW_MASK "syscalls[0]: a SCMP_CMP_MASKED_EQ"
static const struct {
	const char *base, *key, *syscall, *msg;
	uint32_t arch;
	uint64_t args[6];
	bool is_left_to_base; /* the base denies calls we trap: merged, with the syscall left to it */
} hostile[] = {
	/* libseccomp loops forever on the narrowed rules */
	{ BASE("SCMP_ACT_ERRNO", "", RULE("setxattr", "SCMP_ACT_ALLOW", ARGS(ARG(4, "EQ", 0))) ","
	       RULE("setxattr", "SCMP_ACT_ALLOW", ARGS(ARG(5, "EQ", 0)))),
	  K("setxattr"), "setxattr", NARROWED, SCMP_ARCH_X86_64, { 0 }, true },
	/* denied when dirfd != 3 or < 100, so always for 3: a FIFO came through once merged */
	{ BASE("SCMP_ACT_ALLOW", "",
	       RULE("mknodat", "SCMP_ACT_ERRNO", ARGS(ARG(0, "NE", 3) "," ARG(0, "LT", 100)))),
	  K("mknod"), "mknodat", NARROWED, SCMP_ARCH_X86_64, { 3, 0, S_FIFO }, true },
	/* narrowed for the seccomp guard, these two make libseccomp refuse the filter */
	{ BASE("SCMP_ACT_LOG", "", RULE("seccomp", "SCMP_ACT_ERRNO", ARGS(ARG(0, "GE", 4096))) ","
	       RULE("seccomp", "SCMP_ACT_KILL", ARGS(ARG(0, "GE", 32)))),
	  K("sysinfo"), "seccomp", NARROWED, SCMP_ARCH_X86_64, { 4096 }, true },
	/* a mask of 0 is always true: the first rule is the unconditional one, not the second */
	{ BASE("SCMP_ACT_ERRNO", "",
	       RULE("mknodat", "SCMP_ACT_ERRNO", ",\"errnoRet\":38" ARGS(MASKED(0, 0, 0))) ","
	       RULE("mknodat", "SCMP_ACT_ALLOW", "")),
	  K("mknod"), "mknodat", NO_LOW_MASK, SCMP_ARCH_X86_64, { 0, 0, S_FIFO }, true },
	/* the same on x86 only, where libseccomp compares the low 32 bits alone */
	{ BASE("SCMP_ACT_ERRNO", ARCH_X86_BASE,
	       RULE("mknodat", "SCMP_ACT_ERRNO",
		    ",\"errnoRet\":38" ARGS(MASKED(0, 4294967296, 4294967296))) ","
	       RULE("mknodat", "SCMP_ACT_ALLOW", "")),
	  K("mknod"), "mknodat", NO_LOW_MASK, SCMP_ARCH_X86, { 0, 0, S_FIFO }, true },
};

static void test_merge_bases_libseccomp_misreads_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		json_t *base = parse(hostile[i].base), *out = NULL;
		struct config *cfg = cfg_keys((const char *const[]){ hostile[i].key, NULL });
		struct icd_error err = { 0 };
		int r = policy_merge_oci(base, cfg, "/s", "c1", TRAP_DENIED, &out, NULL, &err);

		fprintf(stderr, "# case %zu\n", i);
		if (r == 0)
			assert_merged_as(base, out, hostile[i].key, WANT_OURS, hostile[i].syscall,
					 hostile[i].arch, hostile[i].args);
		assert_int_equal(r, -EINVAL);
		if (!strstr(err.msg, hostile[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, hostile[i].msg);
		json_decref(out);
		json_decref(base);
		config_unref(cfg);
	}
}

/* Without trap_denied, those that deny calls we would trap are merged with the syscall left alone. */
static void test_merge_bases_libseccomp_misreads_left_to_base(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		json_t *base = parse(hostile[i].base), *out = NULL;
		struct config *cfg = cfg_keys((const char *const[]){ hostile[i].key, NULL });
		struct icd_error err = { 0 };
		int r = policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err);

		fprintf(stderr, "# case %zu\n", i);
		if (hostile[i].is_left_to_base) {
			assert_int_equal(r, 0);
			assert_merged_as(base, out, hostile[i].key, WANT_BASE, hostile[i].syscall,
					 hostile[i].arch, hostile[i].args);
		} else {
			assert_int_equal(r, -EINVAL);
		}
		json_decref(out);
		json_decref(base);
		config_unref(cfg);
	}
}

/*
 * bpf's commands are matched on the low half (MASKED_EQ), so base rules on its
 * other arguments are narrowed, and the merge answers like the base wherever
 * ours do not match (with EQ on all 64 bits such a base once hung libseccomp),
 * and where the base denied the call; with trap_denied, wherever ours do not match.
 */
static void test_merge_bpf_or_base_narrowed(void **state)
{
	static const uint64_t calls[][6] = { { 0 },      { 0, 1, 0 }, { 0, 1, 1 }, { 5, 1, 1 },
					     { 6, 0, 1 }, { 29, 1, 0 }, { UINT64_C(1) << 32, 1, 1 } };
	json_t *base = parse(BASE("SCMP_ACT_ERRNO", "",
				  RULE("bpf", "SCMP_ACT_ALLOW", ARGS(ARG(1, "EQ", 0))) ","
				  RULE("bpf", "SCMP_ACT_ALLOW", ARGS(ARG(2, "EQ", 0)))));
	struct config *cfg = cfg_keys(KEYS(K("bpf")));
	struct icd_error err = { 0 };
	json_t *out = NULL;

	(void)state;
	assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
		assert_merged_as(base, out, K("bpf"), WANT_PER_SHAPE, "bpf", SCMP_ARCH_X86_64, calls[i]);
	json_decref(out);
	assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", TRAP_DENIED, &out, NULL, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++)
		assert_merged_as(base, out, K("bpf"), WANT_OURS, "bpf", SCMP_ARCH_X86_64, calls[i]);
	json_decref(out);
	json_decref(base);
	config_unref(cfg);
}

static int merge_rules_of(const char *name, int n_rules, bool has_arg)
{
	json_t *base = parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}"), *out = NULL;
	struct config *cfg = cfg_keys(KEYS(K("mount")));
	struct icd_error err = { 0 };
	int r;

	for (int i = 0; i < n_rules; i++)
		json_array_append_new(json_object_get(base, "syscalls"),
				      has_arg ? json_pack("{s:[s], s:s, s:[{s:i, s:i, s:s}]}", "names",
							  name, "action", "SCMP_ACT_ALLOW", "args",
							  "index", 0, "value", i, "op", "SCMP_CMP_EQ") :
						json_pack("{s:[s], s:s}", "names", name, "action",
							  "SCMP_ACT_ALLOW"));
	r = policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err);
	assert_true(r == 0 || !out);
	json_decref(out);
	json_decref(base);
	config_unref(cfg);
	return r;
}

/* Bases built to blow the merge up get E2BIG, not a huge answer. */
static void test_merge_too_many_rules_e2big(void **state)
{
	(void)state;
	assert_int_equal(merge_rules_of("mount", 63, true), 0);
	assert_int_equal(merge_rules_of("mount", 64, true), -E2BIG);
	assert_int_equal(merge_rules_of("read", 16000, false), 0);
	assert_int_equal(merge_rules_of("read", 17000, false), -E2BIG);
}

/* Bad bases: -EINVAL with a message naming the problem; nothing returned. */
static const struct {
	const char *body, *msg;
} bad[] = {
	{ "{}", "missing 'defaultAction'" },
	{ "{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "'defaultAction' SCMP_ACT_NOTIFY" },
	{ "{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "defaultAction: unknown action 'SCMP_ACT_NOPE'" },
	{ "{\"defaultAction\":5}", "defaultAction must be a string" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscall\":[]}", "unknown field 'syscall'" },
	{ "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[]}", "Docker's seccomp.json format" },
	{ "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
	  "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{}}]}", "syscalls[0]'includes' is Docker's" },
	{ "{\"ociVersion\":\"1.0.2\"}", "whole config.json" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":-1}", "defaultErrnoRet must be" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
	  "architectures[0]: unknown architecture 'SCMP_ARCH_VAX'" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":\"SCMP_ARCH_X86\"}", "'architectures' must be" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[1]}", "flags[0] must be a string" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":1}", "'listenerPath' must be a string" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "'syscalls' must be an array" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[1]}", "syscalls[0] must be an object" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
	  "syscalls[0] needs 'names' and 'action'" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ERRNO\"}]}",
	  "syscalls[0].names must be a non-empty array" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a b\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
	  "syscalls[0].names[0] is not a syscall name" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
	  "syscalls[0]: the base already uses SCMP_ACT_NOTIFY" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"errnoRet\":\"1\"}]}", "syscalls[0].errnoRet must be an integer" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"args\":[{\"index\":6,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}", "syscalls[0].args[0].index must be" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"args\":[{\"index\":0,\"value\":-2,\"op\":\"SCMP_CMP_EQ\"}]}]}", "syscalls[0].args[0].value must be" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_ABOUT\"}]}]}", "unknown comparison 'SCMP_CMP_ABOUT'" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}", "needs 'index', 'value' and 'op'" },
	{ "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
	  "\"args\":[{},{},{},{},{},{},{}]}]}", "more than 6 comparisons" },
};

static void test_merge_bad_bases_einval(void **state)
{
	struct config *cfg = cfg_keys(KEYS(K("mknod")));

	(void)state;
	for (size_t i = 0; i < 2 * ARRAY_SIZE(bad); i++) {
		json_t *base = parse(bad[i / 2].body), *out = NULL;
		struct icd_error err = { 0 };
		unsigned flags = i % 2 ? TRAP_DENIED : 0;

		assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", flags, &out, NULL, &err), -EINVAL);
		if (!strstr(err.msg, bad[i / 2].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i / 2, err.msg, bad[i / 2].msg);
		assert_null(out);
		json_decref(base);
	}
	config_unref(cfg);
}

/*
 * A value echoed in a refusal is cut on a whole character: cut inside one, the
 * message is not UTF-8 and the API cannot send it as JSON. Each value has a
 * three-byte character across the old 64-byte (or 32-byte) cut.
 */
#define A16 "AAAAAAAAAAAAAAAA"
#define EURO "\xe2\x82\xac"
static const char *const echoed[] = {
	"{\"defaultAction\":\"SCMP_ACT_" A16 A16 A16 "AAAAAA" EURO EURO "\"}",
	"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"" A16 A16 A16 "AAAAAAAAAAAAAAA" EURO EURO "\":1}",
	"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
	"\"action\":\"SCMP_ACT_ERRNO\",\"" A16 A16 A16 "AAAAAAAAAAAAAAA" EURO EURO "\":1}]}",
	"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
	"\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"" A16 A16 A16 "AAAAAAAAAAAAAAA" EURO EURO "\":1}]}]}",
	"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_" A16 "AAAAA" EURO EURO "\"]}",
	"{\"defaultAction\":\"SCMP_ACT_\\n<0>forged\"}",
};

static void test_merge_echo_cut_on_whole_character(void **state)
{
	struct config *cfg = cfg_keys(KEYS(K("mknod")));

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(echoed); i++) {
		json_t *base = parse(echoed[i]), *out = NULL;
		struct icd_error err = { 0 };

		assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err), -EINVAL);
		fprintf(stderr, "# %s\n", err.msg);
		if (!escape_is_clean(err.msg, strlen(err.msg)))
			fail_msg("case %zu: not clean UTF-8: %s", i, err.msg);
		assert_true(strstr(err.msg, "AAA...'") || strstr(err.msg, "\\x0a"));
		json_decref(base);
	}
	config_unref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_naive_append_is_shadowed),
		cmocka_unit_test(test_merge_mknod_notify_and_fifo_allowed),
		cmocka_unit_test(test_merge_bpf_command_high_bits_trap),
		cmocka_unit_test(test_merge_keeps_default_arches_and_sets_listener),
		cmocka_unit_test(test_merge_without_architectures_stays_without),
		cmocka_unit_test(test_merge_flags_dropped_with_warning),
		cmocka_unit_test(test_merge_base_rules_with_args),
		cmocka_unit_test(test_merge_base_rules_with_args_trap_denied),
		cmocka_unit_test(test_merge_bases_libseccomp_misreads_refused),
		cmocka_unit_test(test_merge_bases_libseccomp_misreads_left_to_base),
		cmocka_unit_test(test_merge_bpf_or_base_narrowed),
		cmocka_unit_test(test_merge_base_denial_is_warned),
		cmocka_unit_test(test_merge_drops_rules_equal_to_default),
		cmocka_unit_test(test_merge_every_key_complement_exact),
		cmocka_unit_test(test_merge_too_many_rules_e2big),
		cmocka_unit_test(test_merge_bad_bases_einval),
		cmocka_unit_test(test_merge_echo_cut_on_whole_character),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
