/* SPDX-License-Identifier: Apache-2.0 */
/* Listening unix sockets for the API and intake; main thread, before any other thread. */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon/macro.h"
#include "daemon/sockets.h"

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* 0 if nothing listens at @path (stale or absent), -EADDRINUSE if something does. */
static int check_stale(const struct sockaddr_un *sa, int type)
{
	_cleanup_close_ int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return negative_errno();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return -EADDRINUSE;
	if (errno == ECONNREFUSED)
		(void)unlink(sa->sun_path);
	else if (errno == EPROTOTYPE)
		return -EADDRINUSE; /* a live socket of another type: not ours to remove */
	return 0;
}

int socket_listen_unix(const char *path, int type, mode_t mode, gid_t gid)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa;
	mode_t old_umask;
	int r;

	r = fill_addr(path, &sa);
	if (r < 0)
		return r;
	r = check_stale(&sa, type);
	if (r < 0)
		return r;
	fd = RET_NERRNO(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (fd < 0)
		return fd;
	/* no window in which the socket is reachable with looser permissions */
	old_umask = umask(0177);
	r = RET_NERRNO(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	umask(old_umask);
	if (r < 0)
		return r;
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)
		goto out_unlink;
	if (chmod(path, mode) < 0 || listen(fd, 128) < 0)
		goto out_unlink;
	return TAKE_FD(fd);

out_unlink:
	r = negative_errno();
	(void)unlink(path);
	return r;
}

int mkdir_parents(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return negative_errno();
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}
