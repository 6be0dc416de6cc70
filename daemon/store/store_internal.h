/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "daemon/store/state.h"
#include "daemon/store/store.h"

/* The store's insides, shared by store.c (containers) and store_profiles.c. */
struct store {
	struct registry *registry; /* not owned */
	struct registry *profiles; /* owned */
	/*
	 * Held for a change's whole run, disk writes included: container changes
	 * share it, profile changes take it alone. Only writer threads take it.
	 */
	pthread_rwlock_t profiles_lock;
	/*
	 * Held for memory work only, never across a write: publishing a profile
	 * and its users' expansions, and adding or removing an ephemeral container
	 * (on the intake thread and workers, which must not wait for a disk).
	 */
	pthread_mutex_t ephemeral_lock;
	atomic_uint n_ephemeral;
	/*
	 * The profile a deletion is removing from the disk (ephemeral lock): still
	 * published, but no ephemeral container registers with it. Not a reference.
	 */
	const struct container *deleting_profile;
	/*
	 * Serializes writing, removing and sweeping the kept Kubernetes labels
	 * (store_k8s.c), which decide from the registry as it is under it; taken
	 * before the registry lock, never with another store lock held.
	 */
	pthread_mutex_t k8s_lock;
	atomic_uint n_k8s_pending; /* labels writes and removals queued or running */
	int k8s_dir_fd;            /* owned: STATE_DIR/k8s-labels */
	atomic_bool is_stopping;   /* removed containers keep their labels file */
	char *state_dir;           /* owned: absolute */
	int state_dir_fd;          /* owned */
	int seccomp_dir_fd;        /* owned: the LXC policy files */
	int profile_seccomp_dir_fd; /* owned: the LXC policy files of profiles */
	struct lanes *lanes;       /* owned */
	struct event_bus *events;  /* not owned; may be NULL */
};

/* The lane every profile change runs on: not a name a container can have. */
#define STORE_PROFILES_LANE "/profiles"

/* RFC 9110 If-Match of @if_match against @etag: 0 or -ESTALE with a message. */
int store_check_if_match(const char *if_match, const char *etag, struct icd_error *reterr);

/*
 * The container or profile (@kind names which) that @ch changes, as published
 * in @reg, if its If-Match holds: a new reference in *ret, with its revision
 * and ETag. -ENOENT or -ESTALE with a message.
 */
int store_current(struct registry *reg, const char *kind, struct store_change *ch,
		  struct container **ret, uint64_t *ret_revision,
		  char etag[static CONTAINER_ETAG_LEN + 1]);

/* One revision of a container or a profile as its files hold it. */
struct store_spec {
	struct state_record rec;
	/* what the LXC policy file is made from: a container's expanded configuration, a
	   profile's own */
	const struct config *policy;
};

/*
 * Write @new's state file durably, then its LXC policy file (a container's,
 * or with @is_profile a profile's). When either fails the state file is put
 * back as @old describes it (removed when @old is NULL: a create), as far as
 * the disk lets us, and the policy file is as it was. Returns 0 or -errno
 * with a message naming the file in @reterr. A lane thread, before publishing.
 */
int store_persist(struct store *s, bool is_profile, const struct store_spec *new,
		  const struct store_spec *old, struct icd_error *reterr);

/* -errno @r as "cannot write @what: ..." in @reterr; returns @r. */
int store_write_failed(struct icd_error *reterr, int r, const char *what);

/*
 * Ephemeral container @name was removed: queue the removal of its kept labels
 * (done unless a container registered with that name since), unless the
 * daemon is stopping. Never waits on the disk. Any thread.
 */
void store_forget_k8s(struct store *s, const char *name);

/* Run profile change @ch (a lane thread, the profiles lock not held). Returns 0 or -errno. */
int store_run_profile_change(struct store *s, struct store_change *ch);
