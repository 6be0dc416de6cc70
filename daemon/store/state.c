/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable registry: one JSON file per container, each replaced
 * atomically. Called from the main thread at startup and from the store's
 * writer threads, which never write one container's file from two threads at
 * once (daemon/store/store.c).
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/fileio.h"
#include "daemon/log.h"
#include "daemon/store/profile.h"
#include "daemon/store/state.h"
#include "daemon/strv.h"

#define STATE_VERSION 1
#define FILE_SUFFIX ".json"
/* far above any real file (a legacy state.json of 100,000 containers is ~20 MiB) */
#define STATE_FILE_MAX (256u << 20)

static json_t *record_to_json(const struct state_record *rec)
{
	json_t *config = json_object(), *profiles = NULL, *o;

	for (size_t i = 0; config && i < CONFIG_KEY_COUNT; i++)
		if (rec->cfg->values[i])
			json_object_set_new(config, config_keys[i].name,
					    json_string(rec->cfg->values[i]));
	o = json_pack("{s:s, s:I, s:I, s:s, s:o}", "name", rec->name, "created_at",
		      (json_int_t)rec->created_at, "revision", (json_int_t)rec->revision, "etag",
		      rec->etag, "config", config);
	/* written only when there are some: files of containers without profiles stay as they were */
	if (o && strv_length(rec->profiles) > 0) {
		profiles = json_array();
		for (size_t i = 0; profiles && rec->profiles[i]; i++)
			json_array_append_new(profiles, json_string(rec->profiles[i]));
		if (json_object_set_new(o, "profiles", profiles) < 0)
			json_decref(TAKE_PTR(o));
	}
	return o;
}

static int open_subdir(int state_dir_fd, const char *dir)
{
	return RET_NERRNO(openat(state_dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

static int open_containers_dir(int state_dir_fd)
{
	return open_subdir(state_dir_fd, STATE_CONTAINERS_DIR);
}

static void file_name(const char *name, char buf[static CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)])
{
	(void)snprintf(buf, CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX), "%s" FILE_SUFFIX, name);
}

/* @kind: "container" or "profile", the field that holds the record */
static int save_kind_to(int dir_fd, const struct state_record *rec, const char *kind)
{
	char name[CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)];
	json_t *root = json_pack("{s:i, s:o}", "version", STATE_VERSION, kind, record_to_json(rec));
	_cleanup_free_ char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;

	json_decref(root);
	if (!text)
		return -ENOMEM;
	file_name(rec->name, name);
	return write_file_atomic(dir_fd, name, text, strlen(text), 0600, WRITE_DURABLE);
}

static int save_to(int dir_fd, const struct state_record *rec)
{
	return save_kind_to(dir_fd, rec, "container");
}

int state_save_profile(int state_dir_fd, const struct state_record *rec)
{
	_cleanup_close_ int dir_fd = open_subdir(state_dir_fd, STATE_PROFILES_DIR);

	if (dir_fd < 0)
		return dir_fd;
	return save_kind_to(dir_fd, rec, "profile");
}

int state_save(int state_dir_fd, const struct state_record *rec)
{
	_cleanup_close_ int dir_fd = open_containers_dir(state_dir_fd);

	if (dir_fd < 0)
		return dir_fd;
	return save_to(dir_fd, rec);
}

/* @c as it is now; *ret_cfg holds the reference the record points to. */
static int save_container_to(int dir_fd, struct container *c)
{
	_cleanup_strv_free_ char **profiles = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	_cleanup_(config_unrefp) struct config *own = container_spec_get(c, &profiles, etag);
	struct state_record rec = { .name = c->name, .created_at = c->created_at, .etag = etag,
				    .cfg = own, .profiles = profiles };

	if (!own)
		return -ENOMEM;
	container_get_revision(c, &rec.revision, etag);
	return save_to(dir_fd, &rec);
}

