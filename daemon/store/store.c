/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store (see store.h): every change of the registry, written before it
 * is published. Changes are submitted from the API thread and run on lane
 * threads (lanes.c), keyed by container name, so only one thread ever changes
 * a given container or writes its files. Publishing takes the registry lock
 * (create, delete) or the container's lock (replace, patch), never while
 * writing. Opening and closing run on the main thread. Logs nothing: the
 * outcome, with its message, goes back to the caller.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/escape.h"
#include "daemon/events/publish.h"
#include "daemon/sockets.h"
#include "daemon/store/k8s_labels.h"
#include "daemon/store/policy.h"
#include "daemon/store/profile.h"
#include "daemon/store/state.h"
#include "daemon/store/store_internal.h"
#include "daemon/strv.h"

#define SECCOMP_DIR "seccomp"
/* the LXC policy files of profiles: a directory of their own, names never collide */
#define PROFILE_SECCOMP_DIR "seccomp-profiles"
/* at most this many containers write at once; more wait for a free writer */
#define STORE_WRITERS 8

/* ---- opening ---- */

/* STATE_DIR/@dir, created when missing, into *@ret_fd. */
static int open_subdir(struct store *s, const char *dir, int *ret_fd, struct icd_error *reterr)
{
	int fd;

	if (mkdirat(s->state_dir_fd, dir, 0700) < 0 && errno != EEXIST)
		return icd_error_set(reterr, negative_errno(), "cannot create '%s/%s': %m",
				     s->state_dir, dir);
	fd = RET_NERRNO(openat(s->state_dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (fd < 0)
		return icd_error_set(reterr, fd, "cannot open '%s/%s': %m", s->state_dir, dir);
	*ret_fd = fd;
	return 0;
}

static int open_dirs(struct store *s, const char *state_dir, struct icd_error *reterr)
{
	int r = mkdir_parents(state_dir, 0700);

	if (r < 0)
		return icd_error_set(reterr, r, "cannot create state directory '%s': %s", state_dir,
				     strerror(-r));
	s->state_dir = realpath(state_dir, NULL);
	if (!s->state_dir)
		return icd_error_set(reterr, negative_errno(), "cannot resolve '%s': %m", state_dir);
	s->state_dir_fd = RET_NERRNO(open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (s->state_dir_fd < 0)
		return icd_error_set(reterr, s->state_dir_fd, "cannot open state directory '%s': %m",
				     state_dir);
	r = open_subdir(s, SECCOMP_DIR, &s->seccomp_dir_fd, reterr);
	if (r >= 0)
		r = open_subdir(s, PROFILE_SECCOMP_DIR, &s->profile_seccomp_dir_fd, reterr);
	if (r >= 0)
		r = open_subdir(s, K8S_LABELS_DIR, &s->k8s_dir_fd, reterr);
	return r;
}

/* Expand one loaded container over the loaded profiles. */
static int expand_loaded(struct store *s, struct container *c, struct icd_error *reterr)
{
	_cleanup_strv_free_ char **profiles = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	_cleanup_(config_unrefp) struct config *own = container_spec_get(c, &profiles, etag);
	struct config *expanded = NULL;
	struct icd_error inner = { 0 };
	int r;

	if (!own)
		return -ENOMEM;
	r = profile_expand(s->profiles, profiles, own, &expanded, &inner);
	if (r < 0)
		return icd_error_set(reterr, -EINVAL, "%s/%s.json: %s", STATE_CONTAINERS_DIR, c->name,
				     inner.msg);
	container_publish_expanded(c, expanded);
	return 0;
}

/*
 * Expand every loaded container, then rewrite its LXC policy file from the
 * result. A container naming a profile that is not there fails the load:
 * the store never writes such a state.
 */
static int expand_and_sync(struct store *s, struct icd_error *reterr)
{
	struct container **list = NULL;
	size_t n = 0;
	int r = registry_list(s->profiles, &list, &n);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_(config_unrefp) struct config *cfg = container_config_get(list[i]);

		(void)policy_write_lxc_file(s->profile_seccomp_dir_fd, list[i]->name, cfg);
	}
	registry_list_free(list, n);
	list = NULL;
	n = 0;
	if (r >= 0)
		r = registry_list(s->registry, &list, &n);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = expand_loaded(s, list[i], reterr);
		if (r >= 0) {
			_cleanup_(config_unrefp) struct config *cfg = container_config_get(list[i]);

			(void)policy_write_lxc_file(s->seccomp_dir_fd, list[i]->name, cfg);
		}
	}
	registry_list_free(list, n);
	return r;
}

int store_open(const char *state_dir, struct registry *reg, struct store **ret,
	       struct icd_error *reterr)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct store){ .registry = reg, .state_dir_fd = -EBADF, .seccomp_dir_fd = -EBADF,
			     .profile_seccomp_dir_fd = -EBADF, .k8s_dir_fd = -EBADF };
	pthread_rwlock_init(&s->profiles_lock, NULL);
	pthread_mutex_init(&s->ephemeral_lock, NULL);
	pthread_mutex_init(&s->k8s_lock, NULL);
	s->lanes = lanes_new(STORE_WRITERS);
	s->profiles = registry_new();
	r = s->lanes && s->profiles ? open_dirs(s, state_dir, reterr) : -ENOMEM;
	if (r >= 0)
		r = state_load_profiles(s->state_dir_fd, s->profiles, reterr);
	if (r >= 0)
		r = state_load(s->state_dir_fd, reg, reterr);
	if (r >= 0)
		r = expand_and_sync(s, reterr);
	if (r < 0) {
		store_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int store_close(struct store *s, int timeout_ms)
{
	return s ? lanes_close(s->lanes, timeout_ms) : 0;
}

struct store *store_free(struct store *s)
{
	if (!s)
		return NULL;
	if (s->lanes && lanes_close(s->lanes, 0) == 0)
		lanes_free(s->lanes);
	close_nointr(s->seccomp_dir_fd);
	close_nointr(s->profile_seccomp_dir_fd);
	close_nointr(s->k8s_dir_fd);
	close_nointr(s->state_dir_fd);
	free(s->state_dir);
	registry_free(s->profiles);
	pthread_rwlock_destroy(&s->profiles_lock);
	pthread_mutex_destroy(&s->ephemeral_lock);
	pthread_mutex_destroy(&s->k8s_lock);
	free(s);
	return NULL;
}

void store_set_events(struct store *s, struct event_bus *bus)
{
	s->events = bus;
}

struct registry *store_profiles(struct store *s)
{
	return s->profiles;
}

int store_policy_path(const struct store *s, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/" SECCOMP_DIR "/%s", s->state_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int store_profile_policy_path(const struct store *s, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/" PROFILE_SECCOMP_DIR "/%s", s->state_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- changes ---- */

struct store_change *store_change_new(enum store_op op, const char *name)
{
	struct store_change *ch;

	if (strlen(name) > CONTAINER_NAME_MAX)
		return NULL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->op = op;
	strcpy(ch->name, name);
	return ch;
}

struct store_change *store_change_new_profile(enum store_op op, const char *name)
{
	struct store_change *ch = store_change_new(op, name);

	if (ch)
		ch->is_profile = true;
	return ch;
}

struct store_change *store_change_free(struct store_change *ch)
{
	if (!ch)
		return NULL;
	free(ch->if_match);
	config_unref(ch->cfg);
	store_patch_clear(&ch->patch);
	container_unref(ch->container);
	config_unref(ch->published);
	config_unref(ch->expanded);
	strv_free(ch->profiles);
	strv_free(ch->published_profiles);
	free(ch);
	return NULL;
}

/*
 * RFC 9110 If-Match: absent passes, "*" passes for an existing resource, else
 * one of the listed strong tags must equal the current ETag (W/ never does).
 */
int store_check_if_match(const char *if_match, const char *etag, struct icd_error *reterr)
{
	char quoted[CONTAINER_ETAG_LEN + 3];
	const char *p = if_match;

	if (!if_match)
		return 0;
	(void)snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
	while (p && *p) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && p[0] == '*') ||
		    (len == strlen(quoted) && strncmp(p, quoted, len) == 0))
			return 0;
		p = strchr(p, ',');
	}
	return icd_error_set(reterr, -ESTALE, "ETag doesn't match: If-Match '%s', current %s",
			     ESCAPED(if_match, 64), quoted);
}

