/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "api/router.h"

/*
 * Helpers shared by the container, profile and policy routes
 * (api/routes_containers.c).
 * Look up the entry of @reg named by the first path parameter: -EINVAL for an
 * invalid name, -ENOENT when @reg has none ("@what 'NAME' not found"), both
 * with a message in @resp. On success *ret holds a new reference.
 */
int routes_lookup(const struct api_request *req, struct api_response *resp, struct registry *reg,
		  const char *what, struct container **ret);

/* routes_lookup() in the registry of containers. */
int routes_lookup_container(const struct api_request *req, struct api_response *resp,
			    struct container **ret);

/*
 * Check ?recursion=: absent, 0 or 1, else -EINVAL with a message. *ret_is_full
 * (may be NULL) tells whether it is 1.
 */
int routes_recursion(const struct api_request *req, struct api_response *resp, bool *ret_is_full);

/*
 * GET of the collection /1.0/@collection held in @reg: the entries' URLs,
 * or with ?recursion=1 each entry as @entry_json renders it (NULL on ENOMEM).
 * -EINVAL with a message for another recursion.
 */
int routes_list(const struct api_request *req, struct api_response *resp, struct registry *reg,
		const char *collection,
		json_t *(*entry_json)(const struct api_request *req, struct container *c));

/* The container object of @c as published now (see openapi.yaml); NULL on ENOMEM. */
json_t *routes_container_json(struct container *c);

/* {key: value} of the keys @cfg sets; NULL on ENOMEM. */
json_t *routes_config_json(const struct config *cfg);

/*
 * GET .../seccomp?format=lxc|oci for a container or profile: the LXC lines
 * (policy file @policy, the proxy socket, cookie @listener_name) or the OCI
 * linux.seccomp object of @cfg (listenerMetadata @listener_name).
 */
int routes_render_policy(const struct api_request *req, struct api_response *resp,
			 const struct config *cfg, const char *policy, const char *listener_name);

/*
 * POST .../seccomp?format=oci[&trap_denied=true|false] for a container or
 * profile: the linux.seccomp object in the body with @cfg's rules merged in
 * (listenerMetadata @listener_name), and the merge's warnings.
 */
int routes_merge_policy(const struct api_request *req, struct api_response *resp,
			const struct config *cfg, const char *listener_name);
