/* SPDX-License-Identifier: Apache-2.0 */
/*
 * struct container: reference counting, publishing config snapshots, ETags.
 * Called from store writer threads (publish), workers (config_get), the API
 * thread and the intake code.
 * Takes only container->lock, never while holding another container's lock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/store/container.h"
#include "daemon/strv.h"

const char *listener_source_name(enum listener_source s)
{
	return s == LISTENER_SOURCE_LXC ? "lxc" : "oci";
}

bool container_name_valid(const char *name)
{
	size_t n;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (n = 0; name[n]; n++) {
		char ch = name[n];

		if (n >= CONTAINER_NAME_MAX)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return false;
	}
	return true;
}

/* FNV-1a 64 over everything that makes up the writable state. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

void container_etag_compute(const char *name, uint64_t revision, const struct config *cfg,
			    char buf[static CONTAINER_ETAG_LEN + 1])
{
	container_etag_compute_profiles(name, revision, cfg, NULL, buf);
}

void container_etag_compute_profiles(const char *name, uint64_t revision,
				     const struct config *cfg, char *const *profiles,
				     char buf[static CONTAINER_ETAG_LEN + 1])
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = fnv1a(h, name, strlen(name) + 1);
	h = fnv1a(h, &revision, sizeof(revision));
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const char *v = cfg ? cfg->values[i] : NULL;

		h = fnv1a(h, &i, sizeof(i));
		if (v)
			h = fnv1a(h, v, strlen(v) + 1);
	}
	/* hashed only when present: a container without profiles keeps its older ETag */
	for (size_t i = 0; profiles && profiles[i]; i++)
		h = fnv1a(h, profiles[i], strlen(profiles[i]) + 1);
	(void)snprintf(buf, CONTAINER_ETAG_LEN + 1, "%016" PRIx64, h);
}

struct container *container_new_at(const char *name, int64_t created_at, struct config *cfg,
				   uint64_t revision, const char *etag)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c || strlen(name) > CONTAINER_NAME_MAX) {
		free(c);
		config_unref(cfg);
		return NULL;
	}
	atomic_init(&c->n_ref, 1);
	strcpy(c->name, name);
	c->created_at = created_at;
	pthread_mutex_init(&c->lock, NULL);
	c->config = cfg;
	c->own_config = config_ref(cfg);
	c->revision = revision;
	if (etag && strlen(etag) == CONTAINER_ETAG_LEN)
		memcpy(c->etag, etag, CONTAINER_ETAG_LEN + 1);
	else
		container_etag_compute(name, revision, cfg, c->etag);
	return c;
}

struct container *container_new(const char *name, int64_t created_at, struct config *cfg)
{
	return container_new_at(name, created_at, cfg, 0, NULL);
}

struct container *container_ref(struct container *c)
{
	if (c)
		atomic_fetch_add_explicit(&c->n_ref, 1, memory_order_relaxed);
	return c;
}

struct container *container_unref(struct container *c)
{
	if (c && atomic_fetch_sub_explicit(&c->n_ref, 1, memory_order_acq_rel) == 1) {
		config_unref(c->config);
		config_unref(c->own_config);
		strv_free(c->profiles);
		free(c->origin);
		pthread_mutex_destroy(&c->lock);
		free(c);
	}
	return NULL;
}

struct config *container_config_get(struct container *c)
{
	struct config *cfg;

	pthread_mutex_lock(&c->lock);
	cfg = config_ref(c->config); /* +1 under the lock: cannot race the final unref */
	pthread_mutex_unlock(&c->lock);
	return cfg;
}

struct config *container_spec_get(struct container *c, char ***ret_profiles,
				  char etag[static CONTAINER_ETAG_LEN + 1])
{
	struct config *own;
	int r;

	pthread_mutex_lock(&c->lock);
	own = config_ref(c->own_config);
	r = strv_copy(c->profiles, ret_profiles);
	memcpy(etag, c->etag, CONTAINER_ETAG_LEN + 1);
	pthread_mutex_unlock(&c->lock);
	return r < 0 ? config_unref(own) : own;
}

