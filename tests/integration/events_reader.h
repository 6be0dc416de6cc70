/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * GET /1.0/events read with libcurl, as a client would (curl -N): a multi
 * handle per stream, pumped only while a test waits on it, so a stream can
 * stay open while the test does other requests. Plain asserting helpers.
 */
struct event_stream {
	CURLM *multi;
	CURL *easy;
	char *data; /* the body received and not yet handed out as lines */
	size_t len, cap;
	bool is_done; /* the answer ended (or failed) */
	long status;
};

/* Start GET @path (e.g. "/1.0/events?type=audit") on @socket_path and wait for its headers. */
void event_stream_open(struct event_stream *s, const char *socket_path, const char *path);

/* The next event (a new reference), skipping keep-alives; NULL at the end or after @timeout_ms. */
json_t *event_stream_next(struct event_stream *s, int timeout_ms);

/*
 * The next event of @type with action @action (others are skipped, and
 * counted in *ret_skipped if not NULL); NULL when none came within @timeout_ms.
 */
json_t *event_stream_expect(struct event_stream *s, const char *type, const char *action,
			    int timeout_ms, size_t *ret_skipped);

/* true when the answer ends within @timeout_ms (whatever is left unread is dropped). */
bool event_stream_wait_end(struct event_stream *s, int timeout_ms);

/* The body as received so far (error answers: the envelope), NUL-terminated. */
const char *event_stream_body(struct event_stream *s, int timeout_ms);

void event_stream_close(struct event_stream *s);

/* metadata.KEY of @ev as a string, or NULL. */
const char *event_meta_str(const json_t *ev, const char *key);
