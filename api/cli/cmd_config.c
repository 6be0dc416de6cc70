/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl set and unset: read the container (GET, with its ETag), change
 * its config here, and write the whole config back (PUT with If-Match). When
 * another client changed the container in between, the daemon answers 412:
 * the change is read and applied again once, then given up with the reason.
 * A successful command changed exactly the keys named, nothing else (a
 * container's profile list goes back as it was read).
 */
#include <stdio.h>
#include <string.h>

#include "api/cli/client.h"
#include "api/cli/keys.h"
#include "api/cli/output.h"

/* Apply the command's change to @config (a copy of the current one); < 0 after printing why. */
typedef int apply_fn(const struct cli *c, json_t *config);

static int apply_set(const struct cli *c, json_t *config)
{
	for (size_t i = 1; i < c->n_args; i++) {
		_cleanup_free_ char *key = NULL;
		const char *value;
		int r = keys_parse_assignment(c->args[i], &key, &value);

		if (r < 0)
			return r;
		/* as with PATCH, an empty value removes the key */
		r = *value ? json_object_set_new(config, key, json_string(value))
			   : json_object_del(config, key);
		if (r < 0 && *value)
			return -ENOMEM;
	}
	return 0;
}

static int apply_unset(const struct cli *c, json_t *config)
{
	for (size_t i = 1; i < c->n_args; i++) {
		_cleanup_free_ char *key = keys_expand(c->args[i]);

		if (!key)
			return -ENOMEM;
		if (json_object_del(config, key) < 0) {
			_cleanup_free_ char *shown = output_escape(key);

			fprintf(stderr, "Error: '%s' is not set on '%s'; nothing was changed\n",
				strempty(shown), c->args[0]);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * One read-modify-write. Returns 0 (*ret_reply: the PUT's answer, any
 * status), or < 0 after printing why.
 */
static int try_update(const struct cli *c, const char *path, apply_fn *apply,
		      struct client_reply **ret_reply)
{
	_cleanup_(client_reply_freep) struct client_reply *got = NULL;
	json_auto_t *config = NULL, *body = NULL;
	json_t *meta;
	int r;

	r = client_call(c, "GET", path, NULL, NULL, &got, &meta);
	if (r < 0)
		return r;
	config = json_deep_copy(json_object_get(meta, "config"));
	if (!json_is_object(config) || !got->etag) {
		fprintf(stderr, "Error: the daemon sent no config or no ETag for '%s'\n",
			c->args[0]);
		return -EPROTO;
	}
	r = apply(c, config);
	if (r < 0)
		return r;
	body = json_pack("{s:O}", "config", config);
	/* a PUT replaces the profile list too: send back the one read, or it would be dropped */
	if (body && json_is_array(json_object_get(meta, "profiles")) &&
	    json_object_set(body, "profiles", json_object_get(meta, "profiles")) < 0)
		json_decref(TAKE_PTR(body));
	if (!body)
		return -ENOMEM;
	return client_request(c, "PUT", path, body, got->etag, ret_reply);
}

static int update(const struct cli *c, apply_fn *apply)
{
	_cleanup_free_ char *path = client_object_path(c, c->args[0], "");
	int r;

	if (!path)
		return -ENOMEM;
	for (int attempt = 1;; attempt++) {
		_cleanup_(client_reply_freep) struct client_reply *rep = NULL;

		r = try_update(c, path, apply, &rep);
		if (r < 0)
			return r;
		if (client_ok(rep))
			return c->format == FORMAT_TABLE
				       ? 0
				       : output_document(stdout, c->format,
							 json_object_get(rep->body, "metadata"));
		if (rep->status != 412)
			return client_report(rep);
		if (attempt == 2) {
			char msg[1024];

			fprintf(stderr,
				"Error: '%s' was changed by another client while this command was "
				"changing it, twice; nothing was changed (%s)\n",
				c->args[0], client_message(rep, msg, sizeof(msg)));
			return -ESTALE;
		}
	}
}

int cmd_set(const struct cli *c)
{
	return update(c, apply_set);
}

int cmd_unset(const struct cli *c)
{
	return update(c, apply_unset);
}
