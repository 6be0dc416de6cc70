/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's profile changes and ephemeral containers (store.h). A profile
 * change runs on the profiles lane and holds the profiles lock alone for its
 * whole run: it checks the expansion of every container using the profile,
 * writes the profile durably, then, under the ephemeral lock, publishes it
 * and each user's new expansion, and last rewrites the users' LXC policy
 * files (derived data). A deletion marks the profile (ephemeral lock),
 * removes its file, and only then unpublishes it: while marked it is still
 * shown, but takes no ephemeral container. Ephemeral containers are added on
 * the intake thread or a worker and removed on a worker under the ephemeral
 * lock only, which is never held across a write, and never touch the disk
 * (their kept Kubernetes labels are written by a lane thread, store_k8s.c).
 * The lifecycle events of profiles, of the containers a profile change
 * re-expands and of ephemeral containers are published under the ephemeral
 * lock, as each change is published: a reader sees them in the order they
 * happened (a profile before the ephemeral containers registering with it).
 * Logs nothing.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/events/publish.h"
#include "daemon/store/policy.h"
#include "daemon/store/profile.h"
#include "daemon/store/state.h"
#include "daemon/store/store_internal.h"
#include "daemon/strv.h"

/* Containers applying profile @name: new references, NULL-terminated. */
static int users_of(struct store *s, const char *name, struct container ***ret, size_t *ret_n)
{
	struct container **list = NULL, **users;
	size_t n = 0, k = 0;
	int r = registry_list(s->registry, &list, &n);

	if (r < 0)
		return r;
	users = calloc(n + 1, sizeof(*users));
	for (size_t i = 0; users && i < n; i++)
		if (container_uses_profile(list[i], name))
			users[k++] = container_ref(list[i]);
	registry_list_free(list, n);
	if (!users)
		return -ENOMEM;
	*ret = users;
	*ret_n = k;
	return 0;
}

static void users_free(struct container **users, size_t n)
{
	registry_list_free(users, n);
}

/* @c's expansion were profile @name's configuration @cfg. */
static int expand_with(struct store *s, struct container *c, const char *name,
		       const struct config *cfg, struct config **ret, struct icd_error *reterr)
{
	struct config *layers[CONTAINER_PROFILES_MAX];
	_cleanup_strv_free_ char **names = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	_cleanup_(config_unrefp) struct config *own = container_spec_get(c, &names, etag);
	size_t n = 0;
	int r;

	if (!own)
		return -ENOMEM;
	for (; names && names[n] && n < CONTAINER_PROFILES_MAX; n++) {
		struct container *p = strcmp(names[n], name) == 0 ? NULL
								    : registry_get(s->profiles, names[n]);

		layers[n] = p ? container_config_get(p) : config_ref((struct config *)cfg);
		container_unref(p);
	}
	r = profile_expand_layers(layers, n, own, ret, reterr);
	for (size_t i = 0; i < n; i++)
		config_unref(layers[i]);
	return r;
}

/* "a, b, c and 4 more" into @buf. */
static void list_names(struct container **users, size_t n, char *buf, size_t size)
{
	size_t len = 0, i;

	buf[0] = '\0';
	for (i = 0; i < n && len + strlen(users[i]->name) + 16 < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s'%s'", i ? ", " : "",
					users[i]->name);
	if (i < n)
		(void)snprintf(buf + len, size - len, " and %zu more", n - i);
}

/* The expansion of every user with @cfg as profile @name: -EINVAL naming the first that breaks. */
static int check_users(struct store *s, struct store_change *ch, struct container **users,
		       size_t n, const struct config *cfg, struct config **expansions)
{
	for (size_t i = 0; i < n; i++) {
		struct icd_error inner = { 0 };
		int r = expand_with(s, users[i], ch->name, cfg, &expansions[i], &inner);

		if (r < 0)
			return icd_error_set(&ch->err, r == -ENOMEM ? r : -EINVAL,
					     "container '%s' would be invalid: %s", users[i]->name,
					     inner.msg);
	}
	return 0;
}

/* Publish @user's expansion with @cfg as profile @name's; its event if that changed a key. */
static void reexpand_user(struct store *s, struct container *user, const char *name,
			  const struct config *cfg)
{
	_cleanup_(config_unrefp) struct config *before = container_config_get(user);
	struct config *expanded = NULL;

	/* checked before the write; only ENOMEM is left, keeping the old expansion */
	if (expand_with(s, user, name, cfg, &expanded, NULL) < 0)
		return;
	container_publish_expanded(user, config_ref(expanded));
	publish_expanded_change(s->events, user, name, before, expanded);
	config_unref(expanded);
}

