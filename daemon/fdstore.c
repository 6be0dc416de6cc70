/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systemd file descriptor store, spoken directly (no libsystemd): one
 * datagram per stored listener to $NOTIFY_SOCKET, and the LISTEN_FDS
 * convention at startup. Called from the main thread (take) and the intake
 * thread (push).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/fdstore.h"
#include "daemon/macro.h"

#define PROFILE_SEPARATOR "+"
#define OCI_PREFIX "oci."
#define LISTEN_FDS_START 3
#define LISTEN_FDS_MAX 65536

int fdstore_oci_format(const struct fdstore_oci *o, char buf[static FDSTORE_NAME_MAX + 1])
{
	int n;

	/* 0: unknown (crun 1.8 hands over an exec's listener with "pid": 0) */
	if (o->pid < 0 || o->init_pid < 0 || !container_name_valid(o->name) ||
	    (o->profile[0] && !container_name_valid(o->profile)))
		return -EINVAL;
	n = snprintf(buf, FDSTORE_NAME_MAX + 1, OCI_PREFIX "%d.%d.%s%s%s", (int)o->pid,
		     (int)o->init_pid, o->name, o->profile[0] ? PROFILE_SEPARATOR : "", o->profile);
	return n > 0 && n <= FDSTORE_NAME_MAX ? 0 : -EINVAL;
}

/* A decimal pid (0 = unknown, no leading zeros) up to the next '.'; advances *p past it. */
static int parse_pid_field(const char **p, pid_t *ret)
{
	char *end;
	long v;

	if (**p < '0' || **p > '9' || ((*p)[0] == '0' && (*p)[1] != '.'))
		return -EINVAL;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || *end != '.' || v < 0 || v > INT_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	*p = end + 1;
	return 0;
}

int fdstore_oci_parse(const char *fdname, struct fdstore_oci *ret)
{
	struct fdstore_oci o = {};
	const char *p = fdname, *sep;

	if (strncmp(p, OCI_PREFIX, strlen(OCI_PREFIX)) != 0)
		return -EINVAL;
	p += strlen(OCI_PREFIX);
	if (parse_pid_field(&p, &o.pid) < 0 || parse_pid_field(&p, &o.init_pid) < 0)
		return -EINVAL;
	/* "NAME" or "NAME+PROFILE": '+' is in neither */
	sep = strchr(p, PROFILE_SEPARATOR[0]);
	if (sep && (!container_name_valid(sep + 1) || (size_t)(sep - p) > CONTAINER_NAME_MAX))
		return -EINVAL;
	if (sep) {
		strcpy(o.profile, sep + 1);
		memcpy(o.name, p, (size_t)(sep - p));
	} else if (strlen(p) <= CONTAINER_NAME_MAX) {
		strcpy(o.name, p);
	}
	if (!container_name_valid(o.name))
		return -EINVAL;
	*ret = o;
	return 0;
}

/* $NOTIFY_SOCKET as an address: a path, or "@name" for the abstract namespace. */
static int notify_address(struct sockaddr_un *sa, socklen_t *ret_len)
{
	const char *e = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!e || !*e)
		return -ENOENT;
	n = strlen(e);
	if ((e[0] != '/' && e[0] != '@') || n >= sizeof(sa->sun_path))
		return -EINVAL;
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sa->sun_path, e, n);
	if (e[0] == '@')
		sa->sun_path[0] = '\0';
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
	return 0;
}

bool fdstore_available(void)
{
	struct sockaddr_un sa;
	socklen_t len;

	return notify_address(&sa, &len) == 0;
}

int fdstore_push(const char *fdname, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {};
	_cleanup_close_ int sock = -EBADF;
	struct sockaddr_un sa;
	socklen_t sa_len;
	char text[FDSTORE_NAME_MAX + 32];
	struct iovec iov = { .iov_base = text };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	int r = notify_address(&sa, &sa_len);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	msg.msg_name = &sa;
	msg.msg_namelen = sa_len;
	iov.iov_len = (size_t)snprintf(text, sizeof(text), "FDSTORE=1\nFDNAME=%s", fdname);
	*c = (struct cmsghdr){ .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS,
			       .cmsg_len = CMSG_LEN(sizeof(int)) };
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return negative_errno();
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}

static int env_int(const char *name, long max, long *ret)
{
	const char *e = getenv(name);
	char *end;
	long v;

	if (!e)
		return -ENOENT;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || end == e || *end || v < 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The @i-th colon-separated name of LISTEN_FDNAMES, or "" when there is none. */
static void nth_name(const char *names, size_t i, char buf[static FDSTORE_NAME_MAX + 1])
{
	const char *p = names ? names : "";
	size_t len;

	for (; i > 0 && p; i--)
		p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
	len = p ? strcspn(p, ":") : 0;
	if (len > FDSTORE_NAME_MAX)
		len = 0;
	memcpy(buf, p ? p : "", len);
	buf[len] = '\0';
}

int fdstore_take(struct fdstore_fd **ret_fds, size_t *ret_n)
{
	const char *names = getenv("LISTEN_FDNAMES");
	struct fdstore_fd *fds;
	long pid, n;

	*ret_fds = NULL;
	*ret_n = 0;
	if (env_int("LISTEN_PID", INT_MAX, &pid) < 0 || pid != getpid() ||
	    env_int("LISTEN_FDS", LISTEN_FDS_MAX, &n) < 0 || n == 0)
		goto out;
	fds = calloc((size_t)n, sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		fds[i].fd = LISTEN_FDS_START + (int)i;
		(void)fcntl(fds[i].fd, F_SETFD, FD_CLOEXEC);
		nth_name(names, (size_t)i, fds[i].name);
	}
	*ret_fds = fds;
	*ret_n = (size_t)n;
out:
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
	return 0;
}
