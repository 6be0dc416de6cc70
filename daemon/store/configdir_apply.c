/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reconciling a config directory (configdir_reconcile() in configdir.h):
 * read and validate the whole directory, check that every container would
 * stay valid with it, and only then apply it as profile changes through the
 * store, one after another (each durable and published as an API change
 * is). Runs on one thread at a time (main at start, then the watcher) and
 * waits for the store's writer threads; takes cd->lock only to publish the
 * outcome. Logs what it does and publishes the outcome as events: this is
 * where its errors are consumed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/events/publish.h"
#include "daemon/log.h"
#include "daemon/store/configdir_internal.h"
#include "daemon/store/profile.h"
#include "daemon/strv.h"

static bool config_same(const struct config *a, const struct config *b)
{
	for (size_t k = 0; k < CONFIG_KEY_COUNT; k++) {
		const char *x = a->values[k], *y = b->values[k];

		if ((x || y) && (!x || !y || strcmp(x, y) != 0))
			return false;
	}
	return true;
}

static const struct configdir_entry *find_entry(const struct configdir_set *set, const char *name)
{
	for (size_t i = 0; i < set->n_entries; i++)
		if (strcmp(set->entries[i].name, name) == 0)
			return &set->entries[i];
	return NULL;
}

/* The configuration profile @name would have: @set's, else the published one (new reference). */
static struct config *layer_of(struct configdir *cd, const struct configdir_set *set,
			       const char *name)
{
	const struct configdir_entry *e = find_entry(set, name);
	_cleanup_(container_unrefp) struct container *p = NULL;

	if (e)
		return config_ref(e->cfg);
	p = registry_get(store_profiles(cd->store), name);
	return p ? container_config_get(p) : NULL;
}

/* Would container @c stay valid with @set? Its problem into @errs when not. */
static int check_container(struct configdir *cd, struct container *c,
			   const struct configdir_set *set, struct configdir_errors *errs)
{
	struct config *layers[CONTAINER_PROFILES_MAX];
	_cleanup_strv_free_ char **names = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	_cleanup_(config_unrefp) struct config *own = container_spec_get(c, &names, etag);
	_cleanup_(config_unrefp) struct config *expanded = NULL;
	struct icd_error err = { 0 };
	size_t n = 0;
	int r;

	if (!own)
		return -ENOMEM;
	for (r = 0; names && names[n] && n < CONTAINER_PROFILES_MAX && r >= 0; n++)
		/* a profile that is not there (being removed meanwhile) adds nothing */
		if (!(layers[n] = layer_of(cd, set, names[n])) && !(layers[n] = config_new_empty()))
			r = -ENOMEM;
	if (r >= 0)
		r = profile_expand_layers(layers, n, own, &expanded, &err);
	for (size_t i = 0; i < n; i++)
		config_unref(layers[i]);
	if (r == -EINVAL)
		configdir_errors_add(errs, "container '%s' would be invalid: %s", c->name, err.msg);
	return r;
}

/* Check every container against @set before anything is applied. */
static int check_containers(struct configdir *cd, const struct configdir_set *set,
			    struct configdir_errors *errs)
{
	struct container **list = NULL;
	size_t n = 0;
	int r = registry_list(cd->store->registry, &list, &n);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = check_container(cd, list[i], set, errs);
		if (r == -EINVAL)
			r = 0; /* go on: report every container that would break */
	}
	registry_list_free(list, n);
	if (r >= 0 && errs->n_total > 0)
		r = -EINVAL;
	return r;
}

/* One profile change through the store, waiting for its outcome. */
static int submit(struct configdir *cd, enum store_op op, const char *name, struct config *cfg,
		  struct icd_error *reterr)
{
	_cleanup_(store_change_freep) struct store_change *ch = store_change_new_profile(op, name);
	int r;

	if (!ch)
		return -ENOMEM;
	ch->cfg = cfg ? config_ref(cfg) : NULL;
	r = store_apply(cd->store, ch);
	if (r < 0)
		*reterr = ch->err;
	return r;
}

