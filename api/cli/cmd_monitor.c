/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl monitor [--type TYPE] [--container NAME]: follow GET
 * /1.0/events, newline-delimited JSON objects {"type", "timestamp",
 * "metadata": {"action", ...}} over a chunked answer, and print each event as
 * it arrives: one line "TIMESTAMP TYPE ACTION key=value..." (table), the
 * object on one line (json), or one YAML document each (yaml). Runs until
 * the daemon ends the stream or the user interrupts it.
 */
#include <stdio.h>
#include <string.h>

#include "api/cli/client.h"
#include "api/cli/output.h"

/* "key=value" of every metadata member but the action, values escaped for the terminal. */
static int print_members(const json_t *metadata)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)metadata, key, v) {
		_cleanup_free_ char *value = NULL, *shown_key = NULL, *shown = NULL;

		if (strcmp(key, "action") == 0)
			continue;
		value = output_scalar(v);
		shown_key = output_escape(key);
		shown = output_escape(value);
		if (!value || !shown_key || !shown)
			return -ENOMEM;
		printf(" %s=%s", shown_key, shown);
	}
	return 0;
}

static int print_event_line(const json_t *ev)
{
	const json_t *metadata = json_object_get(ev, "metadata");
	_cleanup_free_ char *time = output_escape(json_string_value(json_object_get(ev, "timestamp")));
	_cleanup_free_ char *type = output_escape(json_string_value(json_object_get(ev, "type")));
	_cleanup_free_ char *action = output_escape(
		json_string_value(json_object_get(metadata, "action")));
	int r;

	if (!time || !type || !action)
		return -ENOMEM;
	printf("%s %s %s", *time ? time : "-", *type ? type : "-", *action ? action : "-");
	r = print_members(metadata);
	fputc('\n', stdout);
	return r;
}

static int on_event(const char *line, size_t len, void *userdata)
{
	const struct cli *c = userdata;
	json_auto_t *ev = NULL;
	json_error_t err;
	int r;

	if (strspn(line, " \t\r") == len)
		return 0; /* a keep-alive */
	ev = json_loadb(line, len, 0, &err);
	if (!json_is_object(ev)) {
		_cleanup_free_ char *shown = output_escape(line);

		fprintf(stderr, "Warning: skipping a line that is not an event: %.200s\n",
			strempty(shown));
		return 0;
	}
	if (c->format == FORMAT_TABLE)
		r = print_event_line(ev);
	else if (c->format == FORMAT_JSON)
		r = json_dumpf(ev, stdout, JSON_COMPACT) < 0 || fputc('\n', stdout) == EOF ? -EIO : 0;
	else
		r = fputs("---\n", stdout) == EOF ? -EIO : output_yaml(stdout, ev);
	/* each event reaches a pipe as it happens, not when a buffer fills */
	if (fflush(stdout) == EOF)
		return -EIO;
	return r;
}

/* "/1.0/events" with the filters asked for, values encoded. */
static char *events_path(const struct cli *c)
{
	_cleanup_free_ char *type = c->event_type ? client_escape(c->event_type) : NULL;
	_cleanup_free_ char *container =
		c->event_container ? client_escape(c->event_container) : NULL;
	char *path = NULL;

	if ((c->event_type && !type) || (c->event_container && !container))
		return NULL;
	if (asprintf(&path, "/1.0/events%s%s%s%s%s%s", type || container ? "?" : "",
		     type ? "type=" : "", strempty(type), type && container ? "&" : "",
		     container ? "container=" : "", strempty(container)) < 0)
		return NULL;
	return path;
}

int cmd_monitor(const struct cli *c)
{
	_cleanup_free_ char *path = events_path(c);
	int r;

	if (!path)
		return -ENOMEM;
	r = client_stream(c, path, on_event, (void *)c);
	if (r == -ENOENT)
		fprintf(stderr, "(this daemon has no event stream yet: GET /1.0/events is newer)\n");
	return r;
}
