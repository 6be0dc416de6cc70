/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A libcurl reader of GET /1.0/events for the integration tests (see
 * events_reader.h). One thread; a stream is pumped only from its own calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "events_reader.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
	struct event_stream *s = userdata;
	size_t len = size * n;

	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->data = realloc(s->data, s->cap);
		assert_non_null(s->data);
	}
	memcpy(s->data + s->len, p, len);
	s->len += len;
	s->data[s->len] = '\0';
	return len;
}

/* Let libcurl work for at most @ms (less when something arrived). */
static void pump(struct event_stream *s, int ms)
{
	int running = 0, n_msgs;
	CURLMsg *m;

	(void)curl_multi_poll(s->multi, NULL, 0, ms, NULL);
	(void)curl_multi_perform(s->multi, &running);
	while ((m = curl_multi_info_read(s->multi, &n_msgs)))
		if (m->msg == CURLMSG_DONE)
			s->is_done = true;
	if (!s->status)
		(void)curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
}

void event_stream_open(struct event_stream *s, const char *socket_path, const char *path)
{
	char url[512];
	uint64_t deadline = now_ms() + 5000;

	*s = (struct event_stream){ .multi = curl_multi_init(), .easy = curl_easy_init() };
	assert_non_null(s->multi);
	assert_non_null(s->easy);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_multi_add_handle(s->multi, s->easy);
	while (!s->status && !s->is_done && now_ms() < deadline)
		pump(s, 50);
	assert_true(s->status != 0);
}

/* Take the first complete line out of the buffer into @line (malloc'd); false when none. */
static bool take_line(struct event_stream *s, char **ret_line)
{
	char *nl = s->data ? memchr(s->data, '\n', s->len) : NULL;
	size_t len;

	if (!nl)
		return false;
	len = (size_t)(nl - s->data);
	*ret_line = strndup(s->data, len);
	memmove(s->data, nl + 1, s->len - len - 1);
	s->len -= len + 1;
	s->data[s->len] = '\0';
	return true;
}

json_t *event_stream_next(struct event_stream *s, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	bool has_pumped = false;

	for (;;) {
		char *line = NULL;
		uint64_t now;

		if (take_line(s, &line)) {
			json_t *ev = line[0] ? json_loads(line, 0, NULL) : NULL;

			if (line[0] && !json_is_object(ev))
				fail_msg("not an event: '%.300s'", line);
			free(line);
			if (ev)
				return ev;
			continue; /* a keep-alive */
		}
		now = now_ms();
		if (s->is_done || (has_pumped && now >= deadline))
			return NULL;
		/* at least once, even with no time left: what has arrived is read */
		pump(s, now >= deadline ? 0 : (int)(deadline - now < 50 ? deadline - now : 50));
		has_pumped = true;
	}
}

const char *event_meta_str(const json_t *ev, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, "metadata"), key));
}

json_t *event_stream_expect(struct event_stream *s, const char *type, const char *action,
			    int timeout_ms, size_t *ret_skipped)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	json_t *ev;

	while (now_ms() < deadline) {
		ev = event_stream_next(s, (int)(deadline - now_ms()));
		if (!ev)
			return NULL;
		if (strcmp(json_string_value(json_object_get(ev, "type")), type) == 0 &&
		    strcmp(event_meta_str(ev, "action"), action) == 0)
			return ev;
		if (ret_skipped)
			(*ret_skipped)++;
		json_decref(ev);
	}
	return NULL;
}

static bool wait_done(struct event_stream *s, int timeout_ms, bool is_discarding)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (!s->is_done && now_ms() < deadline) {
		pump(s, 50);
		if (is_discarding)
			s->len = 0;
	}
	return s->is_done;
}

bool event_stream_wait_end(struct event_stream *s, int timeout_ms)
{
	return wait_done(s, timeout_ms, true);
}

const char *event_stream_body(struct event_stream *s, int timeout_ms)
{
	(void)wait_done(s, timeout_ms, false);
	return s->data ? s->data : "";
}

void event_stream_close(struct event_stream *s)
{
	if (s->multi) {
		curl_multi_remove_handle(s->multi, s->easy);
		curl_easy_cleanup(s->easy);
		curl_multi_cleanup(s->multi);
	}
	free(s->data);
	*s = (struct event_stream){ 0 };
}
