/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reader of the daemon's Prometheus text exposition (promtext.h), limited
 * to the per-container families. Lines are "NAME{LABEL="VALUE",...} VALUE
 * [TIMESTAMP]", label values escaped with \\, \" and \n (format 0.0.4). Pure.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/cli/promtext.h"

enum family {
	FAMILY_OTHER,
	FAMILY_LISTENERS,
	FAMILY_SYSCALLS,
	FAMILY_BUCKET,
	FAMILY_SUM,
	FAMILY_COUNT,
};

/* The labels the families above carry; longer values do not parse. */
struct sample {
	enum family family;
	char container[256], syscall[64], outcome[32], source[16], le[32];
	double value;
};

static enum family family_of(const char *name, size_t len)
{
	static const struct {
		const char *name;
		enum family family;
	} families[] = {
		{ "interceptd_listeners", FAMILY_LISTENERS },
		{ "interceptd_syscalls_total", FAMILY_SYSCALLS },
		{ "interceptd_syscall_duration_seconds_bucket", FAMILY_BUCKET },
		{ "interceptd_syscall_duration_seconds_sum", FAMILY_SUM },
		{ "interceptd_syscall_duration_seconds_count", FAMILY_COUNT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		if (strlen(families[i].name) == len && memcmp(families[i].name, name, len) == 0)
			return families[i].family;
	return FAMILY_OTHER;
}

/* Where a label's value goes, or NULL for a label that is not kept. */
static char *slot_of(struct sample *s, const char *name, size_t len, size_t *ret_size)
{
#define SLOT(field)                                                                                \
	if (len == strlen(#field) && memcmp(name, #field, len) == 0) {                             \
		*ret_size = sizeof(s->field);                                                      \
		return s->field;                                                                   \
	}
	SLOT(container)
	SLOT(syscall)
	SLOT(outcome)
	SLOT(source)
	SLOT(le)
#undef SLOT
	return NULL;
}

/* Read a quoted label value at *p into @out (@size bytes, may be NULL: skipped). */
static bool read_label_value(const char **p, char *out, size_t size)
{
	const char *q = *p;
	size_t n = 0;

	if (*q++ != '"')
		return false;
	for (; *q && *q != '"'; q++) {
		char ch = *q;

		if (ch == '\\') {
			q++;
			if (*q != '\\' && *q != '"' && *q != 'n')
				return false;
			ch = *q == 'n' ? '\n' : *q;
		}
		if (out && n + 1 >= size)
			return false;
		if (out)
			out[n++] = ch;
	}
	if (*q != '"')
		return false;
	if (out)
		out[n] = '\0';
	*p = q + 1;
	return true;
}

static bool read_labels(const char **p, struct sample *s)
{
	const char *q = *p + 1; /* after '{' */

	while (*q != '}') {
		size_t len = strcspn(q, "=,} "), size = 0;
		char *slot;

		if (len == 0 || q[len] != '=')
			return false;
		slot = slot_of(s, q, len, &size);
		q += len + 1;
		if (!read_label_value(&q, slot, size))
			return false;
		if (*q == ',')
			q++;
		else if (*q != '}')
			return false;
	}
	*p = q + 1;
	return true;
}

/* 0: a sample of ours in @s; 1: a line to skip; -EBADMSG. */
static int parse_line(const char *line, struct sample *s)
{
	size_t len = strcspn(line, "{ \t");
	const char *p = line + len;
	char *end;

	if (line[0] == '#' || line[0] == '\0')
		return 1;
	*s = (struct sample){ .family = family_of(line, len) };
	if (s->family == FAMILY_OTHER)
		return 1;
	if (*p == '{' && !read_labels(&p, s))
		return -EBADMSG;
	if (*p != ' ' && *p != '\t')
		return -EBADMSG;
	s->value = strtod(p, &end);
	if (end == p || (*end && *end != ' ' && *end != '\t'))
		return -EBADMSG;
	return 0;
}

static struct prom_container *container_get(struct prom_summary *sum, const char *name)
{
	struct prom_container *grown;

	for (size_t i = 0; i < sum->n_containers; i++)
		if (strcmp(sum->containers[i].name, name) == 0)
			return &sum->containers[i];
	grown = realloc(sum->containers, (sum->n_containers + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	sum->containers = grown;
	grown[sum->n_containers] = (struct prom_container){ .name = strdup(name) };
	if (!grown[sum->n_containers].name)
		return NULL;
	return &grown[sum->n_containers++];
}

static struct prom_syscall *syscall_get(struct prom_container *c, const char *name)
{
	struct prom_syscall *grown;

	for (size_t i = 0; i < c->n_syscalls; i++)
		if (strcmp(c->syscalls[i].name, name) == 0)
			return &c->syscalls[i];
	grown = realloc(c->syscalls, (c->n_syscalls + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	c->syscalls = grown;
	grown[c->n_syscalls] = (struct prom_syscall){ .name = strdup(name) };
	if (!grown[c->n_syscalls].name)
		return NULL;
	return &grown[c->n_syscalls++];
}

static int add_outcome(struct prom_syscall *sc, const struct sample *s)
{
	static const char *const names[PROM_OUTCOME_COUNT] = { "emulated", "continued", "errno",
							       "unregistered" };

	for (size_t i = 0; i < PROM_OUTCOME_COUNT; i++)
		if (strcmp(s->outcome, names[i]) == 0) {
			sc->outcomes[i] = (uint64_t)s->value;
			return 0;
		}
	return 0; /* an outcome of a newer daemon: not summarized */
}

static int add_bucket(struct prom_syscall *sc, const struct sample *s)
{
	char *end;
	double le = strtod(s->le, &end);

	if (end == s->le || *end)
		return -EBADMSG;
	if (isinf(le))
		return 0; /* the +Inf bucket is the count */
	if (sc->n_buckets == PROM_BUCKETS_MAX ||
	    (sc->n_buckets > 0 && le <= sc->le[sc->n_buckets - 1]))
		return -EBADMSG;
	sc->le[sc->n_buckets] = le;
	sc->cumulative[sc->n_buckets++] = (uint64_t)s->value;
	return 0;
}

static int add_sample(struct prom_summary *sum, const struct sample *s)
{
	struct prom_container *c;
	struct prom_syscall *sc;

	if (!s->container[0] || !isfinite(s->value) || s->value < 0)
		return -EBADMSG;
	c = container_get(sum, s->container);
	if (!c)
		return -ENOMEM;
	if (s->family == FAMILY_LISTENERS) {
		if (strcmp(s->source, "lxc") == 0)
			c->listeners_lxc = (unsigned)s->value;
		else if (strcmp(s->source, "oci") == 0)
			c->listeners_oci = (unsigned)s->value;
		return 0;
	}
	if (!s->syscall[0])
		return -EBADMSG;
	sc = syscall_get(c, s->syscall);
	if (!sc)
		return -ENOMEM;
	switch (s->family) {
	case FAMILY_SYSCALLS: return add_outcome(sc, s);
	case FAMILY_BUCKET: return add_bucket(sc, s);
	case FAMILY_SUM: sc->sum = s->value; return 0;
	default: sc->count = (uint64_t)s->value; return 0;
	}
}

int prom_parse(const char *text, struct prom_summary *ret, size_t *ret_line)
{
	struct prom_summary sum = { 0 };
	size_t line_no = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		_cleanup_free_ char *line = strndup(p, len);
		struct sample s;
		int r;

		line_no++;
		p += len + (p[len] == '\n');
		r = line ? parse_line(line, &s) : -ENOMEM;
		if (r == 0)
			r = add_sample(&sum, &s);
		if (r < 0) {
			prom_summary_clear(&sum);
			if (ret_line)
				*ret_line = line_no;
			return r;
		}
	}
	*ret = sum;
	return 0;
}

void prom_summary_clear(struct prom_summary *s)
{
	for (size_t i = 0; i < s->n_containers; i++) {
		for (size_t k = 0; k < s->containers[i].n_syscalls; k++)
			free(s->containers[i].syscalls[k].name);
		free(s->containers[i].syscalls);
		free(s->containers[i].name);
	}
	free(s->containers);
	*s = (struct prom_summary){ 0 };
}

const struct prom_container *prom_find(const struct prom_summary *s, const char *name)
{
	for (size_t i = 0; i < s->n_containers; i++)
		if (strcmp(s->containers[i].name, name) == 0)
			return &s->containers[i];
	return NULL;
}

uint64_t prom_answers(const struct prom_syscall *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < PROM_OUTCOME_COUNT; i++)
		n += s->outcomes[i];
	return n;
}

double prom_quantile_bound(const struct prom_syscall *s, double q)
{
	double rank = ceil(q * (double)s->count);

	if (s->count == 0)
		return NAN;
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < s->n_buckets; i++)
		if ((double)s->cumulative[i] >= rank)
			return s->le[i];
	return INFINITY;
}
