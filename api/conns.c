/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API connection admission (see conns.h). The acceptor thread owns the
 * listening socket; the slot table, the per-uid counts and the deadlines are
 * shared with the MHD thread (bind, release, deadlines) under conns->lock,
 * which is never held across an MHD call or a log line. A slot is released
 * only in libmicrohttpd's "closed" notification, before it closes the fd, so
 * the acceptor's shutdown() of an overdue connection always hits that
 * connection's socket and never a reused fd number.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "api/conns.h"
#include "api/errors.h"
#include "api/server.h"
#include "daemon/clock.h"
#include "daemon/log.h"

/* how often overdue connections are looked for: the deadline's precision */
#define SWEEP_MS 100
/* accepted in one go before looking at deadlines again */
#define ACCEPT_BATCH 64
/* out of fds: wait this long before accepting again */
#define BACKOFF_NS (100 * 1000000ULL)
#define WARN_EVERY_NS (10 * 1000000000ULL)
#define NS_PER_MS 1000000ULL

struct conn_slot {
	int fd;
	bool is_used, is_bound, is_cut;
	struct peer peer;
	uint64_t admitted_ns;
	uint64_t deadline_ns; /* 0: none (waiting on the store) */
};

struct uid_count {
	uid_t uid;
	unsigned n;
};

struct conns {
	struct daemon *d;
	struct MHD_Daemon *mhd;
	int listen_fd; /* owned */
	int wake_fd;   /* owned: eventfd, a slot was freed or we stop */
	pthread_t thread;
	bool has_thread;
	atomic_bool is_stopping;

	pthread_mutex_t lock; /* guards what follows */
	unsigned n_open;
	struct conn_slot slots[API_CONNECTIONS_MAX];
	struct uid_count uids[API_CONNECTIONS_MAX];
	size_t n_uids;

	/* acceptor thread only */
	uint64_t backoff_until_ns, last_warning_ns;
	unsigned n_turned_away; /* since the last warning */
};

static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	_cleanup_free_ gid_t *big = NULL;
	socklen_t len = sizeof(small);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE || !(big = malloc(len)))
			return false;
		groups = big;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			return false;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Who is at the other end of @fd; unknown (uid -1, read-only) if the kernel will not say. */
static struct peer peer_of(const struct daemon *d, int fd)
{
	struct peer p = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return p;
	p.pid = uc.pid;
	p.uid = uc.uid;
	p.gid = uc.gid;
	p.is_admin = uc.uid == 0 || (d->has_admin_gid && (uc.gid == d->admin_gid ||
							  peer_in_group(fd, d->admin_gid)));
	return p;
}

/* Lock held: @uid's entry, or NULL. Entries exist while the uid has connections. */
static struct uid_count *uid_find(struct conns *c, uid_t uid)
{
	for (size_t i = 0; i < c->n_uids; i++)
		if (c->uids[i].uid == uid)
			return &c->uids[i];
	return NULL;
}

/* Lock held: one connection of @uid more (at most n_open entries: there is room). */
static void uid_get(struct conns *c, uid_t uid)
{
	struct uid_count *u = uid_find(c, uid);

	if (!u) {
		u = &c->uids[c->n_uids++];
		*u = (struct uid_count){ .uid = uid };
	}
	u->n++;
}

/* Lock held: one connection of @uid fewer. */
static void uid_put(struct conns *c, uid_t uid)
{
	struct uid_count *u = uid_find(c, uid);

	if (u && --u->n == 0)
		*u = c->uids[--c->n_uids]; /* keep the table dense */
}

/* Lock held: why @p may not have one more connection now, or NULL. */
static const char *refusal(struct conns *c, const struct peer *p, char *buf, size_t size)
{
	const struct uid_count *u = uid_find(c, p->uid);
	unsigned n_uid = u ? u->n : 0;

	if (p->uid != 0 && n_uid >= API_CONNECTIONS_PER_UID) {
		(void)snprintf(buf, size, "too many connections from uid %d (%u open, at most %u)",
			       (int)p->uid, n_uid, API_CONNECTIONS_PER_UID);
		return buf;
	}
	if (!p->is_admin && c->n_open >= API_CONNECTIONS_MAX - API_CONNECTIONS_RESERVED) {
		(void)snprintf(buf, size, "the server is busy: %u connections open, the last %u "
			       "are kept for root and the admin group", c->n_open,
			       API_CONNECTIONS_RESERVED);
		return buf;
	}
	return NULL;
}

