/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The management API server: libmicrohttpd on the pre-bound AF_UNIX socket,
 * one internal polling thread (epoll). This file owns the MHD callbacks: peer
 * credentials per connection (SO_PEERCRED + SO_PEERGROUPS), body accumulation
 * with a 1 MiB cap, early 404/405/403/413 answers, and rendering of struct
 * api_response into the envelope. Route handlers run on the MHD thread; the
 * mutating ones take d->write_lock themselves. No lock is held here.
 */
#include <inttypes.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/router.h"
#include "api/server.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/metrics/metrics.h"

/* Chunked uploads past the cap are read and dropped up to this, then cut off. */
#define DISCARD_MAX (8 * JSON_BODY_MAX)

struct api_server {
	struct MHD_Daemon *mhd;
	struct daemon *d;
};

/* Per request, in *con_cls; freed by request_completed(). */
struct request_ctx {
	const struct route *route;
	struct api_request req;
	char *buf; /* owned: the body so far */
	size_t len, cap, n_dropped;
	bool is_too_large;
	bool has_responded;
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

static struct peer *peer_new(struct api_server *s, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
								      MHD_CONNECTION_INFO_CONNECTION_FD);
	struct peer *p = calloc(1, sizeof(*p));
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (!p)
		return NULL;
	p->uid = (uid_t)-1;
	p->gid = (gid_t)-1;
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return p; /* unknown peer: read-only */
	p->pid = uc.pid;
	p->uid = uc.uid;
	p->gid = uc.gid;
	p->is_admin = uc.uid == 0 ||
		      (s->d->has_admin_gid &&
		       (uc.gid == s->d->admin_gid || peer_in_group(ci->connect_fd, s->d->admin_gid)));
	return p;
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = peer_new(cls, conn);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_context);
		*socket_context = NULL;
	}
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct request_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!ctx)
		return;
	json_decref(ctx->req.body);
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

static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct api_request *req,
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
	metrics_api_request(req->method_name, status);
	log_request(req, status);
	json_decref(resp->metadata);
	free(resp->text);
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
	ctx->has_responded = true;
	return send_reply(conn, &ctx->req, &resp, r, allow);
}

/* Route, authorize and size-check a request once its headers are in. */
static enum MHD_Result begin_request(struct api_server *s, struct MHD_Connection *conn,
				     struct request_ctx *ctx, const char *url)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned allow = 0;
	char allow_text[64];
	int r;

	(void)s;
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
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct request_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->req.d = s->d;
	ctx->req.path = url;
	ctx->req.method_name = method;
	ctx->req.method = router_method_from_string(method);
	ctx->req.peer = (struct peer){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
	if (ci && ci->socket_context)
		ctx->req.peer = *(const struct peer *)ci->socket_context;
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

static enum MHD_Result finish_request(struct MHD_Connection *conn, struct request_ctx *ctx)
{
	struct api_response resp = { .status = 200 };
	struct api_request *req = &ctx->req;
	int r = 0;

	if (ctx->has_responded)
		return MHD_YES;
	ctx->has_responded = true;
	if (ctx->is_too_large)
		return send_error(conn, ctx, -EMSGSIZE, NULL,
				  "request body larger than the limit of %zu bytes", JSON_BODY_MAX);
	if (req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH)
		r = json_body_parse(ctx->buf, ctx->len, &req->body, &resp.err);
	req->if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
	req->arg_format = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
	req->arg_recursion = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "recursion");
	if (r >= 0)
		r = ctx->route->fn(req, &resp);
	return send_reply(conn, req, &resp, r, NULL);
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
		return begin_request(cls, conn, ctx, url);
	}
	if (*upload_data_size > 0) {
		ret = accumulate(ctx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	return finish_request(conn, ctx);
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
	log_warning("HTTP server: %s", msg);
}
_Pragma("GCC diagnostic pop")

int api_server_start(struct daemon *d, int listen_fd, struct api_server **ret)
{
	struct api_server *s = calloc(1, sizeof(*s));

	if (!s) {
		close_nointr(listen_fd);
		return -ENOMEM;
	}
	s->d = d;
	s->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, access_handler, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
		MHD_OPTION_END);
	if (!s->mhd) {
		close_nointr(listen_fd);
		free(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

struct api_server *api_server_stop(struct api_server *s)
{
	if (!s)
		return NULL;
	/* MHD_stop_daemon() also closes the listening socket it was given */
	MHD_stop_daemon(s->mhd);
	free(s);
	return NULL;
}
