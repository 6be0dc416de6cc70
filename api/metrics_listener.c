/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read-only metrics listener (see metrics_listener.h). One thread of its
 * own owns the TCP socket and every connection: it polls them, reads request
 * heads into fixed buffers, answers through api/metrics_http.c (the parsing
 * of hostile bytes lives there, pure) and daemon/metrics/render.c, and closes
 * connections that overrun their deadline. Nothing here is shared with the
 * API server: no route of the admin API is reachable from it.
 *
 * Locks: none of its own; metrics_render() takes the registry's lock, then
 * each container's briefly, as a GET /1.0/metrics on the API does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include "api/metrics_http.h"
#include "api/metrics_listener.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/metrics/render.h"

#define NS_PER_MS 1000000ULL
/* the longest poll() sleep when no deadline is nearer: how soon a stop is seen at worst */
#define POLL_MAX_MS 1000
/* "[" + an IPv6 address + "]:" + a port */
#define PEER_TEXT_MAX (INET6_ADDRSTRLEN + 8)

/*
 * With every slot taken, a connection still waiting for its request head
 * this long after its accept makes room for a new one: silent connections
 * cannot keep a scraper out, and a scraper sends its request at once.
 */
#define EVICT_GRACE_MS 250

struct metrics_conn {
	int fd; /* owned; -EBADF when the slot is free */
	uint64_t accepted_ns;
	uint64_t deadline_ns;
	char peer[PEER_TEXT_MAX];
	char head[METRICS_HEAD_MAX];
	size_t head_len;
	char *out; /* owned: the whole answer, once the head is in */
	size_t out_len, out_sent;
	bool is_draining; /* answered in full, our side shut: read until the peer closes */
};

struct metrics_listener {
	struct daemon *d;
	int listen_fd; /* owned */
	int wake_fd;   /* owned: eventfd, written to stop the thread */
	pthread_t thread;
	bool has_thread;
	atomic_bool is_stopping;
	struct metrics_conn conns[METRICS_CONNECTIONS_MAX]; /* the thread's only */
};

static void conn_close(struct metrics_conn *c)
{
	close_nointr(c->fd);
	free(c->out);
	*c = (struct metrics_conn){ .fd = -EBADF };
}

static void peer_text(const struct sockaddr_storage *sa, char buf[static PEER_TEXT_MAX])
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		(void)inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		(void)snprintf(buf, PEER_TEXT_MAX, "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		(void)inet_ntop(AF_INET, &in4->sin_addr, addr, sizeof(addr));
		(void)snprintf(buf, PEER_TEXT_MAX, "%s:%u", addr, ntohs(in4->sin_port));
	}
}

/* Build the answer to @rq into @c->out; the metrics are rendered now. */
static void answer(struct metrics_listener *l, struct metrics_conn *c, struct metrics_request rq)
{
	_cleanup_free_ char *text = NULL;
	const char *body = "ok\n";

	if (rq.status == 200 && rq.route == METRICS_ROUTE_METRICS) {
		int r = metrics_render(l->d, &text);

		if (r < 0) {
			log_warning_errno(r, "Cannot render the metrics for '%s', answering 503: %m",
					  c->peer);
			rq = (struct metrics_request){ .status = 503, .is_head = rq.is_head };
		}
		body = text;
	}
	log_debug("Metrics listener: '%s' answered %u", c->peer, rq.status);
	if (metrics_http_response(&rq, body, body ? strlen(body) : 0, &c->out, &c->out_len) < 0)
		conn_close(c); /* out of memory: nothing better to say */
}

/* Read more of the request head; answer it once it is complete or too large. */
static void read_head(struct metrics_listener *l, struct metrics_conn *c)
{
	size_t head;
	ssize_t n = recv(c->fd, c->head + c->head_len, sizeof(c->head) - c->head_len,
			 MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c); /* gone before asking anything */
		return;
	}
	c->head_len += (size_t)n;
	head = metrics_http_head_length(c->head, c->head_len);
	if (head)
		answer(l, c, metrics_http_classify(c->head, head));
	else if (c->head_len == sizeof(c->head))
		answer(l, c, (struct metrics_request){ .status = 431 });
}

