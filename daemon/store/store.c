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
#include "daemon/store/policy.h"
#include "daemon/store/state.h"
#include "daemon/store/store.h"

#define SECCOMP_DIR "seccomp"
/* at most this many containers write at once; more wait for a free writer */
#define STORE_WRITERS 8

struct store {
	struct registry *registry; /* not owned */
	char *state_dir;           /* owned: absolute */
	int state_dir_fd;          /* owned */
	int seccomp_dir_fd;        /* owned: SECCOMP_DIR, the LXC policy files */
	struct lanes *lanes;       /* owned */
	struct event_bus *events;  /* not owned; may be NULL */
};

/* ---- opening ---- */

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
	if (mkdirat(s->state_dir_fd, SECCOMP_DIR, 0700) < 0 && errno != EEXIST)
		return icd_error_set(reterr, negative_errno(), "cannot create '%s/" SECCOMP_DIR "': %m",
				     state_dir);
	s->seccomp_dir_fd = RET_NERRNO(openat(s->state_dir_fd, SECCOMP_DIR,
					      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	if (s->seccomp_dir_fd < 0)
		return icd_error_set(reterr, s->seccomp_dir_fd, "cannot open '%s/" SECCOMP_DIR "': %m",
				     state_dir);
	return 0;
}

/* Rewrite every LXC policy file from the restored registry; failures are not fatal. */
static void sync_policy_files(struct store *s)
{
	struct container **list = NULL;
	size_t n = 0;

	if (registry_list(s->registry, &list, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_(config_unrefp) struct config *cfg = container_config_get(list[i]);

		(void)policy_write_lxc_file(s->seccomp_dir_fd, list[i]->name, cfg);
	}
	registry_list_free(list, n);
}

int store_open(const char *state_dir, struct registry *reg, struct store **ret,
	       struct icd_error *reterr)
{
	struct store *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct store){ .registry = reg, .state_dir_fd = -EBADF, .seccomp_dir_fd = -EBADF };
	s->lanes = lanes_new(STORE_WRITERS);
	r = s->lanes ? open_dirs(s, state_dir, reterr) : -ENOMEM;
	if (r >= 0)
		r = state_load(s->state_dir_fd, reg, reterr);
	if (r < 0) {
		store_free(s);
		return r;
	}
	sync_policy_files(s);
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
	close_nointr(s->state_dir_fd);
	free(s->state_dir);
	free(s);
	return NULL;
}

void store_set_events(struct store *s, struct event_bus *bus)
{
	s->events = bus;
}

int store_policy_path(const struct store *s, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/" SECCOMP_DIR "/%s", s->state_dir, name);

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

struct store_change *store_change_free(struct store_change *ch)
{
	if (!ch)
		return NULL;
	free(ch->if_match);
	config_unref(ch->cfg);
	store_patch_clear(&ch->patch);
	container_unref(ch->container);
	config_unref(ch->published);
	free(ch);
	return NULL;
}

/*
 * RFC 9110 If-Match: absent passes, "*" passes for an existing resource, else
 * one of the listed strong tags must equal the current ETag (W/ never does).
 */
static int check_if_match(const char *if_match, const char *etag, struct icd_error *reterr)
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

static int write_failed(struct icd_error *reterr, int r, const char *what)
{
	errno = -r;
	return icd_error_set(reterr, r, "cannot write %s: %m", what);
}

/*
 * Write @rec's LXC policy file, then its state file. On failure the files are
 * put back as @old describes them (or removed when @old is NULL: a create),
 * as far as the disk lets us; the policy file goes first because it is
 * derived data, cheap to put back, while the state file's rename is the
 * moment the change exists.
 */
static int persist(struct store *s, const struct state_record *rec,
		   const struct state_record *old, struct icd_error *reterr)
{
	int r = policy_write_lxc_file(s->seccomp_dir_fd, rec->name, rec->cfg);

	if (r < 0)
		return write_failed(reterr, r, "the LXC policy file");
	r = state_save(s->state_dir_fd, rec);
	if (r >= 0)
		return 0;
	/* the rename may have happened before a failing fsync of the directory */
	if (old) {
		(void)state_save(s->state_dir_fd, old);
		(void)policy_write_lxc_file(s->seccomp_dir_fd, old->name, old->cfg);
	} else {
		(void)state_remove_container(s->state_dir_fd, rec->name);
		(void)unlinkat(s->seccomp_dir_fd, rec->name, 0);
	}
	return write_failed(reterr, r, "the state file");
}

static int run_create(struct store *s, struct store_change *ch)
{
	struct state_record rec = { .name = ch->name, .created_at = (int64_t)time(NULL),
				    .etag = ch->etag, .cfg = ch->cfg };
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, ch->name);
	int r;

	if (c)
		return icd_error_set(&ch->err, -EEXIST, "container '%s' already exists", ch->name);
	container_etag_compute(ch->name, 0, ch->cfg, ch->etag);
	c = container_new_at(ch->name, rec.created_at, config_ref(ch->cfg), 0, ch->etag);
	if (!c)
		return -ENOMEM;
	r = persist(s, &rec, NULL, &ch->err);
	if (r < 0)
		return r;
	r = registry_add(s->registry, c);
	if (r < 0) {
		/* -ENOMEM growing the table: take the files back, nobody has seen them */
		(void)state_remove_container(s->state_dir_fd, ch->name);
		(void)unlinkat(s->seccomp_dir_fd, ch->name, 0);
		return r;
	}
	ch->published = config_ref(ch->cfg);
	ch->container = TAKE_PTR(c);
	ch->changed_keys = publish_changed_keys(NULL, ch->cfg);
	return 0;
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

/* The container @ch changes as published, if its If-Match holds: a new reference. */
static int current(struct store *s, struct store_change *ch, struct container **ret,
		   uint64_t *ret_revision, char etag[static CONTAINER_ETAG_LEN + 1])
{
	_cleanup_(container_unrefp) struct container *c = registry_get(s->registry, ch->name);
	int r;

	if (!c)
		return icd_error_set(&ch->err, -ENOENT, "container '%s' not found", ch->name);
	container_get_revision(c, ret_revision, etag);
	r = check_if_match(ch->if_match, etag, &ch->err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

static int run_update(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *old = NULL, *cfg = NULL;
	struct state_record rec, prev;
	char old_etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	int r;

	r = current(s, ch, &c, &revision, old_etag);
	if (r < 0)
		return r;
	old = container_config_get(c);
	if (ch->op == STORE_PATCH)
		r = store_patch_apply(&ch->patch, old, &cfg, &ch->err);
	else
		cfg = config_ref(ch->cfg);
	if (r < 0)
		return r;
	container_etag_compute(c->name, revision + 1, cfg, ch->etag);
	rec = (struct state_record){ .name = c->name, .created_at = c->created_at,
				     .revision = revision + 1, .etag = ch->etag, .cfg = cfg };
	prev = (struct state_record){ .name = c->name, .created_at = c->created_at,
				      .revision = revision, .etag = old_etag, .cfg = old };
	r = persist(s, &rec, &prev, &ch->err);
	if (r < 0)
		return r;
	container_publish(c, config_ref(cfg), revision + 1, ch->etag);
	ch->changed_keys = publish_changed_keys(old, cfg);
	ch->published = TAKE_PTR(cfg);
	ch->container = TAKE_PTR(c);
	return 0;
}

static int run_delete(struct store *s, struct store_change *ch)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	int r;

	r = current(s, ch, &c, &revision, etag);
	if (r < 0)
		return r;
	r = state_remove_container(s->state_dir_fd, ch->name);
	if (r < 0) {
		/* the unlink may have happened before the failing fsync: put the file back */
		(void)state_save_container(s->state_dir_fd, c);
		return write_failed(&ch->err, r, "the state file");
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

	switch (ch->op) {
	case STORE_CREATE:
		r = run_create(s, ch);
		break;
	case STORE_DELETE:
		r = run_delete(s, ch);
		break;
	default:
		r = run_update(s, ch);
		break;
	}
	if (r < 0 && !ch->err.msg[0])
		(void)icd_error_set(&ch->err, r, "cannot change container '%s': %s", ch->name,
				    strerror(-r));
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
	strcpy(ch->job.key, ch->name);
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
