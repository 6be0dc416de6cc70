/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the store's profiles over a real state directory: a profile
 * change re-expands every container using it (published for workers, LXC
 * policy file rewritten, the container's own revision untouched), a failed
 * profile write never replaces the profile's policy file, a failed profile
 * deletion changes nothing anyone saw, kept Kubernetes labels written in
 * order by a writer thread, profiles
 * and profile lists survive a reopen, a state naming a missing profile is
 * refused, and ephemeral containers: found again, refused names, removal
 * only without listeners, the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "daemon/fileio.h"
#include "daemon/store/k8s_labels.h"
#include "daemon/store/state.h"
#include "daemon/store/store.h"
#include "daemon/strv.h"

#include "tmpdir_fixture.h"

#define KEY "security.syscalls.intercept."

static struct fixture *F;
static struct registry *R;
static struct store *S;

#include "store_change.h"

static void open_store(void)
{
	struct icd_error err = { 0 };

	R = registry_new();
	assert_int_equal(store_open(F->dir, R, &S, &err), 0);
}

static void close_store(void)
{
	assert_int_equal(store_close(S, 2000), 0);
	S = store_free(S);
	R = registry_free(R);
}

static int world_setup(void **state)
{
	setup((void **)&F);
	open_store();
	(void)state;
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	close_store();
	return teardown((void **)&F);
}

static struct config *sysinfo_cfg(const char *value)
{
	const char *values[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = value };
	struct config *cfg = NULL;

	assert_int_equal(config_new(values, &cfg, NULL), 0);
	return cfg;
}

static char *policy_text(const char *name)
{
	char path[256];
	_cleanup_close_ int fd = -EBADF;
	char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/seccomp/%s", F->dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read_fd_all(fd, 1 << 20, &text, &len) < 0)
		return NULL;
	return text;
}

static void test_store_profile_change_reexpands_users(void **state)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *before = NULL, *after = NULL;
	_cleanup_free_ char *policy_before = NULL, *policy_after = NULL;
	char etag_before[CONTAINER_ETAG_LEN + 1], etag_after[CONTAINER_ETAG_LEN + 1];
	uint64_t rev_before, rev_after, gen;

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("false"), NULL), 0);
	assert_int_equal(change(false, STORE_CREATE, "c1", config_new_empty(), "p"), 0);
	c = registry_get(R, "c1");
	before = container_config_get(c);
	assert_false(config_enabled(before, CONFIG_SYSINFO));
	container_get_revision(c, &rev_before, etag_before);
	gen = atomic_load(&c->config_generation);
	policy_before = policy_text("c1");
	assert_int_equal(change(true, STORE_REPLACE, "p", sysinfo_cfg("true"), NULL), 0);
	after = container_config_get(c);
	assert_true(config_enabled(after, CONFIG_SYSINFO));
	assert_true(atomic_load(&c->config_generation) > gen); /* workers see it */
	container_get_revision(c, &rev_after, etag_after);
	assert_int_equal(rev_after, rev_before); /* its own keys did not change */
	assert_string_equal(etag_after, etag_before);
	policy_after = policy_text("c1");
	assert_non_null(policy_after);
	assert_string_not_equal(policy_before, policy_after); /* now traps sysinfo */
	assert_non_null(strstr(policy_after, "sysinfo"));
}

/*
 * A profile's LXC policy file, which LXC containers registering with it load,
 * is written only once its state file holds the change: a state write that
 * fails never replaces it, not even for a moment.
 */
static void test_store_failed_profile_write_keeps_its_policy_file(void **state)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	char path[256], pin[300], blocker[256];
	struct stat before, after;

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("false"), NULL), 0);
	snprintf(path, sizeof(path), "%s/seccomp-profiles/p", F->dir);
	/* a second link keeps its inode number from being reused by a replacement */
	snprintf(pin, sizeof(pin), "%s.pin", path);
	assert_int_equal(link(path, pin), 0);
	assert_int_equal(stat(path, &before), 0);
	snprintf(blocker, sizeof(blocker), "%s/profiles/" FILEIO_TMP_PREFIX "p.json.%d", F->dir,
		 (int)getpid());
	assert_int_equal(mkdir(blocker, 0700), 0);
	assert_true(change(true, STORE_REPLACE, "p", sysinfo_cfg("true"), NULL) < 0);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	p = registry_get(store_profiles(S), "p");
	cfg = container_config_get(p);
	assert_false(config_enabled(cfg, CONFIG_SYSINFO));
	assert_int_equal(rmdir(blocker), 0);
	/* and a profile whose policy file cannot be written is not created */
	snprintf(path, sizeof(path), "%s/seccomp-profiles/q", F->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(change(true, STORE_CREATE, "q", sysinfo_cfg("true"), NULL), -EISDIR);
	assert_null(registry_get(store_profiles(S), "q"));
	snprintf(path, sizeof(path), "%s/profiles/q.json", F->dir);
	assert_int_equal(access(path, F_OK), -1);
}

