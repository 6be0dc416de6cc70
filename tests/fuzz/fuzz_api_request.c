/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: one whole API request after libmicrohttpd has decoded it.
 * The method and path go through router_match() (404, 405 and its Allow
 * header), the body through json_body_parse(), and the matched route handler
 * runs for real with its query arguments (?format=, ?recursion=, and ?type=
 * and ?container= of GET /1.0/events) and If-Match header, against a
 * registry of three containers (one applying a profile) and two profiles,
 * whose state and LXC policy files live in a scratch directory on tmpfs. A
 * write's change goes through the real store (store_apply(): its writer
 * thread, validation against the registries, the files, publishing) before
 * the route's finish function renders it. The answer is rendered the way
 * api/server.c renders it.
 *
 * The input reads like the request it stands for:
 *
 *   PATCH /1.0/containers/c1
 *   If-Match: "0123456789abcdef"
 *   format=oci
 *   recursion=1
 *   type=lifecycle,audit
 *   container=c1
 *   peer=reader
 *
 *   {"config": {...}}
 *
 * The first line is the method and the path (everything after the first
 * space); the optional lines set the header and the query arguments, and
 * "peer=reader" makes the peer an ordinary uid instead of root (api/server.c
 * refuses it every write route before the route runs); the body is
 * everything after the first empty line.
 *
 * Beyond "no crash, no leak": hostile input never gets a 5xx; every answer
 * renders (envelope, or text for metrics and LXC lines); 405 lists methods
 * that exist, never the one refused; an event stream is granted only for
 * the filter asked for (the types named, or all but audit; audit only to
 * root; the container named, valid), and that filter, written back as a
 * query, parses again to the same one.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/router.h"
#include "daemon/events/bus.h"
#include "daemon/log.h"
#include "daemon/store/profile.h"
#include "daemon/store/store.h"
#include "daemon/strv.h"
#include "tests/fuzz/fuzz.h"

struct request_text {
	char *head; /* owned: the lines before the body */
	const char *method, *path, *if_match, *format, *recursion, *type, *container;
	bool is_reader; /* "peer=reader": an ordinary uid, not root */
	const char *body;
	size_t body_len;
};

static struct daemon fixture = {
	.opts = { .api_socket = "/run/interceptd/api.sock", .lxc_socket = "/run/interceptd/lxc.sock",
		  .oci_socket = "/run/interceptd/oci.sock" },
};
/* emptied after each write: what a change may have left behind */
static int containers_fd, seccomp_fd, profiles_fd, profile_seccomp_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct icd_error err = { 0 };
	int state_dir_fd;

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	state_dir_fd = fuzz_scratch_dir(&fixture.opts.state_dir);
	/* made here first (the store takes them as they are), to empty them after each input */
	containers_fd = fuzz_subdir(state_dir_fd, "containers");
	seccomp_fd = fuzz_subdir(state_dir_fd, "seccomp");
	profiles_fd = fuzz_subdir(state_dir_fd, "profiles");
	profile_seccomp_fd = fuzz_subdir(state_dir_fd, "seccomp-profiles");
	fixture.registry = registry_new();
	FUZZ_CHECK(fixture.registry, "out of memory");
	FUZZ_CHECK(store_open(fixture.opts.state_dir, fixture.registry, &fixture.store, &err) == 0,
		   "cannot open the store: %s", err.msg);
	return 0;
}

static struct container *new_container(const char *name, const char *const values[])
{
	struct config *cfg = NULL;
	struct container *c;

	FUZZ_CHECK(config_new(values, &cfg, NULL) == 0, "fixture config of '%s'", name);
	c = container_new(name, 1700000000, cfg);
	FUZZ_CHECK(c, "out of memory");
	return c;
}

static void add_container(struct registry *reg, const char *name, const char *const values[])
{
	struct container *c = new_container(name, values);

	FUZZ_CHECK(registry_add(reg, c) == 0, "cannot register '%s'", name);
	container_unref(c);
}

/* Container @name applying profile "base" over its own keys @values, as the store publishes it. */
static void add_profile_user(struct registry *reg, const char *name, const char *const values[])
{
	struct container *c = new_container(name, values);
	struct config *own = container_config_get(c), *expanded = NULL;
	char **profiles = NULL, etag[CONTAINER_ETAG_LEN + 1];

	FUZZ_CHECK(strv_copy((char *const[]){ "base", NULL }, &profiles) == 0, "out of memory");
	FUZZ_CHECK(profile_expand(store_profiles(fixture.store), profiles, own, &expanded, NULL) == 0,
		   "cannot expand '%s'", name);
	container_etag_compute_profiles(name, 0, own, profiles, etag);
	container_publish_spec(c, own, profiles, expanded, 0, etag);
	FUZZ_CHECK(registry_add(reg, c) == 0, "cannot register '%s'", name);
	container_unref(c);
}

