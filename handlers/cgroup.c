/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A task's memory and pids cgroup values for the sysinfo handler.
 *
 * Owns: the host's cgroup mount layout, detected once under pthread_once and
 * read-only afterwards. Everything else is stateless and allocation-free:
 * paths live in caller-provided structs, files are opened with openat() on a
 * cgroup directory fd and read until EOF into stack buffers (cgroupfs reports
 * st_size 0, so the size is never trusted).
 *
 * Called from worker threads, concurrently; takes no locks besides the
 * pthread_once of the first call.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#include "daemon/macro.h"
#include "handlers/cgroup.h"

#define CGROUP_HOST_ROOT "/sys/fs/cgroup"
#define STAT_BUF_SIZE 8192
#define VALUE_BUF_SIZE 64

/*
 * Which controllers cgroup2 holds, from its root's cgroup.controllers. On a
 * hybrid host memory and pids are bound to v1 and never appear here, so the
 * per-call v2 probes are skipped. Unreadable: assume both, probe per call.
 */
static void v2_controllers(struct cgroup_mounts *m)
{
	char buf[512];
	ssize_t n;

	if (!m->v2)
		return;
	n = cgroup_read_at(AT_FDCWD, m->controllers_path, buf, sizeof(buf));
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == ' ' || buf[i] == '\n')
			buf[i] = ',';
	m->v2_memory = n < 0 || cgroup_list_has(buf, (size_t)n, "memory");
	m->v2_pids = n < 0 || cgroup_list_has(buf, (size_t)n, "pids");
}

void cgroup_mounts_init(struct cgroup_mounts *ret, enum cgroup_layout layout, const char *root)
{
	*ret = (struct cgroup_mounts){ .layout = layout };
	switch (layout) {
	case CGROUP_LAYOUT_UNIFIED:
		snprintf(ret->buf[0], sizeof(ret->buf[0]), "%s", root);
		ret->v2 = ret->buf[0];
		break;
	case CGROUP_LAYOUT_HYBRID:
		snprintf(ret->buf[0], sizeof(ret->buf[0]), "%s/unified", root);
		ret->v2 = ret->buf[0];
		/* fall through */
	case CGROUP_LAYOUT_LEGACY:
		snprintf(ret->buf[1], sizeof(ret->buf[1]), "%s/memory", root);
		snprintf(ret->buf[2], sizeof(ret->buf[2]), "%s/pids", root);
		ret->v1_memory = ret->buf[1];
		ret->v1_pids = ret->buf[2];
		break;
	case CGROUP_LAYOUT_NONE:
		break;
	}
	if (ret->v2)
		snprintf(ret->controllers_path, sizeof(ret->controllers_path), "%s/cgroup.controllers",
			 ret->v2);
	v2_controllers(ret);
}

static bool is_cgroup2(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static struct cgroup_mounts host_mounts;
static pthread_once_t host_mounts_once = PTHREAD_ONCE_INIT;

static void host_mounts_detect(void)
{
	enum cgroup_layout layout = CGROUP_LAYOUT_LEGACY;
	struct statfs sfs;

	if (is_cgroup2(CGROUP_HOST_ROOT))
		layout = CGROUP_LAYOUT_UNIFIED;
	else if (is_cgroup2(CGROUP_HOST_ROOT "/unified"))
		layout = CGROUP_LAYOUT_HYBRID;
	else if (statfs(CGROUP_HOST_ROOT "/memory", &sfs) < 0 &&
		 statfs(CGROUP_HOST_ROOT "/pids", &sfs) < 0)
		layout = CGROUP_LAYOUT_NONE;
	cgroup_mounts_init(&host_mounts, layout, CGROUP_HOST_ROOT);
}

const struct cgroup_mounts *cgroup_mounts_host(void)
{
	(void)pthread_once(&host_mounts_once, host_mounts_detect);
	return &host_mounts;
}

/* ---- parsing ---- */

int cgroup_parse_value(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (strncmp(s, "max", 3) == 0 && (s[3] == '\0' || s[3] == '\n')) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || (*end != '\0' && *end != '\n'))
		return -EINVAL;
	*ret = v;
	return 0;
}

int cgroup_stat_lookup(const char *text, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long long v;
		char *end;

		if (strncmp(l, key, n) != 0 || l[n] != ' ')
			continue;
		errno = 0;
		v = strtoull(l + n + 1, &end, 10);
		if (errno != 0 || end == l + n + 1 || (*end != '\n' && *end != '\0'))
			return -EINVAL;
		*ret = v;
		return 0;
	}
	return -ENOENT;
}

/* A usable hierarchy path: absolute, no ".." component, fits. */
static bool path_ok(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/' || len >= PATH_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		size_t end = i + 3;

		if (p[i] == '/' && end <= len && p[i + 1] == '.' && p[i + 2] == '.' &&
		    (end == len || p[end] == '/'))
			return false;
	}
	return true;
}

