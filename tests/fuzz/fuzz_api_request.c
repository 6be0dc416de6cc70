/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: one whole API request after libmicrohttpd has decoded it.
 * The method and path go through router_match() (404, 405 and its Allow
 * header), the body through json_body_parse(), and the matched route handler
 * runs for real with its query arguments (?format=, ?recursion=) and If-Match
 * header, against a registry of two containers whose state and LXC policy
 * files live in a scratch directory on tmpfs. A write's change goes through
 * the real store (store_apply(): its writer thread, validation against the
 * registry, the files, publishing) before the route's finish function renders
 * it. The answer is rendered the way api/server.c renders it.
 *
 * The input reads like the request it stands for:
 *
 *   PATCH /1.0/containers/c1
 *   If-Match: "0123456789abcdef"
 *   format=oci
 *   recursion=1
 *
 *   {"config": {...}}
 *
 * The first line is the method and the path (everything after the first
 * space); the optional lines set the header and the query arguments; the body
 * is everything after the first empty line.
 *
 * Beyond "no crash, no leak": hostile input never gets a 5xx; every answer
 * renders (envelope, or text for metrics and LXC lines); 405 lists methods
 * that exist, never the one refused.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/router.h"
#include "daemon/log.h"
#include "daemon/store/store.h"
#include "tests/fuzz/fuzz.h"

struct request_text {
	char *head; /* owned: the lines before the body */
	const char *method, *path, *if_match, *format, *recursion;
	const char *body;
	size_t body_len;
};

static struct daemon fixture = {
	.opts = { .api_socket = "/run/interceptd/api.sock", .lxc_socket = "/run/interceptd/lxc.sock",
		  .oci_socket = "/run/interceptd/oci.sock" },
};
static int containers_fd, seccomp_fd;

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
	fixture.registry = registry_new();
	FUZZ_CHECK(fixture.registry, "out of memory");
	FUZZ_CHECK(store_open(fixture.opts.state_dir, fixture.registry, &fixture.store, &err) == 0,
		   "cannot open the store: %s", err.msg);
	return 0;
}

static void add_container(struct registry *reg, const char *name, const char *const values[])
{
	struct config *cfg = NULL;
	struct container *c;

	FUZZ_CHECK(config_new(values, &cfg, NULL) == 0, "fixture config of '%s'", name);
	c = container_new(name, 1700000000, cfg);
	FUZZ_CHECK(c && registry_add(reg, c) == 0, "cannot register '%s'", name);
	container_unref(c);
}

/* The same two containers for each input, so one request cannot change what the next one sees. */
static void fixture_registry(struct registry *reg)
{
	const char *c1[CONFIG_KEY_COUNT] = { [CONFIG_SYSINFO] = "true", [CONFIG_MKNOD] = "true" };
	const char *web[CONFIG_KEY_COUNT] = { [CONFIG_MOUNT] = "true",
					      [CONFIG_MOUNT_ALLOWED] = "ext4",
					      [CONFIG_MOUNT_FUSE] = "fuse.sshfs=sshfs" };

	add_container(reg, "c1", c1);
	add_container(reg, "web-2", web);
}

/* Unregister whatever the input left (the store holds on to the registry itself). */
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
	check_answer(req, &resp, r);
	if (route->is_write) {
		fuzz_empty_dir(containers_fd);
		fuzz_empty_dir(seccomp_fd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_text rt;
	struct api_request req = { .d = &fixture, .peer = { .uid = 0, .is_admin = true } };

	parse_request(data, size, &rt);
	fixture_registry(fixture.registry);
	req.method = router_method_from_string(rt.method);
	req.method_name = rt.method;
	req.path = rt.path;
	req.if_match = rt.if_match;
	req.arg_format = rt.format;
	req.arg_recursion = rt.recursion;
	serve(&req, &rt);
	json_decref(req.body);
	empty_registry(fixture.registry);
	free(rt.head);
	return 0;
}
