/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dashboard and the alert rules of deploy/ against the real thing: the
 * daemon with --metrics-address under load (a child under a NOTIFY filter
 * calling sysinfo() without end for a registered container, another for an
 * unregistered one, API requests that fail with 404), a real Prometheus
 * (Debian's package) started here scraping it every second with
 * deploy/prometheus/interceptd-alerts.yml loaded. Then every expression of
 * deploy/grafana/interceptd.json (Grafana's variables filled in as "All")
 * and every alert's expression without its threshold goes through
 * Prometheus's HTTP query API and must return data, and every alert rule
 * must evaluate without error. Root only; skips without prometheus.
 */
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "peers.h"
#include "rawhttp.h"
#include "tcp_ports.h"

#define PROMETHEUS "/usr/bin/prometheus"
/* how long every expression has to return data: the first scrapes, then rate()'s two samples */
#define DATA_DEADLINE_MS 60000
/* what Grafana would put in for $__rate_interval at a 1 s scrape interval */
#define RATE_INTERVAL "15s"

static unsigned prom_port;
static pid_t prom_pid;

static struct http_reply *prom_get(const char *path_and_query)
{
	struct http_reply *rep = NULL;
	char url[8192];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", prom_port, path_and_query);
	if (http_request(NULL, "GET", url, NULL, 0, NULL, &rep) < 0)
		return NULL;
	return rep;
}

/* The result array of an instant query of @expr, or NULL (the reason printed once). */
static json_t *prom_query(const char *expr, struct http_reply **ret_rep, bool is_verbose)
{
	CURL *c = curl_easy_init();
	char *escaped = c ? curl_easy_escape(c, expr, 0) : NULL;
	char path[8192];
	struct http_reply *rep;
	json_t *result;

	snprintf(path, sizeof(path), "/api/v1/query?query=%s", escaped ? escaped : "");
	curl_free(escaped);
	curl_easy_cleanup(c);
	rep = prom_get(path);
	*ret_rep = rep;
	if (!rep || !rep->body)
		return NULL;
	result = json_object_get(json_object_get(rep->body, "data"), "result");
	if (is_verbose && rep->status != 200)
		fprintf(stderr, "# %s: %ld %s\n", expr, rep->status, rep->data);
	return json_is_array(result) ? result : NULL;
}

/* Has @result a sample, one with label @label when not NULL? */
static bool has_sample(json_t *result, const char *label)
{
	size_t i;
	json_t *s;

	json_array_foreach(result, i, s)
		if (!label || json_object_get(json_object_get(s, "metric"), label))
			return true;
	return false;
}

/* Does @expr return a sample (with @label, may be NULL) before the deadline? */
static bool returns_data_with(const char *expr, const char *label, uint64_t deadline_ns)
{
	for (;;) {
		_cleanup_(http_reply_freep) struct http_reply *rep = NULL;
		bool is_last = raw_now_ns() >= deadline_ns;
		json_t *result = prom_query(expr, &rep, is_last);

		if (result && has_sample(result, label))
			return true;
		if (is_last)
			return false;
		/* keep failing API requests coming for the error panels */
		api("GET", "/1.0/containers/nope", NULL, 404);
		sleep_ms(500);
	}
}

static bool returns_data(const char *expr, uint64_t deadline_ns)
{
	return returns_data_with(expr, NULL, deadline_ns);
}

/* Grafana's variables as "All", its $__rate_interval as at a 1 s scrape; NULL on an unknown one. */
static char *fill_variables(const char *expr)
{
	static const struct {
		const char *name, *value;
	} vars[] = {
		{ "$__rate_interval", RATE_INTERVAL }, { "$instance", ".*" }, { "$container", ".*" },
	};
	char out[4096];
	size_t n = 0;

	for (const char *p = expr; *p && n + 32 < sizeof(out);) {
		size_t i = 0;

		while (*p == '$' && i < sizeof(vars) / sizeof(vars[0]) &&
		       strncmp(p, vars[i].name, strlen(vars[i].name)) != 0)
			i++;
		if (*p != '$') {
			out[n++] = *p++;
			continue;
		}
		if (i == sizeof(vars) / sizeof(vars[0]))
			return NULL;
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", vars[i].value);
		p += strlen(vars[i].name);
	}
	out[n] = '\0';
	return strdup(out);
}

/* Every panel's expressions, rows' nested panels included; @n_failed counts the empty ones. */
static size_t check_panels(json_t *panels, uint64_t deadline_ns, unsigned *n_failed)
{
	size_t i, j, n = 0;
	json_t *p, *t;

	json_array_foreach(panels, i, p) {
		n += check_panels(json_object_get(p, "panels"), deadline_ns, n_failed);
		json_array_foreach(json_object_get(p, "targets"), j, t) {
			const char *expr = json_string_value(json_object_get(t, "expr"));
			_cleanup_free_ char *q = expr ? fill_variables(expr) : NULL;
			bool ok = q && returns_data(q, deadline_ns);

			fprintf(stderr, "# %s panel '%s': %s\n", ok ? "ok" : "NO DATA",
				json_string_value(json_object_get(p, "title")), q ? q : expr);
			*n_failed += !ok;
			n++;
		}
	}
	return n;
}

/* label_values(METRIC, LABEL): METRIC must have a series with LABEL. */
static void check_variables(json_t *dash, uint64_t deadline_ns, unsigned *n_failed)
{
	regex_t re;
	size_t i;
	json_t *v;

	assert_int_equal(regcomp(&re, "^label_values\\((.*), *([a-z_]+)\\)$", REG_EXTENDED), 0);
	json_array_foreach(json_object_get(json_object_get(dash, "templating"), "list"), i, v) {
		const char *def = json_string_value(json_object_get(v, "definition"));
		_cleanup_free_ char *metric = NULL, *q = NULL, *label = NULL;
		regmatch_t m[3];
		char with_label[4200];
		bool ok;

		if (!def)
			continue;
		assert_int_equal(regexec(&re, def, 3, m, 0), 0);
		metric = strndup(def + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
		q = fill_variables(metric);
		assert_non_null(q);
		label = strndup(def + m[2].rm_so, (size_t)(m[2].rm_eo - m[2].rm_so));
		snprintf(with_label, sizeof(with_label), "count by (%s) (%s)", label, q);
		ok = returns_data_with(with_label, label, deadline_ns);
		fprintf(stderr, "# %s variable: %s\n", ok ? "ok" : "NO DATA", def);
		*n_failed += !ok;
	}
	regfree(&re);
}

/* Every alert rule loaded and healthy; its expression without its threshold returns data. */
static size_t check_alerts(uint64_t deadline_ns, unsigned *n_failed)
{
	regex_t re;
	size_t i, j, n = 0;
	json_t *g, *rule;
	_cleanup_(http_reply_freep) struct http_reply *rep = NULL;

	/* Prometheus prints "signal > 0.1" back with single spaces */
	assert_int_equal(regcomp(&re, "^(.*[^ ]) +(>|<|>=|<=|==|!=) +[-+0-9.e]+$", REG_EXTENDED), 0);
	do { /* until every rule has been evaluated once */
		http_reply_free(rep);
		rep = prom_get("/api/v1/rules?type=alert");
		if (rep && rep->data && !strstr(rep->data, "\"health\":\"unknown\""))
			break;
		sleep_ms(500);
	} while (raw_now_ns() < deadline_ns);
	assert_non_null(rep);
	json_array_foreach(json_object_get(json_object_get(rep->body, "data"), "groups"), i, g)
		json_array_foreach(json_object_get(g, "rules"), j, rule) {
			const char *query = json_string_value(json_object_get(rule, "query"));
			const char *health = json_string_value(json_object_get(rule, "health"));
			_cleanup_free_ char *signal = NULL;
			regmatch_t m[2];
			bool ok;

			assert_non_null(query);
			signal = regexec(&re, query, 2, m, 0) == 0
					 ? strndup(query, (size_t)m[1].rm_eo) : strdup(query);
			ok = health && strcmp(health, "ok") == 0 && returns_data(signal, deadline_ns);
			fprintf(stderr, "# %s alert %s (%s): %s\n", ok ? "ok" : "FAILED",
				json_string_value(json_object_get(rule, "name")), health, signal);
			*n_failed += !ok;
			n++;
		}
	regfree(&re);
	return n;
}

static void test_dashboard_and_alerts_return_data(void **state)
{
	_cleanup_free_ char *path = NULL, *rules = NULL;
	json_auto_t *dash = NULL;
	uint64_t deadline_ns = raw_now_ns() + DATA_DEADLINE_MS * 1000000ULL;
	unsigned n_failed = 0, n_alerts_in_file = 0;
	size_t n_panels, n_alerts;

	(void)state;
	assert_true(asprintf(&path, "%s/grafana/interceptd.json", getenv("DEPLOY_DIR")) > 0);
	dash = json_load_file(path, 0, NULL);
	assert_non_null(dash);
	n_panels = check_panels(json_object_get(dash, "panels"), deadline_ns, &n_failed);
	check_variables(dash, deadline_ns, &n_failed);
	free(path);
	assert_true(asprintf(&path, "%s/prometheus/interceptd-alerts.yml", getenv("DEPLOY_DIR")) > 0);
	rules = harness_read_file(path, NULL);
	assert_non_null(rules);
	for (const char *p = rules; (p = strstr(p, "- alert: ")); p++)
		n_alerts_in_file++;
	n_alerts = check_alerts(deadline_ns, &n_failed);
	fprintf(stderr, "# %zu panel expressions, %zu of %u alerts, %u failed\n", n_panels,
		n_alerts, n_alerts_in_file, n_failed);
	assert_true(n_panels >= 20);
	assert_int_equal(n_alerts, n_alerts_in_file);
	assert_int_equal(n_failed, 0);
}

/* A key turned on after the listener attached shows as restart-required, through Prometheus. */
static void test_restart_required_seen_by_prometheus(void **state)
{
	uint64_t deadline_ns = raw_now_ns() + DATA_DEADLINE_MS * 1000000ULL;

	(void)state;
	api("PATCH", "/1.0/containers/web", "{\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}",
	    200);
	assert_true(returns_data("interceptd_container_restart_required{container=\"web\"} == 1",
				 deadline_ns));
	assert_true(returns_data("interceptd_container_key_enabled{container=\"web\","
				 "key=\"security.syscalls.intercept.mknod\"} == 1", deadline_ns));
}

static int start_prometheus(unsigned metrics_port)
{
	char config[400], log[400], data[400], listen[64], *yml = NULL;
	const char *deploy = getenv("DEPLOY_DIR");
	FILE *f;

	snprintf(config, sizeof(config), "%s/prometheus.yml", H.dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", H.dir);
	snprintf(data, sizeof(data), "--storage.tsdb.path=%s/tsdb", H.dir);
	f = fopen(config, "we");
	if (!f || asprintf(&yml,
			   "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
			   "rule_files: ['%s/prometheus/interceptd-alerts.yml']\n"
			   "scrape_configs:\n"
			   "  - job_name: interceptd\n"
			   "    metrics_path: /1.0/metrics\n"
			   "    static_configs: [{targets: ['127.0.0.1:%u']}]\n",
			   deploy, metrics_port) < 0)
		return -ENOMEM;
	fputs(yml, f);
	free(yml);
	fclose(f);
	prom_port = tcp_free_port(AF_INET);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", prom_port);
	prom_pid = fork();
	if (prom_pid == 0) {
		char cfg_arg[420];
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		snprintf(cfg_arg, sizeof(cfg_arg), "--config.file=%s", config);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(PROMETHEUS, PROMETHEUS, cfg_arg, data, listen, "--log.level=warn", (char *)NULL);
		_exit(127);
	}
	return prom_pid > 0 ? 0 : -errno;
}

static void stop_prometheus(bool dump_log)
{
	char log[400];

	if (prom_pid > 0) {
		kill(prom_pid, SIGTERM);
		waitpid(prom_pid, NULL, 0);
		prom_pid = 0;
	}
	snprintf(log, sizeof(log), "%s/prometheus.log", H.dir);
	if (dump_log) {
		_cleanup_free_ char *text = harness_read_file(log, NULL);

		fprintf(stderr, "# prometheus log:\n%s\n", text ? text : "(none)");
	}
}

static bool prometheus_ready(void)
{
	for (int i = 0; i < 300; i++) {
		_cleanup_(http_reply_freep) struct http_reply *r = prom_get("/-/ready");

		if (r && r->status == 200)
			return true;
		sleep_ms(100);
	}
	return false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dashboard_and_alerts_return_data),
		cmocka_unit_test(test_restart_required_seen_by_prometheus),
	};
	unsigned metrics_port = tcp_free_port(AF_INET);
	char address[64];
	const char *const args[] = { "--metrics-address", address, NULL };
	struct child web = { 0 }, ghost = { 0 };
	int n_failed, r, web_conn, ghost_conn;

	if (geteuid() != 0 || access(PROMETHEUS, X_OK) < 0 || !getenv("DEPLOY_DIR") || !metrics_port) {
		fprintf(stderr, "# needs root, " PROMETHEUS " (Debian package prometheus), "
				"$DEPLOY_DIR and a free port on 127.0.0.1: skipping\n");
		return 77;
	}
	snprintf(address, sizeof(address), "127.0.0.1:%u", metrics_port);
	r = harness_main_setup(&H, args);
	if (r)
		return r;
	api("POST", "/1.0/containers", "{\"name\":\"web\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}", 201);
	api("POST", "/1.0/containers", "{\"name\":\"idle\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", 201);
	child_start(&web);
	child_start(&ghost);
	/* the connections stay open, as runc 1.1 keeps them */
	web_conn = oci_handoff_child(&web, "web");
	ghost_conn = oci_handoff_child(&ghost, "ghost");
	assert_int_equal(write(web.ctl, "l", 1), 1);
	assert_int_equal(write(ghost.ctl, "l", 1), 1);
	if (start_prometheus(metrics_port) < 0 || !prometheus_ready()) {
		stop_prometheus(true);
		child_stop(&web);
		child_stop(&ghost);
		close(web_conn);
		close(ghost_conn);
		return harness_main_teardown(&H, 1);
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	n_failed = cmocka_run_group_tests(tests, NULL, NULL);
	stop_prometheus(n_failed > 0);
	child_stop(&web);
	child_stop(&ghost);
	close(web_conn);
	close(ghost_conn);
	return harness_main_teardown(&H, n_failed);
}
