/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable registry: one JSON file written atomically. Called from the main
 * thread at startup and from the API thread under the API write lock, so there
 * is never more than one writer.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/fileio.h"
#include "daemon/log.h"
#include "daemon/state.h"

#define STATE_VERSION 1

static json_t *container_to_json(struct container *c)
{
	_cleanup_(config_unrefp) struct config *cfg = container_config_get(c);
	json_t *config = json_object(), *o;
	char etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;

	pthread_mutex_lock(&c->lock);
	revision = c->revision;
	memcpy(etag, c->etag, sizeof(etag));
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; config && i < CONFIG_KEY_COUNT; i++)
		if (cfg->values[i])
			json_object_set_new(config, config_keys[i].name, json_string(cfg->values[i]));
	o = json_pack("{s:s, s:I, s:I, s:s, s:o}", "name", c->name, "created_at",
		      (json_int_t)c->created_at, "revision", (json_int_t)revision, "etag", etag,
		      "config", config);
	return o;
}

static char *serialize(struct registry *r)
{
	_cleanup_free_ struct container **list = NULL;
	json_t *root, *arr;
	size_t n = 0;
	char *text;

	if (registry_list(r, &list, &n) < 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, container_to_json(list[i]));
	for (size_t i = 0; i < n; i++)
		container_unref(list[i]);
	root = json_pack("{s:i, s:o}", "version", STATE_VERSION, "containers", arr);
	text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	json_decref(root);
	return text;
}

int state_save(int state_dir_fd, struct registry *r)
{
	_cleanup_free_ char *text = serialize(r);

	if (!text)
		return -ENOMEM;
	return write_file_atomic(state_dir_fd, STATE_FILE_NAME, text, strlen(text), 0600,
				 WRITE_DURABLE);
}

static void remove_leftovers(int state_dir_fd)
{
	int fd = openat(state_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		close_nointr(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strncmp(de->d_name, FILEIO_TMP_PREFIX, strlen(FILEIO_TMP_PREFIX)) == 0)
			(void)unlinkat(state_dir_fd, de->d_name, 0);
	closedir(d);
}

static int load_config(json_t *jconfig, const char *name, struct config **ret,
		       struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	const char *key;
	json_t *v;
	int r;

	if (jconfig && !json_is_object(jconfig))
		return icd_error_set(reterr, -EINVAL, "container '%s': config is not an object", name);
	json_object_foreach(jconfig, key, v) {
		int k = config_key_lookup(key);

		if (k < 0 || !json_is_string(v))
			return icd_error_set(reterr, -EINVAL, "container '%s': invalid key '%s'", name,
					     key);
		values[k] = json_string_value(v);
	}
	r = config_new(values, ret, reterr);
	return r;
}

static int load_container(json_t *o, struct registry *reg, struct icd_error *reterr)
{
	const char *name = NULL, *etag = NULL;
	json_int_t created = 0, revision = 0;
	struct config *cfg = NULL;
	json_t *jconfig = NULL;
	json_error_t jerr;
	int r;

	if (json_unpack_ex(o, &jerr, JSON_STRICT, "{s:s, s:I, s:I, s:s, s:o}", "name", &name,
			   "created_at", &created, "revision", &revision, "etag", &etag, "config",
			   &jconfig) < 0)
		return icd_error_set(reterr, -EINVAL, "invalid container entry: %s", jerr.text);
	if (!container_name_valid(name))
		return icd_error_set(reterr, -EINVAL, "invalid container name '%s'", name);
	r = load_config(jconfig, name, &cfg, reterr);
	if (r < 0)
		return r;
	_cleanup_(container_unrefp) struct container *c = container_new(name, created, cfg);
	if (!c)
		return -ENOMEM;
	container_set_revision(c, (uint64_t)revision, etag);
	r = registry_add(reg, c);
	if (r == -EEXIST)
		return icd_error_set(reterr, -EINVAL, "container '%s' listed twice", name);
	return r;
}

int state_load(int state_dir_fd, struct registry *reg, struct icd_error *reterr)
{
	_cleanup_close_ int fd = -EBADF;
	json_t *root, *arr, *o;
	json_error_t jerr;
	json_int_t version;
	size_t i;
	int r = 0;

	remove_leftovers(state_dir_fd);
	fd = openat(state_dir_fd, STATE_FILE_NAME, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return icd_error_set(reterr, negative_errno(), "cannot open %s: %m", STATE_FILE_NAME);
	root = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return icd_error_set(reterr, -EINVAL, "%s is corrupt (line %d, column %d: %s)",
				     STATE_FILE_NAME, jerr.line, jerr.column, jerr.text);
	if (json_unpack_ex(root, &jerr, 0, "{s:I, s:o}", "version", &version, "containers", &arr) <
		    0 ||
	    !json_is_array(arr) || version != STATE_VERSION) {
		json_decref(root);
		return icd_error_set(reterr, -EINVAL, "%s has an unknown layout or version",
				     STATE_FILE_NAME);
	}
	json_array_foreach(arr, i, o) {
		r = load_container(o, reg, reterr);
		if (r < 0)
			break;
	}
	json_decref(root);
	return r;
}
