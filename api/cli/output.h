/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "api/cli/cli.h"
#include "daemon/macro.h"

/*
 * What interceptctl prints: documents (JSON indented by two, or YAML) and
 * aligned tables. Text that came from the daemon is escaped for the terminal
 * in tables (escape.h: no control character reaches it); JSON and YAML carry
 * it exactly, in their own escaping.
 */

/* "table", "json" or "yaml". -EINVAL for another name, -EOPNOTSUPP for yaml without libyaml. */
int output_format_from_string(const char *s);

/* Print @j to @f as JSON (any format but YAML) or YAML, ending in a newline. */
int output_document(FILE *f, enum output_format format, const json_t *j);

/*
 * @j as a YAML document (yaml_out.c, with libyaml). Strings that YAML 1.1 or
 * 1.2 would read as something else ("true", "no", "1", "~", "0x1f", "",
 * "2026-01-01", ...) are double-quoted. Returns 0 or -EOPNOTSUPP when built
 * without libyaml.
 */
int output_yaml(FILE *f, const json_t *j);

/* Whether output_yaml() was built (meson -Dyaml). */
bool output_yaml_available(void);

/* A table: a header row and rows of the same number of cells, printed aligned. */
struct table;

/* A table of @n_cols columns; @headers (n_cols names) is the first row, or NULL for none. */
struct table *table_new(size_t n_cols, const char *const *headers);
/* Add a row of n_cols cells (NULL prints as ""); each is copied, escaped. */
int table_add(struct table *t, const char *const *cells);
/* Print with columns two spaces apart, no blank at the end of a line. */
void table_print(const struct table *t, FILE *f);
struct table *table_free(struct table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct table *, table_free)

/* @s escaped for a terminal (control characters, invalid UTF-8), malloc'd; NULL reads as "". */
char *output_escape(const char *s);

/*
 * Append one item, @a @b and @c concatenated, to the list in *@text ("x, y"),
 * which starts as NULL: ", " goes before every item but the first. On
 * -ENOMEM, *@text is freed and set to NULL.
 */
int output_join(char **text, const char *a, const char *b, const char *c);

/* A scalar JSON value as text for a table: strings as they are, others as compact JSON. malloc'd. */
char *output_scalar(const json_t *v);
