/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a config directory into a generation (configdir.h): file names,
 * bounded and contained opens, parsing and validation of every file. Pure
 * apart from reading the directory; no locks, logs nothing. Runs on the
 * thread reconciling (main at start, then the watcher).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "api/validate.h"
#include "daemon/escape.h"
#include "daemon/fileio.h"
#include "daemon/store/configdir.h"
#include "daemon/store/configdir_yaml.h"

#define PROFILE_PREFIX "profile."

void configdir_set_clear(struct configdir_set *set)
{
	for (size_t i = 0; i < set->n_entries; i++)
		config_unref(set->entries[i].cfg);
	free(set->entries);
	*set = (struct configdir_set){ 0 };
}

static void errors_vadd(struct configdir_errors *errs, const char *file, const char *fmt,
			va_list ap) _printf_(3, 0);

static void errors_vadd(struct configdir_errors *errs, const char *file, const char *fmt,
			va_list ap)
{
	if (errs->n_kept < CONFIGDIR_ERRORS_MAX) {
		/* GET /1.0 shows it: JSON text, so never cut inside a character */
		icd_vformat(errs->msg[errs->n_kept], sizeof(errs->msg[0]), fmt, ap);
		snprintf(errs->file[errs->n_kept], sizeof(errs->file[0]), "%s", file);
		errs->n_kept++;
	}
	errs->n_total++;
}

void configdir_errors_add(struct configdir_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(errs, "", fmt, ap);
	va_end(ap);
}

void configdir_errors_add_file(struct configdir_errors *errs, const char *file, const char *fmt,
			       ...)
{
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(errs, file, fmt, ap);
	va_end(ap);
}

static bool has_suffix(const char *s, size_t len, const char *suffix, size_t *ret_stem)
{
	size_t n = strlen(suffix);

	if (len <= n || strcmp(s + len - n, suffix) != 0)
		return false;
	*ret_stem = len - n;
	return true;
}

int configdir_file_kind(const char *file, char ret_name[static CONTAINER_NAME_MAX + 1],
			bool *ret_is_yaml, struct icd_error *reterr)
{
	size_t len = strlen(file), stem = 0, prefix = strlen(PROFILE_PREFIX);
	bool is_yaml = false;

	if (file[0] == '.')
		return 0;
	if (strncmp(file, PROFILE_PREFIX, prefix) != 0)
		return icd_error_set(reterr, -EINVAL, "'%s': not a profile file "
				     "(expected profile.NAME.json or profile.NAME.yaml)",
				     ESCAPED(file, 64));
	if (has_suffix(file, len, ".yaml", &stem) || has_suffix(file, len, ".yml", &stem))
		is_yaml = true;
	else if (!has_suffix(file, len, ".json", &stem))
		return icd_error_set(reterr, -EINVAL, "'%s': unknown extension "
				     "(expected .json, .yaml or .yml)", ESCAPED(file, 64));
	if (stem <= prefix || stem - prefix > CONTAINER_NAME_MAX)
		return icd_error_set(reterr, -EINVAL, "'%s': invalid profile name",
				     ESCAPED(file, 64));
	memcpy(ret_name, file + prefix, stem - prefix);
	ret_name[stem - prefix] = '\0';
	if (!container_name_valid(ret_name))
		return icd_error_set(reterr, -EINVAL, "'%s': invalid profile name '%s'",
				     ESCAPED(file, 64), ESCAPED(ret_name, 64));
	*ret_is_yaml = is_yaml;
	return 1;
}

int configdir_parse(const char *file, const char *buf, size_t len, bool is_yaml,
		    struct config **ret_cfg, struct icd_error *reterr)
{
	json_auto_t *body = NULL;
	struct icd_error inner = { 0 };
	json_error_t jerr;
	int r;

	if (is_yaml) {
		r = configdir_yaml_to_json(buf, len, &body, &inner);
		if (r < 0)
			return icd_error_set(reterr, r, "'%s': %s", file, inner.msg);
	} else {
		body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!body)
			/* jansson's text quotes the bytes it stopped at, as they are */
			return icd_error_set(reterr, -EINVAL, "'%s': line %d: %s", file, jerr.line,
					     ESCAPED(jerr.text, 160));
	}
	if (!json_is_object(body))
		return icd_error_set(reterr, -EINVAL, "'%s': expected an object {\"config\": {...}}",
				     file);
	/* what PUT /1.0/profiles/NAME takes, which refuses it too */
	if (json_object_get(body, "profiles"))
		return icd_error_set(reterr, -EINVAL, "'%s': unknown field 'profiles': a profile "
				     "cannot apply profiles", file);
	r = validate_put(body, ret_cfg, &inner);
	if (r < 0)
		return icd_error_set(reterr, r == -ENOMEM ? r : -EINVAL, "'%s': %s", file, inner.msg);
	return 0;
}

