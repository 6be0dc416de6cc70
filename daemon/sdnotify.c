/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sending half of systemd's notification protocol (see sdnotify.h). No
 * state: $NOTIFY_SOCKET is read on every call and each datagram goes out on
 * a socket of its own, so the main thread (readiness) and the intake thread
 * (fd store) need no lock.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon/macro.h"
#include "daemon/sdnotify.h"

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

bool notify_socket_available(void)
{
	struct sockaddr_un sa;
	socklen_t len;

	return notify_address(&sa, &len) == 0;
}

int notify_socket_send(const char *text, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {};
	_cleanup_close_ int sock = -EBADF;
	struct sockaddr_un sa;
	struct iovec iov = { .iov_base = (char *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1 };
	int r = notify_address(&sa, &msg.msg_namelen);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (fd >= 0) {
		struct cmsghdr *c;

		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		*c = (struct cmsghdr){ .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS,
				       .cmsg_len = CMSG_LEN(sizeof(int)) };
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return negative_errno();
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? negative_errno() : 0;
}
