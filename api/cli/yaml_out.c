/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON values as YAML documents through libyaml's emitter (output.h). libyaml
 * quotes what YAML's syntax needs quoted, but leaves type resolution to the
 * reader: a plain `true`, `no`, `1`, `~` or `2026-01-01` reads back as a
 * boolean, a number, null or a date (YAML 1.1 readers such as PyYAML take
 * `yes`, `on` and `0x1f` too). So a string is written plain only when it
 * cannot be read as anything but a string, and double-quoted otherwise; JSON
 * booleans, numbers and null are written plain. Built only with -Dyaml.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/cli/output.h"

#if HAVE_LIBYAML
#include <yaml.h>

/* A string YAML 1.1 and 1.2 readers both take as the string itself when unquoted. */
static bool is_plain_safe(const char *s)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false", "on", "off",
					     "null" };

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '/'))
		return false; /* digits, signs, '.', '~', '-', indicators, and "" */
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_./-", *p)))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev, int initialized)
{
	if (!initialized || !yaml_emitter_emit(e, ev))
		return -EIO; /* yaml_emitter_emit() frees the event either way */
	return 0;
}

static int emit_string(yaml_emitter_t *e, const char *s, size_t len)
{
	bool plain = is_plain_safe(s) && strlen(s) == len;
	yaml_event_t ev;

	return emit(e, &ev,
		    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, plain,
						 !plain,
						 plain ? YAML_PLAIN_SCALAR_STYLE
						       : YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

/*
 * A real as JSON spells it, made a float for YAML 1.1 readers too: those want a
 * '.' in the mantissa and a sign in the exponent ("1e20" is a string to them).
 */
static char *real_text(const json_t *v)
{
	_cleanup_free_ char *json = json_dumps(v, JSON_ENCODE_ANY);
	char *e, *out = NULL;

	if (!json)
		return NULL;
	e = strpbrk(json, "eE");
	if (!e)
		return TAKE_PTR(json); /* jansson writes "1.0", never "1" */
	if (asprintf(&out, "%.*s%s%c%s%s", (int)(e - json), json,
		     memchr(json, '.', (size_t)(e - json)) ? "" : ".0", e[0],
		     e[1] == '-' || e[1] == '+' ? "" : "+", e + 1) < 0)
		return NULL;
	return out;
}

/* true, false, null and numbers: plain, as JSON spells them (1.0 stays a float). */
static int emit_other_scalar(yaml_emitter_t *e, const json_t *v)
{
	_cleanup_free_ char *text = json_is_real(v) ? real_text(v) : json_dumps(v, JSON_ENCODE_ANY);
	yaml_event_t ev;

	if (!text)
		return -ENOMEM;
	return emit(e, &ev,
		    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text,
						 (int)strlen(text), 1, 0, YAML_PLAIN_SCALAR_STYLE));
}

static int emit_value(yaml_emitter_t *e, const json_t *v);

static int emit_object(yaml_emitter_t *e, const json_t *v)
{
	const char *key;
	yaml_event_t ev;
	json_t *item;
	int r;

	r = emit(e, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							     YAML_BLOCK_MAPPING_STYLE));
	json_object_foreach((json_t *)v, key, item) {
		if (r >= 0)
			r = emit_string(e, key, strlen(key));
		if (r >= 0)
			r = emit_value(e, item);
	}
	return r < 0 ? r : emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static int emit_array(yaml_emitter_t *e, const json_t *v)
{
	yaml_event_t ev;
	json_t *item;
	size_t i;
	int r;

	r = emit(e, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							      YAML_BLOCK_SEQUENCE_STYLE));
	json_array_foreach(v, i, item)
		if (r >= 0)
			r = emit_value(e, item);
	return r < 0 ? r : emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int emit_value(yaml_emitter_t *e, const json_t *v)
{
	if (json_is_object(v))
		return emit_object(e, v);
	if (json_is_array(v))
		return emit_array(e, v);
	if (json_is_string(v))
		return emit_string(e, json_string_value(v), json_string_length(v));
	return emit_other_scalar(e, v);
}

static int write_to(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

static int emit_document(yaml_emitter_t *e, const json_t *j)
{
	yaml_event_t ev;
	int r;

	r = emit(e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	if (r >= 0)
		r = emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (r >= 0)
		r = emit_value(e, j);
	if (r >= 0)
		r = emit(e, &ev, yaml_document_end_event_initialize(&ev, 1));
	if (r >= 0)
		r = emit(e, &ev, yaml_stream_end_event_initialize(&ev));
	return r;
}

int output_yaml(FILE *f, const json_t *j)
{
	yaml_emitter_t e;
	int r;

	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output(&e, write_to, f);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1); /* long strings stay on one line */
	r = emit_document(&e, j);
	if (r >= 0 && !yaml_emitter_flush(&e))
		r = -EIO;
	yaml_emitter_delete(&e);
	return r;
}

bool output_yaml_available(void)
{
	return true;
}

#else

int output_yaml(FILE *f, const json_t *j)
{
	(void)f;
	(void)j;
	return -EOPNOTSUPP;
}

bool output_yaml_available(void)
{
	return false;
}

#endif