/* Create or replace @e's profile unless it is already as declared: 1 changed, 0 not. */
static int apply_entry(struct configdir *cd, const struct configdir_entry *e,
		       struct configdir_errors *errs)
{
	_cleanup_(container_unrefp) struct container *p = registry_get(store_profiles(cd->store),
									 e->name);
	_cleanup_(config_unrefp) struct config *cur = p ? container_config_get(p) : NULL;
	struct icd_error err = { 0 };
	int r;

	if (cur && config_same(cur, e->cfg) && strv_contains(cd->owned, e->name))
		return 0;
	r = submit(cd, p ? STORE_REPLACE : STORE_CREATE, e->name, e->cfg, &err);
	if (r == -EEXIST) /* created over the API meanwhile: the file wins */
		r = submit(cd, STORE_REPLACE, e->name, e->cfg, &err);
	if (r < 0) {
		configdir_errors_add_file(errs, e->file, "'%s': cannot apply profile '%s': %s",
					  e->file, e->name, err.msg);
		return r;
	}
	log_info("Config directory: %s profile '%s' from '%s'", p ? "replaced" : "created",
		 e->name, e->file);
	return 1;
}

static int strv_add(char ***v, const char *s)
{
	size_t n = strv_length(*v);
	char **grown = realloc(*v, (n + 2) * sizeof(char *));

	if (!grown)
		return -ENOMEM;
	*v = grown;
	grown[n + 1] = NULL;
	grown[n] = strdup(s);
	return grown[n] ? 0 : -ENOMEM;
}

/*
 * Remove the profiles files owned that @set no longer declares; those still
 * in use (or that fail) go to *kept, to be retried. Returns how many were
 * removed, or -ENOMEM, or -ESHUTDOWN when the store is closing.
 */
static int remove_dropped(struct configdir *cd, const struct configdir_set *set, char ***kept,
			  struct configdir_errors *errs)
{
	int n_removed = 0;

	for (size_t i = 0; cd->owned && cd->owned[i]; i++) {
		const char *name = cd->owned[i];
		struct icd_error err = { 0 };
		int r;

		if (find_entry(set, name))
			continue;
		r = submit(cd, STORE_DELETE, name, NULL, &err);
		if (r == -ESHUTDOWN)
			return r;
		if (r >= 0 || r == -ENOENT) {
			n_removed += r >= 0;
			log_info("Config directory: removed profile '%s' (its file is gone)", name);
			continue;
		}
		if (r == -EBUSY)
			log_warning("Config directory: the file of profile '%s' is gone, but %s: "
				    "keeping it until it is unused", name, err.msg);
		else
			configdir_errors_add(errs, "cannot remove profile '%s': %s", name, err.msg);
		if (strv_add(kept, name) < 0)
			return -ENOMEM;
	}
	return n_removed;
}

