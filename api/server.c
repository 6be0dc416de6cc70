/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The management API server: libmicrohttpd with one internal polling thread
 * (epoll) and no listening socket of its own: api/conns.c accepts, applies
 * the connection limits and hands connections over. This file owns the MHD
 * callbacks: body accumulation with a 1 MiB cap, early 404/405/403/413
 * answers, the request deadline of each connection (set in conns.c), and
 * rendering of struct api_response into the envelope. Reads are answered on
 * the MHD thread. A write's connection is suspended while the store works on
 * its change (daemon/store/store.h) and resumed by the store's writer thread,
 * so reads go on meanwhile. No lock is held here.
 */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/conns.h"
#include "api/errors.h"
#include "api/json.h"
#include "api/router.h"
#include "api/routes_events.h"
#include "api/server.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/metrics/metrics.h"
#include "daemon/store/store.h"

/* Chunked uploads past the cap are read and dropped up to this, then cut off. */
#define DISCARD_MAX (8 * JSON_BODY_MAX)
/* at shutdown, how long changes in flight may take to come back from the disk */
#define STORE_CLOSE_TIMEOUT_MS 5000

struct api_server {
	struct MHD_Daemon *mhd;
	struct daemon *d;
	struct conns *conns; /* owned */
	struct events_keepalive *keepalive; /* owned */
};

/* Per request, in *con_cls; freed by request_completed(). */
struct request_ctx {
	struct api_server *s;
	struct MHD_Connection *conn;
	const struct route *route;
	struct api_request req;
	struct api_response resp; /* kept while the store works on resp.change */
	char *buf; /* owned: the body so far */
	size_t len, cap, n_dropped;
	int submit_error;  /* the store refused the change (stopping): answered with it */
	bool is_too_large;
	bool is_waiting;   /* suspended until the store has done resp.change */
	bool has_responded;
};

static struct conn_slot *slot_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	struct api_server *s = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? conns_bind(s->conns, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		conns_release(s->conns, *socket_context);
		*socket_context = NULL;
	}
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct api_server *s = cls;
	struct request_ctx *ctx = *con_cls;

	(void)toe;
	/* a kept-alive connection has the deadline to send its next request */
	conns_set_deadline(s->conns, slot_of(conn), true);
	if (!ctx)
		return;
	json_decref(ctx->req.body);
	json_decref(ctx->resp.metadata);
	free(ctx->resp.text);
	store_change_free(ctx->resp.change);
	free(ctx->buf);
	free(ctx);
	*con_cls = NULL;
}

/* RFC 7234 warn-code 299 with a quoted text; ours never holds quotes, but make sure. */
static void add_warning(struct MHD_Response *mr, const char *text)
{
	char value[sizeof(((struct api_response *)0)->warnings[0]) + 32];
	size_t start;

	start = (size_t)snprintf(value, sizeof(value), "299 interceptd \"");
	for (size_t i = 0; text[i] && start + 2 < sizeof(value); i++)
		value[start++] = text[i] == '"' || text[i] == '\\' || (unsigned char)text[i] < 0x20 ?
					 '\'' : text[i];
	value[start++] = '"';
	value[start] = '\0';
	(void)MHD_add_response_header(mr, "Warning", value);
}

static void add_headers(struct MHD_Response *mr, const struct api_response *resp,
			const char *content_type, const char *allow)
{
	char etag[CONTAINER_ETAG_LEN + 3];

	(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	(void)MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	if (resp->etag[0]) {
		(void)snprintf(etag, sizeof(etag), "\"%s\"", resp->etag);
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_ETAG, etag);
	}
	if (resp->location[0])
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (allow && allow[0])
		(void)MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, allow);
	for (size_t i = 0; i < resp->n_warnings; i++)
		add_warning(mr, resp->warnings[i]);
}

/* The body text for @resp after a handler returned @r; sets *ret_status. */
static char *render_body(struct api_response *resp, int r, unsigned *ret_status,
			 const char **ret_content_type)
{
	_cleanup_(json_decrefp) json_t *env = NULL;

	*ret_content_type = "application/json";
	if (r < 0) {
		*ret_status = errors_http_status(r);
		env = errors_envelope_error(*ret_status, resp->err.msg);
	} else if (resp->text) {
		*ret_status = resp->status ? resp->status : 200;
		*ret_content_type = resp->content_type ? resp->content_type : "text/plain; charset=utf-8";
		return TAKE_PTR(resp->text);
	} else {
		*ret_status = resp->status ? resp->status : 200;
		env = errors_envelope_sync(TAKE_PTR(resp->metadata));
	}
	return env ? json_dumps(env, JSON_COMPACT) : NULL;
}

