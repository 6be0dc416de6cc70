/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console_receiver: the other end of an OCI runtime's --console-socket.
 *
 * A container started with process.terminal = true gets a pty as its console; the
 * runtime (runc, crun) connects to the socket once and hands over the pty master
 * with SCM_RIGHTS (the payload is the pty's name, which we ignore). We keep the
 * master and append everything read from it to OUTFILE, so a test can check what
 * arrived on the container's console. Prints "ready" once listening and
 * "received" once the master is here. Ends when the pty is gone (EIO: no slave
 * left) or on SIGTERM.
 *
 * Usage: console_receiver SOCKET OUTFILE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path))
		return -1;
	strcpy(addr.sun_path, path);
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0)
		return -1;
	return fd;
}

/* The first fd passed on one accepted connection; -1 if none came. */
static int receive_master(int listen_fd)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int conn, fd = -1;

	conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return -1;
	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
		cm = CMSG_FIRSTHDR(&msg);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	}
	close(conn);
	return fd;
}

/* Copy the master into @out until the pty is gone. */
static int copy_out(int master, int out)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EIO)
			return 0; /* every slave fd is closed: the container is gone */
		if (n <= 0)
			return n == 0 ? 0 : -1;
		if (write(out, buf, (size_t)n) != n)
			return -1;
	}
}

int main(int argc, char **argv)
{
	int listen_fd, master, out;

	if (argc != 3) {
		fprintf(stderr, "usage: console_receiver SOCKET OUTFILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	out = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	listen_fd = listen_on(argv[1]);
	if (out < 0 || listen_fd < 0) {
		perror("console_receiver");
		return 1;
	}
	printf("ready\n");
	master = receive_master(listen_fd);
	if (master < 0) {
		fprintf(stderr, "console_receiver: no pty master received\n");
		return 1;
	}
	printf("received\n");
	return copy_out(master, out) < 0 ? 1 : 0;
}
