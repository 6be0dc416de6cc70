/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Placing mount helpers in the caller's cgroups (see cgroup_join.h). Owns
 * the table of the host's cgroup mounts, read once under pthread_once and
 * read-only afterwards. Any worker thread; no locks besides the once.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "daemon/macro.h"
#include "handlers/cgroup_join.h"

#define HOST_MOUNTS_MAX 24
#define PROC_CGROUP_MAX 8192

static struct {
	size_t n;
	struct cgroup_join_mount m[HOST_MOUNTS_MAX];
} host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

/* Copy mountinfo's octal-escaped field (\040 for a space) into @buf. */
static int unescape(const char *s, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return 0;
}

/* The @idx-th space-separated field of @line: start and length, or -EINVAL. */
static int field(const char *line, size_t idx, const char **ret, size_t *ret_len)
{
	const char *p = line;

	for (size_t i = 0;; i++) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (i == idx) {
			*ret = p;
			*ret_len = len;
			return 0;
		}
		if (!end)
			return -EINVAL;
		p = end + 1;
	}
}

/* The index of the field after the " - " separator of the optional fields. */
static int after_separator(const char *line, size_t *ret)
{
	for (size_t i = 6; i < 64; i++) {
		const char *f;
		size_t len;

		if (field(line, i, &f, &len) < 0)
			return -EINVAL;
		if (len == 1 && f[0] == '-') {
			*ret = i + 1;
			return 0;
		}
	}
	return -EINVAL;
}

int cgroup_join_parse_mount(const char *line, struct cgroup_join_mount *ret)
{
	const char *root, *point, *type, *opts;
	size_t root_len, point_len, type_len, opts_len, sep;
	struct cgroup_join_mount m = {};

	if (field(line, 3, &root, &root_len) < 0 || field(line, 4, &point, &point_len) < 0 ||
	    after_separator(line, &sep) < 0 || field(line, sep, &type, &type_len) < 0 ||
	    field(line, sep + 2, &opts, &opts_len) < 0)
		return -EINVAL;
	if (type_len == 7 && memcmp(type, "cgroup2", 7) == 0)
		m.is_v2 = true;
	else if (type_len != 6 || memcmp(type, "cgroup", 6) != 0)
		return 0;
	/* a bind of a cgroup below the hierarchy's root names other paths */
	if (root_len != 1 || root[0] != '/')
		return 0;
	if (opts_len >= sizeof(m.options) || unescape(point, point_len, m.path, sizeof(m.path)) < 0)
		return -EINVAL;
	memcpy(m.options, opts, opts_len);
	m.options[opts_len] = '\0';
	*ret = m;
	return 1;
}

/* Is @item one of the comma-separated words of @list? */
static bool has_word(const char *list, const char *item, size_t len)
{
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && memcmp(p, item, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

bool cgroup_join_matches(const char *options, const char *controllers)
{
	const char *p = controllers;

	if (!*p)
		return false;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || !has_word(options, p, n))
			return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

static void read_host_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) > 0 && host.n < HOST_MOUNTS_MAX) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (cgroup_join_parse_mount(line, &host.m[host.n]) == 1)
			host.n++;
	}
	free(line);
	fclose(f);
}

static const struct cgroup_join_mount *find_mount(bool is_v2, const char *controllers)
{
	(void)pthread_once(&host_once, read_host_mounts);
	for (size_t i = 0; i < host.n; i++)
		if (host.m[i].is_v2 == is_v2 &&
		    (is_v2 || cgroup_join_matches(host.m[i].options, controllers)))
			return &host.m[i];
	return NULL;
}

/* Open the cgroup @path (absolute in the hierarchy) below the mount @m. */
static int open_cgroup(const struct cgroup_join_mount *m, const char *path, int o_flags)
{
	_cleanup_close_ int mnt_fd = open(m->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct open_how how = {
		.flags = (uint64_t)(o_flags | O_DIRECTORY | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	long fd;

	if (mnt_fd < 0)
		return negative_errno();
	fd = syscall(SYS_openat2, mnt_fd, path[1] ? path + 1 : ".", &how, sizeof(how));
	return fd < 0 ? negative_errno() : (int)fd;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = strstr(path, "/.."); p; p = strstr(p + 1, "/.."))
		if (p[3] == '/' || p[3] == '\0')
			return true;
	return false;
}

/* One line of /proc/PID/cgroup, "ID:controllers:path", NUL-terminated in place. */
static int join_line(char *line, const char *v1_only, struct cgroup_join *j)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const struct cgroup_join_mount *m;
	bool is_v2;
	int fd;

	if (!c2 || c2[1] != '/')
		return -EINVAL;
	*c1 = *c2 = '\0';
	/* outside our cgroup namespace: not a path we can name */
	if (has_dotdot(c2 + 1))
		return 0;
	is_v2 = strcmp(line, "0") == 0 && c1[1] == '\0';
	if (!is_v2 && v1_only && !cgroup_join_matches(c1 + 1, v1_only))
		return 0;
	m = find_mount(is_v2, c1 + 1);
	if (!m || (!is_v2 && j->n_v1 == CGROUP_JOIN_V1_MAX))
		return 0;
	fd = open_cgroup(m, c2 + 1, is_v2 ? O_RDONLY : O_PATH);
	if (fd < 0)
		return fd;
	if (is_v2)
		j->v2_fd = fd;
	else if (cgroup_join_matches(c1 + 1, "freezer") && j->freezer_fd < 0)
		j->freezer_fd = fd;
	else
		j->v1_fd[j->n_v1++] = fd;
	return 0;
}

int cgroup_join_open(int proc_dfd, const char *v1_only, struct cgroup_join *ret)
{
	_cleanup_close_ int fd = openat(proc_dfd, "cgroup", O_RDONLY | O_CLOEXEC);
	char text[PROC_CGROUP_MAX];
	size_t have = 0;
	char *save = NULL;

	if (fd < 0)
		return errno == ESRCH ? -ENOENT : negative_errno();
	for (;;) {
		ssize_t n = read(fd, text + have, sizeof(text) - 1 - have);

		if (n < 0)
			return errno == ESRCH ? -ENOENT : negative_errno();
		if (n == 0 || (have += (size_t)n) == sizeof(text) - 1)
			break;
	}
	text[have] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int r = join_line(l, v1_only, ret);

		if (r < 0)
			return r;
	}
	return 0;
}

void cgroup_join_close(struct cgroup_join *j)
{
	closep(&j->v2_fd);
	j->v2_fd = -EBADF;
	for (size_t i = 0; i < j->n_v1; i++)
		closep(&j->v1_fd[i]);
	j->n_v1 = 0;
	closep(&j->freezer_fd);
	j->freezer_fd = -EBADF;
}

int cgroup_join_freezer_open(const struct cgroup_join *j)
{
	int fd;

	if (j->freezer_fd < 0)
		return -EBADF;
	fd = openat(j->freezer_fd, "tasks", O_WRONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cgroup_join_v1(const struct cgroup_join *j)
{
	/*
	 * "tasks", not "cgroup.procs": moving only the calling thread (the helper
	 * has one) skips the global threadgroup lock, whose write side waits for
	 * an RCU grace period: 46 us instead of 10 ms here.
	 */
	for (size_t i = 0; i < j->n_v1; i++) {
		int fd = openat(j->v1_fd[i], "tasks", O_WRONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : write(fd, "0", 1);
		int err = n == 1 ? 0 : errno;

		if (fd >= 0)
			(void)close(fd);
		if (err)
			return err;
	}
	return 0;
}