static void log_request(const struct api_request *req, unsigned status)
{
	if (req->method == HTTP_GET)
		log_debug("API %s %s uid=%d pid=%d status=%u", strempty(req->method_name),
			  strempty(req->path), (int)req->peer.uid, (int)req->peer.pid, status);
	else
		log_info("API %s %s uid=%d pid=%d status=%u", strempty(req->method_name),
			 strempty(req->path), (int)req->peer.uid, (int)req->peer.pid, status);
}

/* Queue the answer for @resp after its handler returned @r; it must be sent by the deadline. */
static enum MHD_Result send_reply(struct MHD_Connection *conn, struct request_ctx *ctx,
				  struct api_response *resp, int r, const char *allow)
{
	static const char oom[] = "{\"type\":\"error\",\"status\":\"\",\"status_code\":0,"
				  "\"operation\":\"\",\"error_code\":503,\"error\":\"out of memory\","
				  "\"metadata\":null}";
	const char *content_type;
	unsigned status;
	char *body = render_body(resp, r, &status, &content_type);
	struct MHD_Response *mr;
	enum MHD_Result ret;

	ctx->has_responded = true;
	conns_set_deadline(ctx->s->conns, slot_of(conn), true);
	if (body)
		mr = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	else {
		status = 503;
		mr = MHD_create_response_from_buffer(strlen(oom), (void *)oom, MHD_RESPMEM_PERSISTENT);
	}
	if (!mr) {
		free(body);
		return MHD_NO;
	}
	add_headers(mr, resp, body ? content_type : "application/json", allow);
	ret = MHD_queue_response(conn, status, mr);
	MHD_destroy_response(mr);
	metrics_api_request(ctx->req.method_name, status);
	log_request(&ctx->req, status);
	return ret;
}

/* Answer an error right away (no handler ran). */
static enum MHD_Result send_error(struct MHD_Connection *conn, struct request_ctx *ctx, int r,
				  const char *allow, const char *fmt, ...) _printf_(5, 6);
static enum MHD_Result send_error(struct MHD_Connection *conn, struct request_ctx *ctx, int r,
				  const char *allow, const char *fmt, ...)
{
	struct api_response resp = { 0 };
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(resp.err.msg, sizeof(resp.err.msg), fmt, ap);
	va_end(ap);
	return send_reply(conn, ctx, &resp, r, allow);
}

/* Route, authorize and size-check a request once its headers are in. */
static enum MHD_Result begin_request(struct MHD_Connection *conn, struct request_ctx *ctx,
				     const char *url)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned allow = 0;
	char allow_text[64];
	int r;

	r = router_match(ctx->req.method, url, &ctx->req, &ctx->route, &allow);
	if (r == -ENOENT)
		return send_error(conn, ctx, r, NULL, "not found: '%s'", ESCAPED(url, 128));
	if (r == -EOPNOTSUPP) {
		router_allow_header(allow, allow_text, sizeof(allow_text));
		return send_error(conn, ctx, r, allow_text,
				  "method '%s' not allowed on '%s' (allowed: %s)",
				  ESCAPED(ctx->req.method_name, 16), ESCAPED(url, 128), allow_text);
	}
	if (ctx->route->is_write && !ctx->req.peer.is_admin)
		return send_error(conn, ctx, -EACCES, NULL,
				  "not authorized: uid %d may only read (GET)", (int)ctx->req.peer.uid);
	if (cl && strtoull(cl, NULL, 10) > JSON_BODY_MAX)
		return send_error(conn, ctx, -EMSGSIZE, NULL,
				  "request body of %s bytes is larger than the limit of %zu bytes",
				  ESCAPED(cl, 20), JSON_BODY_MAX);
	return MHD_YES;
}

static struct request_ctx *request_new(struct api_server *s, struct MHD_Connection *conn,
				       const char *url, const char *method)
{
	struct request_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->s = s;
	ctx->conn = conn;
	ctx->resp.status = 200;
	ctx->req.d = s->d;
	ctx->req.path = url;
	ctx->req.method_name = method;
	ctx->req.method = router_method_from_string(method);
	ctx->req.peer = conns_peer(slot_of(conn));
	return ctx;
}

