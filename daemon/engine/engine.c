/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The notification engine: the worker pool plus one intake thread. The
 * intake thread owns both listening sockets and every OCI connection still
 * sending its state; it never blocks on a client (non-blocking sockets, one
 * epoll set, a 5 s deadline per connection), so a client that sends nothing
 * or garbage delays nobody. Finished listeners are handed to the workers.
 */
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "daemon/engine/dispatch.h"
#include "daemon/engine/engine.h"
#include "daemon/log.h"
#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/notify.h"
#include "daemon/fdstore.h"
#include "daemon/engine/intake_oci.h"
#include "daemon/engine/pool.h"

#define OCI_STATE_MAX (1024 * 1024)
#define OCI_DEADLINE_NS (5ull * 1000000000ull)
#define OCI_MAX_FDS 16
#define OCI_MAX_CONNS 1024

struct oci_conn {
	int fd;
	char *buf; /* owned */
	size_t len, alloc;
	int fds[OCI_MAX_FDS];
	size_t n_fds;
	uint64_t deadline_ns;
};

struct engine {
	struct daemon *d;
	int lxc_fd, oci_fd, epoll_fd, stop_fd;
	pthread_t thread;
	bool has_thread;
	struct oci_conn *conns[OCI_MAX_CONNS];
	size_t n_conns;
};

static struct engine *engine; /* main thread only */

/* epoll tags for the intake thread's own fds; connections use their pointer */
static char tag_lxc, tag_oci, tag_stop;