int state_save_container(int state_dir_fd, struct container *c)
{
	_cleanup_close_ int dir_fd = open_containers_dir(state_dir_fd);

	if (dir_fd < 0)
		return dir_fd;
	return save_container_to(dir_fd, c);
}

static int remove_from(int state_dir_fd, const char *dir, const char *name)
{
	_cleanup_close_ int dir_fd = open_subdir(state_dir_fd, dir);
	char file[CONTAINER_NAME_MAX + sizeof(FILE_SUFFIX)];

	if (dir_fd < 0)
		return dir_fd;
	file_name(name, file);
	if (unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
		return negative_errno();
	return RET_NERRNO(fsync(dir_fd));
}

int state_remove_container(int state_dir_fd, const char *name)
{
	return remove_from(state_dir_fd, STATE_CONTAINERS_DIR, name);
}

int state_remove_profile(int state_dir_fd, const char *name)
{
	return remove_from(state_dir_fd, STATE_PROFILES_DIR, name);
}

/* ---- loading ---- */

static int remove_if_temporary(int dir_fd, const char *name, void *userdata)
{
	(void)userdata;
	if (strncmp(name, FILEIO_TMP_PREFIX, strlen(FILEIO_TMP_PREFIX)) == 0)
		(void)unlinkat(dir_fd, name, 0);
	return 0;
}

static int load_config(json_t *jconfig, const char *name, struct config **ret,
		       struct icd_error *reterr)
{
	const char *values[CONFIG_KEY_COUNT] = { 0 };
	struct icd_error refused;
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
	/* stored before the rule on mount.allowed: loads, so an upgrade starts, never emulated */
	if (r >= 0 && config_check_mount_allowed(*ret, &refused) < 0)
		log_warning("Container '%s': %s; loaded, never emulated", name, refused.msg);
	return r;
}

/*
 * Add the @kind ("container" or "profile") described by @o; when @expect_name
 * is set it must be that one. Only a container may name profiles.
 */
static int load_container(json_t *o, const char *expect_name, const char *kind,
			  struct registry *reg, struct icd_error *reterr)
{
	const char *name = NULL, *etag = NULL;
	json_int_t created = 0, revision = 0;
	_cleanup_strv_free_ char **profiles = NULL;
	struct config *cfg = NULL;
	json_t *jconfig = NULL, *jprofiles = NULL;
	json_error_t jerr;
	int r;

	if (json_unpack_ex(o, &jerr, JSON_STRICT, "{s:s, s:I, s:I, s:s, s:o, s?o}", "name", &name,
			   "created_at", &created, "revision", &revision, "etag", &etag, "config",
			   &jconfig, "profiles", &jprofiles) < 0)
		return icd_error_set(reterr, -EINVAL, "invalid %s entry: %s", kind, jerr.text);
	if (!container_name_valid(name))
		return icd_error_set(reterr, -EINVAL, "invalid %s name '%s'", kind, name);
	if (expect_name && strcmp(name, expect_name) != 0)
		return icd_error_set(reterr, -EINVAL, "it describes %s '%s'", kind, name);
	if (jprofiles && strcmp(kind, "container") != 0)
		return icd_error_set(reterr, -EINVAL, "a profile cannot apply profiles");
	r = profile_names_from_json(jprofiles, &profiles, reterr);
	if (r >= 0)
		r = load_config(jconfig, name, &cfg, reterr);
	if (r < 0)
		return r;
	_cleanup_(container_unrefp) struct container *c =
		container_new_at(name, created, cfg, (uint64_t)revision, etag);
	if (!c)
		return -ENOMEM;
	c->profiles = TAKE_PTR(profiles); /* not shared yet; the store expands it once all loaded */
	r = registry_add(reg, c);
	if (r == -EEXIST)
		return icd_error_set(reterr, -EINVAL, "%s '%s' listed twice", kind, name);
	return r;
}

/* Parse @dir_fd/@name (a JSON object with "version" and @field); the caller owns the result. */
static int load_json(int dir_fd, const char *name, const char *field, json_t **ret_root,
		     json_t **ret_field, struct icd_error *reterr)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	json_int_t version = 0;
	json_error_t jerr;
	json_t *root;

	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (fd < 0)
		return icd_error_set(reterr, negative_errno(), "cannot open %s: %m", name);
	/* one read(), not jansson's byte-at-a-time json_loadfd(): 10,000 files load in ms */
	r = read_fd_all(fd, STATE_FILE_MAX, &text, &len);
	if (r < 0)
		return icd_error_set(reterr, r, "cannot read %s: %s", name, strerror(-r));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return icd_error_set(reterr, -EINVAL, "%s is corrupt (line %d, column %d: %s)", name,
				     jerr.line, jerr.column, jerr.text);
	if (json_unpack_ex(root, &jerr, 0, "{s:I, s:o}", "version", &version, field, ret_field) < 0 ||
	    version != STATE_VERSION) {
		json_decref(root);
		return icd_error_set(reterr, -EINVAL, "%s has an unknown layout or version", name);
	}
	*ret_root = root;
	return 0;
}

