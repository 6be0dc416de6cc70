/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/cli/cli.h"
#include "daemon/macro.h"

/*
 * HTTP requests to the daemon over its unix socket (libcurl), and the
 * daemon's answers: the Incus-style envelope, the ETag and Warning headers.
 * Failures are printed here, once, as "Error: ..." on stderr: the daemon's own
 * message for an error envelope, the socket and the reason when the daemon
 * cannot be reached.
 */

struct client_reply {
	long status;
	char *data; /* the body, NUL-terminated */
	size_t len;
	json_t *body;   /* the body parsed, when it is JSON; else NULL */
	char *etag;     /* the ETag header as sent (quotes included), or NULL */
	char *warnings; /* the Warning headers' values, one a line, or NULL */
};

void client_reply_free(struct client_reply *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct client_reply *, client_reply_free)

/*
 * Send @method @path (the path part of the URL, query included) with @body
 * (NULL: none) as JSON and @if_match as If-Match (NULL: none). Returns 0 when
 * the daemon answered, whatever the status (*ret then holds the reply), or a
 * negative errno after printing why it could not be reached.
 */
int client_request(const struct cli *c, const char *method, const char *path, const json_t *body,
		   const char *if_match, struct client_reply **ret);

/*
 * For a reply that is not a success: print the daemon's message (or the HTTP
 * status when the body is not an error envelope) and return a negative errno
 * for the status (-ENOENT for 404, -EINVAL for 400, -ESTALE for 412, ...).
 */
int client_report(const struct client_reply *r);

/* What went wrong in @r, for a message: the daemon's error, else the HTTP status. Returns @buf. */
const char *client_message(const struct client_reply *r, char *buf, size_t size);

/* true for a 2xx answer. */
bool client_ok(const struct client_reply *r);

/*
 * client_request() that must succeed with a JSON envelope: returns 0 and the
 * reply (its "metadata" in *ret_meta, owned by the reply), or a negative errno
 * after printing the error.
 */
int client_call(const struct cli *c, const char *method, const char *path, const json_t *body,
		const char *if_match, struct client_reply **ret, json_t **ret_meta);

/*
 * GET @path and call @on_line with each newline-terminated line of a 200
 * answer as it arrives, until the daemon ends the answer or @on_line returns
 * < 0 (that value is returned). A non-200 answer is reported like
 * client_report(). Lines longer than 1 MiB end the stream with -EMSGSIZE.
 */
int client_stream(const struct cli *c, const char *path,
		  int (*on_line)(const char *line, size_t len, void *userdata), void *userdata);

/* @s percent-encoded as one path segment or query value (RFC 3986 unreserved
 * characters kept), so a name cannot change the route. malloc'd, or NULL. */
char *client_escape(const char *s);

/* "/1.0/containers/" + NAME encoded + @suffix ("" or "/state", ...): malloc'd, or NULL. */
char *client_container_path(const char *name, const char *suffix);

/* The same under the command's collection (containers or profiles), NAME appended. */
char *client_object_path(const struct cli *c, const char *name, const char *suffix);
