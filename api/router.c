/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The static route table and path matching. Immutable data and pure
 * functions; called from the MHD thread and by the route-dump tool.
 */
#include <stdio.h>
#include <string.h>

#include "api/router.h"

const struct route router_routes[] = {
	{ HTTP_GET, "/1.0", routes_server_get, false },
	{ HTTP_GET, "/1.0/metadata/configuration", routes_server_configuration, false },
	{ HTTP_GET, "/1.0/metrics", routes_server_metrics, false },
	{ HTTP_GET, "/1.0/events", routes_events_get, false },
	{ HTTP_GET, "/1.0/containers", routes_containers_list, false },
	{ HTTP_POST, "/1.0/containers", routes_containers_create, true },
	{ HTTP_GET, "/1.0/containers/{name}", routes_containers_get, false },
	{ HTTP_PUT, "/1.0/containers/{name}", routes_containers_put, true },
	{ HTTP_PATCH, "/1.0/containers/{name}", routes_containers_patch, true },
	{ HTTP_DELETE, "/1.0/containers/{name}", routes_containers_delete, true },
	{ HTTP_GET, "/1.0/containers/{name}/state", routes_containers_state, false },
	{ HTTP_GET, "/1.0/containers/{name}/seccomp", routes_policy_seccomp, false },
	{ HTTP_POST, "/1.0/containers/{name}/seccomp", routes_policy_seccomp_merge, true },
	{ HTTP_GET, "/1.0/profiles", routes_profiles_list, false },
	{ HTTP_POST, "/1.0/profiles", routes_profiles_create, true },
	{ HTTP_GET, "/1.0/profiles/{name}", routes_profiles_get, false },
	{ HTTP_PUT, "/1.0/profiles/{name}", routes_profiles_put, true },
	{ HTTP_PATCH, "/1.0/profiles/{name}", routes_profiles_patch, true },
	{ HTTP_DELETE, "/1.0/profiles/{name}", routes_profiles_delete, true },
	{ HTTP_GET, "/1.0/profiles/{name}/seccomp", routes_profiles_seccomp, false },
	{ HTTP_POST, "/1.0/profiles/{name}/seccomp", routes_profiles_seccomp_merge, true },
};
const size_t router_n_routes = sizeof(router_routes) / sizeof(router_routes[0]);

static const char *const method_names[HTTP_METHOD_COUNT] = {
	[HTTP_GET] = "GET", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	[HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE",
};

enum http_method router_method_from_string(const char *method)
{
	for (size_t i = 0; method && i < HTTP_METHOD_COUNT; i++)
		if (strcmp(method, method_names[i]) == 0)
			return (enum http_method)i;
	return HTTP_OTHER;
}

const char *router_method_name(enum http_method m)
{
	return m < HTTP_METHOD_COUNT ? method_names[m] : "OTHER";
}

/* Match @path against @pattern segment by segment, collecting {params}. */
static bool match_pattern(const char *pattern, const char *path,
			  char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX], size_t *ret_n)
{
	size_t n = 0;

	while (*pattern && *path) {
		size_t plen = strcspn(pattern, "/"), len = strcspn(path, "/");

		if (pattern[0] == '{') {
			if (len == 0 || n >= ROUTER_MAX_PARAMS)
				return false;
			/* over-long values are truncated; names are checked by the route */
			snprintf(params[n++], ROUTER_PARAM_MAX, "%.*s", (int)len, path);
		} else if (plen != len || strncmp(pattern, path, len) != 0) {
			return false;
		}
		pattern += plen;
		path += len;
		if (*pattern != *path)
			return false;
		if (*pattern == '/') {
			pattern++;
			path++;
		}
	}
	if (*pattern || *path)
		return false;
	*ret_n = n;
	return true;
}

int router_match(enum http_method method, const char *path, struct api_request *req,
		 const struct route **ret_route, unsigned *ret_allow)
{
	char params[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX];
	unsigned allow = 0;
	size_t n;

	for (size_t i = 0; path && i < router_n_routes; i++) {
		const struct route *rt = &router_routes[i];

		if (!match_pattern(rt->pattern, path, params, &n))
			continue;
		if (rt->method != method) {
			allow |= 1u << rt->method;
			continue;
		}
		memcpy(req->params, params, sizeof(params));
		req->n_params = n;
		*ret_route = rt;
		return 0;
	}
	if (!allow)
		return -ENOENT;
	*ret_allow = allow;
	return -EOPNOTSUPP;
}

void router_allow_header(unsigned allow, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t m = 0; m < HTTP_METHOD_COUNT; m++) {
		int k;

		if (!(allow & (1u << m)))
			continue;
		k = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", method_names[m]);
		if (k < 0 || (size_t)k >= size - len)
			return;
		len += (size_t)k;
	}
}