int store_write_failed(struct icd_error *reterr, int r, const char *what)
{
	errno = -r;
	return icd_error_set(reterr, r, "cannot write %s: %m", what);
}

/* Put @name's state file back as @old has it, or remove it when @old is NULL (a create). */
static void restore_state(struct store *s, bool is_profile, const char *name,
			  const struct store_spec *old)
{
	if (old)
		(void)(is_profile ? state_save_profile : state_save)(s->state_dir_fd, &old->rec);
	else
		(void)(is_profile ? state_remove_profile : state_remove_container)(s->state_dir_fd,
										    name);
}

/*
 * The state file first: nobody reads it before a restart, so it may be put
 * back. LXC reads the policy file whenever a container starts, so it is
 * written only once the state holds the change, and never needs putting back:
 * it is replaced by a rename, the last step, that fails or is done. A crash
 * between the two is healed at the next start, which rewrites every policy
 * file from the state (expand_and_sync()).
 */
int store_persist(struct store *s, bool is_profile, const struct store_spec *new,
		  const struct store_spec *old, struct icd_error *reterr)
{
	const char *whose = is_profile ? "the profile's" : "the";
	int policy_dir_fd = is_profile ? s->profile_seccomp_dir_fd : s->seccomp_dir_fd;
	const char *what = "state file";
	char failed[64];
	int r = (is_profile ? state_save_profile : state_save)(s->state_dir_fd, &new->rec);

	if (r >= 0) {
		what = "LXC policy file";
		r = policy_write_lxc_file(policy_dir_fd, new->rec.name, new->policy);
	}
	if (r >= 0)
		return 0;
	/* after a state write too: its rename may have happened before a failing fsync */
	restore_state(s, is_profile, new->rec.name, old);
	(void)snprintf(failed, sizeof(failed), "%s %s", whose, what);
	return store_write_failed(reterr, r, failed);
}

