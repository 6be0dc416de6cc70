/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /1.0/containers/NAME/seccomp: what a runtime needs to route the container's
 * notifications here. GET ?format=lxc|oci generates the policy; POST
 * ?format=oci[&trap_denied=true] merges the rules into the linux.seccomp
 * object in the body (the profiles' routes use the same two renderings).
 * Neither changes anything; MHD thread; takes the container lock only through
 * container_config_get().
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/routes_common.h"
#include "daemon/escape.h"
#include "daemon/store/policy.h"
#include "daemon/store/store.h"

static int render_lxc(const struct api_request *req, const char *policy, const char *cookie,
		      struct api_response *resp)
{
	char *text = NULL;

	if (asprintf(&text,
		     "lxc.seccomp.profile = %s\n"
		     "lxc.seccomp.notify.proxy = unix:%s\n"
		     "lxc.seccomp.notify.cookie = %s\n",
		     policy, req->d->opts.lxc_socket, cookie) < 0)
		return -ENOMEM;
	resp->text = text;
	resp->content_type = "text/plain; charset=utf-8";
	return 0;
}

int routes_render_policy(const struct api_request *req, struct api_response *resp,
			 const struct config *cfg, const char *policy, const char *listener_name)
{
	const char *format = req->arg_format;

	if (!format)
		return icd_error_set(&resp->err, -EINVAL,
				     "missing query parameter 'format': expected lxc or oci");
	if (strcmp(format, "lxc") == 0)
		return render_lxc(req, policy, listener_name, resp);
	if (strcmp(format, "oci") != 0)
		return icd_error_set(&resp->err, -EINVAL, "unknown format '%s': expected lxc or oci",
				     ESCAPED(format, 32));
	resp->metadata = policy_render_oci(cfg, req->d->opts.oci_socket, listener_name);
	return resp->metadata ? 0 : -ENOMEM;
}

/* ?trap_denied: true traps the calls the base profile denies too; false, or absent, keeps them. */
static int merge_flags(const struct api_request *req, struct api_response *resp,
		       unsigned *ret_flags)
{
	const char *v = req->arg_trap_denied;

	if (!v || strcmp(v, "false") == 0)
		*ret_flags = 0;
	else if (strcmp(v, "true") == 0)
		*ret_flags = POLICY_MERGE_TRAP_DENIED;
	else
		return icd_error_set(&resp->err, -EINVAL,
				     "invalid trap_denied '%s': expected true or false",
				     ESCAPED(v, 32));
	return 0;
}

int routes_merge_policy(const struct api_request *req, struct api_response *resp,
			const struct config *cfg, const char *listener_name)
{
	struct policy_warnings warnings = { 0 };
	const char *format = req->arg_format;
	unsigned flags = 0;
	int r;

	if (!format || strcmp(format, "oci") != 0)
		return icd_error_set(&resp->err, -EINVAL,
				     "POST merges into an OCI linux.seccomp object: use format=oci, "
				     "not '%s'",
				     ESCAPED(format, 32));
	r = merge_flags(req, resp, &flags);
	if (r < 0)
		return r;
	r = policy_merge_oci(req->body, cfg, req->d->opts.oci_socket, listener_name, flags,
			     &resp->metadata, &warnings, &resp->err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < warnings.n && i < ARRAY_SIZE(resp->warnings); i++)
		(void)snprintf(resp->warnings[resp->n_warnings++], sizeof(resp->warnings[0]), "%s",
			       warnings.msg[i]);
	return 0;
}

int routes_policy_seccomp_merge(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	cfg = container_config_get(c);
	return routes_merge_policy(req, resp, cfg, c->name);
}

int routes_policy_seccomp(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	char policy[PATH_MAX];
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	r = store_policy_path(req->d->store, c->name, policy, sizeof(policy));
	if (r < 0)
		return icd_error_set(&resp->err, r, "the policy path of '%s' is too long", c->name);
	cfg = container_config_get(c);
	return routes_render_policy(req, resp, cfg, policy, c->name);
}
