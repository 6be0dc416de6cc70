/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read-only view of a task's memory and pids cgroups, for the sysinfo
 * handler. Stateless apart from the mount layout, detected once
 * (pthread_once) and immutable afterwards; callable from any worker thread.
 * No allocation: every file is opened with openat() on a cgroup dirfd and
 * read into a stack buffer until EOF (cgroupfs reports st_size 0).
 */

enum cgroup_layout {
	CGROUP_LAYOUT_NONE,    /* nothing usable mounted */
	CGROUP_LAYOUT_LEGACY,  /* v1 only */
	CGROUP_LAYOUT_HYBRID,  /* v1 controllers, cgroup2 at <root>/unified */
	CGROUP_LAYOUT_UNIFIED, /* pure cgroup2 at <root> */
};

/* Mount points of the hierarchies we read; NULL = not mounted. */
struct cgroup_mounts {
	enum cgroup_layout layout;
	const char *v2;        /* cgroup2 mount */
	const char *v1_memory; /* v1 memory controller mount */
	const char *v1_pids;   /* v1 pids controller mount */
	bool v2_memory, v2_pids; /* cgroup2 has the controller (cgroup.controllers of its root) */
	char buf[3][PATH_MAX / 4];
	char controllers_path[PATH_MAX / 4 + 32];
};

/* A task's cgroup paths, as in /proc/PID/cgroup (absolute in the hierarchy); "" = none. */
struct cgroup_paths {
	char v2[PATH_MAX];
	char v1_memory[PATH_MAX];
	char v1_pids[PATH_MAX];
};

/*
 * What was found, in bytes. Each has_* says the value was read; anything
 * missing falls back to the host's own value in the caller. A limit at or
 * above the host's RAM counts as "no limit".
 */
struct cgroup_stats {
	bool has_limit, has_usage, has_file, has_shmem, has_swap, has_pids;
	uint64_t limit;      /* effective memory limit (smallest up the tree) */
	uint64_t usage;      /* memory.current / memory.usage_in_bytes (page cache included) */
	uint64_t file;       /* page cache: v2 "file", v1 "total_cache" */
	uint64_t shmem;      /* v2 "shmem", v1 "total_shmem" */
	uint64_t swap_limit; /* UINT64_MAX = unlimited (use the host's swap) */
	uint64_t swap_usage;
	uint64_t pids;       /* pids.current */
};

/* The host facts the reader needs, in bytes. */
struct cgroup_host {
	uint64_t totalram;  /* a limit at or above this is "no limit" */
	uint64_t totalswap; /* 0: swap is not read at all (the answer is 0 anyway) */
};

/*
 * Fill @ret for a layout rooted at @root ("/sys/fs/cgroup" on a real host;
 * a scratch directory in tests). Never fails; the layout is given, not probed.
 */
void cgroup_mounts_init(struct cgroup_mounts *ret, enum cgroup_layout layout, const char *root);

/*
 * The host's mounts under /sys/fs/cgroup, detected once with statfs()
 * (CGROUP2_SUPER_MAGIC on the root = unified, on <root>/unified = hybrid).
 * Returns a pointer to immutable static storage; thread-safe.
 */
const struct cgroup_mounts *cgroup_mounts_host(void);

/*
 * Parse the text of /proc/PID/cgroup: "0::/p" → v2, "N:...memory...:/p" →
 * v1_memory, "N:...pids...:/p" → v1_pids. Paths containing a ".." component
 * (a task outside our cgroup namespace) are ignored. Returns 0, or -ENOENT
 * when no usable line was found.
 */
int cgroup_parse_proc(const char *text, struct cgroup_paths *ret);

/* Read /proc/PID/cgroup: via openat(@proc_fd, "cgroup") when @proc_fd >= 0, else by @pid. */
int cgroup_read_paths(int proc_fd, pid_t pid, struct cgroup_paths *ret);

/*
 * Read limits and usage for @paths under @mounts. Per controller the
 * hierarchy that actually has it wins: v2 when it holds the controller and
 * the cgroup's directory has memory.max (pids.current), else v1. When the cgroup has no memory limit
 * of its own, the smallest limit of its ancestors is used (up to, not
 * including, the hierarchy root). @host->totalram decides what
 * "no limit" means. v1 takes limits, cache, shmem and swap from memory.stat
 * (hierarchical_*_limit, total_*) and falls back to the single-value files.
 * Fields that cannot be read are left has_* = false.
 */
void cgroup_read_stats(const struct cgroup_mounts *mounts, const struct cgroup_paths *paths,
		       const struct cgroup_host *host, struct cgroup_stats *ret);

/*
 * Read @name (relative to @dfd, or absolute) until EOF into @buf, at most
 * @size - 1 bytes, NUL-terminated. Returns the length or a negative errno.
 */
ssize_t cgroup_read_at(int dfd, const char *name, char *buf, size_t size);

/*
 * The same for a file whose whole content is one line (a cgroup value,
 * /proc/PID/stat): stops at the first newline instead of reading on to EOF.
 */
ssize_t cgroup_read_line_at(int dfd, const char *name, char *buf, size_t size);

/* ---- parsing helpers, exported for the unit tests ---- */

/* Is @name one of the entries of the comma list @list (@len bytes, not NUL-terminated)? */
bool cgroup_list_has(const char *list, size_t len, const char *name);

/* "123\n" → 123; "max\n" → UINT64_MAX. 0 or -EINVAL. */
int cgroup_parse_value(const char *s, uint64_t *ret);

/* Find "@key N" at the start of a line of a memory.stat text. 0 or -ENOENT. */
int cgroup_stat_lookup(const char *text, const char *key, uint64_t *ret);