/*
 * Publish profile @ch's @p with @cfg as @revision (its event: the keys in
 * @changed), then the new expansion of every container using it, as they are
 * now: an ephemeral one may have registered since the check (its own keys
 * are empty: its expansion is the profile's). Memory only, under the
 * ephemeral lock, so no ephemeral container is added with the old keys after
 * its users were expanded.
 */
static void publish_with_users(struct store *s, struct store_change *ch, struct container *p,
			       struct config *cfg, uint64_t revision, unsigned changed)
{
	struct container **users = NULL;
	size_t n = 0;

	pthread_mutex_lock(&s->ephemeral_lock);
	container_publish(p, config_ref(cfg), revision, ch->etag);
	publish_profile_change(s->events, ch->op, p->name, changed, ch->etag);
	if (users_of(s, p->name, &users, &n) >= 0)
		for (size_t i = 0; i < n; i++)
			reexpand_user(s, users[i], p->name, cfg);
	pthread_mutex_unlock(&s->ephemeral_lock);
	users_free(users, n);
}

/* The LXC policy files of the stored users (@expansions as checked), after publishing. */
static void write_user_policies(struct store *s, struct container **users, size_t n,
				struct config **expansions)
{
	for (size_t i = 0; i < n; i++)
		if (!container_is_ephemeral(users[i]))
			(void)policy_write_lxc_file(s->seccomp_dir_fd, users[i]->name, expansions[i]);
}

static int run_profile_create(struct store *s, struct store_change *ch)
{
	struct store_spec new = { .rec = { .name = ch->name, .created_at = (int64_t)time(NULL),
					   .etag = ch->etag, .cfg = ch->cfg },
				  .policy = ch->cfg };
	_cleanup_(container_unrefp) struct container *p = registry_get(s->profiles, ch->name);
	int r;

	if (p)
		return icd_error_set(&ch->err, -EEXIST, "profile '%s' already exists", ch->name);
	container_etag_compute(ch->name, 0, ch->cfg, ch->etag);
	p = container_new_at(ch->name, new.rec.created_at, config_ref(ch->cfg), 0, ch->etag);
	if (!p)
		return -ENOMEM;
	r = store_persist(s, true, &new, NULL, &ch->err);
	if (r < 0)
		return r;
	/* its event before any ephemeral container can register with it */
	pthread_mutex_lock(&s->ephemeral_lock);
	r = registry_add(s->profiles, p);
	if (r >= 0) {
		ch->changed_keys = publish_changed_keys(NULL, ch->cfg);
		publish_profile_change(s->events, STORE_CREATE, ch->name, ch->changed_keys, ch->etag);
	}
	pthread_mutex_unlock(&s->ephemeral_lock);
	if (r < 0) {
		/* -ENOMEM growing the table: take the files back, the policy file first */
		(void)unlinkat(s->profile_seccomp_dir_fd, ch->name, 0);
		(void)state_remove_profile(s->state_dir_fd, ch->name);
		return r;
	}
	ch->published = config_ref(ch->cfg);
	ch->container = TAKE_PTR(p);
	return 0;
}

/* Write @p's next revision with @cfg durably (its ETag into ch->etag). */
static int save_profile(struct store *s, struct store_change *ch, struct container *p,
			uint64_t revision, const char *old_etag, struct config *cfg)
{
	_cleanup_(config_unrefp) struct config *old = container_config_get(p);
	struct store_spec new = { .rec = { .name = p->name, .created_at = p->created_at,
					   .revision = revision + 1, .etag = ch->etag, .cfg = cfg },
				  .policy = cfg };
	struct store_spec prev = { .rec = { .name = p->name, .created_at = p->created_at,
					    .revision = revision, .etag = old_etag, .cfg = old } };

	container_etag_compute(p->name, revision + 1, cfg, ch->etag);
	return store_persist(s, true, &new, &prev, &ch->err);
}

