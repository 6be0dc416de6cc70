/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's listening unix sockets (API, LXC and OCI intake): bound here,
 * or taken over from systemd's socket units (LISTEN_FDS, names "api", "lxc"
 * and "oci") and checked before use. Main thread only, before any other
 * thread starts and after they all stopped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon/daemon.h"
#include "daemon/fdstore.h"
#include "daemon/log.h"
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

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)NULL)->sun_path)

struct socket_spec {
	const char *fdname; /* FileDescriptorName= of its socket unit */
	const char *what;   /* for messages */
	int type;
};

static const struct socket_spec specs[DAEMON_SOCKET_COUNT] = {
	[DAEMON_SOCKET_API] = { "api", "API", SOCK_STREAM },
	[DAEMON_SOCKET_LXC] = { "lxc", "LXC", SOCK_SEQPACKET },
	[DAEMON_SOCKET_OCI] = { "oci", "OCI", SOCK_STREAM },
};

static const char **configured_path(struct daemon *d, enum daemon_socket i)
{
	switch (i) {
	case DAEMON_SOCKET_API: return &d->opts.api_socket;
	case DAEMON_SOCKET_LXC: return &d->opts.lxc_socket;
	default: return &d->opts.oci_socket;
	}
}

static int bind_one(const char *path, const struct socket_spec *spec, mode_t mode, gid_t gid)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int r;

	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_parents(dir, 0755);
		if (r < 0)
			return log_error_errno(r, "Cannot create directory '%s': %m", dir);
	}
	r = socket_listen_unix(path, spec->type, mode, gid);
	if (r == -EADDRINUSE)
		return log_error_errno(r, "The %s socket '%s' is held by a running daemon, refusing to start",
				       spec->what, path);
	if (r < 0)
		return log_error_errno(r, "Cannot listen on %s socket '%s': %m", spec->what, path);
	return r;
}

/* Remove the first fd named @name from d->stored_fds and return it; -ENOENT if none. */
static int take_named_fd(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_stored_fds; i++) {
		int fd = d->stored_fds[i].fd;

		if (strcmp(d->stored_fds[i].name, name) != 0)
			continue;
		memmove(&d->stored_fds[i], &d->stored_fds[i + 1],
			(d->n_stored_fds - i - 1) * sizeof(d->stored_fds[0]));
		d->n_stored_fds--;
		return fd;
	}
	return -ENOENT;
}

static int sockopt_int(int fd, int opt, int *ret)
{
	socklen_t len = sizeof(*ret);

	return RET_NERRNO(getsockopt(fd, SOL_SOCKET, opt, ret, &len));
}

/* NULL if @fd is a listening AF_UNIX socket of @type bound to a path (into @path), else why not. */
static const char *check_listener(int fd, int type, char path[static SUN_PATH_SIZE + 1])
{
	struct sockaddr_un sa = {};
	socklen_t len = sizeof(sa);
	int domain, actual_type, listening;

	if (sockopt_int(fd, SO_DOMAIN, &domain) < 0)
		return errno == ENOTSOCK ? "not a socket" : "unreadable socket options";
	if (domain != AF_UNIX)
		return "not an AF_UNIX socket";
	if (sockopt_int(fd, SO_TYPE, &actual_type) < 0 || actual_type != type)
		return type == SOCK_STREAM ? "not SOCK_STREAM" : "not SOCK_SEQPACKET";
	if (sockopt_int(fd, SO_ACCEPTCONN, &listening) < 0 || !listening)
		return "not listening";
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] != '/')
		return "not bound to a path (unnamed or abstract)";
	memcpy(path, sa.sun_path, len - offsetof(struct sockaddr_un, sun_path));
	path[len - offsetof(struct sockaddr_un, sun_path)] = '\0';
	return NULL;
}

