/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lock-free counters and their Prometheus text rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics/metrics.h"

static char *render(const struct container_metrics *m, const char *name, int family)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	metrics_write_container(f, name, m, family);
	fclose(f);
	return buf;
}

static void test_metrics_record_counts_and_buckets(void **state)
{
	struct container_metrics *m = calloc(1, sizeof(*m));
	char *text;

	(void)state;
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_EMULATED, 4000);    /* ≤ 5 µs */
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_EMULATED, 20000);   /* ≤ 25 µs */
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_CONTINUED, 2000000000); /* +Inf */
	text = render(m, "c1", 0);
	assert_non_null(strstr(text, "interceptd_syscalls_total{container=\"c1\",syscall=\"sysinfo\",outcome=\"emulated\"} 2\n"));
	assert_non_null(strstr(text, "outcome=\"continued\"} 1\n"));
	assert_null(strstr(text, "mknod"));
	free(text);
	text = render(m, "c1", 1);
	assert_non_null(strstr(text, "le=\"5e-06\"} 1\n"));
	assert_non_null(strstr(text, "le=\"1e-05\"} 1\n"));
	assert_non_null(strstr(text, "le=\"2.5e-05\"} 2\n"));
	assert_non_null(strstr(text, "le=\"1\"} 2\n"));
	assert_non_null(strstr(text, "le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "interceptd_syscall_duration_seconds_count{container=\"c1\",syscall=\"sysinfo\"} 3\n"));
	assert_non_null(strstr(text, "interceptd_syscall_duration_seconds_sum{container=\"c1\",syscall=\"sysinfo\"} 2.000024000\n"));
	free(text);
	free(m);
}

static void test_metrics_label_escaping(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	metrics_write_label_value(f, "a\"b\\c\nd");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\"");
	free(buf);
}

static void test_metrics_syscall_names(void **state)
{
	(void)state;
	assert_int_equal(metrics_syscall_from_name("mknodat"), METRICS_SYSCALL_MKNODAT);
	assert_int_equal(metrics_syscall_from_name("sysinfo"), METRICS_SYSCALL_SYSINFO);
	assert_int_equal(metrics_syscall_from_name("getpid"), METRICS_SYSCALL_OTHER);
	assert_int_equal(metrics_syscall_from_name(NULL), METRICS_SYSCALL_OTHER);
	assert_string_equal(metrics_outcome_name(METRICS_OUTCOME_UNREGISTERED), "unregistered");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_record_counts_and_buckets),
		cmocka_unit_test(test_metrics_label_escaping),
		cmocka_unit_test(test_metrics_syscall_names),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