bool cgroup_list_has(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (const char *c = list; c < list + len;) {
		const char *comma = memchr(c, ',', (size_t)(list + len - c));
		size_t clen = comma ? (size_t)(comma - c) : (size_t)(list + len - c);

		if (clen == n && memcmp(c, name, n) == 0)
			return true;
		c += clen + 1;
	}
	return false;
}

static void parse_line(const char *l, size_t len, struct cgroup_paths *ret, bool *found)
{
	const char *c1 = memchr(l, ':', len), *c2, *path;
	size_t plen;

	if (!c1)
		return;
	c2 = memchr(c1 + 1, ':', (size_t)(l + len - c1 - 1));
	if (!c2)
		return;
	path = c2 + 1;
	plen = (size_t)(l + len - path);
	if (!path_ok(path, plen))
		return;
	if (c1 - l == 1 && l[0] == '0' && c2 == c1 + 1) {
		memcpy(ret->v2, path, plen);
		ret->v2[plen] = '\0';
		*found = true;
	}
	if (cgroup_list_has(c1 + 1, (size_t)(c2 - c1 - 1), "memory")) {
		memcpy(ret->v1_memory, path, plen);
		ret->v1_memory[plen] = '\0';
		*found = true;
	}
	if (cgroup_list_has(c1 + 1, (size_t)(c2 - c1 - 1), "pids")) {
		memcpy(ret->v1_pids, path, plen);
		ret->v1_pids[plen] = '\0';
		*found = true;
	}
}

int cgroup_parse_proc(const char *text, struct cgroup_paths *ret)
{
	bool found = false;

	ret->v2[0] = ret->v1_memory[0] = ret->v1_pids[0] = '\0';
	for (const char *l = text; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		parse_line(l, len, ret, &found);
		if (!nl)
			break;
		l = nl + 1;
	}
	return found ? 0 : -ENOENT;
}

/* ---- reading ---- */

