/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/containers and /1.0/containers/NAME[/state]. Runs on the MHD thread.
 * Every mutation holds d->write_lock across validate-against-current, the
 * in-memory change, the container's state file and its LXC policy file, and rolls the
 * memory back when the disk write fails, so a rejected request changes
 * nothing. Logging happens after the lock is dropped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/routes_common.h"
#include "api/validate.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/store/policy.h"
#include "daemon/store/state.h"

int routes_lookup_container(const struct api_request *req, struct api_response *resp,
			    struct container **ret)
{
	struct container *c;
	int r;

	r = validate_container_name(req->params[0], &resp->err);
	if (r < 0)
		return r;
	c = registry_get(req->d->registry, req->params[0]);
	if (!c)
		return icd_error_set(&resp->err, -ENOENT, "container '%s' not found", req->params[0]);
	*ret = c;
	return 0;
}

json_t *routes_container_json(struct container *c)
{
	_cleanup_(config_unrefp) struct config *cfg = container_config_get(c);
	char etag[CONTAINER_ETAG_LEN + 1];
	json_t *config = json_object();

	container_get_etag(c, etag);
	for (size_t i = 0; config && i < CONFIG_KEY_COUNT; i++)
		if (cfg->values[i])
			json_object_set_new(config, config_keys[i].name, json_string(cfg->values[i]));
	return json_pack("{s:s, s:o, s:o, s:s}", "name", c->name, "config", config, "created_at",
			 json_time(c->created_at), "etag", etag);
}

/* Fill the success response for a container after a read or a write. */
static int reply_container(struct container *c, struct api_response *resp)
{
	container_get_etag(c, resp->etag);
	resp->metadata = routes_container_json(c);
	return resp->metadata ? 0 : -ENOMEM;
}

/*
 * RFC 9110 If-Match: absent passes, "*" passes for an existing resource, else
 * one of the listed strong tags must equal the current ETag (W/ never does).
 */
static int check_if_match(const char *if_match, const char *etag, struct icd_error *reterr)
{
	char quoted[CONTAINER_ETAG_LEN + 3];
	const char *p = if_match;

	if (!if_match)
		return 0;
	(void)snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
	while (p && *p) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if ((len == 1 && p[0] == '*') ||
		    (len == strlen(quoted) && strncmp(p, quoted, len) == 0))
			return 0;
		p = strchr(p, ',');
	}
	return icd_error_set(reterr, -ESTALE, "ETag doesn't match: If-Match '%s', current %s",
			     ESCAPED(if_match, 64), quoted);
}

static int save_failed(struct api_response *resp, int r, const char *what)
{
	errno = -r;
	return icd_error_set(&resp->err, r, "cannot write %s: %m", what);
}

int routes_containers_list(const struct api_request *req, struct api_response *resp)
{
	const char *rec = req->arg_recursion;
	struct container **list = NULL;
	size_t n = 0;
	json_t *arr;
	int r;

	if (rec && strcmp(rec, "0") != 0 && strcmp(rec, "1") != 0)
		return icd_error_set(&resp->err, -EINVAL, "invalid recursion '%s': expected 0 or 1",
				     ESCAPED(rec, 32));
	r = registry_list(req->d->registry, &list, &n);
	if (r < 0)
		return r;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char url[ROUTER_PARAM_MAX];

		(void)snprintf(url, sizeof(url), "/1.0/containers/%s", list[i]->name);
		if (json_array_append_new(arr, rec && rec[0] == '1' ? routes_container_json(list[i])
								    : json_string(url)) < 0)
			json_decref(TAKE_PTR(arr));
	}
	registry_list_free(list, n);
	resp->metadata = arr;
	return arr ? 0 : -ENOMEM;
}

int routes_containers_get(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	return reply_container(c, resp);
}