/* Append a body chunk; past the cap, remember the overflow and drop it. */
static enum MHD_Result accumulate(struct request_ctx *ctx, const char *data, size_t size)
{
	if (ctx->has_responded)
		return MHD_YES;
	if (ctx->is_too_large || size > JSON_BODY_MAX - ctx->len) {
		ctx->is_too_large = true;
		ctx->n_dropped += size;
		return ctx->n_dropped > DISCARD_MAX ? MHD_NO : MHD_YES;
	}
	if (ctx->len + size > ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap : 4096;
		char *p;

		while (cap < ctx->len + size)
			cap *= 2;
		p = realloc(ctx->buf, cap);
		if (!p)
			return MHD_NO;
		ctx->buf = p;
		ctx->cap = cap;
	}
	memcpy(ctx->buf + ctx->len, data, size);
	ctx->len += size;
	return MHD_YES;
}

/* A store writer thread: the change is done; the MHD thread answers it. */
static void on_stored(struct store_change *ch, void *userdata)
{
	struct request_ctx *ctx = userdata;

	(void)ch;
	MHD_resume_connection(ctx->conn); /* ctx may be gone from here on */
}

/*
 * Hand the request's change to the store and suspend the connection until it
 * is done; the connection has no deadline meanwhile, since the disk is the
 * one taking its time.
 */
static enum MHD_Result wait_for_store(struct MHD_Connection *conn, struct request_ctx *ctx)
{
	ctx->is_waiting = true;
	conns_set_deadline(ctx->s->conns, slot_of(conn), false);
	MHD_suspend_connection(conn);
	ctx->submit_error = store_submit(ctx->s->d->store, ctx->resp.change, on_stored, ctx);
	if (ctx->submit_error < 0)
		MHD_resume_connection(conn);
	return MHD_YES;
}

/* Back from the store: render the change's outcome. */
static enum MHD_Result answer_stored(struct MHD_Connection *conn, struct request_ctx *ctx)
{
	int r;

	ctx->is_waiting = false;
	if (ctx->submit_error == -ESHUTDOWN)
		r = icd_error_set(&ctx->resp.err, -EAGAIN, "interceptd is stopping: try again");
	else if (ctx->submit_error < 0)
		r = icd_error_set(&ctx->resp.err, ctx->submit_error, "cannot queue the change: %s",
				  strerror(-ctx->submit_error));
	else
		r = ctx->resp.finish(&ctx->req, &ctx->resp);
	return send_reply(conn, ctx, &ctx->resp, r, NULL);
}

/* GET /1.0/events: the stream, or why not (503 at the subscriber cap or when stopping). */
static enum MHD_Result send_stream(struct MHD_Connection *conn, struct request_ctx *ctx)
{
	bool is_admin = ctx->req.peer.is_admin;
	int r = events_stream_queue(conn, ctx->s->d->events, &ctx->resp.stream_filter, is_admin,
				    ctx->s->conns, slot_of(conn));

	/* the last places are kept for administrators: a reader cannot lock them out */
	if (r == -EAGAIN)
		return send_error(conn, ctx, r, NULL, "too many event streams: at most %u at once%s",
				  is_admin ? EVENT_SUBSCRIBERS_MAX
					   : EVENT_SUBSCRIBERS_MAX - EVENT_SUBSCRIBERS_RESERVED,
				  is_admin ? "" : " for a reader that is not an administrator");
	if (r == -ESHUTDOWN)
		return send_error(conn, ctx, -EAGAIN, NULL, "interceptd is stopping: try again");
	if (r < 0)
		return send_error(conn, ctx, r, NULL, "cannot start the event stream: %s",
				  strerror(-r));
	ctx->has_responded = true;
	metrics_api_request(ctx->req.method_name, 200);
	log_request(&ctx->req, 200);
	return MHD_YES;
}

static enum MHD_Result finish_request(struct MHD_Connection *conn, struct request_ctx *ctx)
{
	struct api_request *req = &ctx->req;
	int r = 0;