/*
 * A profile deletion whose removal fails changes nothing anyone saw: the
 * profile was never unpublished (the profiles registry did not change, which
 * is what listeners resolving names watch), it keeps its ETag, and ephemeral
 * containers register with it again once the deletion is over.
 */
static void test_store_failed_profile_delete_changes_nothing(void **state)
{
	_cleanup_(container_unrefp) struct container *p = NULL, *after = NULL, *e = NULL;
	char etag[CONTAINER_ETAG_LEN + 1], etag_after[CONTAINER_ETAG_LEN + 1];
	char file[256], saved[256];
	struct icd_error err = { 0 };
	uint64_t gen, revision;

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("true"), NULL), 0);
	p = registry_get(store_profiles(S), "p");
	container_get_revision(p, &revision, etag);
	gen = registry_generation(store_profiles(S));
	/* a directory in place of its file makes the removal fail */
	snprintf(file, sizeof(file), "%s/profiles/p.json", F->dir);
	snprintf(saved, sizeof(saved), "%s/profiles/p.saved", F->dir);
	assert_int_equal(rename(file, saved), 0);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), -EISDIR);
	assert_int_equal(registry_generation(store_profiles(S)), gen);
	after = registry_get(store_profiles(S), "p");
	assert_ptr_equal(after, p);
	assert_false(atomic_load(&p->is_removed));
	container_get_revision(p, &revision, etag_after);
	assert_string_equal(etag_after, etag);
	assert_int_equal(store_add_ephemeral(S, "e1", "p", NULL, &e, &err), 1);
	assert_int_equal(store_remove_ephemeral_if_unused(S, e), 1);
	assert_int_equal(rmdir(file), 0);
	assert_int_equal(rename(saved, file), 0);
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), 0);
	assert_null(registry_get(store_profiles(S), "p"));
}

static void test_store_profiles_survive_reopen(void **state)
{
	_cleanup_(container_unrefp) struct container *c = NULL, *p = NULL;
	_cleanup_(config_unrefp) struct config *own = NULL, *expanded = NULL;
	_cleanup_strv_free_ char **profiles = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("true"), NULL), 0);
	assert_int_equal(change(false, STORE_CREATE, "c1", config_new_empty(), "p"), 0);
	close_store();
	open_store();
	p = registry_get(store_profiles(S), "p");
	assert_non_null(p);
	c = registry_get(R, "c1");
	own = container_spec_get(c, &profiles, etag);
	assert_null(own->values[CONFIG_SYSINFO]);
	assert_int_equal(strv_length(profiles), 1);
	assert_string_equal(profiles[0], "p");
	expanded = container_config_get(c);
	assert_true(config_enabled(expanded, CONFIG_SYSINFO));
}

/* A container naming a profile that is not there: refused as bad input, its message with it. */
static void test_store_create_naming_missing_profile_is_bad_input(void **state)
{
	_cleanup_(store_change_freep) struct store_change *ch = store_change_new(STORE_CREATE, "c1");

	(void)state;
	assert_non_null(ch);
	ch->cfg = config_new_empty();
	assert_int_equal(strv_copy((char *const[]){ "nope", NULL }, &ch->profiles), 0);
	assert_int_equal(store_apply(S, ch), -EINVAL);
	/* the API renders the message with the result's status; both must say the same */
	assert_int_equal(ch->err.code, -EINVAL);
	assert_string_equal(ch->err.msg, "profile 'nope' not found");
	assert_null(registry_get(R, "c1"));
}

/* The store never writes it; a hand-edited state naming a missing profile does not load. */
static void test_store_refuses_state_with_missing_profile(void **state)
{
	struct registry *r2 = registry_new();
	struct store *s2 = NULL;
	struct icd_error err = { 0 };
	char path[256];

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("true"), NULL), 0);
	assert_int_equal(change(false, STORE_CREATE, "c1", config_new_empty(), "p"), 0);
	snprintf(path, sizeof(path), "%s/profiles/p.json", F->dir);
	assert_int_equal(unlink(path), 0);
	assert_true(store_open(F->dir, r2, &s2, &err) < 0);
	assert_string_equal(err.msg, "containers/c1.json: profile 'p' not found");
	registry_free(r2);
}