bool container_uses_profile(struct container *c, const char *name)
{
	bool uses;

	pthread_mutex_lock(&c->lock);
	uses = strv_contains(c->profiles, name);
	pthread_mutex_unlock(&c->lock);
	return uses;
}

unsigned container_untrapped_keys(struct container *c, const struct config *cfg)
{
	unsigned trapped = config_trapped_keys(cfg), missing = 0;

	pthread_mutex_lock(&c->lock);
	for (const struct listener *l = c->listeners; l; l = l->next)
		missing |= trapped & ~l->trapped_keys;
	pthread_mutex_unlock(&c->lock);
	return missing;
}

struct config *container_config_get_etag(struct container *c,
					 char etag[static CONTAINER_ETAG_LEN + 1])
{
	struct config *cfg;

	pthread_mutex_lock(&c->lock);
	cfg = config_ref(c->config);
	memcpy(etag, c->etag, CONTAINER_ETAG_LEN + 1);
	pthread_mutex_unlock(&c->lock);
	return cfg;
}

void container_get_revision(struct container *c, uint64_t *ret_revision,
			    char etag[static CONTAINER_ETAG_LEN + 1])
{
	pthread_mutex_lock(&c->lock);
	*ret_revision = c->revision;
	memcpy(etag, c->etag, CONTAINER_ETAG_LEN + 1);
	pthread_mutex_unlock(&c->lock);
}

/* Lock held: make @cfg current as @revision with @etag; returns the old snapshot. */
static struct config *swap_locked(struct container *c, struct config *cfg, uint64_t revision,
				  const char *etag)
{
	struct config *old = c->config;

	c->config = cfg;
	c->revision = revision;
	memcpy(c->etag, etag, CONTAINER_ETAG_LEN + 1);
	atomic_fetch_add_explicit(&c->config_generation, 1, memory_order_release);
	return old;
}

void container_publish(struct container *c, struct config *cfg, uint64_t revision,
		       const char *etag)
{
	char **profiles = NULL;

	pthread_mutex_lock(&c->lock);
	(void)strv_copy(c->profiles, &profiles); /* keeps what it has: without profiles, nothing */
	pthread_mutex_unlock(&c->lock);
	container_publish_spec(c, config_ref(cfg), profiles, cfg, revision, etag);
}

void container_publish_spec(struct container *c, struct config *own, char **profiles,
			    struct config *expanded, uint64_t revision, const char *etag)
{
	struct config *old, *old_own;
	char **old_profiles;

	pthread_mutex_lock(&c->lock);
	old_own = c->own_config;
	old_profiles = c->profiles;
	c->own_config = own;
	c->profiles = profiles;
	old = swap_locked(c, expanded, revision, etag);
	pthread_mutex_unlock(&c->lock);
	config_unref(old);
	config_unref(old_own);
	strv_free(old_profiles);
}

void container_publish_expanded(struct container *c, struct config *expanded)
{
	struct config *old;

	pthread_mutex_lock(&c->lock);
	old = c->config;
	c->config = expanded;
	atomic_fetch_add_explicit(&c->config_generation, 1, memory_order_release);
	pthread_mutex_unlock(&c->lock);
	config_unref(old);
}

void container_config_swap(struct container *c, struct config *cfg)
{
	char etag[CONTAINER_ETAG_LEN + 1];
	struct config *old;

	struct config *old_own;

	pthread_mutex_lock(&c->lock);
	container_etag_compute(c->name, c->revision + 1, cfg, etag);
	old_own = c->own_config;
	c->own_config = config_ref(cfg);
	old = swap_locked(c, cfg, c->revision + 1, etag);
	pthread_mutex_unlock(&c->lock);
	config_unref(old);
	config_unref(old_own);
}

void container_get_etag(struct container *c, char buf[static CONTAINER_ETAG_LEN + 1])
{
	pthread_mutex_lock(&c->lock);
	memcpy(buf, c->etag, CONTAINER_ETAG_LEN + 1);
	pthread_mutex_unlock(&c->lock);
}