struct load_ctx {
	struct registry *reg;
	struct icd_error *err;
	const char *dir;  /* STATE_CONTAINERS_DIR or STATE_PROFILES_DIR */
	const char *kind; /* "container" or "profile" */
};

/* "NAME.json" -> "NAME"; false for anything else. */
static bool container_file_stem(const char *file, char stem[static CONTAINER_NAME_MAX + 1])
{
	size_t n = strlen(file), m = strlen(FILE_SUFFIX);

	if (n <= m || strcmp(file + n - m, FILE_SUFFIX) != 0 || n - m > CONTAINER_NAME_MAX)
		return false;
	memcpy(stem, file, n - m);
	stem[n - m] = '\0';
	return true;
}

static int load_container_file(int dir_fd, const char *name, void *userdata)
{
	struct load_ctx *l = userdata;
	struct icd_error inner = { 0 };
	char stem[CONTAINER_NAME_MAX + 1];
	json_t *root = NULL, *o = NULL;
	int r;

	if (!container_file_stem(name, stem)) {
		log_warning("Ignoring '%s/%s': not a %s state file", l->dir, name, l->kind);
		return 0;
	}
	r = load_json(dir_fd, name, l->kind, &root, &o, &inner);
	if (r >= 0)
		r = load_container(o, stem, l->kind, l->reg, &inner);
	json_decref(root);
	if (r >= 0)
		return 0;
	/* name the file from the state directory on: "containers/web.json is corrupt (...)" */
	if (strncmp(inner.msg, name, strlen(name)) == 0)
		return icd_error_set(l->err, r, "%s/%s", l->dir, inner.msg);
	return icd_error_set(l->err, r, "%s/%s: %s", l->dir, name, inner.msg);
}

static int load_legacy(int state_dir_fd, struct registry *reg, struct icd_error *reterr)
{
	json_t *root = NULL, *arr = NULL, *o;
	size_t i;
	int r;

	r = load_json(state_dir_fd, STATE_LEGACY_FILE, "containers", &root, &arr, reterr);
	if (r < 0)
		return r;
	if (!json_is_array(arr))
		r = icd_error_set(reterr, -EINVAL, "%s has an unknown layout or version",
				  STATE_LEGACY_FILE);
	json_array_foreach(arr, i, o) {
		struct icd_error inner = { 0 };

		r = load_container(o, NULL, "container", reg, &inner);
		if (r < 0) {
			r = icd_error_set(reterr, r, "%s: %s", STATE_LEGACY_FILE, inner.msg);
			break;
		}
	}
	json_decref(root);
	return r;
}