static int run_profile_update(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	_cleanup_(config_unrefp) struct config *old = NULL, *cfg = NULL;
	_cleanup_free_ struct config **expansions = NULL;
	struct container **users = NULL;
	char old_etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	size_t n = 0;
	int r;

	r = store_current(s->profiles, "profile", ch, &p, &revision, old_etag);
	if (r < 0)
		return r;
	old = container_config_get(p);
	if (ch->op == STORE_PATCH)
		r = store_patch_apply(&ch->patch, old, &cfg, &ch->err);
	else
		cfg = config_ref(ch->cfg);
	if (r >= 0)
		r = users_of(s, ch->name, &users, &n);
	if (r < 0)
		return r;
	expansions = calloc(n + 1, sizeof(*expansions));
	r = expansions ? check_users(s, ch, users, n, cfg, expansions) : -ENOMEM;
	if (r >= 0)
		r = save_profile(s, ch, p, revision, old_etag, cfg);
	if (r >= 0) {
		ch->changed_keys = publish_changed_keys(old, cfg);
		publish_with_users(s, ch, p, cfg, revision + 1, ch->changed_keys);
		write_user_policies(s, users, n, expansions);
	}
	for (size_t i = 0; expansions && i < n; i++)
		config_unref(expansions[i]);
	users_free(users, n);
	if (r < 0)
		return r;
	ch->published = TAKE_PTR(cfg);
	ch->container = TAKE_PTR(p);
	return 0;
}

/*
 * Mark profile @p as being deleted unless a container uses it (-EBUSY naming
 * them), under the ephemeral lock: from then on no ephemeral container
 * registers with it, and no other container can take it up while the
 * profiles lock is held. Readers still see it.
 */
static int mark_deleting(struct store *s, struct store_change *ch, struct container *p)
{
	struct container **users = NULL;
	char names[200];
	size_t n = 0;
	int r;

	pthread_mutex_lock(&s->ephemeral_lock);
	r = users_of(s, ch->name, &users, &n);
	if (r >= 0 && n == 0)
		s->deleting_profile = p;
	pthread_mutex_unlock(&s->ephemeral_lock);
	if (r < 0)
		return r;
	list_names(users, n, names, sizeof(names));
	users_free(users, n);
	if (n > 0)
		return icd_error_set(&ch->err, -EBUSY, "profile '%s' is used by %s", ch->name, names);
	return 0;
}

/* Unpublish the profile marked as being deleted, or (@is_deleted false) just clear the mark. */
static void unmark_deleting(struct store *s, const char *name, bool is_deleted)
{
	pthread_mutex_lock(&s->ephemeral_lock);
	if (is_deleted) {
		(void)registry_remove(s->profiles, name, NULL);
		/* under the lock registrations take: no later registration event names it */
		publish_profile_change(s->events, STORE_DELETE, name, 0, NULL);
	}
	s->deleting_profile = NULL;
	pthread_mutex_unlock(&s->ephemeral_lock);
}

/*
 * Marked, removed from the disk, then unpublished: readers see the profile
 * until its file is gone, and a removal that fails changes nothing anyone
 * saw. The mark keeps ephemeral containers from registering with it meanwhile.
 */
static int run_profile_delete(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	int r;

	r = store_current(s->profiles, "profile", ch, &p, &revision, etag);
	if (r >= 0)
		r = mark_deleting(s, ch, p);
	if (r < 0)
		return r;
	r = state_remove_profile(s->state_dir_fd, ch->name);
	if (r < 0) {
		_cleanup_(config_unrefp) struct config *cfg = container_config_get(p);

		/* the unlink may have happened before the failing fsync: put the file back */
		(void)state_save_profile(s->state_dir_fd, &(struct state_record){
			.name = p->name, .created_at = p->created_at, .revision = revision,
			.etag = etag, .cfg = cfg });
		unmark_deleting(s, ch->name, false);
		return store_write_failed(&ch->err, r, "the profile's state file");
	}
	unmark_deleting(s, ch->name, true);
	ch->has_stale_policy = unlinkat(s->profile_seccomp_dir_fd, ch->name, 0) < 0 &&
			       errno != ENOENT;
	ch->container = TAKE_PTR(p);
	return 0;
}

int store_run_profile_change(struct store *s, struct store_change *ch)
{
	int r;

	pthread_rwlock_wrlock(&s->profiles_lock);
	if (ch->op == STORE_CREATE)
		r = run_profile_create(s, ch);
	else if (ch->op == STORE_DELETE)
		r = run_profile_delete(s, ch);
	else
		r = run_profile_update(s, ch);
	pthread_rwlock_unlock(&s->profiles_lock);
	return r;
}

/* ---- ephemeral containers ---- */

