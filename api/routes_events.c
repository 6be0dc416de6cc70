/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0/events: the route (its filters) and the stream. The route handler
 * only parses ?type= and ?container=; api/server.c then calls
 * events_stream_queue(), which subscribes to the event bus
 * (daemon/events/bus.h) and answers with a chunked stream of unknown length.
 *
 * libmicrohttpd asks the content reader for more whenever the socket can
 * take it. With nothing to send, the reader suspends the connection and
 * returns 0 (a 0 without suspending would make libmicrohttpd call it again
 * at once, a busy loop); whoever brings something new resumes it through
 * the subscriber's wake callback. The suspend happens under the bus lock, so
 * the wake-up cannot come first; and a suspended connection is never closed
 * by libmicrohttpd, so the stream is alive when its wake-up comes. A reader
 * that does not read fills its socket, then its ring: the bus drops it and
 * the request deadline is armed again, so a peer that never reads is cut
 * after API_REQUEST_DEADLINE_MS instead of holding its connection forever.
 *
 * Threads: the reader and the free callback run on the MHD thread; wake on
 * any publisher's thread or the keep-alive thread; dropped under the bus
 * lock on a publisher's thread.
 */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/router.h"
#include "api/routes_events.h"
#include "api/server.h"

/* libmicrohttpd's buffer for each read: a few events at a time */
#define STREAM_BLOCK_SIZE 4096
/*
 * The socket buffer of a stream: what a reader that stops reading holds in
 * the kernel besides its ring (about a hundred events), so that it is
 * dropped soon and holds little.
 */
#define STREAM_SNDBUF (32 * 1024)

struct events_stream {
	struct MHD_Connection *conn;
	int fd; /* the connection's, libmicrohttpd's */
	struct event_bus *bus;
	struct event_sub *sub; /* owned */
	struct conns *conns;
	struct conn_slot *slot;
	char line[EVENT_LINE_MAX]; /* the event being sent */
	size_t len, off;
	bool is_ending; /* the final event is in line: then the end */
};

int routes_events_get(const struct api_request *req, struct api_response *resp)
{
	int r = event_filter_parse(req->arg_type, req->arg_container, &resp->stream_filter,
				   &resp->err);

	if (r < 0)
		return r;
	/* an audit event names another container's pids, paths and devices: not for every reader */
	if ((resp->stream_filter.types & (1u << EVENT_AUDIT)) && !req->peer.is_admin)
		return icd_error_set(&resp->err, -EACCES,
				     "not authorized: audit events are for root and the admin group, "
				     "uid %d may read the other types", (int)req->peer.uid);
	resp->is_stream = true;
	return 0;
}

/* Bus lock held, MHD thread in the reader: nothing to send, wait for a wake-up. */
static void park(void *userdata)
{
	struct events_stream *st = userdata;

	MHD_suspend_connection(st->conn);
}

static void wake(void *userdata)
{
	struct events_stream *st = userdata;

	MHD_resume_connection(st->conn);
}

/* Bus lock held: the stream fell behind; it must take its final event in time. */
static void dropped(void *userdata)
{
	struct events_stream *st = userdata;

	conns_set_deadline(st->conns, st->slot, true);
}

/*
 * Bus lock held, the connection suspended (so its fd is still its own): did
 * the peer close its socket? A peer that only shut down its sending side
 * (POLLRDHUP) may still be reading: that is not a hang-up.
 */
static bool is_gone(void *userdata)
{
	struct events_stream *st = userdata;
	struct pollfd p = { .fd = st->fd, .events = POLLIN };

	return st->fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static const struct event_sub_ops stream_ops = {
	.wake = wake,
	.dropped = dropped,
	.is_gone = is_gone,
};

/* Put the next thing to send into st->line; false when there is nothing now. */
static bool refill(struct events_stream *st, bool may_park, bool *ret_end)
{
	struct event ev;
	enum event_next next = event_sub_next(st->bus, st->sub, &ev, may_park ? park : NULL, st);

	st->off = st->len = 0;
	switch (next) {
	case EVENT_NEXT_DROPPED:
	case EVENT_NEXT_EVENT:
		st->is_ending = next == EVENT_NEXT_DROPPED;
		st->len = event_render(&ev, st->line, sizeof(st->line));
		return true;
	case EVENT_NEXT_KEEPALIVE:
		st->line[0] = '\n'; /* an empty line: clients skip it */
		st->len = 1;
		return true;
	case EVENT_NEXT_END:
		*ret_end = true;
		return false;
	default:
		return false;
	}
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events_stream *st = cls;
	size_t n = 0;
	bool is_end = false;

	(void)pos;
	while (n < max) {
		size_t k;

		if (st->off == st->len) {
			if (st->is_ending && st->len)
				is_end = true;
			/* park only with nothing in buf: a suspended connection sends nothing */
			else if (!refill(st, n == 0, &is_end))
				break;
			if (is_end)
				break;
		}
		k = st->len - st->off < max - n ? st->len - st->off : max - n;
		memcpy(buf + n, st->line + st->off, k);
		st->off += k;
		n += k;
	}
	if (n == 0 && is_end)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)n;
}

