/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/containers and /1.0/containers/NAME[/state]. Runs on the MHD thread.
 * Reads come from the published registry. A write is checked as far as the
 * request alone allows (name, body, values), turned into a store change that
 * the store validates against what is published, writes and then publishes
 * on a writer thread (daemon/store/store.h); its finish function renders the
 * outcome back on the MHD thread. Nothing here changes the registry or
 * touches the disk.
 */
#include <stdio.h>
#include <string.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/routes_common.h"
#include "api/validate.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/store/store.h"
#include "daemon/strv.h"

int routes_lookup(const struct api_request *req, struct api_response *resp, struct registry *reg,
		  const char *what, struct container **ret)
{
	struct container *c;
	int r;

	r = validate_container_name(req->params[0], &resp->err);
	if (r < 0)
		return r;
	c = registry_get(reg, req->params[0]);
	if (!c)
		return icd_error_set(&resp->err, -ENOENT, "%s '%s' not found", what, req->params[0]);
	*ret = c;
	return 0;
}

int routes_lookup_container(const struct api_request *req, struct api_response *resp,
			    struct container **ret)
{
	return routes_lookup(req, resp, req->d->registry, "container", ret);
}

int routes_recursion(const struct api_request *req, struct api_response *resp, bool *ret_is_full)
{
	const char *rec = req->arg_recursion;

	if (rec && strcmp(rec, "0") != 0 && strcmp(rec, "1") != 0)
		return icd_error_set(&resp->err, -EINVAL, "invalid recursion '%s': expected 0 or 1",
				     ESCAPED(rec, 32));
	if (ret_is_full)
		*ret_is_full = rec && strcmp(rec, "1") == 0;
	return 0;
}

int routes_list(const struct api_request *req, struct api_response *resp, struct registry *reg,
		const char *collection,
		json_t *(*entry_json)(const struct api_request *req, struct container *c))
{
	struct container **list = NULL;
	bool is_full = false;
	size_t n = 0;
	json_t *arr;
	int r;

	r = routes_recursion(req, resp, &is_full);
	if (r < 0)
		return r;
	r = registry_list(reg, &list, &n);
	if (r < 0)
		return r;
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		char url[ROUTER_PARAM_MAX + 32];

		(void)snprintf(url, sizeof(url), "/1.0/%s/%s", collection, list[i]->name);
		if (json_array_append_new(arr, is_full ? entry_json(req, list[i]) : json_string(url)) < 0)
			json_decref(TAKE_PTR(arr));
	}
	registry_list_free(list, n);
	resp->metadata = arr;
	return arr ? 0 : -ENOMEM;
}

json_t *routes_config_json(const struct config *cfg)
{
	json_t *config = json_object();

	for (size_t i = 0; config && i < CONFIG_KEY_COUNT; i++)
		if (cfg->values[i])
			json_object_set_new(config, config_keys[i].name, json_string(cfg->values[i]));
	return config;
}

static json_t *strv_json(char *const *v)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && v && v[i]; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

/* The Kubernetes names an ephemeral container registered with, where known. */
static json_t *k8s_json(const struct container *c)
{
	const struct container_k8s *k8s = container_k8s(c);

	if (!k8s)
		return json_null();
	return json_pack("{s:s, s:s, s:s}", "namespace", k8s->namespace, "pod", k8s->pod,
			 "container", k8s->container);
}

/*
 * A container: its own @own keys, @profiles, the @expanded configuration
 * workers act on, and @etag. {"name","config","profiles","expanded_config",
 * "ephemeral","kubernetes","created_at","etag"}.
 */
static json_t *container_json(const struct container *c, const struct config *own,
			      char *const *profiles, const struct config *expanded,
			      const char *etag)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:s}", "name", c->name, "config",
			 routes_config_json(own), "profiles", strv_json(profiles),
			 "expanded_config", routes_config_json(expanded), "ephemeral",
			 container_is_ephemeral(c), "kubernetes", k8s_json(c), "created_at",
			 json_time(c->created_at), "etag", etag);
}

/* @c as published now, its ETag into @etag. */
static json_t *published_json(struct container *c, char etag[static CONTAINER_ETAG_LEN + 1])
{
	_cleanup_strv_free_ char **profiles = NULL;
	_cleanup_(config_unrefp) struct config *own = container_spec_get(c, &profiles, etag);
	_cleanup_(config_unrefp) struct config *expanded = container_config_get(c);

	/* a profile change between the two reads shows the newer expansion: harmless */
	return own ? container_json(c, own, profiles, expanded, etag) : NULL;
}

json_t *routes_container_json(struct container *c)
{
	char etag[CONTAINER_ETAG_LEN + 1];

	return published_json(c, etag);
}

/* Fill the success response for a container as it is published now. */
static int reply_container(struct container *c, struct api_response *resp)
{
	resp->metadata = published_json(c, resp->etag);
	return resp->metadata ? 0 : -ENOMEM;
}