/* @set's names and @more as one vector. */
static int names_with(const struct configdir_set *set, char *const *more, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	int r = strv_copy(more, &v);

	for (size_t i = 0; r >= 0 && i < set->n_entries; i++)
		if (!strv_contains(v, set->entries[i].name))
			r = strv_add(&v, set->entries[i].name);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

/* Each problem kept in @errs to the log and as a config-dir-refused event. */
static void report_problems(struct configdir *cd, const struct configdir_errors *errs)
{
	for (size_t i = 0; i < errs->n_kept; i++) {
		log_error("Config directory '%s': %s", cd->path, errs->msg[i]);
		publish_configdir_refused(cd->store->events, errs->file[i], errs->msg[i]);
	}
}

/* Keep the last good generation, show why this one was refused. */
static int refuse(struct configdir *cd, struct configdir_set *set, struct configdir_errors *errs)
{
	configdir_set_clear(set);
	report_problems(cd, errs);
	log_error("Config directory '%s': %zu problem(s), nothing applied (generation %llu "
		  "stays)", cd->path, errs->n_total, (unsigned long long)cd->generation);
	pthread_mutex_lock(&cd->lock);
	cd->errors = *errs;
	pthread_mutex_unlock(&cd->lock);
	return -EINVAL;
}

/*
 * Apply @set (validated): changes through the store, then the outcome
 * published. Returns how many profiles it created, replaced or removed.
 */
static int apply_set(struct configdir *cd, struct configdir_set *set,
		     struct configdir_errors *errs)
{
	_cleanup_strv_free_ char **owned = NULL, **kept = NULL;
	int r, n_changed = 0;

	/* first on disk: a crash from here on still knows every profile files may have made */
	r = names_with(set, cd->owned, &owned);
	if (r >= 0 && !strv_equal(owned, cd->owned))
		r = configdir_save_owned(cd, owned);
	for (size_t i = 0; r >= 0 && i < set->n_entries; i++) {
		int changed = apply_entry(cd, &set->entries[i], errs);

		n_changed += changed > 0;
		/* out of memory, or the daemon stopping: the rest would fail the same way */
		r = changed == -ENOMEM || changed == -ESHUTDOWN ? changed : 0;
	}
	if (r >= 0)
		r = remove_dropped(cd, set, &kept, errs);
	n_changed += r > 0 ? r : 0;
	strv_free(TAKE_PTR(owned));
	if (r >= 0)
		r = names_with(set, kept, &owned);
	if (r >= 0 && !strv_equal(owned, cd->owned))
		r = configdir_save_owned(cd, owned);
	if (r == -ESHUTDOWN)
		return r; /* the daemon is stopping: the next start applies the rest */
	if (r < 0) {
		configdir_errors_add(errs, "cannot apply: %s", strerror(-r));
		return r;
	}
	pthread_mutex_lock(&cd->lock);
	configdir_set_clear(&cd->applied);
	cd->applied = *set;
	*set = (struct configdir_set){ 0 };
	strv_free(cd->owned);
	cd->owned = TAKE_PTR(owned);
	strv_free(cd->kept);
	cd->kept = TAKE_PTR(kept);
	if (n_changed > 0 || cd->generation == 0)
		cd->generation++;
	cd->errors = *errs;
	pthread_mutex_unlock(&cd->lock);
	return n_changed;
}

/* Log and publish a reading applied: @n_changed profiles changed; @was_refused the one before. */
static void report_applied(struct configdir *cd, int n_changed, bool was_refused)
{
	if (n_changed == 0 && !was_refused)
		return; /* nothing new to say */
	if (n_changed > 0)
		log_info("Config directory '%s': generation %llu applied", cd->path,
			 (unsigned long long)cd->generation);
	else
		log_info("Config directory '%s': its problems are gone, generation %llu unchanged",
			 cd->path, (unsigned long long)cd->generation);
	publish_configdir_applied(cd->store->events, cd->generation, (unsigned)n_changed);
}

int configdir_reconcile(struct configdir *cd)
{
	struct configdir_set set = { 0 };
	struct configdir_errors errs = { 0 };
	/* only this thread writes it: no lock needed to read it here */
	bool was_refused = cd->errors.n_total > 0;
	int r = configdir_read(cd->dir_fd, &set, &errs);

	if (r < 0 && r != -EINVAL) {
		configdir_errors_add(&errs, "cannot read the directory: %s", strerror(-r));
		(void)refuse(cd, &set, &errs);
		return r;
	}
	if (r >= 0)
		r = check_containers(cd, &set, &errs);
	if (r < 0)
		return r == -ENOMEM ? r : refuse(cd, &set, &errs);
	r = apply_set(cd, &set, &errs);
	configdir_set_clear(&set);
	if (r == -ESHUTDOWN)
		return r;
	if (r < 0 || errs.n_total > 0) {
		report_problems(cd, &errs);
		return r < 0 ? r : -EIO;
	}
	report_applied(cd, r, was_refused);
	return r > 0;
}
