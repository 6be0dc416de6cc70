/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared helpers of the libFuzzer targets: invariant checks and a scratch
 * directory on tmpfs for the parsers that read files. Single-threaded; the
 * scratch directory is the only global state.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/errors.h"
#include "daemon/fileio.h"
#include "tests/fuzz/fuzz.h"

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *fuzz_memdup(const void *data, size_t size)
{
	void *p = malloc(size ? size : 1);

	FUZZ_CHECK(p, "out of memory");
	if (size)
		memcpy(p, data, size);
	return p;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s, "out of memory");
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void fuzz_check_error_envelope(unsigned status, const char *msg)
{
	json_t *env = errors_envelope_error(status, msg);
	char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;

	json_decref(env);
	/* an echo of invalid UTF-8 once made this fail, and the client got 503 */
	FUZZ_CHECK(text, "status %u: message '%s' does not render as an error envelope", status,
		   msg);
	free(text);
}

void fuzz_check_refusal(int r, const struct icd_error *err)
{
	FUZZ_CHECK(r < 0, "a refusal returned %d", r);
	FUZZ_CHECK(err->code == r, "refused with %d, message set for %d: '%s'", r, err->code,
		   err->msg);
	FUZZ_CHECK(err->msg[0], "refused with %d without a message", r);
	fuzz_check_error_envelope(errors_http_status(r), err->msg);
}

bool fuzz_config_equal(const struct config *a, const struct config *b)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (!a->values[i] != !b->values[i] || a->enabled[i] != b->enabled[i])
			return false;
		if (a->values[i] && strcmp(a->values[i], b->values[i]) != 0)
			return false;
	}
	return a->n_mount_allowed == b->n_mount_allowed && a->n_mount_fuse == b->n_mount_fuse;
}

void fuzz_check_config_normalized(const struct config *cfg)
{
	struct config *again = NULL;
	struct icd_error err = { 0 };
	int r = config_new((const char *const *)cfg->values, &again, &err);

	FUZZ_CHECK(r == 0, "an accepted configuration is refused when validated again: %s",
		   err.msg);
	FUZZ_CHECK(fuzz_config_equal(cfg, again), "normalizing an accepted configuration changes it");
	for (size_t i = 0; i < cfg->n_mount_fuse; i++)
		FUZZ_CHECK(!config_mount_fs_allowed(cfg, cfg->mount_fuse[i].fstype),
			   "'%s' is both in mount.allowed and mount.fuse", cfg->mount_fuse[i].fstype);
	config_unref(again);
}

/* ---- scratch files ---- */

static char scratch_path[256];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void scratch_remove(void)
{
	if (scratch_path[0])
		(void)nftw(scratch_path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fuzz_scratch_dir(const char **ret_path)
{
	const char *base = getenv("TMPDIR");
	int fd;

	if (!base || !base[0])
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	(void)snprintf(scratch_path, sizeof(scratch_path), "%s/interceptd-fuzz.XXXXXX", base);
	FUZZ_CHECK(mkdtemp(scratch_path), "cannot create a scratch directory in '%s'", base);
	atexit(scratch_remove);
	fd = open(scratch_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "cannot open '%s'", scratch_path);
	if (ret_path)
		*ret_path = scratch_path;
	return fd;
}

int fuzz_subdir(int dir_fd, const char *name)
{
	int fd;

	FUZZ_CHECK(mkdirat(dir_fd, name, 0700) == 0, "cannot create '%s'", name);
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "cannot open '%s'", name);
	return fd;
}

void fuzz_write_file(int dir_fd, const char *name, const void *data, size_t size)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0, "cannot create '%s'", name);
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size, "cannot write '%s'", name);
	close(fd);
}

char *fuzz_read_file(int dir_fd, const char *name, size_t *ret_size)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	char *text = NULL;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	FUZZ_CHECK(read_fd_all(fd, SIZE_MAX, &text, &len) >= 0, "cannot read '%s'", name);
	close(fd);
	*ret_size = len;
	return text;
}

size_t fuzz_empty_dir(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t n = 0;

	FUZZ_CHECK(d, "cannot list a scratch directory");
	for (struct dirent *de; (de = readdir(d));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		FUZZ_CHECK(unlinkat(dir_fd, de->d_name, 0) == 0, "cannot remove '%s'", de->d_name);
		n++;
	}
	closedir(d);
	return n;
}