/* Send what the peer takes of the answer; then shut our side and wait for its close. */
static void write_answer(struct metrics_conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out_sent += (size_t)n;
	if (c->out_sent < c->out_len)
		return;
	/* closing with unread request bytes would reset the connection and could
	 * destroy the answer in flight: shut our side, read until the peer closes */
	(void)shutdown(c->fd, SHUT_WR);
	c->is_draining = true;
}

static void drain(struct metrics_conn *c)
{
	char scratch[1024];
	ssize_t n = recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		conn_close(c);
}

static void step(struct metrics_listener *l, struct metrics_conn *c)
{
	if (c->is_draining)
		drain(c);
	else if (c->out)
		write_answer(c);
	else
		read_head(l, c);
	/* the answer may go out at once: most fit in the socket buffer */
	if (c->fd >= 0 && c->out && !c->is_draining && c->out_sent == 0)
		write_answer(c);
}

static struct metrics_conn *free_slot(struct metrics_listener *l)
{
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
		if (l->conns[i].fd < 0)
			return &l->conns[i];
	return NULL;
}

/* The oldest connection still without its request head past the grace, or NULL. */
static struct metrics_conn *evictable(struct metrics_listener *l, uint64_t now)
{
	struct metrics_conn *oldest = NULL;

	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++) {
		struct metrics_conn *c = &l->conns[i];

		if (c->fd < 0 || c->out || c->is_draining ||
		    now - c->accepted_ns < EVICT_GRACE_MS * NS_PER_MS)
			continue;
		if (!oldest || c->accepted_ns < oldest->accepted_ns)
			oldest = c;
	}
	return oldest;
}

/* A slot for a new connection: a free one, else an evictable one's; NULL: none now. */
static struct metrics_conn *slot_for_new(struct metrics_listener *l, uint64_t now)
{
	struct metrics_conn *c = free_slot(l);

	return c ? c : evictable(l, now);
}

/*
 * Accept while there is a slot for it, taking that of a connection that has
 * sent no request within the grace when none is free; the rest wait in the
 * backlog.
 */
static void accept_some(struct metrics_listener *l)
{
	struct metrics_conn *c;
	uint64_t now = now_ns();

	while ((c = slot_for_new(l, now))) {
		struct sockaddr_storage sa = { 0 };
		socklen_t len = sizeof(sa);
		int fd = accept4(l->listen_fd, (struct sockaddr *)&sa, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				log_debug_errno(errno, "Metrics listener: accept failed, ignoring: %m");
			return;
		}
		if (c->fd >= 0) {
			log_debug("Metrics listener: '%s' sent no request within %u ms, closed for a "
				  "new connection", c->peer, EVICT_GRACE_MS);
			conn_close(c);
		}
		*c = (struct metrics_conn){ .fd = fd, .accepted_ns = now,
					    .deadline_ns = now + METRICS_DEADLINE_MS * NS_PER_MS };
		peer_text(&sa, c->peer);
	}
}

/* Close overdue connections; the poll() timeout until the next deadline. */
static int expire(struct metrics_listener *l)
{
	uint64_t now = now_ns(), next = now + POLL_MAX_MS * NS_PER_MS;

	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++) {
		struct metrics_conn *c = &l->conns[i];

		if (c->fd < 0)
			continue;
		if (now >= c->deadline_ns) {
			log_debug("Metrics listener: '%s' overran the %u ms deadline, closing",
				  c->peer, METRICS_DEADLINE_MS);
			conn_close(c);
			continue;
		}
		if (c->deadline_ns < next)
			next = c->deadline_ns;
		/* all slots taken: wake when this one may make room for the backlog */
		if (!c->out && !c->is_draining &&
		    c->accepted_ns + EVICT_GRACE_MS * NS_PER_MS > now &&
		    c->accepted_ns + EVICT_GRACE_MS * NS_PER_MS < next)
			next = c->accepted_ns + EVICT_GRACE_MS * NS_PER_MS;
	}
	return (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
}