/* The outcome of @resp's change: as it was published by this change, or its error. */
static int reply_change(struct api_response *resp, const char *what)
{
	struct store_change *ch = resp->change;

	if (ch->result < 0) {
		resp->err = ch->err;
		if (errors_is_internal(ch->result))
			log_error("Cannot %s container '%s': %s", what, ch->name, ch->err.msg);
		return ch->result;
	}
	if (!ch->published)
		return 0;
	memcpy(resp->etag, ch->etag, sizeof(resp->etag));
	resp->metadata = container_json(ch->container, ch->published, ch->published_profiles,
					ch->expanded, ch->etag);
	return resp->metadata ? 0 : -ENOMEM;
}

/* Leave @ch for the store; @finish answers once it is done. */
static int submit(struct api_response *resp, struct store_change *ch,
		  int (*finish)(const struct api_request *, struct api_response *))
{
	resp->change = ch;
	resp->finish = finish;
	return 0;
}

/* A change of @op on the container the path names, with the request's If-Match. */
static int change_for(const struct api_request *req, struct api_response *resp,
		      enum store_op op, struct store_change **ret)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(store_change_freep) struct store_change *ch = NULL;
	int r;

	/* an early 404 from what is published; the store checks again in turn */
	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	ch = store_change_new(op, c->name);
	if (!ch || (req->if_match && !(ch->if_match = strdup(req->if_match))))
		return -ENOMEM;
	*ret = TAKE_PTR(ch);
	return 0;
}

/* routes_list()'s entry: @req is not needed */
static json_t *list_entry_json(const struct api_request *req, struct container *c)
{
	(void)req;
	return routes_container_json(c);
}

int routes_containers_list(const struct api_request *req, struct api_response *resp)
{
	return routes_list(req, resp, req->d->registry, "containers", list_entry_json);
}

int routes_containers_get(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	int r;

	/* 0 and 1 give the same object (expanded_config is always there), as in Incus */
	r = routes_recursion(req, resp, NULL);
	if (r >= 0)
		r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	return reply_container(c, resp);
}

static int finish_create(const struct api_request *req, struct api_response *resp)
{
	int r = reply_change(resp, "create");

	(void)req;
	if (r < 0)
		return r;
	resp->status = 201;
	(void)snprintf(resp->location, sizeof(resp->location), "/1.0/containers/%s",
		       resp->change->name);
	return 0;
}

int routes_containers_create(const struct api_request *req, struct api_response *resp)
{
	struct store_change *ch;
	struct config *cfg = NULL;
	const char *name;
	int r;

	r = validate_create(req->body, &name, &cfg, &resp->err);
	if (r < 0)
		return r;
	ch = store_change_new(STORE_CREATE, name);
	if (!ch) {
		config_unref(cfg);
		return -ENOMEM;
	}
	ch->cfg = cfg;
	r = validate_profile_list(req->body, &ch->has_profiles, &ch->profiles, &resp->err);
	if (r < 0) {
		store_change_free(ch);
		return r;
	}
	return submit(resp, ch, finish_create);
}

static int finish_update(const struct api_request *req, struct api_response *resp)
{
	(void)req;
	return reply_change(resp, "update");
}

static int update(const struct api_request *req, struct api_response *resp, enum store_op op)
{
	_cleanup_(store_change_freep) struct store_change *ch = NULL;
	int r;

	r = change_for(req, resp, op, &ch);
	if (r < 0)
		return r;
	if (op == STORE_PATCH)
		r = validate_patch(req->body, &ch->patch, &resp->err);
	else
		r = validate_put(req->body, &ch->cfg, &resp->err);
	if (r >= 0)
		r = validate_profile_list(req->body, &ch->has_profiles, &ch->profiles, &resp->err);
	if (r < 0)
		return r;
	return submit(resp, TAKE_PTR(ch), finish_update);
}

int routes_containers_put(const struct api_request *req, struct api_response *resp)
{
	return update(req, resp, STORE_REPLACE);
}

int routes_containers_patch(const struct api_request *req, struct api_response *resp)
{
	return update(req, resp, STORE_PATCH);
}

static int finish_delete(const struct api_request *req, struct api_response *resp)
{
	int r = reply_change(resp, "delete");

	(void)req;
	if (r < 0)
		return r;
	if (resp->change->has_stale_policy)
		log_warning("Cannot remove the policy file of '%s', ignoring", resp->change->name);
	resp->metadata = json_object();
	return resp->metadata ? 0 : -ENOMEM;
}

int routes_containers_delete(const struct api_request *req, struct api_response *resp)
{
	struct store_change *ch = NULL;
	int r;

	r = change_for(req, resp, STORE_DELETE, &ch);
	if (r < 0)
		return r;
	return submit(resp, ch, finish_delete);
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