static ssize_t read_fd_at(int dfd, const char *name, char *buf, size_t size, bool one_line)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t n = 0;

	if (fd < 0)
		return negative_errno();
	while (n < size - 1) {
		ssize_t k = read(fd, buf + n, size - 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return negative_errno();
		if (k == 0)
			break;
		n += (size_t)k;
		/* a one-line file is complete at its newline: saves the read() that sees EOF */
		if (one_line && memchr(buf + n - (size_t)k, '\n', (size_t)k))
			break;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

ssize_t cgroup_read_at(int dfd, const char *name, char *buf, size_t size)
{
	return read_fd_at(dfd, name, buf, size, false);
}

ssize_t cgroup_read_line_at(int dfd, const char *name, char *buf, size_t size)
{
	return read_fd_at(dfd, name, buf, size, true);
}

static int read_value_at(int dfd, const char *name, uint64_t *ret)
{
	char buf[VALUE_BUF_SIZE];
	ssize_t n = cgroup_read_line_at(dfd, name, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	return cgroup_parse_value(buf, ret);
}

int cgroup_read_paths(int proc_fd, pid_t pid, struct cgroup_paths *ret)
{
	char buf[STAT_BUF_SIZE], path[32];
	ssize_t n;

	if (proc_fd >= 0) {
		n = cgroup_read_at(proc_fd, "cgroup", buf, sizeof(buf));
	} else {
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
		n = cgroup_read_at(AT_FDCWD, path, buf, sizeof(buf));
	}
	if (n < 0)
		return (int)n;
	return cgroup_parse_proc(buf, ret);
}

static int open_dir(const char *mount, const char *path)
{
	char full[PATH_MAX];
	int fd;

	if (!mount || path[0] == '\0')
		return -ENOENT;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", mount, path) >= sizeof(full))
		return -ENAMETOOLONG;
	fd = open(full, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : negative_errno();
}

/* Components of a hierarchy path: "/" → 0, "/a/b" → 2. */
static int path_depth(const char *p)
{
	int d = 0;

	for (; *p; p++)
		if (*p == '/' && p[1] != '/' && p[1] != '\0')
			d++;
	return d;
}

/*
 * The smallest limit in @name over the ancestors of @dfd, @depth levels below
 * the hierarchy root (the root itself is never read: it cannot be limited).
 */
static uint64_t ancestors_limit(int dfd, int depth, const char *name)
{
	_cleanup_close_ int cur = -EBADF;
	uint64_t best = UINT64_MAX, v;

	for (int i = 1; i < depth; i++) {
		int up = openat(cur >= 0 ? cur : dfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (up < 0)
			break;
		closep(&cur);
		cur = up;
		if (read_value_at(cur, name, &v) == 0 && v < best)
			best = v;
	}
	return best;
}

/* Own limit, else the ancestors' smallest; sets has_limit only below the host's RAM. */
static void resolve_limit(int dfd, int depth, const char *name, uint64_t own, uint64_t host,
			  struct cgroup_stats *ret)
{
	uint64_t v = own;

	if (v >= host)
		v = ancestors_limit(dfd, depth, name);
	if (v < host) {
		ret->limit = v;
		ret->has_limit = true;
	}
}

static void stat_fields(const char *stat, bool v2, struct cgroup_stats *ret)
{
	ret->has_file = cgroup_stat_lookup(stat, v2 ? "file" : "total_cache", &ret->file) == 0;
	ret->has_shmem = cgroup_stat_lookup(stat, v2 ? "shmem" : "total_shmem", &ret->shmem) == 0;
}

static bool read_v2_memory(int dfd, int depth, const struct cgroup_host *host,
			   struct cgroup_stats *ret)
{
	char buf[STAT_BUF_SIZE];
	uint64_t max, cur;

	if (read_value_at(dfd, "memory.max", &max) < 0)
		return false; /* no memory controller in this cgroup */
	resolve_limit(dfd, depth, "memory.max", max, host->totalram, ret);
	ret->has_usage = read_value_at(dfd, "memory.current", &ret->usage) == 0;
	if (cgroup_read_at(dfd, "memory.stat", buf, sizeof(buf)) >= 0)
		stat_fields(buf, true, ret);
	if (host->totalswap > 0 && read_value_at(dfd, "memory.swap.max", &max) == 0 &&
	    read_value_at(dfd, "memory.swap.current", &cur) == 0) {
		ret->swap_limit = max;
		ret->swap_usage = cur;
		ret->has_swap = true;
	}
	return true;
}

/*
 * v1 swap = memsw − memory. memory.stat has both hierarchical limits and
 * total_swap when swap accounting is on; the memsw files are the fallback.
 */
static void read_v1_swap(int dfd, const char *stat, struct cgroup_stats *ret)
{
	uint64_t memsw, use;

	if (cgroup_stat_lookup(stat, "hierarchical_memsw_limit", &memsw) == 0 &&
	    cgroup_stat_lookup(stat, "total_swap", &ret->swap_usage) == 0) {
		/* all from memory.stat */
	} else if (read_value_at(dfd, "memory.memsw.limit_in_bytes", &memsw) == 0 &&
		   read_value_at(dfd, "memory.memsw.usage_in_bytes", &use) == 0) {
		ret->swap_usage = ret->has_usage && use > ret->usage ? use - ret->usage : 0;
	} else {
		return;
	}
	if (ret->has_limit)
		ret->swap_limit = memsw > ret->limit ? memsw - ret->limit : 0;
	else
		ret->swap_limit = memsw; /* memory unlimited: memsw bounds swap alone */
	ret->has_swap = true;
}

static bool read_v1_memory(int dfd, int depth, const struct cgroup_host *host,
			   struct cgroup_stats *ret)
{
	char buf[STAT_BUF_SIZE];
	uint64_t limit;

	if (cgroup_read_at(dfd, "memory.stat", buf, sizeof(buf)) < 0)
		return false;
	stat_fields(buf, false, ret);
	ret->has_usage = read_value_at(dfd, "memory.usage_in_bytes", &ret->usage) == 0;
	/* the kernel's own min over the cgroup and its ancestors: no walk, no extra file */
	if (cgroup_stat_lookup(buf, "hierarchical_memory_limit", &limit) == 0)
		resolve_limit(dfd, 0, "memory.limit_in_bytes", limit, host->totalram, ret);
	else if (read_value_at(dfd, "memory.limit_in_bytes", &limit) == 0)
		resolve_limit(dfd, depth, "memory.limit_in_bytes", limit, host->totalram, ret);
	if (host->totalswap > 0)
		read_v1_swap(dfd, buf, ret);
	return true;
}

static void read_memory(int v2, const struct cgroup_mounts *m, const struct cgroup_paths *p,
			const struct cgroup_host *host, struct cgroup_stats *ret)
{
	_cleanup_close_ int v1 = -EBADF;

	if (v2 >= 0 && m->v2_memory && read_v2_memory(v2, path_depth(p->v2), host, ret))
		return;
	v1 = open_dir(m->v1_memory, p->v1_memory);
	if (v1 >= 0)
		(void)read_v1_memory(v1, path_depth(p->v1_memory), host, ret);
}

static void read_pids(int v2, const struct cgroup_mounts *m, const struct cgroup_paths *p,
		      struct cgroup_stats *ret)
{
	_cleanup_close_ int v1 = -EBADF;

	if (v2 >= 0 && m->v2_pids && read_value_at(v2, "pids.current", &ret->pids) == 0) {
		ret->has_pids = true;
		return;
	}
	v1 = open_dir(m->v1_pids, p->v1_pids);
	if (v1 >= 0)
		ret->has_pids = read_value_at(v1, "pids.current", &ret->pids) == 0;
}

void cgroup_read_stats(const struct cgroup_mounts *mounts, const struct cgroup_paths *paths,
		       const struct cgroup_host *host, struct cgroup_stats *ret)
{
	/* one dirfd per hierarchy: the v2 one serves both controllers */
	_cleanup_close_ int v2 = mounts->v2_memory || mounts->v2_pids
					 ? open_dir(mounts->v2, paths->v2)
					 : -EBADF;

	*ret = (struct cgroup_stats){ .swap_limit = UINT64_MAX };
	read_memory(v2, mounts, paths, host, ret);
	read_pids(v2, mounts, paths, ret);
}
