/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl info (GET /1.0, with the config directory's status),
 * metrics [NAME] (GET /1.0/metrics read back into a per-container summary)
 * and the hidden __complete used by the bash completion.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/cli/client.h"
#include "api/cli/keys.h"
#include "api/cli/output.h"
#include "api/cli/promtext.h"

/* "a, b, c" of the strings in @arr, or of the keys of @obj whose value is @want; "" for none. */
static char *join(const json_t *arr, const json_t *obj, bool want)
{
	char *text = NULL;
	const char *key;
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (output_join(&text, strempty(json_string_value(v)), "", "") < 0)
			return NULL;
	json_object_foreach((json_t *)obj, key, v)
		if (json_is_true(v) == want && output_join(&text, key, "", "") < 0)
			return NULL;
	return text ? text : strdup("");
}

/*
 * The rows of GET /1.0's config_dir: the directory and its generation, the
 * profiles it owns (and those kept while in use), and why it refused the
 * last reading, one row per problem. One row "none" without --config-dir.
 */
static int add_config_dir_rows(struct table *t, const json_t *cd)
{
	_cleanup_free_ char *dir = NULL, *owned = NULL, *profiles = NULL;
	_cleanup_free_ char *kept = join(json_object_get(cd, "kept_in_use"), NULL, false);
	const json_t *errors = json_object_get(cd, "errors");
	const json_t *e;
	size_t i;

	if (!cd)
		return table_add(t, (const char *const[]){ "CONFIG DIR", "none" });
	owned = join(json_object_get(cd, "profiles"), NULL, false);
	if (!owned || !kept ||
	    asprintf(&dir, "%s (generation %lld)",
		     strempty(json_string_value(json_object_get(cd, "path"))),
		     (long long)json_integer_value(json_object_get(cd, "generation"))) < 0 ||
	    asprintf(&profiles, "%s%s%s%s", *owned ? owned : "none", *kept ? " (kept in use: " : "",
		     kept, *kept ? ")" : "") < 0)
		return -ENOMEM;
	if (table_add(t, (const char *const[]){ "CONFIG DIR", dir }) < 0 ||
	    table_add(t, (const char *const[]){ "CONFIG PROFILES", profiles }) < 0)
		return -ENOMEM;
	if (json_array_size(errors) == 0)
		return table_add(t, (const char *const[]){ "CONFIG ERRORS", "none" });
	json_array_foreach(errors, i, e)
		if (table_add(t, (const char *const[]){ i ? "" : "CONFIG ERRORS",
							json_string_value(e) }) < 0)
			return -ENOMEM;
	return 0;
}

static int print_info(const json_t *m)
{
	const json_t *features = json_object_get(json_object_get(m, "kernel"), "features");
	const json_t *sockets = json_object_get(m, "sockets");
	_cleanup_free_ char *api = NULL, *present = join(NULL, features, true);
	_cleanup_free_ char *missing = join(NULL, features, false);
	_cleanup_free_ char *extensions = join(json_object_get(m, "api_extensions"), NULL, false);
	_cleanup_(table_freep) struct table *t = table_new(2, NULL);
	const char *rows[][2] = {
		{ "VERSION", json_string_value(json_object_get(m, "version")) },
		{ "API", api },
		{ "ACCESS", json_string_value(json_object_get(m, "auth")) },
		{ "KERNEL", json_string_value(json_object_get(json_object_get(m, "kernel"), "release")) },
		{ "FEATURES", present },
		{ "MISSING", missing && *missing ? missing : "none" },
		{ "API SOCKET", json_string_value(json_object_get(sockets, "api")) },
		{ "LXC SOCKET", json_string_value(json_object_get(sockets, "lxc")) },
		{ "OCI SOCKET", json_string_value(json_object_get(sockets, "oci")) },
		{ "STATE DIR", json_string_value(json_object_get(m, "state_dir")) },
		{ "STARTED", json_string_value(json_object_get(m, "started_at")) },
		{ "FD STORE", json_is_true(json_object_get(m, "fd_store")) ? "yes" : "no" },
		{ "EXTENSIONS", extensions },
	};

	if (!t || !present || !missing || !extensions ||
	    asprintf(&api, "%s (%s)", strempty(json_string_value(json_object_get(m, "api_version"))),
		     strempty(json_string_value(json_object_get(m, "api_status")))) < 0)
		return -ENOMEM;
	rows[1][1] = api;
	/* the directory's rows after the state directory's */
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (table_add(t, rows[i]) < 0 ||
		    (strcmp(rows[i][0], "STATE DIR") == 0 &&
		     add_config_dir_rows(t, json_object_get(m, "config_dir")) < 0))
			return -ENOMEM;
	table_print(t, stdout);
	return 0;
}

int cmd_info(const struct cli *c)
{
	return cli_show(c, "/1.0", print_info);
}

/* A duration for people: "8.1µs", "1.25ms", "2.00s"; with @is_bound "≤" first, ">1s" past it. */
static void format_seconds(char *buf, size_t size, double s, bool is_bound)
{
	const char *prefix = is_bound ? "≤" : "";

	if (isnan(s))
		snprintf(buf, size, "-");
	else if (isinf(s))
		snprintf(buf, size, "more");
	else if (s < 1e-3)
		snprintf(buf, size, "%s%.3gµs", prefix, s * 1e6);
	else if (s < 1)
		snprintf(buf, size, "%s%.3gms", prefix, s * 1e3);
	else
		snprintf(buf, size, "%s%.3gs", prefix, s);
}

static int add_syscall_row(struct table *t, const struct prom_container *pc,
			   const struct prom_syscall *s, const char *listeners)
{
	char n[5][24], mean[24], p50[24], p99[24];

	snprintf(n[0], sizeof(n[0]), "%llu", (unsigned long long)prom_answers(s));
	for (size_t i = 0; i < 4; i++)
		snprintf(n[i + 1], sizeof(n[i + 1]), "%llu", (unsigned long long)s->outcomes[i]);
	format_seconds(mean, sizeof(mean), s->count ? s->sum / (double)s->count : NAN, false);
	format_seconds(p50, sizeof(p50), prom_quantile_bound(s, 0.5), true);
	format_seconds(p99, sizeof(p99), prom_quantile_bound(s, 0.99), true);
	return table_add(t, (const char *const[]){ pc->name, listeners, s->name, n[0], n[1], n[2],
						   n[3], n[4], mean, p50, p99 });
}

static int print_metrics_table(const struct prom_summary *sum, const char *only)
{
	static const char *const headers[] = { "CONTAINER", "LISTENERS", "SYSCALL", "ANSWERS",
					       "EMULATED", "CONTINUED", "ERRNO", "UNREGISTERED",
					       "MEAN", "P50", "P99" };
	_cleanup_(table_freep) struct table *t = table_new(ARRAY_SIZE(headers), headers);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < sum->n_containers; i++) {
		const struct prom_container *pc = &sum->containers[i];
		char listeners[16];

		if (only && strcmp(pc->name, only) != 0)
			continue;
		snprintf(listeners, sizeof(listeners), "%u", pc->listeners_lxc + pc->listeners_oci);
		if (pc->n_syscalls == 0 &&
		    table_add(t, (const char *const[]){ pc->name, listeners, "-", "0", "0", "0", "0",
							"0", "-", "-", "-" }) < 0)
			return -ENOMEM;
		for (size_t k = 0; k < pc->n_syscalls; k++)
			if (add_syscall_row(t, pc, &pc->syscalls[k], listeners) < 0)
				return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

/* A latency bound as JSON: seconds, or null past the last finite bucket and without samples. */
static json_t *bound_json(double s)
{
	return isfinite(s) ? json_real(s) : json_null();
}

static json_t *syscall_json(const struct prom_syscall *s)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "syscall", s->name,
			 "answers", (json_int_t)prom_answers(s), "emulated",
			 (json_int_t)s->outcomes[PROM_EMULATED], "continued",
			 (json_int_t)s->outcomes[PROM_CONTINUED], "errno",
			 (json_int_t)s->outcomes[PROM_ERRNO], "unregistered",
			 (json_int_t)s->outcomes[PROM_UNREGISTERED], "mean_seconds",
			 bound_json(s->count ? s->sum / (double)s->count : NAN), "p50_seconds_at_most",
			 bound_json(prom_quantile_bound(s, 0.5)), "p99_seconds_at_most",
			 bound_json(prom_quantile_bound(s, 0.99)));
}