/*
 * The same containers and profile for each input, so one request cannot
 * change what the next one sees: c1, web-2 and app applying profile base;
 * profiles base and spare (used by none).
 */
static void fixture_registry(struct registry *reg)
{
	const char *c1[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = "true", [CONFIG_MKNOD] = "true" };
	const char *web[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT] = "true",
					      [CONFIG_MOUNT_ALLOWED] = "ext4",
					      [CONFIG_MOUNT_FUSE] = "fuse.sshfs=sshfs" };
	const char *base[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = "true", [CONFIG_MOUNT] = "true",
					       [CONFIG_MOUNT_ALLOWED] = "ext4,btrfs" };
	const char *spare[CONFIG_KEY_COUNT] = { [CONFIG_MKNOD] = "true" };
	/* its fuse type next to base's mount.allowed: a profile change can break it alone */
	const char *app[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = "false",
					      [CONFIG_SETXATTR] = "true",
					      [CONFIG_MOUNT_FUSE] = "vfat=fusefat" };

	add_container(store_profiles(fixture.store), "base", base);
	add_container(store_profiles(fixture.store), "spare", spare);
	add_container(reg, "c1", c1);
	add_container(reg, "web-2", web);
	add_profile_user(reg, "app", app);
}

/* Unregister whatever the input left (the store holds on to the registries itself). */
static void empty_registry(struct registry *reg)
{
	struct container **list = NULL;
	size_t n = 0;

	FUZZ_CHECK(registry_list(reg, &list, &n) == 0, "out of memory");
	for (size_t i = 0; i < n; i++)
		(void)registry_remove(reg, list[i]->name, NULL);
	registry_list_free(list, n);
}

static const char *after(const char *line, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(line, prefix, n) == 0 ? line + n : NULL;
}

static void parse_request(const uint8_t *data, size_t size, struct request_text *rt)
{
	const uint8_t *sep = memmem(data, size, "\n\n", 2);
	size_t head_len = sep ? (size_t)(sep - data) : size;
	char *save = NULL, *line, *space;

	*rt = (struct request_text){ .head = fuzz_strndup(data, head_len), .method = "", .path = "" };
	if (sep) {
		rt->body = (const char *)sep + 2;
		rt->body_len = size - head_len - 2;
	}
	line = strtok_r(rt->head, "\n", &save);
	if (!line)
		return;
	space = strchr(line, ' ');
	rt->method = line;
	if (space) {
		*space = '\0';
		rt->path = space + 1;
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		const char *v;

		if ((v = after(line, "If-Match: ")))
			rt->if_match = v;
		else if ((v = after(line, "format=")))
			rt->format = v;
		else if ((v = after(line, "recursion=")))
			rt->recursion = v;
		else if ((v = after(line, "type=")))
			rt->type = v;
		else if ((v = after(line, "container=")))
			rt->container = v;
		else if (strcmp(line, "peer=reader") == 0)
			rt->is_reader = true;
	}
}

static void check_not_allowed(const struct api_request *req, unsigned allow)
{
	char text[64];

	FUZZ_CHECK(allow && !(allow & (1u << req->method)) && allow < (1u << HTTP_METHOD_COUNT),
		   "405 for %s '%s' with Allow set %#x", req->method_name, req->path, allow);
	router_allow_header(allow, text, sizeof(text));
	FUZZ_CHECK(text[0], "405 for '%s' with an empty Allow header", req->path);
}

/* Render @resp as api/server.c does after the handler returned @r. */
static void check_answer(const struct api_request *req, struct api_response *resp, int r)
{
	json_t *env;
	char *text;

	if (r < 0) {
		FUZZ_CHECK(!errors_is_internal(r), "%s '%s' answered %u: %s", req->method_name,
			   req->path, errors_http_status(r), resp->err.msg);
		fuzz_check_refusal(r, &resp->err);
		json_decref(resp->metadata);
		free(resp->text);
		return;
	}
	FUZZ_CHECK(resp->status == 200 || resp->status == 201, "success with status %u",
		   resp->status);
	if (resp->text) {
		free(resp->text);
		FUZZ_CHECK(!resp->metadata, "a text answer with metadata");
		return;
	}
	env = errors_envelope_sync(resp->metadata);
	text = env ? json_dumps(env, JSON_COMPACT) : NULL;
	FUZZ_CHECK(text, "%s '%s': the answer does not render", req->method_name, req->path);
	free(text);
	json_decref(env);
}