/* @own expanded over @profiles as published now; a missing profile is a bad request. */
static int expand(struct store *s, struct store_change *ch, char *const *profiles,
		  const struct config *own, struct config **ret)
{
	int r = profile_expand(s->profiles, profiles, own, ret, &ch->err);

	/* a profile the request names that is not there: a bad request (400), not a missing
	 * resource (404); the message keeps saying which, with the code of the result */
	if (r == -ENOENT)
		r = ch->err.code = -EINVAL;
	return r;
}

/* Hand the published own config, profiles and expansion back with @ch. */
static int take_outcome(struct store_change *ch, struct config *own, char *const *profiles,
			struct config *expanded)
{
	ch->published = config_ref(own);
	ch->expanded = config_ref(expanded);
	return strv_copy(profiles, &ch->published_profiles);
}

static int run_create(struct store *s, struct store_change *ch)
{
	struct store_spec new = { .rec = { .name = ch->name, .created_at = (int64_t)time(NULL),
					   .etag = ch->etag, .cfg = ch->cfg, .profiles = ch->profiles } };
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, ch->name);
	_cleanup_(config_unrefp) struct config *expanded = NULL;
	_cleanup_strv_free_ char **profiles = NULL;
	int r;

	if (c)
		return icd_error_set(&ch->err, -EEXIST, "container '%s' already exists", ch->name);
	r = expand(s, ch, ch->profiles, ch->cfg, &expanded);
	if (r < 0 || (r = strv_copy(ch->profiles, &profiles)) < 0)
		return r;
	container_etag_compute_profiles(ch->name, 0, ch->cfg, ch->profiles, ch->etag);
	c = container_new_at(ch->name, new.rec.created_at, config_ref(ch->cfg), 0, ch->etag);
	if (!c)
		return -ENOMEM;
	/* not shared yet: set what it applies and what workers will read */
	container_publish_spec(c, config_ref(ch->cfg), TAKE_PTR(profiles), config_ref(expanded), 0,
			       ch->etag);
	new.policy = expanded;
	r = store_persist(s, false, &new, NULL, &ch->err);
	if (r < 0)
		return r;
	r = registry_add(s->registry, c);
	if (r < 0) {
		/* -ENOMEM growing the table: take the files back, the policy file first */
		(void)unlinkat(s->seccomp_dir_fd, ch->name, 0);
		(void)state_remove_container(s->state_dir_fd, ch->name);
		return r;
	}
	ch->container = TAKE_PTR(c);
	ch->changed_keys = publish_changed_keys(NULL, expanded);
	return take_outcome(ch, ch->cfg, ch->profiles, expanded);
}