static void *listener_main(void *arg)
{
	struct metrics_listener *l = arg;

	while (!atomic_load(&l->is_stopping)) {
		struct pollfd p[2 + METRICS_CONNECTIONS_MAX];
		int timeout = expire(l);

		p[0] = (struct pollfd){ .fd = slot_for_new(l, now_ns()) ? l->listen_fd : -1,
					.events = POLLIN };
		p[1] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
		for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++) {
			const struct metrics_conn *c = &l->conns[i];

			p[2 + i] = (struct pollfd){ .fd = c->fd,
						    .events = c->out && !c->is_draining ? POLLOUT
											: POLLIN };
		}
		if (poll(p, ARRAY_SIZE(p), timeout) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
			if (l->conns[i].fd >= 0 && p[2 + i].revents)
				step(l, &l->conns[i]);
		if (p[0].revents & POLLIN)
			accept_some(l);
	}
	return NULL;
}

/* A listening TCP socket on @sa; a negative errno after logging why not. */
static int bind_address(const char *address, const struct sockaddr_storage *sa, socklen_t len)
{
	_cleanup_close_ int fd = -EBADF;
	int one = 1, r;

	fd = RET_NERRNO(socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (fd < 0)
		return log_error_errno(fd, "Cannot create the --metrics-address socket: %m");
	/* a restart must not wait for the last run's connections in TIME_WAIT */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:PORT means IPv6 only: IPv4 peers must be asked for with 0.0.0.0 */
	if (sa->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	r = RET_NERRNO(bind(fd, (const struct sockaddr *)sa, len));
	if (r < 0)
		return log_error_errno(r, "Cannot listen on --metrics-address '%s': %m", address);
	r = RET_NERRNO(listen(fd, METRICS_LISTEN_BACKLOG));
	if (r < 0)
		return log_error_errno(r, "Cannot listen on --metrics-address '%s': %m", address);
	return TAKE_FD(fd);
}

int metrics_listener_start(struct daemon *d, const char *address, struct metrics_listener **ret)
{
	struct icd_error err = { 0 };
	struct sockaddr_storage sa;
	struct metrics_listener *l;
	socklen_t len;
	int r;

	r = metrics_address_parse(address, &sa, &len, &err);
	if (r < 0)
		return log_error_errno(r, "Invalid --metrics-address: %s", err.msg);
	l = calloc(1, sizeof(*l));
	if (!l)
		return log_error_errno(ENOMEM, "Cannot start the metrics listener: %m");
	l->d = d;
	l->wake_fd = -EBADF;
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
		l->conns[i].fd = -EBADF;
	l->listen_fd = bind_address(address, &sa, len);
	r = l->listen_fd;
	if (r >= 0)
		r = l->wake_fd = RET_NERRNO(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (r >= 0)
		r = -pthread_create(&l->thread, NULL, listener_main, l);
	if (r < 0) {
		if (l->listen_fd >= 0) /* bind_address() logged its own failure */
			log_error_errno(r, "Cannot start the metrics listener: %m");
		metrics_listener_stop(l);
		return r;
	}
	l->has_thread = true;
	log_info("Serving /1.0/metrics and /healthz read-only on '%s'", address);
	*ret = l;
	return 0;
}

struct metrics_listener *metrics_listener_stop(struct metrics_listener *l)
{
	if (!l)
		return NULL;
	if (l->has_thread) {
		atomic_store(&l->is_stopping, true);
		(void)eventfd_write(l->wake_fd, 1);
		(void)pthread_join(l->thread, NULL);
	}
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
		conn_close(&l->conns[i]);
	close_nointr(l->listen_fd);
	close_nointr(l->wake_fd);
	free(l);
	return NULL;
}