static int remove_if_unregistered(int dir_fd, const char *name, void *userdata)
{
	char stem[CONTAINER_NAME_MAX + 1];
	struct container *c;

	if (!container_file_stem(name, stem))
		return 0;
	c = registry_get(userdata, stem);
	if (c) {
		container_unref(c);
		return 0;
	}
	return RET_NERRNO(unlinkat(dir_fd, name, 0));
}

/* Write every container of @reg into @dir_fd, drop files of others, then the legacy file. */
static int convert_legacy(int state_dir_fd, int dir_fd, struct registry *reg,
			  struct icd_error *reterr)
{
	_cleanup_free_ struct container **list = NULL;
	size_t n = 0;
	int r;

	r = registry_list(reg, &list, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = save_container_to(dir_fd, list[i]);
	for (size_t i = 0; i < n; i++)
		container_unref(list[i]);
	if (r >= 0)
		r = dir_for_each_entry(dir_fd, remove_if_unregistered, reg);
	if (r >= 0)
		r = RET_NERRNO(fsync(dir_fd));
	if (r >= 0)
		r = RET_NERRNO(unlinkat(state_dir_fd, STATE_LEGACY_FILE, 0));
	if (r >= 0)
		r = RET_NERRNO(fsync(state_dir_fd));
	if (r < 0)
		return icd_error_set(reterr, r, "cannot convert %s to %s/: %s", STATE_LEGACY_FILE,
				     STATE_CONTAINERS_DIR, strerror(-r));
	log_info("Converted %s to one file per container in %s/ (%zu containers)",
		 STATE_LEGACY_FILE, STATE_CONTAINERS_DIR, n);
	return 0;
}

int state_load(int state_dir_fd, struct registry *reg, struct icd_error *reterr)
{
	_cleanup_close_ int dir_fd = -EBADF;
	int r;

	(void)dir_for_each_entry(state_dir_fd, remove_if_temporary, NULL);
	if (mkdirat(state_dir_fd, STATE_CONTAINERS_DIR, 0700) < 0 && errno != EEXIST)
		return icd_error_set(reterr, negative_errno(), "cannot create %s/: %m",
				     STATE_CONTAINERS_DIR);
	dir_fd = open_containers_dir(state_dir_fd);
	if (dir_fd < 0)
		return icd_error_set(reterr, dir_fd, "cannot open %s/: %s", STATE_CONTAINERS_DIR,
				     strerror(-dir_fd));
	(void)dir_for_each_entry(dir_fd, remove_if_temporary, NULL);
	if (faccessat(state_dir_fd, STATE_LEGACY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		r = load_legacy(state_dir_fd, reg, reterr);
		return r < 0 ? r : convert_legacy(state_dir_fd, dir_fd, reg, reterr);
	}
	return dir_for_each_entry(dir_fd, load_container_file,
			      &(struct load_ctx){ .reg = reg, .err = reterr,
						  .dir = STATE_CONTAINERS_DIR, .kind = "container" });
}

int state_load_profiles(int state_dir_fd, struct registry *profiles, struct icd_error *reterr)
{
	_cleanup_close_ int dir_fd = -EBADF;

	/* older state directories have none: created empty */
	if (mkdirat(state_dir_fd, STATE_PROFILES_DIR, 0700) < 0 && errno != EEXIST)
		return icd_error_set(reterr, negative_errno(), "cannot create %s/: %m",
				     STATE_PROFILES_DIR);
	dir_fd = open_subdir(state_dir_fd, STATE_PROFILES_DIR);
	if (dir_fd < 0)
		return icd_error_set(reterr, dir_fd, "cannot open %s/: %s", STATE_PROFILES_DIR,
				     strerror(-dir_fd));
	(void)dir_for_each_entry(dir_fd, remove_if_temporary, NULL);
	return dir_for_each_entry(dir_fd, load_container_file,
			      &(struct load_ctx){ .reg = profiles, .err = reterr,
						  .dir = STATE_PROFILES_DIR, .kind = "profile" });
}
