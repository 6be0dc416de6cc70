/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The intake thread. It owns one epoll set and a stop eventfd; the intakes
 * (intake_lxc.c, intake_oci.c) add their listening sockets and connections
 * to it with a callback, so that this loop knows no protocol. Callbacks and
 * the tick run on this thread only, one at a time, so what they share needs
 * no lock. Created, started and stopped by the engine on the main thread.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "daemon/engine/intake.h"
#include "daemon/engine/listener.h"
#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/store/store.h"

/* The longest the tick waits when nothing arrives. */
#define TICK_MS 200

struct intake {
	int epoll_fd; /* owned */
	int stop_fd;  /* owned: eventfd, its epoll tag is NULL */
	pthread_t thread;
	bool has_thread;
	void (*tick)(void *userdata, uint64_t now);
	void *userdata;
};

int intake_new(struct intake **ret)
{
	struct intake *t = calloc(1, sizeof(*t));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int r;

	if (!t)
		return -ENOMEM;
	t->epoll_fd = RET_NERRNO(epoll_create1(EPOLL_CLOEXEC));
	t->stop_fd = RET_NERRNO(eventfd(0, EFD_CLOEXEC));
	r = t->epoll_fd < 0 ? t->epoll_fd : t->stop_fd;
	if (r >= 0)
		r = RET_NERRNO(epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->stop_fd, &ev));
	if (r < 0) {
		intake_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

int intake_watch(struct intake *t, int fd, struct intake_watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = w };

	return RET_NERRNO(epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, fd, &ev));
}

void intake_unwatch(struct intake *t, int fd)
{
	(void)epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

int intake_socket_open(struct intake_socket *s, struct daemon *d, struct intake *t,
		       struct workers *pool, int fd, void (*on_ready)(struct intake_watch *w))
{
	int r;

	*s = (struct intake_socket){ .d = d, .pool = pool, .t = t, .fd = fd,
				     .watch.on_ready = on_ready };
	r = intake_watch(t, fd, &s->watch);
	if (r < 0) {
		close_nointr(fd);
		s->fd = -EBADF;
	}
	return r;
}

void intake_socket_close(struct intake_socket *s)
{
	if (s->fd < 0)
		return;
	intake_unwatch(s->t, s->fd);
	close_nointr(s->fd);
	s->fd = -EBADF;
}

static void *intake_main(void *arg)
{
	struct intake *t = arg;

	for (;;) {
		struct epoll_event evs[16];
		int n = epoll_wait(t->epoll_fd, evs, ARRAY_SIZE(evs), TICK_MS);

		if (n < 0 && errno != EINTR)
			return NULL;
		for (int i = 0; i < n; i++) {
			struct intake_watch *w = evs[i].data.ptr;

			if (!w)
				return NULL; /* the stop eventfd */
			w->on_ready(w);
		}
		t->tick(t->userdata, now_ns());
	}
}

int intake_start(struct intake *t, void (*tick)(void *userdata, uint64_t now), void *userdata)
{
	int r;

	t->tick = tick;
	t->userdata = userdata;
	r = -pthread_create(&t->thread, NULL, intake_main, t);
	t->has_thread = r >= 0;
	return r;
}

void intake_stop(struct intake *t)
{
	if (!t || !t->has_thread)
		return;
	(void)eventfd_write(t->stop_fd, 1);
	pthread_join(t->thread, NULL);
	t->has_thread = false;
}

struct intake *intake_free(struct intake *t)
{
	if (!t)
		return NULL;
	intake_stop(t);
	close_nointr(t->stop_fd);
	close_nointr(t->epoll_fd);
	free(t);
	return NULL;
}

static void keep_k8s_failed(const char *name, int r)
{
	log_about_errno(LOG_LEVEL_WARNING, r, name, NULL,
			"Cannot keep the Kubernetes labels of '%s', a restart loses them: %m", name);
}

/*
 * Keep the Kubernetes labels of @c, just registered, for a restart: written
 * by the store's writer threads, since this thread must never wait on the disk.
 */
static void keep_k8s(struct daemon *d, struct container *c)
{
	int r = store_keep_k8s(d->store, c, keep_k8s_failed);

	if (r < 0)
		keep_k8s_failed(c->name, r);
}

/*
 * Register ephemeral container @name of @profile for a listener; on failure
 * its calls are answered CONTINUE and counted as unregistered, which the log
 * line says.
 */
int intake_register_ephemeral(struct daemon *d, const char *name, const char *profile,
			       const struct container_k8s *k8s)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	struct icd_error err = { 0 };
	int r = store_add_ephemeral(d->store, name, profile, k8s, &c, &err);

	if (r < 0)
		log_about_errno(LOG_LEVEL_WARNING, r, name, NULL,
				"Cannot register '%s' with profile '%s': %s; answering CONTINUE, "
				"counted as unregistered", name, profile, err.msg);
	else if (r > 0)
		log_about_errno(LOG_LEVEL_INFO, 0, name, NULL,
				"Registered ephemeral container '%s' with profile '%s'%s%s", name,
				profile, k8s && k8s->pod[0] ? " for pod " : "",
				k8s && k8s->pod[0] ? k8s->pod : "");
	if (r > 0)
		keep_k8s(d, c);
	return r;
}
