/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Confined path resolution for the handlers: a path the caller passed is
 * resolved as the caller would, but never outside its root.
 *
 * Owns: opening the directory relative paths start from (the caller's cwd or
 * one of its directory fds), and resolving with openat2(): absolute paths with
 * RESOLVE_IN_ROOT, relative ones with RESOLVE_BENEATH and, when they climb
 * above their base, again from the root with the base's verified
 * root-relative path as prefix. Never string-prefix checks alone: a candidate
 * path is only accepted when re-resolving it lands on the same inode and mount.
 *
 * Called from worker threads; no locks, no allocation, no global state.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "daemon/macro.h"
#include "handlers/target.h"

int target_open_base(const struct target *t, int dirfd)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (dirfd == AT_FDCWD) {
		fd = openat(t->proc_dfd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		return fd >= 0 ? TAKE_FD(fd) : negative_errno();
	}
	fd = target_getfd(t, dirfd);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return TAKE_FD(fd);
}

static int openat2_retry(int dfd, const char *path, int o_flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)(o_flags | O_CLOEXEC), .resolve = resolve };

	/* -EAGAIN: a concurrent rename raced a ".." walk; the kernel asks us to retry */
	for (int i = 0; i < 8; i++) {
		long r = syscall(SYS_openat2, dfd, path, &how, sizeof(how));

		if (r >= 0)
			return (int)r;
		if (errno != EAGAIN)
			return negative_errno();
	}
	return -EAGAIN;
}

static int same_location(int a, int b)
{
	struct statx xa, xb;

	if (statx(a, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &xa) < 0 ||
	    statx(b, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &xb) < 0)
		return negative_errno();
	return xa.stx_ino == xb.stx_ino && xa.stx_dev_major == xb.stx_dev_major &&
	       xa.stx_dev_minor == xb.stx_dev_minor && xa.stx_mnt_id == xb.stx_mnt_id;
}

static int fd_path(int fd, char *buf, size_t size)
{
	char link[32];
	ssize_t n;

	(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size);
	if (n < 0)
		return negative_errno();
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

/*
 * The path of @base_fd relative to the caller's root @root_fd, verified:
 * re-resolving it with RESOLVE_IN_ROOT must land on the same inode and mount.
 * The strings only propose a candidate; the identity check decides, so a cwd
 * outside the root (a leaked fd, another mount namespace) is refused: -EXDEV.
 */
static int base_rel_path(int root_fd, int base_fd, char *rel, size_t size)
{
	char root_path[PATH_MAX];
	_cleanup_close_ int fd = -EBADF;
	const char *suffix;
	size_t n;
	int r;

	r = same_location(root_fd, base_fd);
	if (r != 0) {
		if (r > 0 && size >= 2)
			strcpy(rel, "/");
		return r > 0 ? 0 : r;
	}
	r = fd_path(root_fd, root_path, sizeof(root_path));
	if (r < 0)
		return r;
	r = fd_path(base_fd, rel, size);
	if (r < 0)
		return r;
	n = strlen(root_path);
	if (strcmp(root_path, "/") == 0)
		suffix = rel;
	else if (strncmp(rel, root_path, n) == 0 && rel[n] == '/')
		suffix = rel + n;
	else
		return -EXDEV;
	memmove(rel, suffix, strlen(suffix) + 1);
	fd = openat2_retry(root_fd, rel, O_PATH | O_DIRECTORY,
			   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0)
		return -EXDEV;
	r = same_location(fd, base_fd);
	if (r < 0)
		return r;
	return r > 0 ? 0 : -EXDEV;
}

int target_resolve(int root_fd, int base_fd, const char *path, int o_flags)
{
	const uint64_t in_root = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	char rel[PATH_MAX];
	struct stat st;
	size_t n;
	int r;

	if (path[0] == '\0')
		return -ENOENT;
	if (path[0] == '/')
		return openat2_retry(root_fd, path, o_flags, in_root);
	r = base_rel_path(root_fd, base_fd, rel, sizeof(rel));
	if (r == -EXDEV && fstat(base_fd, &st) == 0 && st.st_nlink == 0)
		return -ENOENT; /* a removed cwd: the kernel says ENOENT as well */
	if (r < 0)
		return r == -ENAMETOOLONG ? -ENAMETOOLONG : -EXDEV;
	/* common case: the path stays below the base, no string games at all */
	r = openat2_retry(base_fd, path, o_flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
	if (r != -EXDEV)
		return r;
	/* ".." above the base or an absolute symlink: walk from the root instead */
	n = strlen(rel);
	if (n + 1 + strlen(path) + 1 > sizeof(rel))
		return -ENAMETOOLONG;
	rel[n] = '/';
	strcpy(rel + n + 1, path);
	return openat2_retry(root_fd, rel, o_flags, in_root);
}
