/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the pure half of setxattr: request matching and capabilities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "handlers/decide.h"

#define CAP(c) ((uint64_t)1 << (c))

static const struct {
	const char *what;
	int name_r;
	const char *name;
	uint64_t size;
	int value_r;
	const char *value;
	uint64_t flags;
	bool matches;
} match_cases[] = {
	{ "opaque", 0, "trusted.overlay.opaque", 1, 0, "y", 0, true },
	{ "create", 0, "trusted.overlay.opaque", 1, 0, "y", 1, true },
	{ "replace", 0, "trusted.overlay.opaque", 1, 0, "y", 2, true },
	{ "upper register bits ignored", 0, "trusted.overlay.opaque", 1, 0, "y", 0xffffffff00000000ull, true },
	{ "both flags", 0, "trusted.overlay.opaque", 1, 0, "y", 3, true },
	{ "unknown flag", 0, "trusted.overlay.opaque", 1, 0, "y", 4, false },
	{ "value n", 0, "trusted.overlay.opaque", 1, 0, "n", 0, false },
	{ "size 2", 0, "trusted.overlay.opaque", 2, 0, "y", 0, false },
	{ "size 0", 0, "trusted.overlay.opaque", 0, 0, "y", 0, false },
	{ "other trusted", 0, "trusted.overlay.redirect", 1, 0, "y", 0, false },
	{ "user namespace", 0, "user.overlay.opaque", 1, 0, "y", 0, false },
	{ "prefix only", 0, "trusted.overlay.opaqu", 1, 0, "y", 0, false },
	{ "longer", 0, "trusted.overlay.opaquex", 1, 0, "y", 0, false },
	{ "bad name pointer", -EFAULT, "", 1, 0, "y", 0, false },
	{ "long name", -ENAMETOOLONG, "", 1, 0, "y", 0, false },
	{ "bad value pointer", 0, "trusted.overlay.opaque", 1, -EFAULT, "y", 0, false },
};

static void test_setxattr_request_matches_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		print_message("# %s\n", match_cases[i].what);
		assert_int_equal(setxattr_request_matches(match_cases[i].name_r, match_cases[i].name,
							  match_cases[i].size, match_cases[i].value_r,
							  match_cases[i].value, match_cases[i].flags),
				 match_cases[i].matches);
	}
}

static const struct {
	const char *what;
	bool matches;
	int path_r;
	enum target_userns userns;
	uint64_t caps;
	enum decision_kind kind;
	int error;
} decide_cases[] = {
	{ "emulate", true, 0, TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN), DECISION_EMULATE, 0 },
	/* anyone can unshare -Ur and hold CAP_SYS_ADMIN there: the kernel decides (EPERM) */
	{ "nested userns with its own CAP_SYS_ADMIN", true, 0, TARGET_USERNS_OTHER, CAP(CAP_SYS_ADMIN), DECISION_CONTINUE, 0 },
	{ "nested userns, all caps", true, 0, TARGET_USERNS_OTHER, ~(uint64_t)0, DECISION_CONTINUE, 0 },
	{ "nested userns, bad path pointer", true, -EFAULT, TARGET_USERNS_OTHER, CAP(CAP_SYS_ADMIN), DECISION_CONTINUE, 0 },
	{ "no match", false, 0, TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN), DECISION_CONTINUE, 0 },
	{ "no CAP_SYS_ADMIN", true, 0, TARGET_USERNS_CONTAINER, ~CAP(CAP_SYS_ADMIN), DECISION_CONTINUE, 0 },
	{ "host caller", true, 0, TARGET_USERNS_HOST, ~(uint64_t)0, DECISION_CONTINUE, 0 },
	{ "bad path pointer", true, -EFAULT, TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN), DECISION_ERRNO, -EFAULT },
	{ "long path", true, -ENAMETOOLONG, TARGET_USERNS_CONTAINER, CAP(CAP_SYS_ADMIN), DECISION_ERRNO, -ENAMETOOLONG },
	{ "bad path, no cap", true, -EFAULT, TARGET_USERNS_CONTAINER, 0, DECISION_CONTINUE, 0 },
};

static void test_setxattr_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		struct decision d = setxattr_decide(decide_cases[i].matches, decide_cases[i].path_r,
						    decide_cases[i].userns, decide_cases[i].caps);

		print_message("# %s\n", decide_cases[i].what);
		assert_int_equal(d.kind, decide_cases[i].kind);
		if (d.kind == DECISION_ERRNO)
			assert_int_equal(d.error, decide_cases[i].error);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setxattr_request_matches_table),
		cmocka_unit_test(test_setxattr_decide_table),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
