/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Name → container map: an open-addressing hash table with linear probing
 * behind a rwlock. Readers (workers resolving a listener, API GETs) share the
 * lock; add/remove take it exclusively. Lock order: registry → container.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "daemon/store/registry.h"

struct registry {
	pthread_rwlock_t lock;
	struct container **slots; /* owned refs; NULL = empty, TOMBSTONE = deleted */
	size_t n_slots;           /* power of two */
	size_t n_used;            /* live entries */
	size_t n_tombstones;
	atomic_uint_fast64_t generation;
};

static struct container tombstone_marker;
#define TOMBSTONE (&tombstone_marker)

static uint64_t hash_name(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

struct registry *registry_new(void)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->n_slots = 64;
	r->slots = calloc(r->n_slots, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	pthread_rwlock_init(&r->lock, NULL);
	return r;
}

struct registry *registry_free(struct registry *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i] && r->slots[i] != TOMBSTONE)
			container_unref(r->slots[i]);
	free(r->slots);
	pthread_rwlock_destroy(&r->lock);
	free(r);
	return NULL;
}

/* Index of @name's slot, or of the first free slot where it would go. Lock held. */
static size_t find_slot(const struct registry *r, const char *name, bool *ret_found)
{
	size_t mask = r->n_slots - 1, i = hash_name(name) & mask, free_slot = SIZE_MAX;

	for (size_t probes = 0; probes < r->n_slots; probes++, i = (i + 1) & mask) {
		struct container *c = r->slots[i];

		if (!c) {
			*ret_found = false;
			return free_slot != SIZE_MAX ? free_slot : i;
		}
		if (c == TOMBSTONE) {
			if (free_slot == SIZE_MAX)
				free_slot = i;
			continue;
		}
		if (strcmp(c->name, name) == 0) {
			*ret_found = true;
			return i;
		}
	}
	*ret_found = false;
	return free_slot;
}

static int grow(struct registry *r)
{
	size_t n = r->n_slots * 2;
	struct container **old = r->slots, **slots = calloc(n, sizeof(*slots));
	size_t old_n = r->n_slots;

	if (!slots)
		return -ENOMEM;
	r->slots = slots;
	r->n_slots = n;
	r->n_tombstones = 0;
	for (size_t i = 0; i < old_n; i++) {
		bool found;

		if (old[i] && old[i] != TOMBSTONE)
			r->slots[find_slot(r, old[i]->name, &found)] = old[i];
	}
	free(old);
	return 0;
}

int registry_add(struct registry *r, struct container *c)
{
	bool found;
	size_t i;
	int ret = 0;

	pthread_rwlock_wrlock(&r->lock);
	if ((r->n_used + r->n_tombstones + 1) * 4 > r->n_slots * 3)
		ret = grow(r);
	if (ret >= 0) {
		i = find_slot(r, c->name, &found);
		if (found) {
			ret = -EEXIST;
		} else {
			if (r->slots[i] == TOMBSTONE)
				r->n_tombstones--;
			r->slots[i] = container_ref(c);
			r->n_used++;
			atomic_fetch_add(&r->generation, 1);
		}
	}
	pthread_rwlock_unlock(&r->lock);
	return ret;
}

struct container *registry_get(struct registry *r, const char *name)
{
	struct container *c = NULL;
	bool found;
	size_t i;

	pthread_rwlock_rdlock(&r->lock);
	i = find_slot(r, name, &found);
	if (found)
		c = container_ref(r->slots[i]);
	pthread_rwlock_unlock(&r->lock);
	return c;
}

int registry_remove(struct registry *r, const char *name, struct container **ret_removed)
{
	struct container *c = NULL;
	bool found;
	size_t i;

	pthread_rwlock_wrlock(&r->lock);
	i = find_slot(r, name, &found);
	if (found) {
		c = r->slots[i];
		r->slots[i] = TOMBSTONE;
		r->n_used--;
		r->n_tombstones++;
		atomic_store(&c->is_removed, true);
		atomic_fetch_add(&r->generation, 1);
	}
	pthread_rwlock_unlock(&r->lock);
	if (!c)
		return -ENOENT;
	if (ret_removed)
		*ret_removed = c;
	else
		container_unref(c);
	return 0;
}

int registry_remove_unused(struct registry *r, struct container *c)
{
	bool found, is_unused = false;
	size_t i;

	pthread_rwlock_wrlock(&r->lock);
	i = find_slot(r, c->name, &found);
	if (found && r->slots[i] == c) {
		/* under its lock, so an attach either came first (kept) or sees is_removed */
		pthread_mutex_lock(&c->lock);
		is_unused = !c->listeners;
		if (is_unused)
			atomic_store(&c->is_removed, true);
		pthread_mutex_unlock(&c->lock);
	}
	if (is_unused) {
		r->slots[i] = TOMBSTONE;
		r->n_used--;
		r->n_tombstones++;
		atomic_fetch_add(&r->generation, 1);
	}
	pthread_rwlock_unlock(&r->lock);
	if (is_unused)
		container_unref(c); /* the registry's reference */
	return is_unused;
}

size_t registry_count(struct registry *r)
{
	size_t n;

	pthread_rwlock_rdlock(&r->lock);
	n = r->n_used;
	pthread_rwlock_unlock(&r->lock);
	return n;
}

static int compare_names(const void *a, const void *b)
{
	const struct container *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int registry_list(struct registry *r, struct container ***ret_list, size_t *ret_n)
{
	struct container **list;
	size_t n = 0;

	pthread_rwlock_rdlock(&r->lock);
	list = calloc(r->n_used + 1, sizeof(*list));
	if (!list) {
		pthread_rwlock_unlock(&r->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_slots; i++)
		if (r->slots[i] && r->slots[i] != TOMBSTONE)
			list[n++] = container_ref(r->slots[i]);
	pthread_rwlock_unlock(&r->lock);
	qsort(list, n, sizeof(*list), compare_names);
	*ret_list = list;
	*ret_n = n;
	return 0;
}

void registry_list_free(struct container **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		container_unref(list[i]);
	free(list);
}

uint64_t registry_generation(struct registry *r)
{
	return atomic_load_explicit(&r->generation, memory_order_acquire);
}
