/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/profiles, /1.0/profiles/NAME and /1.0/profiles/NAME/seccomp. Runs on
 * the MHD thread. Reads come from the store's published profiles; writes are
 * store changes (daemon/store/store.h) checked, written and published on the
 * profiles lane, rendered back here by their finish functions. A profile has
 * the same keys as a container and applies to every container naming it.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/errors.h"
#include "api/json.h"
#include "api/routes_common.h"
#include "api/validate.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/store/configdir.h"
#include "daemon/store/store.h"

/* Look up the profile the path names: -EINVAL, -ENOENT with a message. */
static int lookup_profile(const struct api_request *req, struct api_response *resp,
			  struct container **ret)
{
	return routes_lookup(req, resp, store_profiles(req->d->store), "profile", ret);
}

/* URLs of the containers applying profile @name, as Incus's used_by. */
static json_t *used_by_json(struct registry *reg, const char *name)
{
	struct container **list = NULL;
	json_t *arr = json_array();
	size_t n = 0;

	if (!arr || registry_list(reg, &list, &n) < 0)
		return arr;
	for (size_t i = 0; i < n; i++) {
		char url[ROUTER_PARAM_MAX + 32];

		if (!container_uses_profile(list[i], name))
			continue;
		(void)snprintf(url, sizeof(url), "/1.0/containers/%s", list[i]->name);
		json_array_append_new(arr, json_string(url));
	}
	registry_list_free(list, n);
	return arr;
}

/* {"name","config","used_by","created_at","etag","source"} */
static json_t *profile_json(const struct api_request *req, const struct container *p,
			    const struct config *cfg, const char *etag)
{
	bool is_file = configdir_declares(req->d->configdir, p->name, NULL);

	return json_pack("{s:s, s:o, s:o, s:o, s:s, s:s}", "name", p->name, "config",
			 routes_config_json(cfg), "used_by",
			 used_by_json(req->d->registry, p->name), "created_at",
			 json_time(p->created_at), "etag", etag, "source", is_file ? "file" : "api");
}

/*
 * A profile --config-dir declares is changed by changing its file: -EPERM
 * (403) naming it. The files are reconciled on the profiles lane as API
 * changes are, so a write that slips in just before a file declares the
 * profile is overwritten by the file.
 */
static int refuse_declared(const struct api_request *req, const char *name,
			   struct icd_error *reterr)
{
	char file[NAME_MAX + 1];

	if (!configdir_declares(req->d->configdir, name, file))
		return 0;
	return icd_error_set(reterr, -EPERM, "profile '%s' comes from the config directory "
			     "(file '%s' in '%s'): change the file instead", name, file,
			     configdir_path(req->d->configdir));
}

static json_t *published_profile_json(const struct api_request *req, struct container *p,
				      char etag[static CONTAINER_ETAG_LEN + 1])
{
	_cleanup_(config_unrefp) struct config *cfg = container_config_get_etag(p, etag);

	return profile_json(req, p, cfg, etag);
}

/* routes_list()'s entry */
static json_t *list_entry_json(const struct api_request *req, struct container *p)
{
	char etag[CONTAINER_ETAG_LEN + 1];

	return published_profile_json(req, p, etag);
}

int routes_profiles_list(const struct api_request *req, struct api_response *resp)
{
	return routes_list(req, resp, store_profiles(req->d->store), "profiles", list_entry_json);
}

int routes_profiles_get(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	int r = routes_recursion(req, resp, NULL);

	if (r >= 0)
		r = lookup_profile(req, resp, &p);

	if (r < 0)
		return r;
	resp->metadata = published_profile_json(req, p, resp->etag);
	return resp->metadata ? 0 : -ENOMEM;
}

