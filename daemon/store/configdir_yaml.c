/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML profile files (configdir_yaml.h), through libyaml's event parser when
 * the daemon is built with it (-Dyaml). Pure; any thread.
 */
#include "daemon/store/configdir_yaml.h"

#if HAVE_LIBYAML
#include <string.h>
#include <yaml.h>

#include "daemon/escape.h"

#define YAML_DEPTH_MAX 8

struct yaml_reader {
	yaml_parser_t parser;
	struct icd_error *err;
};

static int parse_node(struct yaml_reader *y, yaml_event_t *ev, unsigned depth, json_t **ret);

static int next_event(struct yaml_reader *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	return icd_error_set(y->err, -EINVAL, "YAML line %zu: %s",
			     y->parser.problem_mark.line + 1,
			     y->parser.problem ? y->parser.problem : "syntax error");
}

/* The items of a sequence or the pairs of a mapping, up to its end event. */
static int parse_children(struct yaml_reader *y, json_t *parent, unsigned depth)
{
	for (;;) {
		yaml_event_t ev;
		json_t *key = NULL, *value = NULL;
		int r = next_event(y, &ev);

		if (r < 0)
			return r;
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		r = parse_node(y, &ev, depth + 1, json_is_object(parent) ? &key : &value);
		if (r >= 0 && json_is_object(parent) && !json_is_string(key))
			r = icd_error_set(y->err, -EINVAL, "YAML: mapping keys must be scalars");
		if (r >= 0 && key) {
			yaml_event_t vev;

			r = next_event(y, &vev);
			if (r >= 0)
				r = parse_node(y, &vev, depth + 1, &value);
		}
		if (r >= 0 && key && json_object_get(parent, json_string_value(key)))
			r = icd_error_set(y->err, -EINVAL, "YAML: duplicate key '%s'",
					  ESCAPED(json_string_value(key), 64));
		if (r >= 0)
			r = key ? json_object_set_new(parent, json_string_value(key), value)
				: json_array_append_new(parent, value);
		else
			json_decref(value);
		json_decref(key);
		if (r < 0)
			return r == -1 ? -ENOMEM : r;
	}
}

/* The node starting with @ev (consumed) into *ret. */
static int parse_node(struct yaml_reader *y, yaml_event_t *ev, unsigned depth, json_t **ret)
{
	yaml_event_type_t type = ev->type;
	json_t *j = NULL;
	int r = 0;

	if (depth > YAML_DEPTH_MAX)
		r = icd_error_set(y->err, -EINVAL, "YAML nested deeper than %d", YAML_DEPTH_MAX);
	else if (type == YAML_SCALAR_EVENT &&
		 memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
		/* jansson keeps it, but its C-string accessors stop there: "KEY\0junk" would read as KEY */
		r = icd_error_set(y->err, -EINVAL, "YAML line %zu: a NUL character in a scalar",
				  ev->start_mark.line + 1);
	else if (type == YAML_SCALAR_EVENT)
		j = json_stringn((const char *)ev->data.scalar.value, ev->data.scalar.length);
	else if (type == YAML_SEQUENCE_START_EVENT)
		j = json_array();
	else if (type == YAML_MAPPING_START_EVENT)
		j = json_object();
	else
		r = icd_error_set(y->err, -EINVAL, "YAML: anchors, aliases and tags are not "
				  "supported");
	yaml_event_delete(ev);
	if (r >= 0 && !j)
		r = type == YAML_SCALAR_EVENT ? icd_error_set(y->err, -EINVAL, "YAML: invalid UTF-8")
					      : -ENOMEM;
	if (r >= 0 && type != YAML_SCALAR_EVENT)
		r = parse_children(y, j, depth);
	if (r < 0) {
		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

/* Skip events up to the first node of the document: stream and document starts. */
static int first_node(struct yaml_reader *y, yaml_event_t *ev)
{
	for (;;) {
		int r = next_event(y, ev);

		if (r < 0)
			return r;
		if (ev->type != YAML_STREAM_START_EVENT && ev->type != YAML_DOCUMENT_START_EVENT)
			return 0;
		yaml_event_delete(ev);
	}
}

int configdir_yaml_to_json(const char *buf, size_t len, json_t **ret, struct icd_error *reterr)
{
	struct yaml_reader y = { .err = reterr };
	yaml_event_t ev;
	json_t *j = NULL;
	int r;

	if (!yaml_parser_initialize(&y.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)buf, len);
	r = first_node(&y, &ev);
	if (r >= 0 && ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		r = icd_error_set(reterr, -EINVAL, "YAML: empty document");
	} else if (r >= 0) {
		r = parse_node(&y, &ev, 0, &j);
	}
	/* one document only: its end, then the stream's */
	for (int i = 0; r >= 0 && i < 2; i++) {
		r = next_event(&y, &ev);
		if (r >= 0 && ev.type != (i ? YAML_STREAM_END_EVENT : YAML_DOCUMENT_END_EVENT))
			r = icd_error_set(reterr, -EINVAL, "YAML: more than one document");
		yaml_event_delete(&ev); /* zeroed by a failed parse */
	}
	yaml_parser_delete(&y.parser);
	if (r < 0) {
		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

#else

int configdir_yaml_to_json(const char *buf, size_t len, json_t **ret, struct icd_error *reterr)
{
	(void)buf;
	(void)len;
	(void)ret;
	return icd_error_set(reterr, -EOPNOTSUPP,
			     "YAML files need interceptd built with libyaml (-Dyaml=enabled); "
			     "use JSON");
}

#endif
