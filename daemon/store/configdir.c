/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config directory's state (configdir.h): which profiles files own, the
 * generation applied, the errors of the last refused one, and the list of
 * owned names kept durably in STATE_DIR/config-dir.json, so that a file
 * removed while the daemon was stopped still removes its profile. The
 * reconcile itself is in configdir_apply.c. @lock guards what the API thread
 * reads; everything else belongs to the one thread reconciling.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fileio.h"
#include "daemon/store/configdir_internal.h"
#include "daemon/strv.h"

#define OWNED_FILE "config-dir.json"
/* far above CONFIGDIR_ENTRIES_MAX names of CONTAINER_NAME_MAX characters */
#define OWNED_FILE_MAX (256 * 1024)

/* The names of a JSON array of profile names; invalid entries are dropped. */
static int names_from_json(const json_t *arr, char ***ret)
{
	_cleanup_strv_free_ char **names = calloc(json_array_size(arr) + 1, sizeof(char *));
	size_t i, n = 0;
	json_t *v;

	if (!names)
		return -ENOMEM;
	json_array_foreach((json_t *)arr, i, v)
		if (json_is_string(v) && container_name_valid(json_string_value(v)) &&
		    !(names[n++] = strdup(json_string_value(v))))
			return -ENOMEM;
	*ret = TAKE_PTR(names);
	return 0;
}

/* The names an earlier run owned (none when it never ran with --config-dir). */
static int load_owned(struct configdir *cd, struct icd_error *reterr)
{
	_cleanup_close_ int fd = openat(cd->state_dir_fd, OWNED_FILE,
					O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_free_ char *buf = NULL;
	json_auto_t *j = NULL;
	size_t len;
	int r;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return icd_error_set(reterr, -errno, "cannot open '%s': %m", OWNED_FILE);
	r = read_fd_all(fd, OWNED_FILE_MAX, &buf, &len);
	if (r < 0)
		return icd_error_set(reterr, r, "cannot read '%s': %s", OWNED_FILE, strerror(-r));
	j = json_loadb(buf, len, 0, NULL);
	if (!json_is_array(json_object_get(j, "profiles")))
		return icd_error_set(reterr, -EINVAL, "'%s' is corrupt (remove it to start over)",
				     OWNED_FILE);
	return names_from_json(json_object_get(j, "profiles"), &cd->owned);
}

int configdir_save_owned(struct configdir *cd, char *const *names)
{
	json_auto_t *arr = json_array();
	json_auto_t *j = NULL;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; arr && names && names[i]; i++)
		if (json_array_append_new(arr, json_string(names[i])) < 0)
			return -ENOMEM;
	j = arr ? json_pack("{s:O}", "profiles", arr) : NULL;
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	return write_file_atomic(cd->state_dir_fd, OWNED_FILE, text, strlen(text), 0600,
				 WRITE_DURABLE);
}

int configdir_new(const char *path, struct store *store, struct configdir **ret,
		  struct icd_error *reterr)
{
	_cleanup_(configdir_freep) struct configdir *cd = calloc(1, sizeof(*cd));
	int r;

	if (!cd)
		return -ENOMEM;
	cd->dir_fd = cd->state_dir_fd = -EBADF;
	pthread_mutex_init(&cd->lock, NULL);
	cd->store = store;
	cd->path = realpath(path, NULL);
	if (!cd->path)
		return icd_error_set(reterr, -errno, "'%s': %m", path);
	cd->dir_fd = open(cd->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cd->dir_fd < 0)
		return icd_error_set(reterr, -errno, "'%s': %m", cd->path);
	cd->state_dir_fd = fcntl(store->state_dir_fd, F_DUPFD_CLOEXEC, 3);
	if (cd->state_dir_fd < 0)
		return -errno;
	r = load_owned(cd, reterr);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(cd);
	return 0;
}

struct configdir *configdir_free(struct configdir *cd)
{
	if (!cd)
		return NULL;
	configdir_set_clear(&cd->applied);
	strv_free(cd->owned);
	strv_free(cd->kept);
	close_nointr(cd->dir_fd);
	close_nointr(cd->state_dir_fd);
	pthread_mutex_destroy(&cd->lock);
	free(cd->path);
	free(cd);
	return NULL;
}

int configdir_fd(const struct configdir *cd)
{
	return cd->dir_fd;
}

const char *configdir_path(const struct configdir *cd)
{
	return cd->path;
}

bool configdir_has_kept(struct configdir *cd)
{
	bool has;

	pthread_mutex_lock(&cd->lock);
	has = cd->kept && cd->kept[0];
	pthread_mutex_unlock(&cd->lock);
	return has;
}

bool configdir_declares(struct configdir *cd, const char *name, char *file)
{
	bool is_owned;

	if (!cd)
		return false;
	pthread_mutex_lock(&cd->lock);
	is_owned = strv_contains(cd->owned, name);
	if (is_owned && file) {
		/* a profile kept in use after its file went away has no file */
		strcpy(file, "(removed)");
		for (size_t i = 0; i < cd->applied.n_entries; i++)
			if (strcmp(cd->applied.entries[i].name, name) == 0)
				strcpy(file, cd->applied.entries[i].file);
	}
	pthread_mutex_unlock(&cd->lock);
	return is_owned;
}

static json_t *strv_json(char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		if (json_array_append_new(arr, json_string(v[i])) < 0)
			json_decref(TAKE_PTR(arr));
	return arr;
}

static json_t *errors_json(const struct configdir_errors *errs)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < errs->n_kept; i++)
		if (json_array_append_new(arr, json_string(errs->msg[i])) < 0)
			json_decref(TAKE_PTR(arr));
	if (arr && errs->n_total > errs->n_kept &&
	    json_array_append_new(arr, json_sprintf("and %zu more",
						    errs->n_total - errs->n_kept)) < 0)
		json_decref(TAKE_PTR(arr));
	return arr;
}

json_t *configdir_status_json(struct configdir *cd)
{
	json_t *j;

	pthread_mutex_lock(&cd->lock);
	j = json_pack("{s:s, s:I, s:o, s:o, s:o}", "path", cd->path, "generation",
		      (json_int_t)cd->generation, "profiles", strv_json(cd->owned), "kept_in_use",
		      strv_json(cd->kept), "errors", errors_json(&cd->errors));
	pthread_mutex_unlock(&cd->lock);
	return j;
}
