/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/*
 * The single -errno → HTTP status map of the API, and the Incus-style response
 * envelope. Pure functions, callable from any thread.
 */

/*
 * HTTP status for a negative errno: ENOENT 404, EEXIST 409, EINVAL/E2BIG/ERANGE
 * 400, EPERM/EACCES 403, EOPNOTSUPP 405, ESTALE 412 (ETag mismatch), EMSGSIZE
 * 413, ENOMEM/EAGAIN 503, anything else 500.
 */
unsigned errors_http_status(int r);

/* The reason phrase used in the envelope's "status" and default messages. */
const char *errors_http_reason(unsigned status);

/*
 * A sync envelope {"type":"sync","status":"Success","status_code":200,...}.
 * Takes ownership of @metadata (NULL becomes {}). Returns a new reference or
 * NULL on ENOMEM.
 */
json_t *errors_envelope_sync(json_t *metadata);

/*
 * An error envelope with error_code = @status and error = @msg (or the reason
 * phrase when @msg is NULL or empty). Returns a new reference or NULL.
 */
json_t *errors_envelope_error(unsigned status, const char *msg);

/* true when @r maps to a 5xx status (worth an error log line). */
bool errors_is_internal(int r);
