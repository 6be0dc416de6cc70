/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/store/container.h"

/*
 * The registry maps container names to containers and holds one reference on
 * each. Its lock guards only the map; lock order is registry → container.
 */
struct registry;

struct registry *registry_new(void);
struct registry *registry_free(struct registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct registry *, registry_free)

/* Add @c (a reference is taken). Returns -EEXIST if the name is taken. */
int registry_add(struct registry *r, struct container *c);

/* Returns a new reference to the container called @name, or NULL. Thread-safe. */
struct container *registry_get(struct registry *r, const char *name);

/*
 * Remove @name and mark the container removed. On success *ret_removed (if not
 * NULL) receives the registry's reference. Returns -ENOENT when absent.
 */
int registry_remove(struct registry *r, const char *name, struct container **ret_removed);

/*
 * Remove @c itself (not another container of its name) if no listener is
 * linked to it, marking it removed under its lock. Returns 1 when removed,
 * else 0.
 */
int registry_remove_unused(struct registry *r, struct container *c);

size_t registry_count(struct registry *r);

/*
 * A name-sorted array of new references to every container. Free it with
 * registry_list_free(). Returns 0 or -ENOMEM.
 */
int registry_list(struct registry *r, struct container ***ret_list, size_t *ret_n);
void registry_list_free(struct container **list, size_t n);

/* Bumped whenever a container is added or removed; listeners use it to re-resolve names. */
uint64_t registry_generation(struct registry *r);
