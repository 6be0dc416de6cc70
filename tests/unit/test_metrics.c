/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for lock-free counters and the Prometheus text exposition rendered from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/metrics/metrics.h"
#include "daemon/metrics/render.h"
#include "daemon/store/registry.h"

/* A daemon with one registered container, "c1", whose counters the test fills. */
static struct daemon *daemon_with_c1(struct container **ret_c1)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct container *c;

	assert_non_null(d);
	d->registry = registry_new();
	assert_non_null(d->registry);
	d->started_at = 1700000000;
	c = container_new("c1", 1700000000, config_new_empty());
	assert_non_null(c);
	assert_int_equal(registry_add(d->registry, c), 0);
	*ret_c1 = c; /* the registry's reference keeps it */
	container_unref(c);
	return d;
}

static void daemon_free(struct daemon *d)
{
	registry_free(d->registry);
	free(d);
}

static void test_metrics_record_counts_and_buckets(void **state)
{
	struct container *c1;
	struct daemon *d = daemon_with_c1(&c1);
	struct container_metrics *m = &c1->metrics;
	char *text = NULL;

	(void)state;
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_EMULATED, 4000);    /* ≤ 5 µs */
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_EMULATED, 20000);   /* ≤ 25 µs */
	metrics_record(m, METRICS_SYSCALL_SYSINFO, METRICS_OUTCOME_CONTINUED, 2000000000); /* +Inf */
	metrics_record(&d->unregistered, METRICS_SYSCALL_MKNODAT, METRICS_OUTCOME_UNREGISTERED, 1000);
	assert_int_equal(metrics_render(d, &text), 0);
	assert_non_null(strstr(text, "interceptd_syscalls_total{container=\"c1\",syscall=\"sysinfo\",outcome=\"emulated\"} 2\n"));
	assert_non_null(strstr(text, "syscall=\"sysinfo\",outcome=\"continued\"} 1\n"));
	assert_null(strstr(text, "container=\"c1\",syscall=\"mknod"));
	assert_non_null(strstr(text, "interceptd_syscalls_total{container=\"_unregistered\",syscall=\"mknodat\",outcome=\"unregistered\"} 1\n"));
	assert_non_null(strstr(text, "container=\"c1\",syscall=\"sysinfo\",le=\"5e-06\"} 1\n"));
	assert_non_null(strstr(text, "container=\"c1\",syscall=\"sysinfo\",le=\"1e-05\"} 1\n"));
	assert_non_null(strstr(text, "container=\"c1\",syscall=\"sysinfo\",le=\"2.5e-05\"} 2\n"));
	assert_non_null(strstr(text, "container=\"c1\",syscall=\"sysinfo\",le=\"1\"} 2\n"));
	assert_non_null(strstr(text, "container=\"c1\",syscall=\"sysinfo\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "interceptd_syscall_duration_seconds_count{container=\"c1\",syscall=\"sysinfo\"} 3\n"));
	assert_non_null(strstr(text, "interceptd_syscall_duration_seconds_sum{container=\"c1\",syscall=\"sysinfo\"} 2.000024000\n"));
	free(text);
	daemon_free(d);
}

/* Every family of the exposition, each with its HELP and TYPE lines, from the one renderer. */
static void test_metrics_render_families(void **state)
{
	static const char *const expected[] = {
		"# TYPE interceptd_containers gauge\ninterceptd_containers 1\n",
		"# TYPE interceptd_listeners gauge\n",
		"interceptd_listeners{container=\"c1\",source=\"lxc\"} 0\n",
		"interceptd_listeners{container=\"c1\",source=\"oci\"} 0\n",
		"# TYPE interceptd_syscalls_total counter\n",
		"# TYPE interceptd_syscall_duration_seconds histogram\n",
		"# TYPE interceptd_lxc_deadline_exceeded_total counter\ninterceptd_lxc_deadline_exceeded_total 2\n",
		"# TYPE interceptd_workers_replaced_total counter\ninterceptd_workers_replaced_total 0\n",
		"# TYPE interceptd_watchdog_moves_total counter\ninterceptd_watchdog_moves_total 0\n",
		"# TYPE interceptd_api_requests_total counter\n",
		"interceptd_api_requests_total{method=\"PATCH\",code=\"412\"} 1\n",
		"interceptd_api_requests_total{method=\"OTHER\",code=\"other\"} 1\n",
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1700000000\n",
		"# TYPE interceptd_build_info gauge\ninterceptd_build_info{version=\"",
		"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ",
		"# TYPE process_max_fds gauge\nprocess_max_fds ",
		"# TYPE interceptd_container_key_enabled gauge\n",
		"interceptd_container_key_enabled{container=\"c1\",key=\"security.syscalls.intercept.sysinfo\"} 0\n",
		"# TYPE interceptd_container_restart_required gauge\n",
		"interceptd_container_restart_required{container=\"c1\"} 0\n",
	};
	struct container *c1;
	struct daemon *d = daemon_with_c1(&c1);
	char *text = NULL;

	(void)state;
	atomic_store(&d->lxc_deadline_exceeded, 2);
	metrics_api_request("PATCH", 412);
	metrics_api_request("HEAD", 299);
	assert_int_equal(metrics_render(d, &text), 0);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (!strstr(text, expected[i]))
			fail_msg("missing from the exposition: %s", expected[i]);
	free(text);
	daemon_free(d);
}

/*
 * Keys on per container, and how many of them an attached filter does not
 * trap: sysinfo and mknod on, a listener from before mknod was turned on.
 */
static void test_metrics_render_keys_and_restart_required(void **state)
{
	static const char *const values[CONFIG_KEY_COUNT] = {
		[CONFIG_MKNOD] = "true", [CONFIG_SYSINFO] = "true", [CONFIG_SETXATTR] = "false",
		[CONFIG_MOUNT_ALLOWED] = "ext4",
	};
	static const char *const expected[] = {
		"{container=\"c1\",key=\"security.syscalls.intercept.mknod\"} 1\n",
		"{container=\"c1\",key=\"security.syscalls.intercept.sysinfo\"} 1\n",
		"{container=\"c1\",key=\"security.syscalls.intercept.setxattr\"} 0\n",
		"{container=\"c1\",key=\"security.syscalls.intercept.mount.allowed\"} 1\n",
		"{container=\"c1\",key=\"security.syscalls.intercept.bpf\"} 0\n",
		"interceptd_container_restart_required{container=\"c1\"} 1\n",
	};
	struct listener old = { .source = LISTENER_SOURCE_OCI,
				.trapped_keys = 1u << CONFIG_SYSINFO };
	struct config *cfg = NULL;
	struct container *c1;
	struct daemon *d = daemon_with_c1(&c1);
	char *text = NULL;

	(void)state;
	assert_int_equal(config_new(values, &cfg, NULL), 0);
	container_config_swap(c1, cfg);
	c1->listeners = &old;
	assert_int_equal(metrics_render(d, &text), 0);
	c1->listeners = NULL;
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (!strstr(text, expected[i]))
			fail_msg("missing from the exposition: %s", expected[i]);
	free(text);
	daemon_free(d);
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
		cmocka_unit_test(test_metrics_render_families),
		cmocka_unit_test(test_metrics_render_keys_and_restart_required),
		cmocka_unit_test(test_metrics_label_escaping),
		cmocka_unit_test(test_metrics_syscall_names),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
