/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* write() all of @buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);

/*
 * Replace @name in @dir_fd with @buf durably: a temporary file in the same
 * directory, fsync, rename over @name, fsync of the directory. On failure the
 * old file is untouched and the temporary file is removed.
 */
int write_file_atomic(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode);

/* The prefix of temporary files, so startup can clean leftovers. */
#define FILEIO_TMP_PREFIX ".tmp."