static json_t *metrics_json(const struct prom_summary *sum, const char *only)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < sum->n_containers; i++) {
		const struct prom_container *pc = &sum->containers[i];
		json_t *syscalls = json_array();

		if (only && strcmp(pc->name, only) != 0) {
			json_decref(syscalls);
			continue;
		}
		for (size_t k = 0; syscalls && k < pc->n_syscalls; k++)
			if (json_array_append_new(syscalls, syscall_json(&pc->syscalls[k])) < 0)
				json_decref(TAKE_PTR(syscalls));
		if (!syscalls ||
		    json_array_append_new(arr, json_pack("{s:s, s:{s:i, s:i}, s:o}", "container",
							 pc->name, "listeners", "lxc",
							 (int)pc->listeners_lxc, "oci",
							 (int)pc->listeners_oci, "syscalls",
							 syscalls)) < 0)
			json_decref(TAKE_PTR(arr));
	}
	return arr;
}

/* The container must exist (a 404 says so) unless it is the unregistered callers' series. */
static int check_container(const struct cli *c, const char *name)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	_cleanup_free_ char *path = NULL;
	json_t *meta;

	if (strcmp(name, "_unregistered") == 0)
		return 0;
	path = client_container_path(name, "");
	if (!path)
		return -ENOMEM;
	return client_call(c, "GET", path, NULL, NULL, &rep, &meta);
}

