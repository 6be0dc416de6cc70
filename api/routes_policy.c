/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /1.0/containers/NAME/seccomp?format=lxc|oci: what a runtime needs to
 * route the container's notifications here. Read-only; MHD thread; takes the
 * container lock only through container_config_get().
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/routes_common.h"
#include "daemon/escape.h"
#include "daemon/policy.h"

static int render_lxc(const struct api_request *req, struct container *c,
		      struct api_response *resp)
{
	const struct daemon_options *o = &req->d->opts;
	_cleanup_free_ char *state_dir = realpath(o->state_dir, NULL);
	char *text = NULL;

	if (asprintf(&text,
		     "lxc.seccomp.profile = %s/seccomp/%s\n"
		     "lxc.seccomp.notify.proxy = unix:%s\n"
		     "lxc.seccomp.notify.cookie = %s\n",
		     state_dir ? state_dir : o->state_dir, c->name, o->lxc_socket, c->name) < 0)
		return -ENOMEM;
	resp->text = text;
	resp->content_type = "text/plain; charset=utf-8";
	return 0;
}

int routes_policy_seccomp(const struct api_request *req, struct api_response *resp)
{
	_cleanup_(container_unrefp) struct container *c = NULL;
	_cleanup_(config_unrefp) struct config *cfg = NULL;
	const char *format = req->arg_format;
	int r;

	r = routes_lookup_container(req, resp, &c);
	if (r < 0)
		return r;
	if (!format)
		return icd_error_set(&resp->err, -EINVAL,
				     "missing query parameter 'format': expected lxc or oci");
	if (strcmp(format, "lxc") == 0)
		return render_lxc(req, c, resp);
	if (strcmp(format, "oci") != 0)
		return icd_error_set(&resp->err, -EINVAL, "unknown format '%s': expected lxc or oci",
				     ESCAPED(format, 32));
	cfg = container_config_get(c);
	resp->metadata = policy_render_oci(cfg, req->d->opts.oci_socket, c->name);
	return resp->metadata ? 0 : -ENOMEM;
}
