/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable file replacement and directory walks; used by the state files, the
 * LXC policy files and the kept Kubernetes labels.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/fileio.h"
#include "daemon/macro.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(int dir_fd, const char *name, const void *buf, size_t len, mode_t mode,
		      enum write_flags flags)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[256];
	int r;

	if (snprintf(tmp, sizeof(tmp), FILEIO_TMP_PREFIX "%s.%d", name, (int)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = RET_NERRNO(openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
	if (fd < 0)
		return fd;
	r = write_all(fd, buf, len);
	if (r >= 0 && (flags & WRITE_DURABLE))
		r = RET_NERRNO(fsync(fd));
	if (r >= 0)
		r = RET_NERRNO(renameat(dir_fd, tmp, dir_fd, name));
	if (r < 0) {
		(void)unlinkat(dir_fd, tmp, 0);
		return r;
	}
	/* the rename is durable only once the directory itself is synced */
	return flags & WRITE_DURABLE ? RET_NERRNO(fsync(dir_fd)) : 0;
}

int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t size = 4096, len = 0;
	char *buf = malloc(size + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *bigger;

			if (size >= max) {
				free(buf);
				return -EFBIG;
			}
			size = size * 2 < max ? size * 2 : max;
			bigger = realloc(buf, size + 1);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = negative_errno();

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

int file_has_content(int dir_fd, const char *name, const void *buf, size_t len)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char chunk[4096];
	size_t off = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : negative_errno();
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return off == len;
		if ((size_t)n > len - off || memcmp(chunk, (const char *)buf + off, (size_t)n) != 0)
			return 0;
		off += (size_t)n;
	}
}

int dir_for_each_entry(int dir_fd, entry_fn *fn, void *userdata)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (fd < 0)
		return negative_errno();
	d = fdopendir(fd);
	if (!d) {
		close_nointr(fd);
		return -ENOMEM;
	}
	while (r >= 0 && (errno = 0, de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = fn(dir_fd, de->d_name, userdata);
	if (r >= 0 && errno)
		r = negative_errno();
	closedir(d);
	return r;
}
