/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/error.h"
#include "daemon/store/registry.h"

/*
 * STATE_DIR/containers/NAME.json holds one container each, so a change costs
 * one small durable write however many containers are registered.
 * STATE_DIR/state.json is the older single-file layout: when present it is
 * loaded and converted at startup.
 */
#define STATE_CONTAINERS_DIR "containers"
#define STATE_LEGACY_FILE "state.json"
/* STATE_DIR/profiles/NAME.json: one profile each, the same record without "profiles" */
#define STATE_PROFILES_DIR "profiles"

/*
 * Load the registry into @r (which must be empty). No state yet is an empty
 * registry. An unreadable or invalid file fails with a message in @reterr
 * (naming the file) and every file is left untouched. Leftover temporary
 * files are removed; a legacy state.json is converted and then removed.
 */
int state_load(int state_dir_fd, struct registry *r, struct icd_error *reterr);

/* What one container's state file holds. */
struct state_record {
	const char *name;
	int64_t created_at;
	uint64_t revision;
	const char *etag;
	const struct config *cfg; /* its own keys */
	char *const *profiles;    /* NULL-terminated or NULL: the profiles it applies, in order */
};

/*
 * Write @rec as its container's file durably: temporary file, fsync, rename,
 * fsync of the directory. The old file stays whole until the rename. Callers
 * never write one container's file from two threads at once.
 */
int state_save(int state_dir_fd, const struct state_record *rec);

/* state_save() of @c as it is now (its current config, revision and ETag). */
int state_save_container(int state_dir_fd, struct container *c);

/* Remove @name's file durably (unlink, fsync of the directory). Missing is fine. */
int state_remove_container(int state_dir_fd, const char *name);

/*
 * Load every profile into @profiles (empty), creating STATE_PROFILES_DIR when
 * missing (a state from before profiles). Errors as state_load().
 */
int state_load_profiles(int state_dir_fd, struct registry *profiles, struct icd_error *reterr);

/* state_save() and state_remove_container() for profile @rec / @name. */
int state_save_profile(int state_dir_fd, const struct state_record *rec);
int state_remove_profile(int state_dir_fd, const char *name);
