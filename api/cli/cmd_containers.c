/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl list, show, create, delete and state: one request each to
 * /1.0/containers[/NAME[/state]], printed as a table or as the daemon's
 * metadata in JSON or YAML (cli_show(), which the other GET commands use too).
 */
#include <stdio.h>
#include <string.h>

#include "api/cli/client.h"
#include "api/cli/keys.h"
#include "api/cli/output.h"

/* A container's config for the list: "mknod, sysinfo, mount.allowed=ext4", short keys. */
static char *config_summary(const json_t *config)
{
	char *text = NULL;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)config, key, v) {
		const char *value = strempty(json_string_value(v));
		bool is_on = strcmp(value, "true") == 0;

		if (output_join(&text, keys_shorten(key), is_on ? "" : "=", is_on ? "" : value) < 0)
			return NULL;
	}
	return text ? text : strdup("");
}

static int print_list(const json_t *list)
{
	static const char *const headers[] = { "NAME", "CREATED", "CONFIG" };
	_cleanup_(table_freep) struct table *t = table_new(3, headers);
	json_t *item;
	size_t i;

	if (!t)
		return -ENOMEM;
	json_array_foreach(list, i, item) {
		_cleanup_free_ char *config = config_summary(json_object_get(item, "config"));
		const char *row[] = { json_string_value(json_object_get(item, "name")),
				      json_string_value(json_object_get(item, "created_at")), config };

		if (!config || table_add(t, row) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

int cli_show(const struct cli *c, const char *path, int (*print_table)(const json_t *meta))
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	json_t *meta;
	int r;

	r = client_call(c, "GET", path, NULL, NULL, &rep, &meta);
	if (r < 0)
		return r;
	if (c->format != FORMAT_TABLE || !print_table)
		return output_document(stdout, c->format, meta);
	return print_table(meta);
}

int cli_show_container(const struct cli *c, const char *suffix,
		       int (*print_table)(const json_t *meta))
{
	_cleanup_free_ char *path = client_object_path(c, c->args[0], suffix);

	return path ? cli_show(c, path, print_table) : -ENOMEM;
}

int cmd_list(const struct cli *c)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/1.0/%s?recursion=1", cli_collection(c));
	return cli_show(c, path, print_list);
}

/* Two-column "NAME  VALUE" lines for the fields of @obj listed in @fields. */
static int print_fields(const json_t *obj, const char *const *fields, const char *const *labels,
			size_t n)
{
	_cleanup_(table_freep) struct table *t = table_new(2, NULL);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *value = output_scalar(json_object_get(obj, fields[i]));
		const char *row[] = { labels[i], value };

		if (!value || table_add(t, row) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

/* "a, b" of a JSON array of strings; "" when empty. */
static char *join_names(const json_t *arr)
{
	char *text = NULL;
	json_t *v;
	size_t i;

	json_array_foreach((json_t *)arr, i, v)
		if (output_join(&text, strempty(json_string_value(v)), "", "") < 0)
			return NULL;
	return text ? text : strdup("");
}

/*
 * The keys in effect: a container's expanded configuration, each marked as
 * its own or from its profiles; a profile's own configuration.
 */
static int print_keys(const json_t *meta)
{
	static const char *const headers[] = { "KEY", "VALUE", "FROM" };
	const json_t *own = json_object_get(meta, "config");
	const json_t *expanded = json_object_get(meta, "expanded_config");
	_cleanup_(table_freep) struct table *t = table_new(expanded ? 3 : 2, headers);
	const char *key;
	json_t *v;

	if (!t)
		return -ENOMEM;
	json_object_foreach((json_t *)(expanded ? expanded : own), key, v) {
		const char *from = json_object_get(own, key) ? "own" : "profile";
		const char *row[] = { key, json_string_value(v), from };

		if (table_add(t, row) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

static int print_container(const json_t *meta)
{
	static const char *const fields[] = { "name", "created_at", "etag" };
	static const char *const labels[] = { "NAME", "CREATED", "ETAG" };
	const json_t *profiles = json_object_get(meta, "profiles");
	int r;

	r = print_fields(meta, fields, labels, ARRAY_SIZE(fields));
	if (r < 0)
		return r;
	if (json_array_size(profiles) > 0) {
		_cleanup_free_ char *names = join_names(profiles), *shown = NULL;

		shown = names ? output_escape(names) : NULL;
		if (!shown)
			return -ENOMEM;
		printf("PROFILES  %s\n", shown);
	}
	fputc('\n', stdout);
	return print_keys(meta);
}

int cmd_show(const struct cli *c)
{
	return cli_show_container(c, "", print_container);
}

/* The "config" object of KEY=VALUE arguments (checked by main already). */
static json_t *config_from_args(char *const *args, size_t n)
{
	json_t *config = json_object();

	for (size_t i = 0; config && i < n; i++) {
		_cleanup_free_ char *key = NULL;
		const char *value;

		if (keys_parse_assignment(args[i], &key, &value) < 0 ||
		    json_object_set_new(config, key, json_string(value)) < 0)
			json_decref(TAKE_PTR(config));
	}
	return config;
}

int cmd_create(const struct cli *c)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	json_t *config = config_from_args(c->args + 1, c->n_args - 1), *meta;
	json_auto_t *body = NULL;
	char path[64];
	int r;

	if (!config)
		return -ENOMEM;
	body = json_pack("{s:s, s:o}", "name", c->args[0], "config", config);
	if (!body)
		return -ENOMEM;
	(void)snprintf(path, sizeof(path), "/1.0/%s", cli_collection(c));
	r = client_call(c, "POST", path, body, NULL, &rep, &meta);
	if (r < 0)
		return r;
	return c->format == FORMAT_TABLE ? 0 : output_document(stdout, c->format, meta);
}

int cmd_delete(const struct cli *c)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	_cleanup_free_ char *path = client_object_path(c, c->args[0], "");
	json_t *meta;

	if (!path)
		return -ENOMEM;
	return client_call(c, "DELETE", path, NULL, NULL, &rep, &meta);
}

static int print_listeners(const json_t *listeners)
{
	static const char *const headers[] = { "SOURCE", "PID", "ATTACHED" };
	_cleanup_(table_freep) struct table *t = table_new(3, headers);
	json_t *l;
	size_t i;

	if (!t)
		return -ENOMEM;
	if (json_array_size(listeners) == 0) {
		printf("No listener attached\n");
		return 0;
	}
	json_array_foreach(listeners, i, l) {
		_cleanup_free_ char *pid = output_scalar(json_object_get(l, "pid"));
		const char *row[] = { json_string_value(json_object_get(l, "source")), pid,
				      json_string_value(json_object_get(l, "attached_at")) };

		if (!pid || table_add(t, row) < 0)
			return -ENOMEM;
	}
	table_print(t, stdout);
	return 0;
}

/* One row per syscall with any answer; the outcome columns as the daemon names them. */
static int print_counters(const json_t *counters)
{
	static const char *const headers[] = { "SYSCALL", "EMULATED", "CONTINUED", "ERRNO",
					       "UNREGISTERED" };
	static const char *const outcomes[] = { "emulated", "continued", "errno", "unregistered" };
	_cleanup_(table_freep) struct table *t = table_new(5, headers);
	const char *syscall;
	bool is_any = false;
	json_t *o;

	if (!t)
		return -ENOMEM;
	json_object_foreach((json_t *)counters, syscall, o) {
		char n[4][24];
		json_int_t total = 0;

		for (size_t i = 0; i < 4; i++) {
			json_int_t v = json_integer_value(json_object_get(o, outcomes[i]));

			snprintf(n[i], sizeof(n[i]), "%" JSON_INTEGER_FORMAT, v);
			total += v;
		}
		if (total == 0)
			continue;
		is_any = true;
		if (table_add(t, (const char *const[]){ syscall, n[0], n[1], n[2], n[3] }) < 0)
			return -ENOMEM;
	}
	if (is_any)
		table_print(t, stdout);
	else
		printf("No trapped call answered yet\n");
	return 0;
}

static int print_state(const json_t *meta)
{
	const json_t *restart = json_object_get(meta, "restart_required");
	json_t *key;
	size_t i;
	int r;

	r = print_listeners(json_object_get(meta, "listeners"));
	if (r >= 0) {
		fputc('\n', stdout);
		r = print_counters(json_object_get(meta, "counters"));
	}
	if (r < 0)
		return r;
	printf("\nRestart required for: ");
	if (json_array_size(restart) == 0)
		printf("none");
	json_array_foreach(restart, i, key) {
		_cleanup_free_ char *text = output_escape(keys_shorten(strempty(json_string_value(key))));

		printf("%s%s", i ? ", " : "", strempty(text));
	}
	fputc('\n', stdout);
	return 0;
}

int cmd_state(const struct cli *c)
{
	return cli_show_container(c, "/state", print_state);
}
