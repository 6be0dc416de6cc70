/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for policy_bpf_check() and its use by policy_merge_oci():
 * libseccomp 2.5 shares identical instruction blocks between rules and reloads
 * the argument only for the first block that jumps to a shared one, so some rule
 * sets become filters in which a comparison reads another argument. A merge can
 * make such a filter out of a base that libseccomp builds right: refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/store/policy_bpf.h"
#include "merge_fixture.h"

#define WRONG_FILTER "would build this profile into a wrong filter"

/*
 * Built alone, right. Merged with bpf on, the x86 program shares the block testing
 * read's "a2 & 1 == 0" with one of bpf's, which leaves a2 in the accumulator: read's
 * path after "a5 & 3" jumps there without a reload, and read(-1, 0, 1, 0, 0, 2),
 * which the base denies, is allowed (checked in the kernel too: int $0x80 gets EBADF,
 * not EPERM).
 */
static const char shares_a_block[] = BASE(
	"SCMP_ACT_ERRNO", ARCH_X86_BASE,
	RULE("read", "SCMP_ACT_LOG", ARGS(MASKED(5, 3, 0) "," ARG(2, "EQ", 1))) ","
	"{\"names\":[\"bpf\",\"read\"],\"action\":\"SCMP_ACT_ALLOW\""
	ARGS(MASKED(2, 1, 0) "," ARG(2, "EQ", 4096)) "}");

#define READ_DENIED ((uint64_t[6]){ UINT32_MAX, 0, 1, 0, 0, 2 })

static void test_bpf_check_base_built_right(void **state)
{
	json_t *base = parse(shares_a_block);
	struct compiled *p = compile(base);
	const char *unchecked = "";
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(policy_bpf_check(base, &unchecked, &err), 0);
	assert_null(unchecked);
	assert_int_equal(eval_call_arch(p, SCMP_ARCH_X86, "read", READ_DENIED), SCMP_ACT_ERRNO(1));
	free(p);
	json_decref(base);
}

/* The merge that libseccomp would turn into the wrong filter is refused, nothing returned. */
static void test_bpf_check_merge_refused(void **state)
{
	json_t *base = parse(shares_a_block), *out = NULL;
	struct config *cfg = cfg_keys(KEYS(K("bpf")));
	struct icd_error err = { 0 };
	int r = policy_merge_oci(base, cfg, "/s", "c1", 0, &out, NULL, &err);

	(void)state;
	if (r == 0) {
		struct compiled *p = compile(out);

		fail_msg("merged; x86 read(-1, 0, 1, 0, 0, 2) gets %#x, the base's EPERM is %#x",
			 eval_call_arch(p, SCMP_ARCH_X86, "read", READ_DENIED), SCMP_ACT_ERRNO(1));
	}
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(err.msg, WRONG_FILTER " (architecture 0x40000003, instruction "));
	assert_non_null(strstr(err.msg, "merge by hand"));
	assert_null(out);
	config_unref(cfg);
	json_decref(base);
}

/*
 * libseccomp gets some bases wrong on their own: an OR of GT and NE on a1 for read
 * and bpf, with bpf's LT rule before it. read's "a1.lo == 9" jumps into the block
 * testing "a1.hi > 1" with a1.lo in the accumulator.
 */
static void test_bpf_check_base_built_wrong(void **state)
{
	static const char wrong[] = BASE(
		"SCMP_ACT_ERRNO", "",
		RULE("bpf", "SCMP_ACT_ALLOW", ARGS(ARG(1, "LT", 32768))) ","
		"{\"names\":[\"bpf\",\"read\"],\"action\":\"SCMP_ACT_TRACE\""
		ARGS(ARG(1, "GT", 4294967301) "," ARG(1, "NE", 9)) "}");
	json_t *base = parse(wrong);
	struct compiled *p = compile(base);
	const char *unchecked = NULL;
	struct icd_error err = { 0 };

	(void)state;
	/* a1 = 9 is neither above 2^32 + 5 nor other than 9: the default's EPERM is due */
	assert_int_equal(call1(p, "read", 1, 9), SCMP_ACT_TRACE(1));
	assert_int_equal(policy_bpf_check(base, &unchecked, &err), -EINVAL);
	assert_non_null(strstr(err.msg, WRONG_FILTER " (architecture 0xc000003e"));
	free(p);
	json_decref(base);
}

/* More conditional rules for one syscall than are built in a moment: merged, with a warning. */
static void test_bpf_check_too_many_unchecked(void **state)
{
	json_t *base = parse(BASE("SCMP_ACT_ERRNO", "", "")), *out = NULL;
	struct config *cfg = cfg_keys(KEYS(K("bpf")));
	struct policy_warnings w = { 0 };
	struct icd_error err = { 0 };
	bool is_warned = false;

	(void)state;
	for (int i = 0; i < 20; i++)
		json_array_append_new(json_object_get(base, "syscalls"),
				      json_pack("{s:[s], s:s, s:[{s:i, s:i, s:s}]}", "names", "bpf",
						"action", "SCMP_ACT_ALLOW", "args", "index", 1,
						"value", i, "op", "SCMP_CMP_EQ"));
	assert_int_equal(policy_merge_oci(base, cfg, "/s", "c1", 0, &out, &w, &err), 0);
	for (size_t i = 0; i < w.n; i++)
		is_warned |= strstr(w.msg[i], "not checked for libseccomp's wrong filters: more than "
					      "512 conditional rules for 'bpf'") != NULL;
	assert_true(is_warned);
	json_decref(out);
	config_unref(cfg);
	json_decref(base);
}

/*
 * The rules an old merge made of two setxattr allow rules: libseccomp 2.5 never
 * finishes building them. The check gives up at its deadline, it does not hang.
 */
static void test_bpf_check_endless_build_refused(void **state)
{
	static const char endless[] = BASE(
		"SCMP_ACT_ERRNO", "",
		RULE("setxattr", "SCMP_ACT_ALLOW", ARGS(ARG(4, "EQ", 0) "," ARG(3, "NE", 1))) ","
		RULE("setxattr", "SCMP_ACT_ALLOW", ARGS(ARG(5, "EQ", 0) "," ARG(3, "NE", 1))) ","
		RULE("setxattr", "SCMP_ACT_NOTIFY", ARGS(ARG(3, "EQ", 1))));
	json_t *sec = parse(endless);
	const char *unchecked = NULL;
	struct icd_error err = { 0 };
	struct timespec t0, t1;

	(void)state;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(policy_bpf_check(sec, &unchecked, &err), -EINVAL);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(strstr(err.msg, "did not build this profile within 3000 ms"));
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	json_decref(sec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpf_check_base_built_right),
		cmocka_unit_test(test_bpf_check_merge_refused),
		cmocka_unit_test(test_bpf_check_base_built_wrong),
		cmocka_unit_test(test_bpf_check_too_many_unchecked),
		cmocka_unit_test(test_bpf_check_endless_build_refused),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
