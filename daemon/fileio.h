/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* write() all of @buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

enum write_flags {
	WRITE_DURABLE = 1 << 0, /* fsync the file and the directory: survives a crash */
};

/*
 * Replace @name in @dir_fd with @buf atomically: a temporary file in the same
 * directory renamed over @name, so readers see the old or the new content,
 * never a mix. With WRITE_DURABLE the file is fsynced before the rename and the
 * directory after it. On failure the old file is untouched and the temporary
 * file is removed.
 */
int write_file_atomic(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode,
		      enum write_flags flags);

/*
 * Does @name in @dir_fd hold exactly @buf? 1 yes, 0 no (or missing), negative
 * errno when it cannot be read. Reading is far cheaper than replacing a file
 * (a new inode each time), which matters for files rewritten at every start.
 */
int file_has_content(int dir_fd, const char *name, const void *buf, size_t len);

/*
 * Read all of @fd (a regular file) into a new NUL-terminated buffer in one or
 * a few read()s. -EFBIG when it is longer than @max. free() *ret.
 */
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);

/* What dir_for_each_entry() calls for each entry; < 0 stops the walk. */
typedef int entry_fn(int dir_fd, const char *name, void *userdata);

/*
 * Call @fn(@dir_fd, name, @userdata) for each entry of @dir_fd except "." and
 * ".."; stops at the first error, which it returns.
 */
int dir_for_each_entry(int dir_fd, entry_fn *fn, void *userdata);

/* The prefix of temporary files, so startup can clean leftovers. */
#define FILEIO_TMP_PREFIX ".tmp."
