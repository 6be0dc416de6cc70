/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/store/container.h"
#include "daemon/daemon.h"
#include "daemon/error.h"
#include "daemon/events/bus.h"

/*
 * The route table and the request/response shapes every route handler uses.
 * Handlers never touch libmicrohttpd: api/server.c fills struct api_request
 * and renders struct api_response.
 */

enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_METHOD_COUNT,
	HTTP_OTHER = HTTP_METHOD_COUNT, /* anything else: HEAD, OPTIONS, ... */
};

struct store_change;

#define ROUTER_MAX_PARAMS 2
#define ROUTER_PARAM_MAX 256

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	bool is_admin; /* uid 0 or a member of --admin-group */
};

struct api_request {
	struct daemon *d;
	enum http_method method;
	const char *method_name;
	const char *path;
	char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX]; /* path parameters, in order */
	size_t n_params;
	json_t *body;            /* parsed JSON object for POST/PUT/PATCH, else NULL */
	const char *if_match;    /* the If-Match header or NULL */
	const char *arg_format;  /* ?format= or NULL */
	const char *arg_recursion; /* ?recursion= or NULL */
	const char *arg_trap_denied; /* ?trap_denied= or NULL (POST …/seccomp) */
	const char *arg_type;      /* ?type= or NULL (GET /1.0/events) */
	const char *arg_container; /* ?container= or NULL (GET /1.0/events) */
	struct peer peer;
};

struct api_response {
	unsigned status;          /* 200 unless a handler sets another success code */
	json_t *metadata;         /* owned: the envelope's metadata */
	char *text;               /* owned: a non-JSON body (metrics, LXC config lines) */
	const char *content_type; /* for @text */
	char etag[CONTAINER_ETAG_LEN + 1]; /* sent quoted when not empty */
	char location[ROUTER_PARAM_MAX + 32];
	/* sent as "Warning: 299 interceptd ..." headers (the form Kubernetes uses) */
	char warnings[6][384];
	size_t n_warnings;
	struct icd_error err;     /* the message for a failed handler */
	/*
	 * A write route leaves its change here instead of answering: api/server.c
	 * hands it to the store (daemon/store/store.h), keeps serving other
	 * requests meanwhile, and calls @finish with the outcome in @change.
	 */
	struct store_change *change; /* owned */
	int (*finish)(const struct api_request *req, struct api_response *resp);
	/* GET /1.0/events: answer with the event stream for this filter (api/routes_events.h) */
	bool is_stream;
	struct event_filter stream_filter;
};

/*
 * A route handler. Returns >= 0 after filling @resp (or leaving a change in
 * it), or a negative errno with @resp->err describing it (mapped to HTTP by
 * api/errors.c).
 */
typedef int route_fn(const struct api_request *req, struct api_response *resp);

struct route {
	enum http_method method;
	const char *pattern; /* "/1.0/containers/{name}": a {param} matches one segment */
	route_fn *fn;
	bool is_write;       /* needs an admin peer */
};

extern const struct route router_routes[];
extern const size_t router_n_routes;

/* "GET" → HTTP_GET; unknown methods give HTTP_OTHER. */
enum http_method router_method_from_string(const char *method);
const char *router_method_name(enum http_method m);

/*
 * Find the route for @method and @path (percent-decoded, no query string).
 * On success *ret_route is set and the path parameters are copied into @req.
 * Returns 0, -ENOENT when no pattern matches the path, or -EOPNOTSUPP when the
 * path exists but not with @method; then *ret_allow is the bit set
 * (1 << enum http_method) of the methods it has.
 */
int router_match(enum http_method method, const char *path, struct api_request *req,
		 const struct route **ret_route, unsigned *ret_allow);

/* Write the Allow header value for @allow ("GET, PUT") into @buf. */
void router_allow_header(unsigned allow, char *buf, size_t size);

/* Route handlers, defined in api/routes_*.c. */
route_fn routes_server_get;
route_fn routes_server_configuration;
route_fn routes_server_metrics;
route_fn routes_containers_list;
route_fn routes_containers_create;
route_fn routes_containers_get;
route_fn routes_containers_put;
route_fn routes_containers_patch;
route_fn routes_containers_delete;
route_fn routes_containers_state;
route_fn routes_policy_seccomp;
route_fn routes_policy_seccomp_merge;
route_fn routes_events_get;
route_fn routes_profiles_list;
route_fn routes_profiles_create;
route_fn routes_profiles_get;
route_fn routes_profiles_put;
route_fn routes_profiles_patch;
route_fn routes_profiles_delete;
route_fn routes_profiles_seccomp;
route_fn routes_profiles_seccomp_merge;