/* Write lock held: make @c durable in the registry, or leave no trace. */
static int commit_create(struct daemon *d, struct container *c, struct api_response *resp)
{
	_cleanup_(config_unrefp) struct config *cfg = container_config_get(c);
	int r;

	r = registry_add(d->registry, c);
	if (r == -EEXIST)
		return icd_error_set(&resp->err, r, "container '%s' already exists", c->name);
	if (r < 0)
		return r;
	r = state_save_container(d->state_dir_fd, c);
	if (r < 0) {
		(void)registry_remove(d->registry, c->name, NULL);
		return save_failed(resp, r, "the state file");
	}
	r = policy_write_lxc_file(d->seccomp_dir_fd, c->name, cfg);
	if (r < 0) {
		(void)registry_remove(d->registry, c->name, NULL);
		(void)state_remove_container(d->state_dir_fd, c->name);
		return save_failed(resp, r, "the LXC policy file");
	}
	return 0;
}

int routes_containers_create(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	struct config *cfg = NULL;
	const char *name;
	int r;

	r = validate_create(req->body, &name, &cfg, &resp->err);
	if (r < 0)
		return r;
	c = container_new(name, (int64_t)time(NULL), cfg); /* takes cfg */
	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&req->d->write_lock);
	r = commit_create(req->d, c, resp);
	pthread_mutex_unlock(&req->d->write_lock);
	if (r < 0) {
		if (r != -EEXIST)
			log_error("Cannot create container '%s': %s", name, resp->err.msg);
		return r;
	}
	resp->status = 201;
	(void)snprintf(resp->location, sizeof(resp->location), "/1.0/containers/%s", c->name);
	return reply_container(c, resp);
}

/* Put @old back as @c's config with its old revision and ETag. */
static void rollback_config(struct container *c, struct config *old, uint64_t revision,
			    const char *etag)
{
	container_config_swap(c, config_ref(old));
	container_set_revision(c, revision, etag);
}

/* Write lock held: validate @req's body against @c's config and apply it durably. */
static int commit_update(const struct api_request *req, struct container *c, bool is_patch,
			 struct api_response *resp)
{
	_cleanup_(config_unrefp) struct config *old = container_config_get(c), *cfg = NULL;
	char etag[CONTAINER_ETAG_LEN + 1];
	uint64_t revision;
	int r;

	if (atomic_load(&c->is_removed))
		return icd_error_set(&resp->err, -ENOENT, "container '%s' not found", c->name);
	pthread_mutex_lock(&c->lock);
	revision = c->revision;
	memcpy(etag, c->etag, sizeof(etag));
	pthread_mutex_unlock(&c->lock);
	r = check_if_match(req->if_match, etag, &resp->err);
	if (r < 0)
		return r;
	r = is_patch ? validate_patch(req->body, old, &cfg, &resp->err)
		     : validate_put(req->body, &cfg, &resp->err);
	if (r < 0)
		return r;
	container_config_swap(c, config_ref(cfg));
	r = state_save_container(req->d->state_dir_fd, c);
	if (r < 0) {
		rollback_config(c, old, revision, etag);
		return save_failed(resp, r, "the state file");
	}
	r = policy_write_lxc_file(req->d->seccomp_dir_fd, c->name, cfg);
	if (r < 0) {
		rollback_config(c, old, revision, etag);
		(void)state_save_container(req->d->state_dir_fd, c);
		return save_failed(resp, r, "the LXC policy file");
	}
	return 0;
}

static int update(const struct api_request *req, struct api_response *resp, bool is_patch)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	pthread_mutex_lock(&req->d->write_lock);
	r = commit_update(req, c, is_patch, resp);
	pthread_mutex_unlock(&req->d->write_lock);
	if (r < 0) {
		if (errors_is_internal(r))
			log_error("Cannot update container '%s': %s", c->name, resp->err.msg);
		return r;
	}
	return reply_container(c, resp);
}

int routes_containers_put(const struct api_request *req, struct api_response *resp)
{
	return update(req, resp, false);
}

