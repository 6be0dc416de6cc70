/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * A user namespace's uid_map or gid_map as the daemon reads it: each extent
 * maps [first, first + count) inside to [lower_first, lower_first + count) in
 * the daemon's (the host's) ids. Pure translation functions plus one reader;
 * no allocation, no state, any thread.
 */

#define IDMAP_EXTENTS_MAX 340 /* the kernel's UID_GID_MAP_MAX_EXTENTS */

struct idmap_extent {
	uint32_t first;
	uint32_t lower_first;
	uint32_t count;
};

struct idmap {
	size_t n;
	struct idmap_extent e[IDMAP_EXTENTS_MAX];
};

/*
 * Parse the text of a map file: lines of "first lower_first count". Blank
 * lines are skipped. 0, or -EINVAL for a malformed line or an extent that
 * wraps, -E2BIG for more than IDMAP_EXTENTS_MAX extents.
 */
int idmap_parse(const char *text, struct idmap *ret);

/* The host id of @id inside the namespace: 0, or -EINVAL when it is not mapped. */
int idmap_to_host(const struct idmap *m, uint32_t id, uint32_t *ret);

/* The id inside the namespace of host id @host: 0, or -EINVAL when it is not mapped. */
int idmap_to_ns(const struct idmap *m, uint32_t host, uint32_t *ret);

/* Read and parse "uid_map" or "gid_map" (@name) below @proc_dfd, a /proc/PID directory. */
int idmap_read(int proc_dfd, const char *name, struct idmap *ret);
