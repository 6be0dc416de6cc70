/* SPDX-License-Identifier: Apache-2.0 */
/* jansson helpers for request bodies and responses; stateless, any thread. */
#include <time.h>

#include "api/json.h"

int json_body_parse(const char *buf, size_t len, json_t **ret, struct icd_error *reterr)
{
	json_error_t jerr;
	json_t *j;

	if (len > JSON_BODY_MAX)
		return icd_error_set(reterr, -EMSGSIZE, "request body larger than %zu bytes",
				     JSON_BODY_MAX);
	if (!buf || len == 0)
		return icd_error_set(reterr, -EINVAL, "request body is empty, expected a JSON object");
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return icd_error_set(reterr, -EINVAL, "malformed JSON at line %d, column %d: %s",
				     jerr.line, jerr.column, jerr.text);
	if (!json_is_object(j)) {
		int r = icd_error_set(reterr, -EINVAL, "request body must be a JSON object, not %s",
				      json_type_name(j));

		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

const char *json_type_name(const json_t *j)
{
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

json_t *json_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return json_string("1970-01-01T00:00:00Z");
	return json_string(buf);
}
