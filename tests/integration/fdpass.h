/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Passing fds over unix sockets in the privileged tests. */

#define FDPASS_MAX 4

/*
 * Send @len bytes of @data with @n (at most FDPASS_MAX) fds as SCM_RIGHTS,
 * none when @n is 0. Returns what sendmsg() returns.
 */
static inline ssize_t fdpass_send(int sock, const void *data, size_t len, const int *fds, size_t n)
{
	union {
		char buf[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > 0 && n <= FDPASS_MAX) {
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/*
 * Receive up to @len bytes into @data, and the fds passed along (O_CLOEXEC)
 * into @fds: at most @room of them, their count into *ret_n; *ret_cred (may be
 * NULL): the sender's credentials, when the socket has SO_PASSCRED. Returns
 * what recvmsg() returns.
 */
static inline ssize_t fdpass_recv_fds(int sock, void *data, size_t len, int *fds, size_t room,
				      size_t *ret_n, struct ucred *ret_cred)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(FDPASS_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*ret_n = 0;
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			k = k < room - *ret_n ? k : room - *ret_n;
			memcpy(fds + *ret_n, CMSG_DATA(c), k * sizeof(int));
			*ret_n += k;
		} else if (c->cmsg_type == SCM_CREDENTIALS && ret_cred) {
			memcpy(ret_cred, CMSG_DATA(c), sizeof(*ret_cred));
		}
	}
	return n;
}

/* fdpass_recv_fds() for one fd: into *ret_fd, left alone when none came. */
static inline ssize_t fdpass_recv(int sock, void *data, size_t len, int *ret_fd,
				  struct ucred *ret_cred)
{
	size_t n_fds;

	return fdpass_recv_fds(sock, data, len, ret_fd, 1, &n_fds, ret_cred);
}
