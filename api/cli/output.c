/* SPDX-License-Identifier: Apache-2.0 */
/* interceptctl's output (output.h): documents and tables on stdout. */
#include <string.h>

#include "api/cli/output.h"
#include "daemon/escape.h"

static char *mfree_str(char *s)
{
	free(s);
	return NULL;
}

struct table {
	size_t n_cols, n_rows; /* rows include the header */
	char **cells;	       /* owned, row-major */
};

int output_format_from_string(const char *s)
{
	if (strcmp(s, "table") == 0)
		return FORMAT_TABLE;
	if (strcmp(s, "json") == 0)
		return FORMAT_JSON;
	if (strcmp(s, "yaml") == 0)
		return output_yaml_available() ? FORMAT_YAML : -EOPNOTSUPP;
	return -EINVAL;
}

int output_document(FILE *f, enum output_format format, const json_t *j)
{
	if (format == FORMAT_YAML)
		return output_yaml(f, j);
	if (json_dumpf(j, f, JSON_INDENT(2) | JSON_ENCODE_ANY) < 0)
		return -EIO;
	fputc('\n', f);
	return 0;
}

char *output_escape(const char *s)
{
	size_t len;
	char *out;

	s = s ? s : "";
	len = strlen(s);
	out = malloc(len * ESCAPE_BYTE_LEN + 1);
	if (out)
		(void)escape_text(out, len * ESCAPE_BYTE_LEN + 1, s, len);
	return out;
}

char *output_scalar(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!v)
		return strdup("");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int output_join(char **text, const char *a, const char *b, const char *c)
{
	char *joined = NULL;

	if (asprintf(&joined, "%s%s%s%s%s", *text ? *text : "", *text ? ", " : "", a, b, c) < 0) {
		*text = mfree_str(*text);
		return -ENOMEM;
	}
	free(*text);
	*text = joined;
	return 0;
}

struct table *table_new(size_t n_cols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->n_cols = n_cols;
	if (headers && table_add(t, headers) < 0)
		return table_free(t);
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(char *));

	if (!grown)
		return -ENOMEM;
	t->cells = grown;
	for (size_t i = 0; i < t->n_cols; i++) {
		grown[t->n_rows * t->n_cols + i] = output_escape(cells[i]);
		if (!grown[t->n_rows * t->n_cols + i]) {
			for (size_t k = 0; k < i; k++)
				free(grown[t->n_rows * t->n_cols + k]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

/* Columns a cell takes on a terminal: its characters (it is valid UTF-8 once escaped). */
static size_t width_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void table_print(const struct table *t, FILE *f)
{
	_cleanup_free_ size_t *width = calloc(t->n_cols, sizeof(size_t));

	if (!width)
		return;
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_cols; c++) {
			size_t w = width_of(t->cells[r * t->n_cols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->n_rows; r++) {
		size_t pending = 0; /* padding owed before the next non-empty cell: none trails */

		for (size_t c = 0; c < t->n_cols; c++) {
			const char *cell = t->cells[r * t->n_cols + c];

			if (*cell) {
				fprintf(f, "%*s%s", (int)pending, "", cell);
				pending = 0;
			}
			pending += width[c] - width_of(cell) + 2;
		}
		fputc('\n', f);
	}
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	return NULL;
}