/* The ephemeral container @name already is, if it is one of @profile. */
static int existing_ephemeral(struct container *c, const char *profile, struct icd_error *reterr)
{
	if (!container_is_ephemeral(c))
		return icd_error_set(reterr, -EEXIST, "the name '%s' is taken by a registered container",
				     c->name);
	if (strcmp(c->origin->profile, profile) != 0)
		return icd_error_set(reterr, -EEXIST,
				     "the name '%s' is taken by a container of profile '%s'", c->name,
				     c->origin->profile);
	return 0;
}

static struct container *new_ephemeral(const char *name, const char *profile,
				       const struct container_k8s *k8s, struct config *expanded)
{
	_cleanup_strv_free_ char **profiles = calloc(2, sizeof(char *));
	_cleanup_(config_unrefp) struct config *own = config_new_empty();
	char etag[CONTAINER_ETAG_LEN + 1];
	struct container *c;

	if (!profiles || !own || !(profiles[0] = strdup(profile))) {
		config_unref(expanded);
		return NULL;
	}
	container_etag_compute_profiles(name, 0, own, profiles, etag);
	c = container_new_at(name, (int64_t)time(NULL), config_ref(own), 0, etag);
	if (!c) {
		config_unref(expanded);
		return NULL;
	}
	c->origin = calloc(1, sizeof(*c->origin));
	if (!c->origin) {
		container_unref(c);
		config_unref(expanded);
		return NULL;
	}
	strcpy(c->origin->profile, profile);
	if (k8s)
		c->origin->k8s = *k8s;
	container_publish_spec(c, TAKE_PTR(own), TAKE_PTR(profiles), expanded, 0, etag);
	return c;
}

static int add_ephemeral_locked(struct store *s, const char *name, const char *profile,
				const struct container_k8s *k8s, struct container **ret,
				struct icd_error *reterr)
{
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, name);
	_cleanup_(container_unrefp) struct container *p = NULL;
	int r;

	if (c) {
		r = existing_ephemeral(c, profile, reterr);
		if (r >= 0)
			*ret = TAKE_PTR(c);
		return r;
	}
	p = registry_get(s->profiles, profile);
	if (!p)
		return icd_error_set(reterr, -ENOENT, "profile '%s' not found", profile);
	/* as if already gone: waiting for the disk here would hold up the intake thread */
	if (p == s->deleting_profile)
		return icd_error_set(reterr, -ENOENT, "profile '%s' is being deleted", profile);
	if (atomic_load(&s->n_ephemeral) >= STORE_EPHEMERAL_MAX)
		return icd_error_set(reterr, -EMFILE, "already %d ephemeral containers",
				     STORE_EPHEMERAL_MAX);
	c = new_ephemeral(name, profile, k8s, container_config_get(p));
	if (!c)
		return -ENOMEM;
	r = registry_add(s->registry, c);
	if (r < 0) /* -EEXIST: an API create won the name meanwhile */
		return icd_error_set(reterr, r, "cannot register '%s': %s", name, strerror(-r));
	atomic_fetch_add(&s->n_ephemeral, 1);
	publish_ephemeral(s->events, c, true);
	*ret = TAKE_PTR(c);
	return 1;
}

int store_add_ephemeral(struct store *s, const char *name, const char *profile,
			const struct container_k8s *k8s, struct container **ret,
			struct icd_error *reterr)
{
	int r;

	if (!container_name_valid(name) || !container_name_valid(profile))
		return icd_error_set(reterr, -EINVAL, "invalid container or profile name");
	pthread_mutex_lock(&s->ephemeral_lock);
	r = add_ephemeral_locked(s, name, profile, k8s, ret, reterr);
	pthread_mutex_unlock(&s->ephemeral_lock);
	return r;
}

int store_remove_ephemeral_if_unused(struct store *s, struct container *c)
{
	int r;

	if (!container_is_ephemeral(c))
		return 0;
	pthread_mutex_lock(&s->ephemeral_lock);
	r = registry_remove_unused(s->registry, c);
	if (r > 0) /* under the lock: never after the event of its name registered again */
		publish_ephemeral(s->events, c, false);
	pthread_mutex_unlock(&s->ephemeral_lock);
	if (r > 0) {
		atomic_fetch_sub(&s->n_ephemeral, 1);
		store_forget_k8s(s, c->name);
	}
	return r;
}

unsigned store_ephemeral_count(struct store *s)
{
	return atomic_load(&s->n_ephemeral);
}
