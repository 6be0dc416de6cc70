/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/error.h"
#include "daemon/store/lanes.h"
#include "daemon/store/registry.h"

/*
 * The one place that changes the registry: create, replace, patch and delete
 * a container. A change is checked against what is published (existence,
 * If-Match), its snapshot is built, it is written to disk (the state file:
 * temporary file, fsync, rename, fsync of the directory; then the LXC policy
 * file, which LXC reads at a container's start), and only then published. A
 * change whose write fails publishes nothing and leaves the policy file as it
 * was, so no reader, worker or LXC container ever acts on something that is
 * withdrawn. A deletion removes the state file durably, then unpublishes.
 *
 * Changes run on writer threads, off the API thread: the changes of one
 * container one after another in the order they came, those of different
 * containers at the same time (daemon/store/lanes.h). The API thread keeps
 * answering reads from the published registry meanwhile.
 *
 * The store also owns the state directory's layout: containers/NAME.json,
 * profiles/NAME.json (daemon/store/state.c) and seccomp/NAME, the LXC policy
 * files.
 *
 * Profiles (daemon/store/profile.h) live in a registry of their own. What a
 * container publishes for workers is its EXPANDED configuration, recomputed
 * here whenever the container or one of its profiles changes. Profile
 * changes run on one lane and exclude every container change while they
 * run (a rwlock: container changes share it), so an expansion never mixes a
 * profile's old and new keys and a profile in use cannot disappear.
 */
struct store;

/*
 * Open @state_dir (created with its parents if missing), load every container
 * into @reg (empty) and bring every LXC policy file in line with it. A state
 * that cannot be read fails with a message naming the file in @reterr and is
 * left untouched. @reg must outlive the store.
 */
int store_open(const char *state_dir, struct registry *reg, struct store **ret,
	       struct icd_error *reterr);

/*
 * Refuse new changes and wait up to @timeout_ms for the queued ones to be
 * done (their callbacks called). -ETIMEDOUT when a write is still held by the
 * disk: the store must then not be freed.
 */
int store_close(struct store *s, int timeout_ms);

/* Free a store that store_close() emptied (or that never took a change). Returns NULL. */
struct store *store_free(struct store *s);

/*
 * Publish a lifecycle event on @bus for every change once it is published
 * (daemon/events/publish.h): of containers, of profiles (and of each
 * container a profile change re-expands) and of ephemeral containers
 * registering and going. Main thread, before the first change.
 */
struct event_bus;
void store_set_events(struct store *s, struct event_bus *bus);

/* The published profiles (struct container without listeners). Thread-safe to read. */
struct registry *store_profiles(struct store *s);

/* The absolute path of @name's LXC policy file (lxc.seccomp.profile) into @buf. */
int store_policy_path(const struct store *s, const char *name, char *buf, size_t size);

/* The same for profile @name: the policy an LXC container registering with it loads. */
int store_profile_policy_path(const struct store *s, const char *name, char *buf, size_t size);

enum store_op {
	STORE_CREATE,
	STORE_REPLACE,
	STORE_PATCH,
	STORE_DELETE,
};

/* What a PATCH sets: per key, whether it is named, and its normalized value (NULL removes it). */
struct store_patch {
	bool is_set[CONFIG_KEY_COUNT];
	char *values[CONFIG_KEY_COUNT]; /* owned */
};

/* The configuration @p makes of @current, checked as a whole (cross-key rules). Pure. */
int store_patch_apply(const struct store_patch *p, const struct config *current,
		      struct config **ret, struct icd_error *reterr);

/* Free @p's values. */
void store_patch_clear(struct store_patch *p);

/*
 * One change and, once done, its outcome. Plain C only: it crosses from the
 * API thread to a writer thread and back.
 */
struct store_change {
	enum store_op op;
	bool is_profile;         /* a change of profile @name, not of a container */
	char name[CONTAINER_NAME_MAX + 1];
	char *if_match;          /* owned: the If-Match header, or NULL */
	struct config *cfg;      /* owned: CREATE and REPLACE, the new (own) configuration */
	struct store_patch patch; /* PATCH */
	char **profiles;         /* owned: a container's profiles (CREATE, REPLACE; PATCH if has_profiles) */
	bool has_profiles;       /* PATCH: the request names "profiles" */