int cmd_metrics(const struct cli *c)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	_cleanup_(prom_summary_clear) struct prom_summary sum = { 0 };
	const char *only = c->n_args ? c->args[0] : NULL;
	json_auto_t *j = NULL;
	size_t line = 0;
	int r;

	r = only ? check_container(c, only) : 0;
	if (r >= 0)
		r = client_request(c, "GET", "/1.0/metrics", NULL, NULL, &rep);
	if (r < 0)
		return r;
	if (!client_ok(rep))
		return client_report(rep);
	r = prom_parse(rep->data ? rep->data : "", &sum, &line);
	if (r < 0) {
		fprintf(stderr, "Error: line %zu of the daemon's metrics does not parse\n", line);
		return r;
	}
	if (c->format == FORMAT_TABLE)
		return print_metrics_table(&sum, only);
	j = metrics_json(&sum, only);
	return j ? output_document(stdout, c->format, j) : -ENOMEM;
}

/* The names in the list at @path ("/1.0/containers" or "/1.0/profiles"), one a line. */
static int complete_names(const struct cli *c, const char *path)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	json_t *meta, *url;
	size_t i;
	int r;

	r = client_call(c, "GET", path, NULL, NULL, &rep, &meta);
	if (r < 0)
		return r;
	json_array_foreach(meta, i, url) {
		const char *s = strempty(json_string_value(url)), *slash = strrchr(s, '/');

		printf("%s\n", slash ? slash + 1 : s);
	}
	return 0;
}

/* The keys the daemon knows, short; with @only_bool, those of type bool. */
static int complete_keys(const struct cli *c, bool only_bool)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	const char *key;
	json_t *meta, *v;
	int r;

	r = client_call(c, "GET", "/1.0/metadata/configuration", NULL, NULL, &rep, &meta);
	if (r < 0)
		return r;
	json_object_foreach(json_object_get(meta, "keys"), key, v)
		if (!only_bool ||
		    strcmp(strempty(json_string_value(json_object_get(v, "type"))), "bool") == 0)
			printf("%s\n", keys_shorten(key));
	return 0;
}

int cmd_complete(const struct cli *c)
{
	const char *what = c->args[0];

	if (strcmp(what, "containers") == 0)
		return complete_names(c, "/1.0/containers");
	if (strcmp(what, "profiles") == 0)
		return complete_names(c, "/1.0/profiles");
	if (strcmp(what, "keys") == 0)
		return complete_keys(c, false);
	if (strcmp(what, "bool-keys") == 0)
		return complete_keys(c, true);
	fprintf(stderr, "Error: __complete takes containers, profiles, keys or bool-keys, not '%s'\n", what);
	return -EINVAL;
}