static void conn_free(struct engine *e, size_t i)
{
	struct oci_conn *c = e->conns[i];

	(void)epoll_ctl(e->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close_nointr(c->fd);
	for (size_t k = 0; k < c->n_fds; k++)
		close_nointr(c->fds[k]);
	free(c->buf);
	free(c);
	e->conns[i] = e->conns[--e->n_conns];
}

static void accept_oci(struct engine *e)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct oci_conn *c;
	int fd;

	while ((fd = accept4(e->oci_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (e->n_conns == OCI_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			log_warning("Too many pending OCI connections, dropping one");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline_ns = now_ns() + OCI_DEADLINE_NS;
		ev.data.ptr = c;
		if (epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		e->conns[e->n_conns++] = c;
	}
}

static void accept_lxc(struct engine *e)
{
	int fd;

	while ((fd = accept4(e->lxc_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct engine_listener *l = engine_listener_new(e->d, fd, LISTENER_SOURCE_LXC, 0, NULL);

		if (!l) {
			close(fd);
			continue;
		}
		log_debug("LXC monitor connected");
		(void)pool_add(e->d->workers, l);
	}
}

/* Read what is there; returns 1 at EOF, 0 for more later, < 0 on error. */
static int conn_read(struct oci_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * OCI_MAX_FDS)];
		struct cmsghdr align;
	} control;
	char data[16384];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; h->cmsg_type == SCM_RIGHTS && i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->n_fds < OCI_MAX_FDS)
				c->fds[c->n_fds++] = fd;
			else
				close(fd);
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		return -EBADMSG;
	if (n == 0)
		return 1;
	if (c->len + (size_t)n > OCI_STATE_MAX)
		return -EMSGSIZE;
	if (c->len + (size_t)n > c->alloc) {
		size_t alloc = (c->len + (size_t)n) * 2;
		char *buf = realloc(c->buf, alloc);

		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		c->alloc = alloc;
	}
	memcpy(c->buf + c->len, data, (size_t)n);
	c->len += (size_t)n;
	return 0;
}

/* Hand OCI listener @fd (now ours) to the workers; false if it could not be set up (closed). */
static bool adopt_oci_listener(struct engine *e, int fd, pid_t pid, pid_t init_pid,
			       const char *name)
{
	struct engine_listener *l;

	/* the caller then runs on our CPU when we answer: about 8x faster here */
	if (e->d->features.sync_wake_up)
		(void)notify_set_sync_wake_up(fd);
	l = engine_listener_new(e->d, fd, LISTENER_SOURCE_OCI, pid, name);
	if (!l) {
		close(fd);
		return false;
	}
	l->init_pid = init_pid;
	(void)engine_listener_container(l); /* attach now so the gauge shows it */
	log_info("OCI listener attached for '%s' (pid %d)%s", name[0] ? name : "?", (int)pid,
		 l->container ? "" : ", not registered: answering CONTINUE");
	return pool_add(e->d->workers, l) >= 0;
}

/* Keep a copy in systemd's fd store (when there is one) so a restart can take it back. */
static void store_oci_listener(int fd, pid_t pid, pid_t init_pid, const char *name)
{
	struct fdstore_oci o = { .pid = pid, .init_pid = init_pid };
	char fdname[FDSTORE_NAME_MAX + 1];
	int r;

	if (strlen(name) > CONTAINER_NAME_MAX)
		return;
	strcpy(o.name, name);
	if (fdstore_oci_format(&o, fdname) < 0)
		return; /* not a name a container can have: nothing to re-attach it to */
	r = fdstore_push(fdname, fd);
	if (r < 0)
		log_warning_errno(r, "Cannot keep the listener of '%s' in the systemd fd store, "
				  "it will not survive a restart: %m", name);
}

/* A complete state arrived: turn its seccompFd into a listener for the workers. */
static void conn_complete(struct engine *e, struct oci_conn *c, const struct oci_state *st)
{
	struct container *known = st->metadata[0] ? registry_get(e->d->registry, st->metadata) : NULL;
	const char *name = known ? st->metadata : st->id;
	pid_t init_pid = st->init_pid ? st->init_pid : st->pid;
	int fd;

	container_unref(known);
	if ((size_t)st->seccomp_fd_index >= c->n_fds) {
		log_warning("OCI state for '%s' names a seccompFd but carries no such fd, ignoring", name);
		return;
	}
	fd = c->fds[st->seccomp_fd_index];
	if (!notify_fd_is_seccomp(fd)) {
		log_warning("OCI state for '%s' carries an fd that is not a seccomp listener, ignoring", name);
		return;
	}
	c->fds[st->seccomp_fd_index] = c->fds[--c->n_fds]; /* now ours */
	store_oci_listener(fd, st->pid, init_pid, name);
	(void)adopt_oci_listener(e, fd, st->pid, init_pid, name);
}

/* Listeners the previous daemon kept in systemd's fd store (main thread, before intake runs). */
static void adopt_stored_listeners(struct engine *e, struct fdstore_fd *fds, size_t n)
{
	size_t adopted = 0;

	for (size_t i = 0; i < n; i++) {
		struct fdstore_oci o;

		if (fdstore_oci_parse(fds[i].name, &o) < 0 || !notify_fd_is_seccomp(fds[i].fd)) {
			log_warning("Ignoring fd %d ('%s') passed by systemd: not a stored OCI listener",
				    fds[i].fd, fds[i].name);
			close_nointr(fds[i].fd);
			continue;
		}
		adopted += adopt_oci_listener(e, fds[i].fd, o.pid, o.init_pid, o.name);
	}
	if (n > 0)
		log_info("Took back %zu of %zu OCI listeners from the systemd fd store", adopted, n);
}

static void serve_conn(struct engine *e, struct oci_conn *c)
{
	struct oci_state st;
	size_t i;
	int r = conn_read(c), p;

	p = r >= 0 ? oci_state_parse(c->buf, c->len, &st) : r;
	if (p == 0 && r == 0)
		return; /* wait for more */
	if (p > 0)
		conn_complete(e, c, &st);
	else
		log_warning_errno(p < 0 ? p : -EBADMSG, "Dropping OCI connection (%zu bytes, %zu fds): %s",
				  c->len, c->n_fds, p < 0 ? "invalid state" : "closed before a complete state");
	for (i = 0; i < e->n_conns && e->conns[i] != c; i++)
		;
	conn_free(e, i);
}

static void sweep_deadlines(struct engine *e)
{
	uint64_t now = now_ns();

	for (size_t i = 0; i < e->n_conns;) {
		if (e->conns[i]->deadline_ns > now) {
			i++;
			continue;
		}
		log_warning("OCI connection sent no complete state within 5 s, dropping");
		conn_free(e, i);
	}
}

static void *intake_main(void *arg)
{
	struct engine *e = arg;

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(e->epoll_fd, evs, ARRAY_SIZE(evs), 200);

		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_stop)
				return NULL;
			if (p == &tag_oci)
				accept_oci(e);
			else if (p == &tag_lxc)
				accept_lxc(e);
			else
				serve_conn(e, p);
		}
		sweep_deadlines(e);
		watchdog_tick(e->d->workers);
	}
}