	/* the outcome */
	int result;                    /* 0 or a negative errno, with err */
	struct icd_error err;
	struct container *container;   /* reference: the container created or changed */
	struct config *published;      /* reference: the (own) configuration this change published */
	struct config *expanded;       /* reference: a container's expanded configuration with it */
	char **published_profiles;     /* owned: a container's profiles with it */
	char etag[CONTAINER_ETAG_LEN + 1]; /* the ETag published with it */
	bool has_stale_policy;         /* DELETE: its LXC policy file could not be removed */
	unsigned changed_keys;         /* CREATE, REPLACE, PATCH: bit (1 << key) per key changed
					  (a container's: of its expanded configuration) */

	/* private */
	struct lane_job job;
	struct store *store;
	void (*done)(struct store_change *ch, void *userdata);
	void *userdata;
};

/* A change of @op on container @name (a valid name). NULL on ENOMEM. */
struct store_change *store_change_new(enum store_op op, const char *name);

/* A change of @op on profile @name (a valid name). NULL on ENOMEM. */
struct store_change *store_change_new_profile(enum store_op op, const char *name);
struct store_change *store_change_free(struct store_change *ch);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store_change *, store_change_free)

/*
 * Queue @ch behind the earlier changes of its container. @done runs on a
 * writer thread once the outcome is in @ch; the store does not touch @ch
 * after calling it. Returns 0, or -ESHUTDOWN (closing), -ENOMEM, -EAGAIN:
 * then @done is never called.
 */
int store_submit(struct store *s, struct store_change *ch,
		 void (*done)(struct store_change *ch, void *userdata), void *userdata);

/* store_submit() and wait for the outcome: returns ch->result. */
int store_apply(struct store *s, struct store_change *ch);

/* At most this many ephemeral containers at once; more are refused (and logged by the caller). */
#define STORE_EPHEMERAL_MAX 4096

/*
 * An ephemeral container for a listener that registers itself: @name with
 * the configuration of @profile, not written to the state (its labels are
 * kept by store_keep_k8s()). When @name is already an ephemeral container of
 * the same profile (a second listener, or one taken back after a restart),
 * that one. Returns 1 (created) or 0 (there already) with a new reference in
 * *ret, or
 * -ENOENT (no such profile, or one being deleted: refused rather than
 * waited for, since the caller must not wait on the disk), -EEXIST (@name is
 * taken by another container),
 * -EMFILE (STORE_EPHEMERAL_MAX reached), -ENOMEM; with a message in @reterr.
 * Thread-safe (runs on the caller's thread: nothing is written).
 */
int store_add_ephemeral(struct store *s, const char *name, const char *profile,
			const struct container_k8s *k8s, struct container **ret,
			struct icd_error *reterr);

/*
 * Remove ephemeral container @c if it has no listener left (checked under the
 * registry lock, so a listener attaching meanwhile keeps it). Returns 1 when
 * removed, 0 when not. Thread-safe.
 */
int store_remove_ephemeral_if_unused(struct store *s, struct container *c);

/* How many ephemeral containers there are now. */
unsigned store_ephemeral_count(struct store *s);

/*
 * Kubernetes labels outlive a restart (k8s_labels.h): the store keeps those
 * of each ephemeral container from a pod in a small file, removes it with the
 * container (but not while the daemon stops: the fd store hands the listener
 * back), and reads it back when a restart registers the container again.
 */

/*
 * Keep the labels of ephemeral container @c (just registered), unless it has
 * none: the file is written later by a writer thread, so the caller (the
 * intake thread) never waits on the disk. Not written if @c is removed
 * meanwhile, unless the daemon is stopping. Returns 0 when queued (or
 * nothing to keep), or -EAGAIN (too many writes waiting for the disk),
 * -ENOMEM, -ESHUTDOWN; a write that fails later calls @failed (may be NULL)
 * with @c's name and the -errno, on the writer thread. Either way the labels
 * would be lost at a restart, nothing else. Thread-safe.
 */
int store_keep_k8s(struct store *s, struct container *c, void (*failed)(const char *name, int r));

/*
 * The kept labels of container @name into *@ret: 0, -ENOENT when none are
 * kept, -EINVAL (why in @reterr) for a file that is not valid. Thread-safe.
 */
int store_load_k8s(struct store *s, const char *name, struct container_k8s *ret,
		   struct icd_error *reterr);

/*
 * Remove the kept labels of every container that is not now an ephemeral
 * container with labels: after the listeners kept over a restart registered
 * theirs again. Returns how many files were removed, or a negative errno.
 * Thread-safe.
 */
int store_sweep_k8s(struct store *s);

/*
 * The daemon is stopping: from now on a removed ephemeral container keeps its
 * labels file, for the restart that takes its listener back. Thread-safe.
 */
void store_stopping(struct store *s);