int store_patch_apply(const struct store_patch *p, const struct config *current,
		      struct config **ret, struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT];

	_cleanup_(config_unrefp) struct config *cfg = NULL;
	int r;

	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		values[i] = p->is_set[i] ? p->values[i] : current->values[i];
	r = config_new(values, &cfg, reterr);
	if (r < 0)
		return r;
	/* a refused type stored by an older version stays, unless this change sets the key */
	if (p->is_set[CONFIG_MOUNT_ALLOWED] && p->values[CONFIG_MOUNT_ALLOWED]) {
		r = config_check_mount_allowed(cfg, reterr);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(cfg);
	return 0;
}

void store_patch_clear(struct store_patch *p)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++)
		free(p->values[i]);
	*p = (struct store_patch){ 0 };
}

int store_current(struct registry *reg, const char *kind, struct store_change *ch,
		  struct container **ret, uint64_t *ret_revision,
		  char etag[static CONTAINER_ETAG_LEN + 1])
{
	_cleanup_(container_unrefp) struct container *c = registry_get(reg, ch->name);
	int r;

	if (!c)
		return icd_error_set(&ch->err, -ENOENT, "%s '%s' not found", kind, ch->name);
	container_get_revision(c, ret_revision, etag);
	r = store_check_if_match(ch->if_match, etag, &ch->err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* The own configuration and profiles @ch makes of @old_own and @old_profiles. */
static int updated_spec(struct store_change *ch, const struct config *old_own,
			char *const *old_profiles, struct config **ret_own, char ***ret_profiles)
{
	bool keeps_profiles = ch->op == STORE_PATCH && !ch->has_profiles;
	int r = 0;

	if (ch->op == STORE_PATCH)
		r = store_patch_apply(&ch->patch, old_own, ret_own, &ch->err);
	else
		*ret_own = config_ref(ch->cfg);
	if (r < 0)
		return r;
	return strv_copy(keeps_profiles ? old_profiles : ch->profiles, ret_profiles);
}

static int refuse_ephemeral(struct store_change *ch, struct container *c)
{
	return icd_error_set(&ch->err, -EBUSY,
			     "container '%s' registered itself with profile '%s': change the "
			     "profile instead", c->name, c->origin->profile);
}

static int run_update(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *old = NULL, *old_expanded = NULL, *cfg = NULL,
					       *expanded = NULL;
	_cleanup_strv_free_ char **old_profiles = NULL, **profiles = NULL;
	char old_etag[CONTAINER_ETAG_LEN + 1];
	struct store_spec new, prev;
	uint64_t revision;
	int r;

	r = store_current(s->registry, "container", ch, &c, &revision, old_etag);
	if (r < 0)
		return r;
	if (container_is_ephemeral(c))
		return refuse_ephemeral(ch, c);
	old = container_spec_get(c, &old_profiles, old_etag);
	old_expanded = container_config_get(c);
	if (!old)
		return -ENOMEM;
	r = updated_spec(ch, old, old_profiles, &cfg, &profiles);
	if (r >= 0)
		r = expand(s, ch, profiles, cfg, &expanded);
	if (r < 0)
		return r;
	container_etag_compute_profiles(c->name, revision + 1, cfg, profiles, ch->etag);
	new = (struct store_spec){ .rec = { .name = c->name, .created_at = c->created_at,
					    .revision = revision + 1, .etag = ch->etag, .cfg = cfg,
					    .profiles = profiles },
				   .policy = expanded };
	prev = (struct store_spec){ .rec = { .name = c->name, .created_at = c->created_at,
					     .revision = revision, .etag = old_etag, .cfg = old,
					     .profiles = old_profiles } };
	r = store_persist(s, false, &new, &prev, &ch->err);
	if (r < 0)
		return r;
	ch->changed_keys = publish_changed_keys(old_expanded, expanded);
	r = take_outcome(ch, cfg, profiles, expanded);
	container_publish_spec(c, TAKE_PTR(cfg), TAKE_PTR(profiles), TAKE_PTR(expanded),
			       revision + 1, ch->etag);
	ch->container = TAKE_PTR(c);
	return r;
}

static int run_delete(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	int r;

	r = store_current(s->registry, "container", ch, &c, &revision, etag);
	if (r < 0)
		return r;
	if (container_is_ephemeral(c))
		return refuse_ephemeral(ch, c);
	r = state_remove_container(s->state_dir_fd, ch->name);
	if (r < 0) {
		/* the unlink may have happened before the failing fsync: put the file back */
		(void)state_save_container(s->state_dir_fd, c);
		return store_write_failed(&ch->err, r, "the state file");
	}
	(void)registry_remove(s->registry, ch->name, NULL);
	/* a stale policy file only names rules for a container that is gone */
	ch->has_stale_policy = unlinkat(s->seccomp_dir_fd, ch->name, 0) < 0 && errno != ENOENT;
	ch->container = TAKE_PTR(c);
	return 0;
}

/* A lane thread: the change's turn has come. */
static void run_change(struct lane_job *job)
{
	struct store_change *ch = container_of(job, struct store_change, job);
	struct store *s = ch->store;
	int r;

	if (ch->is_profile) {
		r = store_run_profile_change(s, ch);
	} else {
		/* shared with other containers' changes; no profile changes meanwhile */
		pthread_rwlock_rdlock(&s->profiles_lock);
		if (ch->op == STORE_CREATE)
			r = run_create(s, ch);
		else if (ch->op == STORE_DELETE)
			r = run_delete(s, ch);
		else
			r = run_update(s, ch);
		pthread_rwlock_unlock(&s->profiles_lock);
	}
	if (r < 0 && !ch->err.msg[0])
		(void)icd_error_set(&ch->err, r, "cannot change %s '%s': %s",
				    ch->is_profile ? "profile" : "container", ch->name, strerror(-r));
	ch->result = r < 0 ? r : 0;
	/* before the answer: a client that saw it also finds the event in its stream */
	publish_store_change(s->events, ch);
	ch->done(ch, ch->userdata);
}

int store_submit(struct store *s, struct store_change *ch,
		 void (*done)(struct store_change *ch, void *userdata), void *userdata)
{
	if ((ch->op == STORE_CREATE || ch->op == STORE_REPLACE) && !ch->cfg)
		return -EINVAL;
	ch->store = s;
	ch->done = done;
	ch->userdata = userdata;
	ch->job = (struct lane_job){ .run = run_change };
	/* profile changes one after another: each may re-expand every container */
	strcpy(ch->job.key, ch->is_profile ? STORE_PROFILES_LANE : ch->name);
	return lanes_submit(s->lanes, &ch->job);
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool is_done;
};

static void wake(struct store_change *ch, void *userdata)
{
	struct waiter *w = userdata;

	(void)ch;
	pthread_mutex_lock(&w->lock);
	w->is_done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int store_apply(struct store *s, struct store_change *ch)
{
	struct waiter w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	int r = store_submit(s, ch, wake, &w);

	if (r < 0)
		return icd_error_set(&ch->err, r, "cannot queue the change of '%s': %s", ch->name,
				     strerror(-r));
	pthread_mutex_lock(&w.lock);
	while (!w.is_done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return ch->result;
}