/*
 * Open @file beneath @dir_fd: symlinks are followed only while they stay in
 * the directory (a ConfigMap's files are links into its "..data" directory),
 * never magic links; O_NONBLOCK so a FIFO cannot block the open.
 */
static int open_beneath(int dir_fd, const char *file)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};

	return RET_NERRNO((int)syscall(SYS_openat2, dir_fd, file, &how, sizeof(how)));
}

/* Read and parse one profile file into @e: 1, or 0 when it is gone. */
static int read_entry(int dir_fd, const char *file, bool is_yaml, struct configdir_entry *e,
		      struct icd_error *reterr)
{
	_cleanup_close_ int fd = open_beneath(dir_fd, file);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len;
	int r;

	if (fd == -ENOENT && faccessat(dir_fd, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* removed since it was listed: the removal's event brings another reading */
	if (fd == -ENOENT)
		return icd_error_set(reterr, -EINVAL, "'%s': a symlink to nothing", file);
	if (fd == -EXDEV || fd == -ELOOP)
		return icd_error_set(reterr, -EINVAL, "'%s': a symlink leaving the directory",
				     file);
	if (fd < 0)
		return icd_error_set(reterr, fd, "'%s': cannot open: %s", file, strerror(-fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return icd_error_set(reterr, -EINVAL, "'%s': not a regular file", file);
	if (st.st_size > CONFIGDIR_FILE_MAX)
		return icd_error_set(reterr, -EINVAL, "'%s': larger than %d bytes", file,
				     CONFIGDIR_FILE_MAX);
	r = read_fd_all(fd, CONFIGDIR_FILE_MAX, &buf, &len);
	if (r < 0)
		return icd_error_set(reterr, r == -EFBIG ? -EINVAL : r, "'%s': cannot read: %s",
				     file, r == -EFBIG ? "too large" : strerror(-r));
	if (memchr(buf, '\0', len))
		return icd_error_set(reterr, -EINVAL, "'%s': binary content (NUL bytes)", file);
	snprintf(e->file, sizeof(e->file), "%s", file);
	r = configdir_parse(file, buf, len, is_yaml, &e->cfg, reterr);
	return r < 0 ? r : 1;
}

/* The names in @dir_fd, sorted (so errors and duplicates come in a stable order). */
static int list_names(int dir_fd, struct dirent ***ret, int *ret_n)
{
	_cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent **names = NULL;
	int n;

	if (fd < 0)
		return -errno;
	n = scandirat(fd, ".", &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	*ret = names;
	*ret_n = n;
	return 0;
}

static void free_names(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Add @file's profile to @set, or its problem to @errs. */
static int add_file(int dir_fd, const char *file, struct configdir_set *set,
		    struct configdir_errors *errs)
{
	struct configdir_entry e = { 0 };
	struct icd_error err = { 0 };
	bool is_yaml = false;
	int r = configdir_file_kind(file, e.name, &is_yaml, &err);

	if (r == 0)
		return 0;
	for (size_t i = 0; r > 0 && i < set->n_entries; i++)
		if (strcmp(set->entries[i].name, e.name) == 0)
			r = icd_error_set(&err, -EINVAL, "'%s': profile '%s' is also declared by '%s'",
					  file, e.name, set->entries[i].file);
	if (r > 0)
		r = read_entry(dir_fd, file, is_yaml, &e, &err);
	if (r == -ENOMEM)
		return r;
	if (r == 0)
		return 0;
	if (r < 0) {
		configdir_errors_add_file(errs, file, "%s", err.msg);
		return 0;
	}
	set->entries[set->n_entries++] = e;
	return 0;
}

int configdir_read(int dir_fd, struct configdir_set *ret, struct configdir_errors *errs)
{
	struct configdir_set set = { 0 };
	struct dirent **names = NULL;
	size_t n_files = 0;
	int n = 0, r;

	*errs = (struct configdir_errors){ 0 };
	r = list_names(dir_fd, &names, &n);
	if (r < 0)
		return r;
	for (int i = 0; i < n; i++)
		n_files += names[i]->d_name[0] != '.';
	if (n_files > CONFIGDIR_ENTRIES_MAX) {
		configdir_errors_add(errs, "%zu files: more than %d", n_files, CONFIGDIR_ENTRIES_MAX);
		free_names(names, n);
		return -EINVAL;
	}
	set.entries = calloc(n_files + 1, sizeof(*set.entries));
	r = set.entries ? 0 : -ENOMEM;
	for (int i = 0; r >= 0 && i < n; i++)
		r = add_file(dir_fd, names[i]->d_name, &set, errs);
	free_names(names, n);
	if (r >= 0 && errs->n_total > 0)
		r = -EINVAL;
	if (r < 0) {
		configdir_set_clear(&set);
		return r;
	}
	*ret = set;
	return 0;
}