/* Lock held: a free slot for @fd (one is free: n_open < API_CONNECTIONS_MAX). */
static struct conn_slot *take_slot(struct conns *c, int fd, const struct peer *p)
{
	struct conn_slot *free_slot = NULL;
	uint64_t now = now_ns();

	for (size_t i = 0; i < API_CONNECTIONS_MAX; i++) {
		struct conn_slot *s = &c->slots[i];

		/* an unbound slot with this fd number: libmicrohttpd dropped it unseen */
		if (s->is_used && !s->is_bound && s->fd == fd) {
			s->is_used = false;
			c->n_open--;
			uid_put(c, s->peer.uid);
		}
		if (!s->is_used && !free_slot)
			free_slot = s;
	}
	*free_slot = (struct conn_slot){ .fd = fd, .is_used = true, .peer = *p, .admitted_ns = now,
					 .deadline_ns = now + API_REQUEST_DEADLINE_MS * NS_PER_MS };
	c->n_open++;
	uid_get(c, p->uid);
	return free_slot;
}

/* Lock held: free @s and wake the acceptor if it stopped at the limit. */
static void put_slot(struct conns *c, struct conn_slot *s)
{
	if (!s->is_used)
		return;
	s->is_used = false;
	uid_put(c, s->peer.uid);
	if (c->n_open-- == API_CONNECTIONS_MAX)
		(void)eventfd_write(c->wake_fd, 1);
}