static int check_notif_sizes(void)
{
	struct seccomp_notif_sizes sizes;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return log_error_errno(errno, "Seccomp user notification is not available: %m");
	/* RECV copies the kernel's struct: a larger one would overrun ours */
	if (sizes.seccomp_notif != sizeof(struct seccomp_notif) ||
	    sizes.seccomp_notif_resp != sizeof(struct seccomp_notif_resp))
		return log_error_errno(ENOTSUP, "Kernel notification sizes %u/%u differ from ours %zu/%zu",
				       sizes.seccomp_notif, sizes.seccomp_notif_resp,
				       sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp));
	lxc_intake_init(&sizes);
	return 0;
}

static int watch(struct engine *e, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return RET_NERRNO(epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, fd, &ev));
}

int engine_start(struct daemon *d, int lxc_listen_fd, int oci_listen_fd)
{
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e) {
		close_nointr(lxc_listen_fd);
		close_nointr(oci_listen_fd);
		return -ENOMEM;
	}
	*e = (struct engine){ .d = d, .lxc_fd = lxc_listen_fd, .oci_fd = oci_listen_fd,
			      .epoll_fd = -EBADF, .stop_fd = -EBADF };
	engine = e;
	r = check_notif_sizes();
	if (r >= 0)
		r = dispatch_init();
	if (r >= 0)
		r = pool_start(d, d->opts.n_workers, &d->workers);
	if (r >= 0) {
		e->epoll_fd = RET_NERRNO(epoll_create1(EPOLL_CLOEXEC));
		e->stop_fd = RET_NERRNO(eventfd(0, EFD_CLOEXEC));
		r = e->epoll_fd < 0 ? e->epoll_fd : e->stop_fd;
	}
	if (r >= 0)
		r = watch(e, lxc_listen_fd, &tag_lxc);
	if (r >= 0)
		r = watch(e, oci_listen_fd, &tag_oci);
	if (r >= 0)
		r = watch(e, e->stop_fd, &tag_stop);
	if (r >= 0) {
		adopt_stored_listeners(e, d->stored_fds, d->n_stored_fds);
		free(d->stored_fds);
		d->stored_fds = NULL;
		d->n_stored_fds = 0;
	}
	if (r >= 0)
		r = -pthread_create(&e->thread, NULL, intake_main, e);
	e->has_thread = r >= 0;
	return r < 0 ? r : 0;
}

void engine_stop(struct daemon *d)
{
	struct engine *e = engine;

	if (!e)
		return;
	if (e->has_thread) {
		(void)eventfd_write(e->stop_fd, 1);
		pthread_join(e->thread, NULL);
	}
	while (e->n_conns > 0)
		conn_free(e, 0);
	d->workers_left_behind = !pool_stop(d->workers);
	d->workers = NULL;
	close_nointr(e->stop_fd);
	close_nointr(e->epoll_fd);
	close_nointr(e->lxc_fd);
	close_nointr(e->oci_fd);
	free(e);
	engine = NULL;
}