/*
 * What the daemon enforces on sockets it binds, checked on one systemd made:
 * an intake socket hands out container identities (anyone who can connect
 * claims a name), so it must be root's and writable by root only. The API
 * socket authorizes each request by its peer, so another mode only earns a
 * warning.
 */
static const char *check_file(struct daemon *d, enum daemon_socket i, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return "its path does not name a socket";
	if (i != DAEMON_SOCKET_API) {
		if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
			return "an intake socket must be owned by root and writable by nobody else "
			       "(SocketMode=0600)";
		return NULL;
	}
	if ((st.st_mode & 07777) != d->opts.api_socket_mode)
		log_warning("The API socket '%s' passed by systemd has mode %04o, not %04o "
			    "(--api-socket-mode): keeping systemd's", path,
			    (unsigned)(st.st_mode & 07777), (unsigned)d->opts.api_socket_mode);
	if (d->has_admin_gid && st.st_gid != d->admin_gid)
		log_warning("The API socket '%s' passed by systemd has group %u, not the admin group "
			    "%u: keeping systemd's", path, (unsigned)st.st_gid, (unsigned)d->admin_gid);
	return NULL;
}

static int adopt_passed(struct daemon *d, struct daemon_sockets *s, enum daemon_socket i, int fd)
{
	char path[SUN_PATH_SIZE + 1];
	const char **configured = configured_path(d, i);
	const char *why = check_listener(fd, specs[i].type, path);

	if (!why)
		why = check_file(d, i, path);
	if (!why && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		why = "cannot be made non-blocking";
	if (why) {
		close_nointr(fd);
		return log_error_errno(EINVAL, "The fd named '%s' passed by systemd is not usable as the "
				       "%s socket: %s; refusing to start", specs[i].fdname, specs[i].what, why);
	}
	s->fd[i] = fd;
	s->is_passed[i] = true;
	if (strcmp(path, *configured) == 0)
		return 0;
	s->passed_path[i] = strdup(path);
	if (!s->passed_path[i])
		return log_error_errno(ENOMEM, "Out of memory");
	log_warning("The %s socket passed by systemd listens on '%s', not on the configured '%s': "
		    "serving '%s'", specs[i].what, path, *configured, path);
	*configured = s->passed_path[i];
	return 0;
}

int daemon_sockets_open(struct daemon *d, struct daemon_sockets *s)
{
	gid_t admin_gid = d->has_admin_gid ? d->admin_gid : (gid_t)-1;

	*s = (struct daemon_sockets){ .fd = { -EBADF, -EBADF, -EBADF } };
	for (enum daemon_socket i = 0; i < DAEMON_SOCKET_COUNT; i++) {
		int fd = take_named_fd(d, specs[i].fdname), r;

		if (fd >= 0) {
			r = adopt_passed(d, s, i, fd);
			if (r < 0)
				return r;
			continue;
		}
		fd = bind_one(*configured_path(d, i), &specs[i],
			      i == DAEMON_SOCKET_API ? d->opts.api_socket_mode : 0600,
			      i == DAEMON_SOCKET_API ? admin_gid : (gid_t)-1);
		if (fd < 0)
			return fd;
		s->fd[i] = fd;
		s->is_bound[i] = true;
	}
	return 0;
}

void daemon_sockets_close(struct daemon *d, struct daemon_sockets *s)
{
	for (enum daemon_socket i = 0; i < DAEMON_SOCKET_COUNT; i++) {
		const char **path = configured_path(d, i);

		/* a passed socket's file and listening socket are systemd's: it keeps
		 * queueing connections for the next start */
		if (s->is_bound[i])
			(void)unlink(*path);
		close_nointr(s->fd[i]);
		s->fd[i] = -EBADF;
		/* threads left running (main then _exit()s) may still read d->opts */
		if (d->workers_left_behind || d->writes_left_behind)
			continue;
		if (s->passed_path[i] && *path == s->passed_path[i])
			*path = NULL;
		free(s->passed_path[i]);
		s->passed_path[i] = NULL;
	}
}