/* The filter an event stream was granted: exactly what the query asked for. */
static void check_stream(const struct api_request *req, const struct event_filter *f)
{
	const unsigned all = (1u << EVENT_TYPE_COUNT) - 1;
	const char *types = req->arg_type ? req->arg_type : "";
	unsigned named = 0;

	/* every non-empty item of ?type= is the name of a type */
	for (const char *p = types; *p; p += *p == ',') {
		size_t len = strcspn(p, ","), t;

		for (t = 0; t < EVENT_TYPE_COUNT; t++)
			if (strlen(event_type_name(t)) == len && strncmp(p, event_type_name(t), len) == 0)
				break;
		FUZZ_CHECK(t < EVENT_TYPE_COUNT, "?type=%s streams, but names no type at '%s'",
			   types, p);
		named |= 1u << t;
		p += len;
	}
	if (!types[0])
		named = all & ~(1u << EVENT_AUDIT);
	FUZZ_CHECK(f->types == named, "?type=%s streams types %#x, not %#x", types, f->types,
		   named);
	FUZZ_CHECK(req->peer.is_admin || !(f->types & (1u << EVENT_AUDIT)),
		   "audit events streamed to uid %d", (int)req->peer.uid);
	FUZZ_CHECK(strcmp(f->container, req->arg_container ? req->arg_container : "") == 0,
		   "?container=%s streams the events of '%s'", req->arg_container, f->container);
	FUZZ_CHECK(!f->container[0] || container_name_valid(f->container),
		   "a stream for invalid container name '%s'", f->container);
}

static void serve(struct api_request *req, const struct request_text *rt)
{
	struct api_response resp = { .status = 200 };
	const struct route *route = NULL;
	unsigned allow = 0;
	int r;

	r = router_match(req->method, req->path, req, &route, &allow);
	if (r == -EOPNOTSUPP)
		check_not_allowed(req, allow);
	if (r < 0) {
		FUZZ_CHECK(r == -ENOENT || r == -EOPNOTSUPP, "router_match() returned %d", r);
		return;
	}
	FUZZ_CHECK(route->method == req->method && req->n_params <= ROUTER_MAX_PARAMS,
		   "'%s' matched a route of another method", req->path);
	if (route->is_write && !req->peer.is_admin)
		return; /* api/server.c answers 403 before the route runs */
	if (req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH)
		r = json_body_parse(rt->body, rt->body_len, &req->body, &resp.err);
	if (r >= 0)
		r = route->fn(req, &resp);
	if (r >= 0 && resp.change) {
		FUZZ_CHECK(route->is_write, "'%s' left a change but is a read", req->path);
		(void)store_apply(req->d->store, resp.change);
		r = resp.finish(req, &resp);
	}
	resp.change = store_change_free(resp.change);
	FUZZ_CHECK(!resp.is_stream || strcmp(route->pattern, "/1.0/events") == 0,
		   "'%s' answered with an event stream", req->path);
	if (r >= 0 && resp.is_stream)
		check_stream(req, &resp.stream_filter);
	check_answer(req, &resp, r);
	if (route->is_write) {
		fuzz_empty_dir(containers_fd);
		fuzz_empty_dir(seccomp_fd);
		fuzz_empty_dir(profiles_fd);
		fuzz_empty_dir(profile_seccomp_fd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct peer root = { .uid = 0, .is_admin = true };
	static const struct peer reader = { .uid = 1000, .gid = 1000 };
	struct request_text rt;
	struct api_request req = { .d = &fixture };

	parse_request(data, size, &rt);
	fixture_registry(fixture.registry);
	req.peer = rt.is_reader ? reader : root;
	req.method = router_method_from_string(rt.method);
	req.method_name = rt.method;
	req.path = rt.path;
	req.if_match = rt.if_match;
	req.arg_format = rt.format;
	req.arg_recursion = rt.recursion;
	req.arg_type = rt.type;
	req.arg_container = rt.container;
	serve(&req, &rt);
	json_decref(req.body);
	/* the containers first: they apply the profiles */
	empty_registry(fixture.registry);
	empty_registry(store_profiles(fixture.store));
	free(rt.head);
	return 0;
}