int routes_containers_patch(const struct api_request *req, struct api_response *resp)
{
	return update(req, resp, true);
}

/* Write lock held: remove @c durably and drop its policy file. */
static int commit_delete(const struct api_request *req, struct container *c,
			 struct api_response *resp)
{
	char etag[CONTAINER_ETAG_LEN + 1];
	int r;

	if (atomic_load(&c->is_removed))
		return icd_error_set(&resp->err, -ENOENT, "container '%s' not found", c->name);
	container_get_etag(c, etag);
	r = check_if_match(req->if_match, etag, &resp->err);
	if (r < 0)
		return r;
	r = registry_remove(req->d->registry, c->name, NULL);
	if (r < 0)
		return icd_error_set(&resp->err, r, "container '%s' not found", c->name);
	r = state_remove_container(req->d->state_dir_fd, c->name);
	if (r < 0) {
		atomic_store(&c->is_removed, false);
		(void)registry_add(req->d->registry, c);
		/* the unlink may have happened before the failing fsync: put the file back */
		(void)state_save_container(req->d->state_dir_fd, c);
		return save_failed(resp, r, "the state file");
	}
	if (unlinkat(req->d->seccomp_dir_fd, c->name, 0) < 0 && errno != ENOENT)
		return 1; /* removed; the stale policy file is reported by the caller */
	return 0;
}

int routes_containers_delete(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	pthread_mutex_lock(&req->d->write_lock);
	r = commit_delete(req, c, resp);
	pthread_mutex_unlock(&req->d->write_lock);
	if (r < 0) {
		if (errors_is_internal(r))
			log_error("Cannot delete container '%s': %s", c->name, resp->err.msg);
		return r;
	}
	if (r > 0)
		log_warning("Cannot remove the policy file of '%s', ignoring", c->name);
	resp->metadata = json_object();
	return resp->metadata ? 0 : -ENOMEM;
}

static json_t *counters_json(const struct container_metrics *m)
{
	json_t *o = json_object();

	for (size_t s = 0; o && s < METRICS_SYSCALL_COUNT; s++) {
		json_t *one = json_object();

		for (size_t k = 0; one && k < METRICS_OUTCOME_COUNT; k++)
			json_object_set_new(one, metrics_outcome_name(k),
					    json_integer((json_int_t)atomic_load_explicit(
						    &m->syscalls[s].outcomes[k], memory_order_relaxed)));
		json_object_set_new(o, metrics_syscall_name(s), one);
	}
	return o;
}

/* Listeners as JSON, under the container lock; *ret_missing gets untrapped keys. */
static json_t *listeners_json(struct container *c, unsigned trapped, unsigned *ret_missing)
{
	json_t *arr = json_array();
	unsigned missing = 0;

	pthread_mutex_lock(&c->lock);
	for (const struct listener *l = c->listeners; arr && l; l = l->next) {
		missing |= trapped & ~l->trapped_keys;
		json_array_append_new(arr, json_pack("{s:s, s:i, s:o}", "source",
						     listener_source_name(l->source),
						     "pid", (int)l->pid, "attached_at",
						     json_time(l->attached_at)));
	}
	pthread_mutex_unlock(&c->lock);
	*ret_missing = missing;
	return arr;
}

int routes_containers_state(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	json_t *listeners, *restart;
	unsigned missing = 0;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	cfg = container_config_get(c);
	listeners = listeners_json(c, config_trapped_keys(cfg), &missing);
	restart = json_array();
	for (size_t i = 0; restart && i < CONFIG_KEY_COUNT; i++)
		if (missing & (1u << i))
			json_array_append_new(restart, json_string(config_keys[i].name));
	resp->metadata = json_pack("{s:o, s:o, s:o}", "listeners", listeners, "counters",
				   counters_json(&c->metrics), "restart_required", restart);
	return resp->metadata ? 0 : -ENOMEM;
}