	if (ctx->is_waiting)
		return answer_stored(conn, ctx);
	if (ctx->has_responded)
		return MHD_YES;
	if (ctx->is_too_large)
		return send_error(conn, ctx, -EMSGSIZE, NULL,
				  "request body larger than the limit of %zu bytes", JSON_BODY_MAX);
	if (req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH)
		r = json_body_parse(ctx->buf, ctx->len, &req->body, &ctx->resp.err);
	req->if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
	req->arg_format = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
	req->arg_recursion = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "recursion");
	req->arg_trap_denied = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "trap_denied");
	req->arg_type = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type");
	req->arg_container = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "container");
	if (r >= 0)
		r = ctx->route->fn(req, &ctx->resp);
	if (r >= 0 && ctx->resp.is_stream)
		return send_stream(conn, ctx);
	if (r >= 0 && ctx->resp.change)
		return wait_for_store(conn, ctx);
	return send_reply(conn, ctx, &ctx->resp, r, NULL);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct request_ctx *ctx = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!ctx) {
		ctx = request_new(cls, conn, url, method);
		if (!ctx)
			return MHD_NO;
		*con_cls = ctx;
		return begin_request(conn, ctx, url);
	}
	if (*upload_data_size > 0) {
		ret = accumulate(ctx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	return finish_request(conn, ctx);
}

/*
 * Messages that say nothing about the daemon, kept for debugging:
 * - connections handed over with MHD_add_connection() are of an unknown
 *   family to libmicrohttpd 0.9.75, which then tries TCP_CORK and TCP_NODELAY
 *   on every answer; on our AF_UNIX sockets Linux says EOPNOTSUPP, which that
 *   version does not take as "not TCP". Nothing is held back: a unix socket
 *   has no Nagle to push past;
 * - a client gone in the middle of its request, or cut at the request
 *   deadline (conns.c warns about those itself);
 * - an event stream whose reader went away: found out when its next event
 *   or keep-alive, or the end at shutdown, cannot be sent.
 */
static bool is_noise(const char *msg)
{
	static const char *const prefixes[] = {
		"Setting TCP_",
		"Failed to push the data from buffers",
		"Connection socket is closed when reading request",
		"Failed to send the footers for the request",
		"Failed to send the chunked response body",
		"Failed to send data in request for",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* libmicrohttpd's messages: its format strings, not ours, hence the pragma */
_Pragma("GCC diagnostic push")
_Pragma("GCC diagnostic ignored \"-Wformat-nonliteral\"")
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (is_noise(msg))
		log_debug("HTTP server: %s", msg);
	else
		log_warning("HTTP server: %s", msg);
}
_Pragma("GCC diagnostic pop")

static struct MHD_Daemon *start_mhd(struct api_server *s)
{
	return MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET |
			MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, access_handler, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
		/* idle connections are cut sooner by the request deadline (conns.c) */
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		/* conns.c admits at most API_CONNECTIONS_MAX: this limit is never the one hit */
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)(API_CONNECTIONS_MAX + 16),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
		MHD_OPTION_END);
}

int api_server_start(struct daemon *d, int listen_fd, struct api_server **ret)
{
	struct api_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		close_nointr(listen_fd);
		return -ENOMEM;
	}
	s->d = d;
	/* a burst of clients waits in the backlog while API_CONNECTIONS_MAX are served */
	if (listen(listen_fd, API_LISTEN_BACKLOG) < 0)
		log_warning_errno(errno, "Cannot raise the API socket's backlog, ignoring: %m");
	r = conns_new(d, listen_fd, &s->conns);
	if (r >= 0)
		r = events_keepalive_start(d->events, &s->keepalive);
	if (r >= 0) {
		s->mhd = start_mhd(s);
		r = s->mhd ? conns_start(s->conns, s->mhd) : -EIO;
	}
	if (r < 0) {
		s->keepalive = events_keepalive_stop(s->keepalive);
		if (s->mhd)
			MHD_stop_daemon(s->mhd);
		conns_free(s->conns);
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int api_server_stop(struct api_server *s)
{
	int r;

	if (!s)
		return 0;
	conns_stop(s->conns);
	/* libmicrohttpd cannot stop with a suspended connection: let the store finish them */
	r = store_close(s->d->store, STORE_CLOSE_TIMEOUT_MS);
	if (r < 0)
		return r;
	/* end every event stream: libmicrohttpd must not stop with one suspended */
	s->keepalive = events_keepalive_stop(s->keepalive);
	MHD_stop_daemon(s->mhd);
	conns_free(s->conns);
	free(s);
	return 0;
}
