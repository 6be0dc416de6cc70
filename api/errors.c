/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's only errno → HTTP mapping and the response envelope shared by
 * every route (docs/design.md, "Contracts"). Stateless; called from the MHD
 * thread.
 */
#include <errno.h>
#include <string.h>

#include "api/errors.h"
#include "daemon/error.h"
#include "daemon/escape.h"

/* An escaped message: every byte of struct icd_error.msg may become 4. */
#define ERRORS_MSG_MAX (ESCAPE_BYTE_LEN * sizeof(((struct icd_error *)0)->msg))

unsigned errors_http_status(int r)
{
	switch (r < 0 ? -r : r) {
	case ENOENT: return 404;
	case EEXIST:
	case EBUSY: return 409;
	case EINVAL:
	case E2BIG:
	case ERANGE: return 400;
	case EPERM:
	case EACCES: return 403;
	case EOPNOTSUPP: return 405;
	case ESTALE: return 412;
	case EMSGSIZE: return 413;
	case ENOMEM:
	case EAGAIN: return 503;
	default: return 500;
	}
}

const char *errors_http_reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 403: return "not authorized";
	case 404: return "not found";
	case 405: return "method not allowed";
	case 409: return "already exists";
	case 412: return "precondition failed";
	case 413: return "request body too large";
	case 503: return "unavailable";
	default: return "internal error";
	}
}

json_t *errors_envelope_sync(json_t *metadata)
{
	if (!metadata)
		metadata = json_object();
	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:o}", "type", "sync", "status", "Success",
			 "status_code", 200, "operation", "", "error_code", 0, "error", "",
			 "metadata", metadata);
}

json_t *errors_envelope_error(unsigned status, const char *msg)
{
	char safe[ERRORS_MSG_MAX];

	if (!msg || !msg[0])
		msg = errors_http_reason(status);
	/*
	 * Messages quote request bytes (a URL, a header, a JSON key). The sites
	 * escape what they quote; this catches any that does not, since jansson
	 * refuses invalid UTF-8 and the client would get a 503 for its bad input.
	 */
	if (!escape_is_clean(msg, strlen(msg))) {
		(void)escape_text(safe, sizeof(safe), msg, strlen(msg));
		msg = safe;
	}
	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:s, s:n}", "type", "error", "status", "",
			 "status_code", 0, "operation", "", "error_code", (int)status, "error", msg,
			 "metadata");
}

bool errors_is_internal(int r)
{
	return errors_http_status(r) >= 500;
}