static void test_store_ephemeral_add_find_refuse(void **state)
{
	struct container_k8s k8s = { .pod = "web" };
	struct container *c = NULL, *again = NULL, *x = NULL;
	_cleanup_(config_unrefp) struct config *expanded = NULL;
	struct icd_error err = { 0 };

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", sysinfo_cfg("true"), NULL), 0);
	assert_int_equal(change(true, STORE_CREATE, "q", config_new_empty(), NULL), 0);
	assert_int_equal(change(false, STORE_CREATE, "taken", config_new_empty(), NULL), 0);
	assert_int_equal(store_add_ephemeral(S, "e1", "nope", NULL, &x, &err), -ENOENT);
	assert_int_equal(store_add_ephemeral(S, "e1", "p", &k8s, &c, &err), 1);
	assert_true(container_is_ephemeral(c));
	assert_string_equal(container_k8s(c)->pod, "web");
	expanded = container_config_get(c);
	assert_true(config_enabled(expanded, CONFIG_SYSINFO)); /* the profile's keys */
	assert_int_equal(store_add_ephemeral(S, "e1", "p", NULL, &again, &err), 0);
	assert_ptr_equal(again, c);
	assert_int_equal(store_add_ephemeral(S, "e1", "q", NULL, &x, &err), -EEXIST);
	assert_int_equal(store_add_ephemeral(S, "taken", "p", NULL, &x, &err), -EEXIST);
	assert_null(x);
	assert_int_equal(store_ephemeral_count(S), 1);
	/* an API change may not touch it; deleting its profile is refused */
	assert_int_equal(change(false, STORE_DELETE, "e1", NULL, NULL), -EBUSY);
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), -EBUSY);
	/* with a listener linked it stays; without, it goes */
	c->listeners = &(struct listener){ 0 };
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 0);
	c->listeners = NULL;
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	assert_true(atomic_load(&c->is_removed));
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 0);
	assert_int_equal(store_ephemeral_count(S), 0);
	assert_int_equal(change(true, STORE_DELETE, "p", NULL, NULL), 0);
	container_unref(c);
	container_unref(again);
}

static void test_store_ephemeral_cap(void **state)
{
	struct icd_error err = { 0 };
	struct container *c = NULL;
	char name[32];

	(void)state;
	assert_int_equal(change(true, STORE_CREATE, "p", config_new_empty(), NULL), 0);
	for (int i = 0; i < STORE_EPHEMERAL_MAX; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		assert_int_equal(store_add_ephemeral(S, name, "p", NULL, &c, &err), 1);
		container_unref(c);
	}
	assert_int_equal(store_add_ephemeral(S, "one-more", "p", NULL, &c, &err), -EMFILE);
	assert_string_equal(err.msg, "already 4096 ephemeral containers");
}

static char failed_name[CONTAINER_NAME_MAX + 1];
static int failed_r;

static void record_failure(const char *name, int r)
{
	snprintf(failed_name, sizeof(failed_name), "%s", name);
	failed_r = r;
}

/* Register ephemeral container @name of profile p with @k8s and ask for its labels to be kept. */
static struct container *register_kept(const char *name, const struct container_k8s *k8s)
{
	struct icd_error err = { 0 };
	struct container *c = NULL;

	assert_int_equal(store_add_ephemeral(S, name, "p", k8s, &c, &err), 1);
	assert_int_equal(store_keep_k8s(S, c, record_failure), 0);
	return c;
}

/*
 * Kept Kubernetes labels are written and removed later, by a writer thread,
 * in the order asked for: a name removed and registered again with other
 * labels ends with the new ones; a container removed while the daemon stops
 * keeps its file for the restart; a write that fails is reported.
 */
static void test_store_k8s_labels_kept_in_order(void **state)
{
	const struct container_k8s a = { .namespace = "ns", .pod = "a", .container = "c" };
	const struct container_k8s b = { .namespace = "ns", .pod = "b", .container = "c" };
	struct container_k8s got = { 0 };
	_cleanup_close_ int dir_fd = -EBADF;
	char blocker[256];
	struct container *c;

	(void)state;
	failed_r = 0;
	assert_int_equal(change(true, STORE_CREATE, "p", config_new_empty(), NULL), 0);
	c = register_kept("e1", &a);
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	container_unref(c);
	container_unref(register_kept("e1", &b));
	snprintf(blocker, sizeof(blocker), "%s/" K8S_LABELS_DIR "/e3.json", F->dir);
	assert_int_equal(mkdir(blocker, 0700), 0);
	container_unref(register_kept("e3", &a));
	c = register_kept("e2", &a);
	store_stopping(S);
	assert_int_equal(store_remove_ephemeral_if_unused(S, c), 1);
	container_unref(c);
	close_store(); /* waits for the writes */
	snprintf(blocker, sizeof(blocker), "%s/" K8S_LABELS_DIR, F->dir);
	dir_fd = open(blocker, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(k8s_labels_load(dir_fd, "e1", &got, NULL), 0);
	assert_string_equal(got.pod, "b");
	assert_int_equal(k8s_labels_load(dir_fd, "e2", &got, NULL), 0);
	assert_string_equal(got.pod, "a");
	assert_string_equal(failed_name, "e3");
	assert_int_equal(failed_r, -EISDIR);
	open_store();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_profile_change_reexpands_users, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_store_failed_profile_write_keeps_its_policy_file,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_store_failed_profile_delete_changes_nothing,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_store_profiles_survive_reopen, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_store_refuses_state_with_missing_profile,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_store_create_naming_missing_profile_is_bad_input,
						world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_store_ephemeral_add_find_refuse, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_store_ephemeral_cap, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_store_k8s_labels_kept_in_order, world_setup,
						world_teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
