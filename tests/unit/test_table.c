/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the (arch, nr) → handler table built from libseccomp. */
#include <errno.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics/metrics.h"
#include "handlers/table.h"

static void test_handler_lookup_native_and_compat(void **state)
{
	const struct handler_entry *e;

	(void)state;
	assert_int_equal(handler_table_init(), 0);
	e = handler_lookup(SCMP_ARCH_NATIVE == 0 ? seccomp_arch_native() : SCMP_ARCH_NATIVE,
			   seccomp_syscall_resolve_name("sysinfo"));
	assert_non_null(e);
	assert_string_equal(e->name, "sysinfo");
	assert_int_equal(e->key, CONFIG_SYSINFO);
	assert_ptr_equal(handler_table_entry(handler_index(e)), e);
	e = handler_lookup(seccomp_arch_native(), seccomp_syscall_resolve_name("mknodat"));
	assert_non_null(e);
	assert_int_equal(e->key, CONFIG_MKNOD);
	assert_null(handler_lookup(seccomp_arch_native(), seccomp_syscall_resolve_name("getpid")));
	assert_null(handler_lookup(0x12345678, seccomp_syscall_resolve_name("sysinfo")));
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		/* i386 numbers differ from x86_64's, and x32 carries the x32 bit */
		e = handler_lookup(SCMP_ARCH_X86, 116);
		assert_non_null(e);
		assert_string_equal(e->name, "sysinfo");
		e = handler_lookup(SCMP_ARCH_X86_64, 0x40000000 | 99);
		assert_non_null(e);
		assert_string_equal(e->name, "sysinfo");
		assert_null(handler_lookup(SCMP_ARCH_X86, 99)); /* 99 is statfs on i386 */
		e = handler_lookup(SCMP_ARCH_X86, 14);
		assert_non_null(e);
		assert_string_equal(e->name, "mknod");
	}
}

/* Each entry has its own slot, and a metrics series of its own (none is counted as "other"). */
static void test_handler_index_and_series(void **state)
{
	size_t n = handler_table_size();

	(void)state;
	assert_true(n > 0 && n <= HANDLER_TABLE_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct handler_entry *e = handler_table_entry(i);

		assert_non_null(e);
		assert_int_equal(handler_index(e), i);
		assert_int_not_equal(metrics_syscall_from_name(e->name), METRICS_SYSCALL_OTHER);
		assert_string_equal(metrics_syscall_name(metrics_syscall_from_name(e->name)), e->name);
	}
	assert_null(handler_table_entry(n));
}

/* Only bpf is refused when no handler decides: its CONTINUE would attach without a check. */
static void test_undecided_answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < handler_table_size(); i++) {
		const struct handler_entry *e = handler_table_entry(i);

		assert_int_equal(e->undecided_errno, strcmp(e->name, "bpf") == 0 ? -EPERM : 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handler_lookup_native_and_compat),
		cmocka_unit_test(test_handler_index_and_series),
		cmocka_unit_test(test_undecided_answers),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
