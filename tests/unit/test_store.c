/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the store over a real state directory: a change is on disk
 * (state file and LXC policy file) when it is published and answered; a
 * change whose write fails publishes nothing (same config, revision, ETag and
 * generation, which is what workers watch) and leaves the files as they
 * were, the LXC policy file untouched even for a moment (written only after
 * the state file); a create that fails leaves no file; a start rewrites a
 * policy file that disagrees with the state; If-Match and the cross-key rules
 * are checked against what is published; a delete removes the file, then the
 * container; a closed store takes no change. Each change goes through the
 * store's own writer thread (store_apply()).
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "daemon/fileio.h"
#include "daemon/store/state.h"
#include "daemon/store/store.h"

#include "tmpdir_fixture.h"

struct world {
	struct fixture *f;
	struct registry *reg;
	struct store *store;
};

static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct icd_error err = { 0 };
	void *f;

	setup(&f);
	w->f = f;
	w->reg = registry_new();
	assert_int_equal(store_open(w->f->dir, w->reg, &w->store, &err), 0);
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;
	void *f = w->f;

	assert_int_equal(store_close(w->store, 2000), 0);
	store_free(w->store);
	registry_free(w->reg);
	free(w);
	return teardown(&f);
}

/* @dir_fd/@rel's contents, or NULL when it cannot be read. */
static char *file_text(int dir_fd, const char *rel)
{
	_cleanup_close_ int fd = openat(dir_fd, rel, O_RDONLY | O_CLOEXEC);
	char *text = NULL;
	size_t len;

	if (fd < 0 || read_fd_all(fd, 1 << 20, &text, &len) < 0)
		return NULL;
	return text;
}

static char *state_text(struct world *w, const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), STATE_CONTAINERS_DIR "/%s.json", name);
	return file_text(w->f->dir_fd, rel);
}

static char *policy_text(struct world *w, const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "seccomp/%s", name);
	return file_text(w->f->dir_fd, rel);
}

