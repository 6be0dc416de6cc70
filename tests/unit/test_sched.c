/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the pure halves of sched_setscheduler: capabilities,
 * kernel-order errnos, policies, and which targets belong to the container.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "handlers/decide.h"

#define CAP(c) ((uint64_t)1 << (c))
#define NICE CAP(CAP_SYS_NICE)
#define C TARGET_USERNS_CONTAINER

static const struct {
	const char *what;
	int pid, policy;
	bool has_param;
	int param_r;
	enum target_userns userns;
	uint64_t caps;
	enum decision_kind kind;
	int error;
} decide_cases[] = {
	{ "self fifo", 0, SCHED_FIFO, true, 0, C, NICE, DECISION_EMULATE, 0 },
	{ "other pid", 7, SCHED_RR, true, 0, C, NICE, DECISION_EMULATE, 0 },
	{ "no CAP_SYS_NICE", 0, SCHED_FIFO, true, 0, C, ~NICE, DECISION_CONTINUE, 0 },
	{ "nested userns", 0, SCHED_FIFO, true, 0, TARGET_USERNS_OTHER, NICE, DECISION_CONTINUE, 0 },
	{ "host caller", 0, SCHED_FIFO, true, 0, TARGET_USERNS_HOST, NICE, DECISION_CONTINUE, 0 },
	{ "negative policy", 0, -1, true, 0, C, NICE, DECISION_ERRNO, -EINVAL },
	{ "negative policy beats NULL param", 0, -5, false, -EFAULT, C, NICE, DECISION_ERRNO, -EINVAL },
	{ "NULL param", 0, SCHED_FIFO, false, -EFAULT, C, NICE, DECISION_ERRNO, -EINVAL },
	{ "negative pid", -1, SCHED_FIFO, true, 0, C, NICE, DECISION_ERRNO, -EINVAL },
	{ "negative pid beats bad param", -1, SCHED_FIFO, true, -EFAULT, C, NICE, DECISION_ERRNO, -EINVAL },
	{ "bad param pointer", 0, SCHED_FIFO, true, -EFAULT, C, NICE, DECISION_ERRNO, -EFAULT },
	{ "unknown policy emulated, validated later", 0, 42, true, 0, C, NICE, DECISION_EMULATE, 0 },
};

static void test_sched_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
		struct decision d = sched_decide(decide_cases[i].pid, decide_cases[i].policy,
						 decide_cases[i].has_param, decide_cases[i].param_r,
						 decide_cases[i].userns, decide_cases[i].caps);

		print_message("# %s\n", decide_cases[i].what);
		assert_int_equal(d.kind, decide_cases[i].kind);
		if (d.kind == DECISION_ERRNO)
			assert_int_equal(d.error, decide_cases[i].error);
	}
}

static const struct {
	int policy, prio, r;
} validate_cases[] = {
	{ SCHED_OTHER, 0, 0 },
	{ SCHED_BATCH, 0, 0 },
	{ SCHED_IDLE, 0, 0 },
	{ SCHED_FIFO, 1, 0 },
	{ SCHED_FIFO, 99, 0 },
	{ SCHED_RR, 50, 0 },
	{ SCHED_RR | SCHED_RESET_ON_FORK, 10, 0 },
	{ SCHED_OTHER | SCHED_RESET_ON_FORK, 0, 0 },
	{ SCHED_OTHER, 1, -EINVAL },
	{ SCHED_BATCH, 5, -EINVAL },
	{ SCHED_IDLE, -1, -EINVAL },
	{ SCHED_FIFO, 0, -EINVAL },
	{ SCHED_FIFO, 100, -EINVAL },
	{ SCHED_RR, -1, -EINVAL },
	{ 4, 0, -EINVAL },  /* SCHED_ISO: not in Linux */
	{ 6, 0, -EINVAL },  /* SCHED_DEADLINE needs sched_setattr */
	{ 7, 0, -EINVAL },
	{ 0x20000000, 0, -EINVAL },
};

static void test_sched_validate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(validate_cases) / sizeof(validate_cases[0]); i++) {
		print_message("# policy %#x prio %d\n", validate_cases[i].policy, validate_cases[i].prio);
		assert_int_equal(sched_validate(validate_cases[i].policy, validate_cases[i].prio),
				 validate_cases[i].r);
	}
}

static const struct {
	const char *what;
	struct sched_target_facts f;
	enum decision_kind kind;
} target_cases[] = {
	/* is_caller, caller_in_host_pidns, userns_in_container, pidns_in_container */
	{ "sibling in the container", { false, false, true, true }, DECISION_EMULATE },
	{ "the caller itself", { true, false, true, true }, DECISION_EMULATE },
	{ "host task in the container's pid ns", { false, false, false, true }, DECISION_ERRNO },
	{ "container user ns, sibling pid ns", { false, false, true, false }, DECISION_ERRNO },
	{ "host task", { false, false, false, false }, DECISION_ERRNO },
	{ "caller sharing the host pid ns: container task", { false, true, true, true }, DECISION_ERRNO },
	{ "caller sharing the host pid ns: host task", { false, true, false, true }, DECISION_ERRNO },
	{ "caller sharing the host pid ns: itself", { true, true, true, true }, DECISION_CONTINUE },
	{ "caller in a sibling pid ns: itself", { true, false, true, false }, DECISION_CONTINUE },
};

static void test_sched_target_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(target_cases) / sizeof(target_cases[0]); i++) {
		struct decision d = sched_target_decide(&target_cases[i].f);

		print_message("# %s\n", target_cases[i].what);
		assert_int_equal(d.kind, target_cases[i].kind);
		if (d.kind == DECISION_ERRNO)
			assert_int_equal(d.error, -ESRCH); /* as for a pid that does not exist */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_decide_table),
		cmocka_unit_test(test_sched_validate_table),
		cmocka_unit_test(test_sched_target_decide_table),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