/* The outcome of @resp's profile change, or its error. */
static int finish_change(const struct api_request *req, struct api_response *resp)
{
	struct store_change *ch = resp->change;

	if (ch->result < 0) {
		resp->err = ch->err;
		if (errors_is_internal(ch->result))
			log_error("Cannot change profile '%s': %s", ch->name, ch->err.msg);
		return ch->result;
	}
	if (ch->op == STORE_CREATE) {
		resp->status = 201;
		(void)snprintf(resp->location, sizeof(resp->location), "/1.0/profiles/%s",
			       ch->name);
	}
	if (!ch->published) {
		resp->metadata = json_object(); /* DELETE */
		return resp->metadata ? 0 : -ENOMEM;
	}
	memcpy(resp->etag, ch->etag, sizeof(resp->etag));
	resp->metadata = profile_json(req, ch->container, ch->published, ch->etag);
	return resp->metadata ? 0 : -ENOMEM;
}

/* A profile has no profiles: refuse the field rather than ignore it. */
static int refuse_profiles_field(const json_t *body, struct icd_error *reterr)
{
	if (json_object_get(body, "profiles"))
		return icd_error_set(reterr, -EINVAL, "unknown field 'profiles': a profile "
				     "cannot apply profiles");
	return 0;
}

int routes_profiles_create(const struct api_request *req, struct api_response *resp)
{
	struct store_change *ch;
	struct config *cfg = NULL;
	const char *name;
	int r = refuse_profiles_field(req->body, &resp->err);

	if (r >= 0)
		r = validate_create(req->body, &name, &cfg, &resp->err);
	if (r >= 0 && (r = refuse_declared(req, name, &resp->err)) < 0)
		config_unref(cfg);
	if (r < 0)
		return r;
	ch = store_change_new_profile(STORE_CREATE, name);
	if (!ch) {
		config_unref(cfg);
		return -ENOMEM;
	}
	ch->cfg = cfg;
	resp->change = ch;
	resp->finish = finish_change;
	return 0;
}

/* A change of @op on the profile the path names, with the request's If-Match. */
static int change(const struct api_request *req, struct api_response *resp, enum store_op op)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	_cleanup_(store_change_freep) struct store_change *ch = NULL;
	int r = lookup_profile(req, resp, &p);

	if (r >= 0)
		r = refuse_declared(req, p->name, &resp->err);
	if (r < 0)
		return r;
	ch = store_change_new_profile(op, p->name);
	if (!ch || (req->if_match && !(ch->if_match = strdup(req->if_match))))
		return -ENOMEM;
	if (op != STORE_DELETE)
		r = refuse_profiles_field(req->body, &resp->err);
	if (r >= 0 && op == STORE_PATCH)
		r = validate_patch(req->body, &ch->patch, &resp->err);
	else if (r >= 0 && op == STORE_REPLACE)
		r = validate_put(req->body, &ch->cfg, &resp->err);
	if (r < 0)
		return r;
	resp->change = TAKE_PTR(ch);
	resp->finish = finish_change;
	return 0;
}

int routes_profiles_put(const struct api_request *req, struct api_response *resp)
{
	return change(req, resp, STORE_REPLACE);
}

int routes_profiles_patch(const struct api_request *req, struct api_response *resp)
{
	return change(req, resp, STORE_PATCH);
}

int routes_profiles_delete(const struct api_request *req, struct api_response *resp)
{
	return change(req, resp, STORE_DELETE);
}

int routes_profiles_seccomp(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	char policy[PATH_MAX], metadata[CONTAINER_NAME_MAX + sizeof("profile=")];
	int r = lookup_profile(req, resp, &p);

	if (r < 0)
		return r;
	r = store_profile_policy_path(req->d->store, p->name, policy, sizeof(policy));
	if (r < 0)
		return icd_error_set(&resp->err, r, "the policy path of profile '%s' is too long",
				     p->name);
	/* the cookie and listenerMetadata that register a container with this profile */
	(void)snprintf(metadata, sizeof(metadata), "profile=%s", p->name);
	cfg = container_config_get(p);
	return routes_render_policy(req, resp, cfg, policy, metadata);
}

int routes_profiles_seccomp_merge(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *p = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	char metadata[CONTAINER_NAME_MAX + sizeof("profile=")];
	int r = lookup_profile(req, resp, &p);

	if (r < 0)
		return r;
	(void)snprintf(metadata, sizeof(metadata), "profile=%s", p->name);
	cfg = container_config_get(p);
	return routes_merge_policy(req, resp, cfg, metadata);
}