/* Answer a connection we do not admit with a 503 it can read, then close it. */
static void refuse(int fd, const char *why)
{
	_cleanup_(json_decrefp) json_t *env = errors_envelope_error(503, why);
	_cleanup_free_ char *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
	_cleanup_free_ char *msg = NULL;
	int n;

	n = body ? asprintf(&msg,
			    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			    "X-Content-Type-Options: nosniff\r\nRetry-After: 1\r\n"
			    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
			    strlen(body), body)
		 : -1;
	/* a fresh socket's buffer takes it whole; a peer that cannot take it loses it */
	if (n > 0)
		(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close_nointr(fd);
}

/* Acceptor thread: at most one warning every WARN_EVERY_NS about connections turned away. */
static void warn_turned_away(struct conns *c, const char *why, unsigned n)
{
	uint64_t now = now_ns();

	c->n_turned_away += n;
	if (c->last_warning_ns && now - c->last_warning_ns < WARN_EVERY_NS)
		return;
	log_warning("Turning API connections away: %s (%u since the last warning)", why,
		    c->n_turned_away);
	c->last_warning_ns = now;
	c->n_turned_away = 0;
}

/* Admit @fd into libmicrohttpd, or refuse it. */
static void admit(struct conns *c, int fd, const struct sockaddr_un *sa, socklen_t len)
{
	struct peer p = peer_of(c->d, fd);
	struct conn_slot *slot = NULL;
	const char *why;
	char buf[160];

	pthread_mutex_lock(&c->lock);
	why = refusal(c, &p, buf, sizeof(buf));
	if (!why)
		slot = take_slot(c, fd, &p);
	pthread_mutex_unlock(&c->lock);
	if (why) {
		refuse(fd, why);
		warn_turned_away(c, why, 1);
		return;
	}
	/* on failure libmicrohttpd has closed fd already */
	if (MHD_add_connection(c->mhd, fd, (const struct sockaddr *)sa, len) != MHD_YES) {
		pthread_mutex_lock(&c->lock);
		if (!slot->is_bound)
			put_slot(c, slot);
		pthread_mutex_unlock(&c->lock);
	}
}

static bool is_full(struct conns *c)
{
	bool full;

	pthread_mutex_lock(&c->lock);
	full = c->n_open >= API_CONNECTIONS_MAX;
	pthread_mutex_unlock(&c->lock);
	return full;
}

/* Accept what is waiting, up to a batch, while there is room. */
static void accept_some(struct conns *c)
{
	for (int i = 0; i < ACCEPT_BATCH && !is_full(c); i++) {
		struct sockaddr_un sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(c->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			admit(c, fd, &sa, len);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* leave them in the backlog until fds are closed */
			c->backoff_until_ns = now_ns() + BACKOFF_NS;
			warn_turned_away(c, "out of file descriptors", 0);
		}
		return;
	}
}

/* Cut bound connections past their deadline; forget unbound ones long gone. */
static void sweep(struct conns *c)
{
	uint64_t now = now_ns();
	unsigned n_cut = 0;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < API_CONNECTIONS_MAX; i++) {
		struct conn_slot *s = &c->slots[i];

		if (!s->is_used || !s->deadline_ns || now < s->deadline_ns)
			continue;
		if (!s->is_bound) {
			/* never started by libmicrohttpd: its fd is not ours to touch */
			if (now - s->admitted_ns > 2 * API_REQUEST_DEADLINE_MS * NS_PER_MS)
				put_slot(c, s);
		} else if (!s->is_cut) {
			/* libmicrohttpd sees the end of the stream and closes it */
			(void)shutdown(s->fd, SHUT_RDWR);
			s->is_cut = true;
			n_cut++;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (n_cut)
		warn_turned_away(c, "a request or its answer overran the deadline", n_cut);
}

static void *acceptor_main(void *arg)
{
	struct conns *c = arg;

	while (!atomic_load(&c->is_stopping)) {
		bool may_accept = !is_full(c) && now_ns() >= c->backoff_until_ns;
		struct pollfd p[2] = {
			{ .fd = may_accept ? c->listen_fd : -1, .events = POLLIN },
			{ .fd = c->wake_fd, .events = POLLIN },
		};
		eventfd_t v;

		if (poll(p, 2, SWEEP_MS) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN)
			(void)eventfd_read(c->wake_fd, &v);
		sweep(c);
		if (p[0].revents & POLLIN)
			accept_some(c);
	}
	return NULL;
}

int conns_new(struct daemon *d, int listen_fd, struct conns **ret)
{
	struct conns *c = calloc(1, sizeof(*c));

	if (!c) {
		close_nointr(listen_fd);
		return -ENOMEM;
	}
	c->d = d;
	c->listen_fd = listen_fd;
	pthread_mutex_init(&c->lock, NULL);
	c->wake_fd = RET_NERRNO(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (c->wake_fd < 0) {
		int r = c->wake_fd;

		conns_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int conns_start(struct conns *c, struct MHD_Daemon *mhd)
{
	c->mhd = mhd;
	if (pthread_create(&c->thread, NULL, acceptor_main, c) != 0)
		return -EAGAIN;
	c->has_thread = true;
	return 0;
}

void conns_stop(struct conns *c)
{
	if (!c || !c->has_thread)
		return;
	atomic_store(&c->is_stopping, true);
	(void)eventfd_write(c->wake_fd, 1);
	(void)pthread_join(c->thread, NULL);
	c->has_thread = false;
	close_nointr(c->listen_fd);
	c->listen_fd = -EBADF;
}

struct conns *conns_free(struct conns *c)
{
	if (!c)
		return NULL;
	conns_stop(c);
	close_nointr(c->listen_fd);
	close_nointr(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

struct conn_slot *conns_bind(struct conns *c, int fd)
{
	struct conn_slot *found = NULL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < API_CONNECTIONS_MAX && !found; i++)
		if (c->slots[i].is_used && !c->slots[i].is_bound && c->slots[i].fd == fd)
			found = &c->slots[i];
	if (found)
		found->is_bound = true;
	pthread_mutex_unlock(&c->lock);
	return found;
}

void conns_release(struct conns *c, struct conn_slot *slot)
{
	if (!slot)
		return;
	pthread_mutex_lock(&c->lock);
	put_slot(c, slot);
	pthread_mutex_unlock(&c->lock);
}

struct peer conns_peer(const struct conn_slot *slot)
{
	return slot ? slot->peer : (struct peer){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
}

void conns_set_deadline(struct conns *c, struct conn_slot *slot, bool is_armed)
{
	if (!slot)
		return;
	pthread_mutex_lock(&c->lock);
	slot->deadline_ns = is_armed ? now_ns() + API_REQUEST_DEADLINE_MS * NS_PER_MS : 0;
	pthread_mutex_unlock(&c->lock);
}
