/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/error.h"
#include "daemon/store/config.h"
#include "daemon/store/container.h"

/*
 * --config-dir DIR: profiles declared as files, one per profile, with flat
 * names so that a Kubernetes ConfigMap's keys map onto them:
 *
 *   profile.NAME.json   {"config": {KEY: VALUE, ...}}
 *   profile.NAME.yaml   the same in YAML (.yml too; only with libyaml)
 *
 * Names starting with "." are skipped: a ConfigMap's "..data" symlink and
 * "..2026_..." directories, editors' temporary files. Every other name is an
 * error, so a misspelt file is reported rather than ignored.
 *
 * A reconcile reads every file into a generation, validates ALL of it and
 * either applies it as a whole through the store (durable, published as API
 * changes are) or refuses it as a whole, keeping the last good generation
 * and recording why. Profiles declared by files are read-only over the API.
 */

/* bounds on what a hostile or broken directory can make the daemon read */
#define CONFIGDIR_FILE_MAX (64 * 1024)
#define CONFIGDIR_ENTRIES_MAX 1024
/* errors kept for GET /1.0 (the first ones; the count says how many more) */
#define CONFIGDIR_ERRORS_MAX 16

/* One declared profile. */
struct configdir_entry {
	char name[CONTAINER_NAME_MAX + 1];
	char file[NAME_MAX + 1];
	struct config *cfg; /* owned */
};

/* What a directory declares: a generation. */
struct configdir_set {
	struct configdir_entry *entries; /* owned, sorted by name */
	size_t n_entries;
};

void configdir_set_clear(struct configdir_set *set);

/* The errors of one read, as plain C (they cross from the watch thread to the API thread). */
struct configdir_errors {
	char msg[CONFIGDIR_ERRORS_MAX][sizeof(((struct icd_error *)0)->msg)];
	char file[CONFIGDIR_ERRORS_MAX][NAME_MAX + 1]; /* the file msg[i] is about, or "" */
	size_t n_kept;
	size_t n_total;
};

/*
 * File name @file: 1 with the profile name and format in *ret_name and
 * *ret_is_yaml when it declares a profile, 0 when it is to be skipped (a
 * dotfile), -EINVAL with a message otherwise. Pure.
 */
int configdir_file_kind(const char *file, char ret_name[static CONTAINER_NAME_MAX + 1],
			bool *ret_is_yaml, struct icd_error *reterr);

/*
 * Parse the content @buf (@len bytes) of @file, declaring profile @name, into
 * *ret_cfg (a new reference). -EINVAL naming the file and the problem;
 * -EOPNOTSUPP for YAML without libyaml. Pure.
 */
int configdir_parse(const char *file, const char *buf, size_t len, bool is_yaml,
		    struct config **ret_cfg, struct icd_error *reterr);

/*
 * Read every file of directory @dir_fd into *ret. Files are opened beneath
 * the directory only (symlinks that leave it are refused), must be regular
 * and at most CONFIGDIR_FILE_MAX bytes; at most CONFIGDIR_ENTRIES_MAX names.
 * Returns 0 when the whole directory is valid, -EINVAL when not (every
 * problem in @errs; *ret untouched), other -errno when it cannot be read.
 */
int configdir_read(int dir_fd, struct configdir_set *ret, struct configdir_errors *errs);

/* Add a message to @errs (kept while there is room, always counted). */
void configdir_errors_add(struct configdir_errors *errs, const char *fmt, ...) _printf_(2, 3);
/* The same for a message about one file of the directory, @file (as listed: unescaped). */
void configdir_errors_add_file(struct configdir_errors *errs, const char *file, const char *fmt,
			       ...) _printf_(3, 4);

struct store;
struct configdir;

/*
 * Open directory @path for @store (which must outlive it). The names that an
 * earlier run declared are read from the state directory, so a profile whose
 * file went away while the daemon was stopped is still removed.
 */
int configdir_new(const char *path, struct store *store, struct configdir **ret,
		  struct icd_error *reterr);
struct configdir *configdir_free(struct configdir *cd);

/* The directory's fd (for the watcher) and its path. */
int configdir_fd(const struct configdir *cd);
const char *configdir_path(const struct configdir *cd);

/*
 * Read the directory and apply it: 1 when a new generation was applied, 0
 * when nothing changed, -EINVAL when it was refused (the errors are kept for
 * configdir_status_json() and logged), other -errno on failure. Logs what it
 * did. Called by one thread at a time (the main thread at start, then the
 * watcher).
 */
int configdir_reconcile(struct configdir *cd);

/*
 * Is profile @name declared by a file? When it is, the file's name is copied
 * into @file (NAME_MAX + 1 bytes; may be NULL). Thread-safe.
 */
bool configdir_declares(struct configdir *cd, const char *name, char *file);

/* Are profiles kept in use after their file went away? (Their removal is worth a retry.) */
bool configdir_has_kept(struct configdir *cd);

/*
 * {"path", "generation", "profiles", "kept_in_use", "errors"} for GET /1.0.
 * Thread-safe.
 */
json_t *configdir_status_json(struct configdir *cd);