/* The response is gone (the connection ended): no wake-up can reach the stream any more. */
static void free_stream(void *cls)
{
	struct events_stream *st = cls;

	event_bus_unsubscribe(st->bus, st->sub);
	free(st);
}

int events_stream_queue(struct MHD_Connection *conn, struct event_bus *bus,
			const struct event_filter *filter, bool is_admin, struct conns *conns,
			struct conn_slot *slot)
{
	struct events_stream *st = calloc(1, sizeof(*st));
	const union MHD_ConnectionInfo *ci;
	int sndbuf = STREAM_SNDBUF;
	struct MHD_Response *mr;
	enum MHD_Result ok;
	int r;

	if (!st)
		return -ENOMEM;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	*st = (struct events_stream){ .conn = conn, .fd = ci ? ci->connect_fd : -EBADF, .bus = bus,
				      .conns = conns, .slot = slot };
	r = event_bus_subscribe(bus, filter, is_admin, &stream_ops, st, &st->sub);
	if (r < 0) {
		free(st);
		return r;
	}
	if (st->fd >= 0)
		(void)setsockopt(st->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK_SIZE, read_events,
					       st, free_stream);
	if (!mr) {
		free_stream(st);
		return -ENOMEM;
	}
	(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	(void)MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* a stream has no deadline once its request is in (a dropped one gets it back) */
	conns_set_deadline(conns, slot, false);
	ok = MHD_queue_response(conn, MHD_HTTP_OK, mr);
	MHD_destroy_response(mr); /* the connection holds it; free_stream runs when it is done */
	return ok == MHD_YES ? 0 : -EIO;
}

/* ---- keep-alives ---- */

struct events_keepalive {
	struct event_bus *bus;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool is_stopping;
};

static void add_ms(struct timespec *t, unsigned ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

static void *keepalive_main(void *arg)
{
	struct events_keepalive *k = arg;
	unsigned n_ticks = 0;
	struct timespec until;

	pthread_mutex_lock(&k->lock);
	while (!k->is_stopping) {
		(void)clock_gettime(CLOCK_MONOTONIC, &until);
		add_ms(&until, EVENTS_REAP_MS);
		while (!k->is_stopping && pthread_cond_timedwait(&k->cond, &k->lock, &until) == 0)
			;
		if (k->is_stopping)
			break;
		pthread_mutex_unlock(&k->lock);
		event_bus_reap(k->bus);
		if (++n_ticks % (EVENTS_KEEPALIVE_MS / EVENTS_REAP_MS) == 0)
			event_bus_keepalive(k->bus);
		pthread_mutex_lock(&k->lock);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

int events_keepalive_start(struct event_bus *bus, struct events_keepalive **ret)
{
	struct events_keepalive *k = calloc(1, sizeof(*k));
	pthread_condattr_t attr;
	int r;

	if (!k)
		return -ENOMEM;
	k->bus = bus;
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &attr);
	pthread_condattr_destroy(&attr);
	r = -pthread_create(&k->thread, NULL, keepalive_main, k);
	if (r < 0) {
		pthread_cond_destroy(&k->cond);
		pthread_mutex_destroy(&k->lock);
		free(k);
		return r;
	}
	*ret = k;
	return 0;
}

struct events_keepalive *events_keepalive_stop(struct events_keepalive *k)
{
	if (!k)
		return NULL;
	event_bus_close(k->bus);
	pthread_mutex_lock(&k->lock);
	k->is_stopping = true;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
	(void)pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k);
	return NULL;
}
