/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl profile assign CONTAINER [PROFILE...]: set the profiles a
 * container applies, in order (none: it applies none). One PATCH of
 * "profiles"; the container's own keys stay. The other profile commands
 * are the container commands run on /1.0/profiles (main.c).
 */
#include <stdio.h>

#include "api/cli/client.h"
#include "api/cli/output.h"

int cmd_profile_assign(const struct cli *c)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	_cleanup_free_ char *path = client_container_path(c->args[0], "");
	json_auto_t *body = NULL;
	json_t *list = json_array(), *meta;
	int r;

	for (size_t i = 1; list && i < c->n_args; i++)
		if (json_array_append_new(list, json_string(c->args[i])) < 0)
			json_decref(TAKE_PTR(list));
	body = list ? json_pack("{s:o}", "profiles", list) : NULL;
	if (!path || !body)
		return -ENOMEM;
	r = client_call(c, "PATCH", path, body, NULL, &rep, &meta);
	if (r < 0)
		return r;
	return c->format == FORMAT_TABLE ? 0 : output_document(stdout, c->format, meta);
}
