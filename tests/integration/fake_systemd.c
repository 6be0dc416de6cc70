/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for systemd's notification receiver and socket units (see
 * fake_systemd.h). Single-threaded test processes; the activation hook runs
 * in the forked child before exec, where only fd and environment calls are
 * made.
 */
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <cmocka.h>

#include "fake_systemd.h"

/* out of the way of 3..3+n while the fds are moved into place */
#define FD_PARKING 200

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa->sun_path));
	strcpy(sa->sun_path, path);
}

/* A unix socket of @type bound at @path (a stale file there replaced). */
static int bound_socket(const char *path, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa;

	assert_true(fd >= 0);
	fill_addr(&sa, path);
	(void)unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

int fake_notify_open(const char *path)
{
	return bound_socket(path, SOCK_DGRAM);
}

ssize_t fake_notify_recv(int sock, char *buf, size_t size, int timeout_ms)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	assert_true(n >= 0);
	buf[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[8];

		memcpy(fds, CMSG_DATA(c), n_fds * sizeof(int));
		for (size_t i = 0; c->cmsg_type == SCM_RIGHTS && i < n_fds; i++)
			close(fds[i]);
	}
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fake_notify_wait_for(int sock, const char *needle, char *buf, size_t size, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline)
		if (fake_notify_recv(sock, buf, size, 100) >= 0 && strstr(buf, needle))
			return 0;
	return -ETIMEDOUT;
}

int fake_socket_unit(const char *path, int type, mode_t mode)
{
	int fd = bound_socket(path, type);

	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* In the child: the fds at 3.. (not close-on-exec), then the variables. */
static void activation_before_exec(void *userdata)
{
	const struct fake_activation *a = userdata;
	char pid[16], n[16];

	for (size_t i = 0; i < a->n_fds; i++)
		if (fcntl(a->fds[i], F_DUPFD_CLOEXEC, FD_PARKING + (int)i) != FD_PARKING + (int)i)
			_exit(126);
	for (size_t i = 0; i < a->n_fds; i++)
		if (dup2(FD_PARKING + (int)i, 3 + (int)i) < 0)
			_exit(126);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	snprintf(n, sizeof(n), "%zu", a->n_fds);
	setenv("LISTEN_PID", a->listen_pid ? a->listen_pid : pid, 1);
	setenv("LISTEN_FDS", a->listen_fds ? a->listen_fds : n, 1);
	if (a->listen_fdnames)
		setenv("LISTEN_FDNAMES", a->listen_fdnames, 1);
}

void fake_activation_set(struct harness *h, struct fake_activation *a)
{
	h->before_exec = activation_before_exec;
	h->before_exec_data = a;
}

void fake_activation_clear(struct harness *h)
{
	h->before_exec = NULL;
	h->before_exec_data = NULL;
}

bool log_has(const struct harness *h, const char *needle)
{
	_cleanup_free_ char *log = harness_read_file(h->log_path, NULL);

	return log && strstr(log, needle);
}

void log_clear(const struct harness *h)
{
	int fd = open(h->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	close(fd);
}

bool log_wait(const struct harness *h, const char *needle, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (!log_has(h, needle)) {
		if (now_ms() >= deadline)
			return false;
		usleep(20 * 1000);
	}
	return true;
}
