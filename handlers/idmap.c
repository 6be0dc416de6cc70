/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uid_map/gid_map parsing and id translation for the mount handler (the
 * caller's ids inside its namespace for the FUSE helper, hugetlbfs uid=/gid=
 * options to host ids). Stateless; any worker thread; stack buffers only.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/macro.h"
#include "handlers/idmap.h"

/* The largest map file: IDMAP_EXTENTS_MAX lines of three 10-digit numbers. */
#define MAP_FILE_MAX (IDMAP_EXTENTS_MAX * 34 + 1)

/* One unsigned 32-bit decimal number at *s, then blanks. */
static int parse_u32(const char **s, uint32_t *ret)
{
	unsigned long long v = 0;
	const char *p = *s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*ret = (uint32_t)v;
	*s = p;
	return 0;
}

static int parse_line(const char *line, const char *end, struct idmap_extent *ret)
{
	const char *p = line;
	struct idmap_extent e;

	if (parse_u32(&p, &e.first) < 0 || parse_u32(&p, &e.lower_first) < 0 ||
	    parse_u32(&p, &e.count) < 0)
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end || e.count == 0 || (uint64_t)e.first + e.count > (uint64_t)UINT32_MAX + 1 ||
	    (uint64_t)e.lower_first + e.count > (uint64_t)UINT32_MAX + 1)
		return -EINVAL;
	*ret = e;
	return 0;
}

static bool is_blank(const char *s, const char *end)
{
	for (; s < end; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

int idmap_parse(const char *text, struct idmap *ret)
{
	size_t n = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');

		if (!end)
			end = line + strlen(line);
		if (!is_blank(line, end)) {
			if (n == IDMAP_EXTENTS_MAX)
				return -E2BIG;
			if (parse_line(line, end, &ret->e[n]) < 0)
				return -EINVAL;
			n++;
		}
		line = *end ? end + 1 : end;
	}
	ret->n = n;
	return 0;
}

int idmap_to_host(const struct idmap *m, uint32_t id, uint32_t *ret)
{
	for (size_t i = 0; i < m->n; i++)
		if (id >= m->e[i].first && id - m->e[i].first < m->e[i].count) {
			*ret = m->e[i].lower_first + (id - m->e[i].first);
			return 0;
		}
	return -EINVAL;
}

int idmap_to_ns(const struct idmap *m, uint32_t host, uint32_t *ret)
{
	for (size_t i = 0; i < m->n; i++)
		if (host >= m->e[i].lower_first && host - m->e[i].lower_first < m->e[i].count) {
			*ret = m->e[i].first + (host - m->e[i].lower_first);
			return 0;
		}
	return -EINVAL;
}

int idmap_read(int proc_dfd, const char *name, struct idmap *ret)
{
	_cleanup_close_ int fd = openat(proc_dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buf[MAP_FILE_MAX];
	size_t have = 0;

	if (fd < 0)
		return errno == ESRCH ? -ENOENT : negative_errno();
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);

		if (n < 0)
			return errno == ESRCH ? -ENOENT : negative_errno();
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == sizeof(buf) - 1)
			return -E2BIG;
	}
	buf[have] = '\0';
	return idmap_parse(buf, ret);
}