/* Replace the contents of @rel (under the state directory) with @text. */
static void put_text(struct world *w, const char *rel, const char *text)
{
	_cleanup_close_ int fd = openat(w->f->dir_fd, rel, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Apply @op on @name with @cfg (taken; CREATE/REPLACE) and return its result. */
static int apply(struct world *w, enum store_op op, const char *name, struct config *cfg,
		 const char *if_match, struct store_change **ret)
{
	struct store_change *ch = store_change_new(op, name);
	int r;

	assert_non_null(ch);
	ch->cfg = cfg;
	if (if_match)
		ch->if_match = strdup(if_match);
	r = store_apply(w->store, ch);
	if (ret)
		*ret = ch;
	else
		store_change_free(ch);
	return r;
}

static struct config *cfg_of(const char *sysinfo, const char *mknod)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = sysinfo, [CONFIG_MKNOD] = mknod };
	struct config *cfg = NULL;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

/* What readers and workers can see of @name. */
struct seen {
	uint64_t revision, generation;
	char etag[CONTAINER_ETAG_LEN + 1];
	bool sysinfo;
};

static struct seen seen(struct world *w, const char *name)
{
	_cleanup_(container_unrefp) struct container *c = registry_get(w->reg, name);
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	struct seen s;

	assert_non_null(c);
	container_get_revision(c, &s.revision, s.etag);
	s.generation = atomic_load(&c->config_generation);
	cfg = container_config_get(c);
	s.sysinfo = config_enabled(cfg, CONFIG_SYSINFO);
	return s;
}

static void assert_seen_equal(const struct seen *a, const struct seen *b)
{
	assert_int_equal(a->revision, b->revision);
	assert_int_equal(a->generation, b->generation);
	assert_string_equal(a->etag, b->etag);
	assert_int_equal(a->sysinfo, b->sysinfo);
}

static void test_store_change_is_on_disk_when_published(void **state)
{
	struct world *w = *state;
	struct store_change *ch = NULL;
	_cleanup_free_ char *st = NULL, *pol = NULL;
	struct seen s;

	assert_int_equal(apply(w, STORE_CREATE, "web", cfg_of("false", NULL), NULL, &ch), 0);
	s = seen(w, "web");
	assert_string_equal(ch->etag, s.etag);
	store_change_free(ch);
	assert_int_equal(apply(w, STORE_REPLACE, "web", cfg_of("true", NULL), NULL, &ch), 0);
	s = seen(w, "web");
	assert_int_equal(s.revision, 1);
	assert_true(s.sysinfo);
	assert_string_equal(ch->etag, s.etag);
	assert_true(config_enabled(ch->published, CONFIG_SYSINFO));
	st = state_text(w, "web");
	pol = policy_text(w, "web");
	assert_non_null(strstr(st, s.etag));
	assert_non_null(strstr(st, "\"revision\": 1"));
	assert_non_null(strstr(pol, "sysinfo notify"));
	store_change_free(ch);
}

static void test_store_failed_policy_write_publishes_nothing(void **state)
{
	struct world *w = *state;
	_cleanup_free_ char *st_before = NULL, *st_after = NULL;
	struct store_change *ch = NULL;
	struct seen before, after;

	assert_int_equal(apply(w, STORE_CREATE, "db", cfg_of("false", NULL), NULL, NULL), 0);
	before = seen(w, "db");
	st_before = state_text(w, "db");
	/* a directory where the policy file goes: its rename fails */
	assert_int_equal(unlinkat(w->f->dir_fd, "seccomp/db", 0), 0);
	assert_int_equal(mkdirat(w->f->dir_fd, "seccomp/db", 0700), 0);
	assert_int_equal(apply(w, STORE_REPLACE, "db", cfg_of("true", NULL), NULL, &ch), -EISDIR);
	assert_non_null(strstr(ch->err.msg, "cannot write the LXC policy file"));
	assert_null(ch->published);
	after = seen(w, "db");
	assert_seen_equal(&before, &after);
	st_after = state_text(w, "db");
	assert_string_equal(st_before, st_after);
	store_change_free(ch);
}

/* The inode of @dir_fd/@rel: a file replaced by a rename has a new one. */
static ino_t inode_of(int dir_fd, const char *rel)
{
	struct stat st;

	assert_int_equal(fstatat(dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

/*
 * The inode of @rel, pinned by a second link @rel.pin so that its number
 * cannot be reused: a file replaced and put back has another one.
 */
static ino_t pinned_inode_of(int dir_fd, const char *rel)
{
	char pin[128];

	snprintf(pin, sizeof(pin), "%s.pin", rel);
	assert_int_equal(linkat(dir_fd, rel, dir_fd, pin, 0), 0);
	return inode_of(dir_fd, rel);
}

/*
 * The policy file is written only once the state file holds the change, so a
 * create whose policy file cannot be written takes its state file back.
 */
static void test_store_failed_policy_write_on_create_leaves_nothing(void **state)
{
	struct world *w = *state;

	assert_int_equal(mkdirat(w->f->dir_fd, "seccomp/new", 0700), 0);
	assert_int_equal(apply(w, STORE_CREATE, "new", cfg_of("true", NULL), NULL, NULL), -EISDIR);
	assert_null(state_text(w, "new"));
	assert_null(registry_get(w->reg, "new"));
}

static void test_store_failed_state_write_publishes_nothing(void **state)
{
	struct world *w = *state;
	_cleanup_free_ char *st_before = NULL, *st_after = NULL, *pol_before = NULL,
			    *pol_after = NULL;
	struct seen before, after;
	char blocker[128];
	ino_t pol_inode;

	assert_int_equal(apply(w, STORE_CREATE, "db", cfg_of("false", NULL), NULL, NULL), 0);
	before = seen(w, "db");
	st_before = state_text(w, "db");
	pol_before = policy_text(w, "db");
	pol_inode = pinned_inode_of(w->f->dir_fd, "seccomp/db");
	/* a directory where the temporary state file goes */
	snprintf(blocker, sizeof(blocker), STATE_CONTAINERS_DIR "/" FILEIO_TMP_PREFIX "db.json.%d",
		 (int)getpid());
	assert_int_equal(mkdirat(w->f->dir_fd, blocker, 0700), 0);
	assert_true(apply(w, STORE_REPLACE, "db", cfg_of("true", NULL), NULL, NULL) < 0);
	after = seen(w, "db");
	assert_seen_equal(&before, &after);
	st_after = state_text(w, "db");
	pol_after = policy_text(w, "db");
	assert_string_equal(st_before, st_after);
	/* never replaced, not even for a moment: LXC may read it whenever a container starts */
	assert_string_equal(pol_before, pol_after);
	assert_int_equal(inode_of(w->f->dir_fd, "seccomp/db"), pol_inode);
	assert_int_equal(unlinkat(w->f->dir_fd, blocker, AT_REMOVEDIR), 0);
}

/*
 * A crash between the state write and the policy write leaves a policy file
 * that disagrees with the state (of a container or a profile): the next start
 * rewrites it from the state.
 */
static void test_store_open_rewrites_disagreeing_policy(void **state)
{
	struct world *w = *state;
	struct store_change *ch = store_change_new_profile(STORE_CREATE, "p");
	struct icd_error err = { 0 };
	_cleanup_free_ char *pol = NULL, *profile_pol = NULL;

	assert_int_equal(apply(w, STORE_CREATE, "web", cfg_of("true", NULL), NULL, NULL), 0);
	ch->cfg = cfg_of(NULL, "true");
	assert_int_equal(store_apply(w->store, ch), 0);
	store_change_free(ch);
	assert_int_equal(store_close(w->store, 2000), 0);
	w->store = store_free(w->store);
	put_text(w, "seccomp/web", "2\ndenylist\n");
	put_text(w, "seccomp-profiles/p", "2\n");
	registry_free(w->reg);
	w->reg = registry_new();
	assert_int_equal(store_open(w->f->dir, w->reg, &w->store, &err), 0);
	pol = policy_text(w, "web");
	assert_non_null(strstr(pol, "sysinfo notify"));
	profile_pol = file_text(w->f->dir_fd, "seccomp-profiles/p");
	assert_non_null(strstr(profile_pol, "mknod"));
}

static void test_store_failed_create_leaves_nothing(void **state)
{
	struct world *w = *state;
	char blocker[128];

	snprintf(blocker, sizeof(blocker), STATE_CONTAINERS_DIR "/" FILEIO_TMP_PREFIX "new.json.%d",
		 (int)getpid());
	assert_int_equal(mkdirat(w->f->dir_fd, blocker, 0700), 0);
	assert_true(apply(w, STORE_CREATE, "new", cfg_of("true", NULL), NULL, NULL) < 0);
	assert_null(registry_get(w->reg, "new"));
	assert_null(state_text(w, "new"));
	assert_null(policy_text(w, "new"));
	assert_int_equal(unlinkat(w->f->dir_fd, blocker, AT_REMOVEDIR), 0);
	assert_int_equal(apply(w, STORE_CREATE, "new", cfg_of("true", NULL), NULL, NULL), 0);
	assert_int_equal(apply(w, STORE_CREATE, "new", cfg_of("true", NULL), NULL, NULL), -EEXIST);
}

static void test_store_if_match_against_what_is_published(void **state)
{
	struct world *w = *state;
	struct store_change *ch = NULL;
	char good[64];
	struct seen s;

	assert_int_equal(apply(w, STORE_CREATE, "m", cfg_of(NULL, NULL), NULL, NULL), 0);
	s = seen(w, "m");
	assert_int_equal(apply(w, STORE_REPLACE, "m", cfg_of("true", NULL), "\"0000000000000000\"",
			       &ch),
			 -ESTALE);
	assert_non_null(strstr(ch->err.msg, s.etag));
	store_change_free(ch);
	snprintf(good, sizeof(good), "W/\"%s\"", s.etag); /* weak never matches */
	assert_int_equal(apply(w, STORE_DELETE, "m", NULL, good, NULL), -ESTALE);
	snprintf(good, sizeof(good), "\"x\", \"%s\"", s.etag);
	assert_int_equal(apply(w, STORE_REPLACE, "m", cfg_of("true", NULL), good, NULL), 0);
	/* the ETag it matched is gone now */
	assert_int_equal(apply(w, STORE_REPLACE, "m", cfg_of("false", NULL), good, NULL), -ESTALE);
	assert_int_equal(apply(w, STORE_REPLACE, "m", cfg_of("false", NULL), "*", NULL), 0);
}

static void test_store_patch_checked_against_current(void **state)
{
	struct world *w = *state;
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT_ALLOWED] = "ext4" };
	struct store_change *ch = store_change_new(STORE_PATCH, "p");
	struct config *cfg = NULL;
	struct seen before, after;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	assert_int_equal(apply(w, STORE_CREATE, "p", cfg, NULL, NULL), 0);
	before = seen(w, "p");
	/* ext4 may not be both allowed and FUSE-mounted: known only with the current config */
	ch->patch.is_set[CONFIG_MOUNT_FUSE] = true;
	ch->patch.values[CONFIG_MOUNT_FUSE] = strdup("ext4=fuse2fs");
	assert_int_equal(store_apply(w->store, ch), -EINVAL);
	assert_non_null(strstr(ch->err.msg, "ext4"));
	store_change_free(ch);
	after = seen(w, "p");
	assert_seen_equal(&before, &after);
	ch = store_change_new(STORE_PATCH, "p");
	ch->patch.is_set[CONFIG_MOUNT_ALLOWED] = true; /* removed */
	ch->patch.is_set[CONFIG_SYSINFO] = true;
	ch->patch.values[CONFIG_SYSINFO] = strdup("true");
	assert_int_equal(store_apply(w->store, ch), 0);
	assert_null(ch->published->values[CONFIG_MOUNT_ALLOWED]);
	assert_true(config_enabled(ch->published, CONFIG_SYSINFO));
	store_change_free(ch);
}

static void test_store_delete_removes_file_then_container(void **state)
{
	struct world *w = *state;
	_cleanup_(container_unrefp) struct container *c = NULL;

	assert_int_equal(apply(w, STORE_CREATE, "d", cfg_of("true", NULL), NULL, NULL), 0);
	c = registry_get(w->reg, "d");
	assert_int_equal(apply(w, STORE_DELETE, "d", NULL, NULL, NULL), 0);
	assert_true(atomic_load(&c->is_removed));
	assert_null(registry_get(w->reg, "d"));
	assert_null(state_text(w, "d"));
	assert_null(policy_text(w, "d"));
	assert_int_equal(apply(w, STORE_DELETE, "d", NULL, NULL, NULL), -ENOENT);
	assert_int_equal(apply(w, STORE_REPLACE, "d", cfg_of("true", NULL), NULL, NULL), -ENOENT);
}

static void test_store_closed_takes_no_change(void **state)
{
	struct world *w = *state;
	struct store_change *ch = store_change_new(STORE_CREATE, "late");

	assert_int_equal(store_close(w->store, 1000), 0);
	ch->cfg = cfg_of("true", NULL);
	assert_int_equal(store_apply(w->store, ch), -ESHUTDOWN);
	assert_null(registry_get(w->reg, "late"));
	store_change_free(ch);
}

static void test_store_policy_path_is_absolute(void **state)
{
	struct world *w = *state;
	char path[PATH_MAX], expect[PATH_MAX];
	_cleanup_free_ char *real = realpath(w->f->dir, NULL);

	assert_int_equal(store_policy_path(w->store, "web", path, sizeof(path)), 0);
	snprintf(expect, sizeof(expect), "%s/seccomp/web", real);
	assert_string_equal(path, expect);
	assert_int_equal(store_policy_path(w->store, "web", path, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)
		T(test_store_change_is_on_disk_when_published),
		T(test_store_failed_policy_write_publishes_nothing),
		T(test_store_failed_policy_write_on_create_leaves_nothing),
		T(test_store_failed_state_write_publishes_nothing),
		T(test_store_open_rewrites_disagreeing_policy),
		T(test_store_failed_create_leaves_nothing),
		T(test_store_if_match_against_what_is_published),
		T(test_store_patch_checked_against_current),
		T(test_store_delete_removes_file_then_container),
		T(test_store_closed_takes_no_change),
		T(test_store_policy_path_is_absolute),
#undef T
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
