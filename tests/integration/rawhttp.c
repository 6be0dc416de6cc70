/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Raw HTTP exchanges over a unix socket (see rawhttp.h). One epoll set per
 * raw_run() call, level-triggered; single-threaded callers.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rawhttp.h"

uint64_t raw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void finish(struct raw_conn *c, int err)
{
	if (err && !c->err)
		c->err = err;
	c->is_done = true;
	c->t_done_ns = raw_now_ns();
}

int raw_connect(struct raw_conn *c, const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	*c = (struct raw_conn){ .fd = -1, .req = req, .req_len = req ? strlen(req) : 0,
				.t_start_ns = raw_now_ns() };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		finish(c, -ENAMETOOLONG);
		return c->err;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		raw_close(c);
		finish(c, err);
		return err;
	}
	return 0;
}

void raw_close(struct raw_conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
}

static void parse_status(struct raw_conn *c)
{
	int major, minor, status;

	if (c->status == 0 && sscanf(c->head, "HTTP/%d.%d %d", &major, &minor, &status) == 3)
		c->status = status;
}

/* Read what is there; EOF or an error ends @c. */
static void on_readable(struct raw_conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0) {
		size_t room = sizeof(c->head) - 1 - c->head_len;
		size_t take = (size_t)n < room ? (size_t)n : room;

		memcpy(c->head + c->head_len, buf, take);
		c->head_len += take;
		c->head[c->head_len] = '\0';
		parse_status(c);
	}
	if (n == 0)
		finish(c, 0);
	else if (errno != EAGAIN && errno != EINTR)
		finish(c, -errno);
}

static void on_writable(int ep, struct raw_conn *c, size_t idx)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = idx };

	while (c->sent < c->req_len) {
		ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			/* the server closed first: read what it said before closing */
			c->err = -errno;
			c->sent = c->req_len;
			break;
		}
		c->sent += (size_t)n;
	}
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static size_t add_all(int ep, struct raw_conn *conns, size_t n)
{
	size_t n_done = 0;

	for (size_t i = 0; i < n; i++) {
		struct raw_conn *c = &conns[i];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = i };

		if (c->is_done || c->fd < 0) {
			n_done++;
			continue;
		}
		if (c->err == -ETIMEDOUT)
			c->err = 0; /* an earlier run's deadline: this run gives it more time */
		if (c->sent < c->req_len)
			ev.events |= EPOLLOUT;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			finish(c, -errno);
			n_done++;
		}
	}
	return n_done;
}

size_t raw_run(struct raw_conn *conns, size_t n, uint64_t deadline_ns)
{
	struct epoll_event evs[64];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	size_t n_done;

	if (ep < 0)
		return 0;
	n_done = add_all(ep, conns, n);
	while (n_done < n) {
		uint64_t now = raw_now_ns();
		int k;

		if (now >= deadline_ns)
			break;
		k = epoll_wait(ep, evs, 64, (int)((deadline_ns - now) / 1000000 + 1));
		for (int i = 0; i < k; i++) {
			struct raw_conn *c = &conns[evs[i].data.u64];

			if (c->is_done)
				continue;
			if (evs[i].events & EPOLLOUT)
				on_writable(ep, c, evs[i].data.u64);
			if (!c->is_done && (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
				on_readable(c);
			if (c->is_done) {
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				raw_close(c);
				n_done++;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!conns[i].is_done && !conns[i].err)
			conns[i].err = -ETIMEDOUT;
	(void)close(ep);
	return n_done;
}

int raw_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
