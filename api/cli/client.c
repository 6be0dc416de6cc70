/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl's HTTP client (client.h): libcurl easy handles over the API's
 * unix socket, one request at a time. A reply's body is kept whole (up to
 * REPLY_MAX), except for client_stream(), which hands each line on as it
 * arrives. Errors are printed here and nowhere else.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "api/cli/client.h"
#include "daemon/escape.h"
#include "version.h"

/* Larger answers are refused: the biggest real one, metrics of 10,000 containers, is ~1.5 MiB. */
#define REPLY_MAX (64u << 20)
/* An event line longer than this ends the stream. */
#define LINE_MAX_LEN (1u << 20)

void client_reply_free(struct client_reply *r)
{
	if (!r)
		return;
	free(r->data);
	json_decref(r->body);
	free(r->etag);
	free(r->warnings);
	free(r);
}

struct transfer {
	struct client_reply *rep;
	size_t cap;
	bool is_too_big;
	/* client_stream(): lines go to on_line while the status is 200 */
	CURL *curl;
	int (*on_line)(const char *line, size_t len, void *userdata);
	void *userdata;
	int stopped; /* what on_line returned to stop, or -EMSGSIZE */
};

static bool append(struct transfer *t, const char *p, size_t n)
{
	struct client_reply *rep = t->rep;

	if (rep->len + n + 1 > t->cap) {
		size_t cap = (rep->len + n + 1) * 2;
		char *q;

		if (rep->len + n > REPLY_MAX) {
			t->is_too_big = true;
			return false;
		}
		q = realloc(rep->data, cap);
		if (!q)
			return false;
		rep->data = q;
		t->cap = cap;
	}
	memcpy(rep->data + rep->len, p, n);
	rep->len += n;
	rep->data[rep->len] = '\0';
	return true;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata)
{
	return append(userdata, p, size * n) ? size * n : 0;
}

/* Hand every complete line in the buffer to on_line, keep the rest. */
static bool flush_lines(struct transfer *t)
{
	struct client_reply *rep = t->rep;
	char *nl;

	while ((nl = memchr(rep->data, '\n', rep->len))) {
		size_t len = (size_t)(nl - rep->data);
		int r;

		*nl = '\0';
		r = t->on_line(rep->data, len, t->userdata);
		memmove(rep->data, nl + 1, rep->len - len - 1);
		rep->len -= len + 1;
		rep->data[rep->len] = '\0';
		if (r < 0) {
			t->stopped = r;
			return false;
		}
	}
	if (rep->len > LINE_MAX_LEN) {
		t->stopped = -EMSGSIZE;
		return false;
	}
	return true;
}

static size_t on_stream_data(char *p, size_t size, size_t n, void *userdata)
{
	struct transfer *t = userdata;
	long status = 0;

	if (!append(t, p, size * n))
		return 0;
	(void)curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return size * n; /* an error envelope: kept whole for client_report() */
	return flush_lines(t) ? size * n : 0;
}

static char *add_line(char *lines, const char *value, size_t len)
{
	char *joined = NULL;

	if (asprintf(&joined, "%s%.*s\n", lines ? lines : "", (int)len, value) < 0)
		return lines;
	free(lines);
	return joined;
}

static size_t on_header(char *buf, size_t size, size_t n, void *userdata)
{
	struct client_reply *rep = userdata;
	size_t len = size * n;

	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
		len--;
	if (len > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
		size_t skip = 5 + strspn(buf + 5, " \t");

		free(rep->etag);
		rep->etag = strndup(buf + skip, len - skip);
	} else if (len > 8 && strncasecmp(buf, "Warning:", 8) == 0) {
		size_t skip = 8 + strspn(buf + 8, " \t");

		rep->warnings = add_line(rep->warnings, buf + skip, len - skip);
	}
	return size * n;
}

/* Why connecting to @path failed, from a connect() of our own: curl only says "could not". */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = RET_NERRNO(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return negative_errno();
	return -ECONNREFUSED; /* it answers now: report what curl saw */
}

static int report_transport(const struct cli *c, CURLcode cr, const struct transfer *t)
{
	if (cr == CURLE_COULDNT_CONNECT) {
		errno = -probe_socket(c->socket);
		fprintf(stderr,
			"Error: cannot connect to interceptd at '%s': %m (is it running? --socket or "
			"INTERCEPTD_SOCKET name another socket)\n",
			ESCAPED(c->socket, 256));
		return -ECONNREFUSED;
	}
	if (t->is_too_big) {
		fprintf(stderr, "Error: the daemon's answer is larger than %u MiB\n", REPLY_MAX >> 20);
		return -EMSGSIZE;
	}
	fprintf(stderr, "Error: talking to interceptd at '%s': %s\n", ESCAPED(c->socket, 256),
		curl_easy_strerror(cr));
	return -EIO;
}

static CURL *new_handle(const struct cli *c, const char *method, const char *path,
			struct curl_slist **headers)
{
	_cleanup_free_ char *url = NULL;
	CURL *curl = curl_easy_init();

	if (!curl || asprintf(&url, "http://localhost%s", path) < 0) {
		curl_easy_cleanup(curl);
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	/* a name ".." stays a (refused) name instead of curl folding the path */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "interceptctl/" INTERCEPTD_VERSION);
	*headers = curl_slist_append(NULL, "Accept: application/json");
	return curl;
}

static void parse_body(struct client_reply *rep)
{
	const char *p = rep->data ? rep->data + strspn(rep->data, " \t\r\n") : "";

	/* MHD answers some transport errors (413, 431) with HTML: only an object is parsed */
	if (*p == '{')
		rep->body = json_loadb(rep->data, rep->len, 0, NULL);
}

/* Run @curl into @t; on success the status is in t->rep. */
static int perform(const struct cli *c, CURL *curl, struct curl_slist *headers,
		   struct transfer *t)
{
	CURLcode cr;

	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, t->rep);
	cr = curl_easy_perform(curl);
	curl_slist_free_all(headers);
	if (t->stopped < 0 && cr == CURLE_WRITE_ERROR)
		return t->stopped;
	if (cr != CURLE_OK)
		return report_transport(c, cr, t);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &t->rep->status);
	parse_body(t->rep);
	return 0;
}

int client_request(const struct cli *c, const char *method, const char *path, const json_t *body,
		   const char *if_match, struct client_reply **ret)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = calloc(1, sizeof(*rep));
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *match = NULL;
	struct curl_slist *headers = NULL;
	struct transfer t = { .rep = rep };
	CURL *curl;
	int r;

	if (!rep || (body && !text))
		return -ENOMEM;
	curl = new_handle(c, method, path, &headers);
	if (!curl)
		return -ENOMEM;
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	if (text) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
		headers = curl_slist_append(headers, "Content-Type: application/json");
	}
	if (if_match && asprintf(&match, "If-Match: %s", if_match) >= 0)
		headers = curl_slist_append(headers, match);
	r = perform(c, curl, headers, &t);
	curl_easy_cleanup(curl);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(rep);
	return 0;
}

bool client_ok(const struct client_reply *r)
{
	return r->status >= 200 && r->status < 300;
}

static int errno_of_status(long status)
{
	switch (status) {
	case 400: return -EINVAL;
	case 403: return -EPERM;
	case 404: return -ENOENT;
	case 405: return -EOPNOTSUPP;
	case 409: return -EEXIST;
	case 412: return -ESTALE;
	case 413: return -EMSGSIZE;
	case 503: return -EAGAIN;
	default: return -EPROTO;
	}
}

const char *client_message(const struct client_reply *r, char *buf, size_t size)
{
	const char *msg = json_string_value(json_object_get(r->body, "error"));

	if (msg && *msg)
		return escape_echo(buf, size, msg);
	snprintf(buf, size, "the daemon answered HTTP %ld%s%s", r->status, r->len ? ": " : "",
		 r->len ? ESCAPED(r->data, 200) : "");
	return buf;
}

int client_report(const struct client_reply *r)
{
	char msg[1024];

	fprintf(stderr, "Error: %s\n", client_message(r, msg, sizeof(msg)));
	return errno_of_status(r->status);
}

int client_call(const struct cli *c, const char *method, const char *path, const json_t *body,
		const char *if_match, struct client_reply **ret, json_t **ret_meta)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = NULL;
	int r;

	r = client_request(c, method, path, body, if_match, &rep);
	if (r < 0)
		return r;
	if (!client_ok(rep))
		return client_report(rep);
	if (!json_is_object(rep->body)) {
		fprintf(stderr, "Error: the daemon's answer to %s %s is not a JSON envelope\n",
			method, path);
		return -EPROTO;
	}
	*ret_meta = json_object_get(rep->body, "metadata");
	*ret = TAKE_PTR(rep);
	return 0;
}

int client_stream(const struct cli *c, const char *path,
		  int (*on_line)(const char *line, size_t len, void *userdata), void *userdata)
{
	_cleanup_(client_reply_freep) struct client_reply *rep = calloc(1, sizeof(*rep));
	struct curl_slist *headers = NULL;
	struct transfer t = { .rep = rep, .on_line = on_line, .userdata = userdata };
	int r;

	if (!rep)
		return -ENOMEM;
	t.curl = new_handle(c, "GET", path, &headers);
	if (!t.curl)
		return -ENOMEM;
	/* no overall timeout: events may be minutes apart */
	curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, on_stream_data);
	r = perform(c, t.curl, headers, &t);
	curl_easy_cleanup(t.curl);
	if (r == -EMSGSIZE)
		fprintf(stderr, "Error: an event longer than %u KiB, stopping\n", LINE_MAX_LEN >> 10);
	if (r < 0)
		return r;
	if (rep->status != 200)
		return client_report(rep);
	return 0;
}

char *client_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *p = out;

	for (; out && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*p++ = (char)ch;
			continue;
		}
		*p++ = '%';
		*p++ = hex[ch >> 4];
		*p++ = hex[ch & 0xf];
	}
	if (out)
		*p = '\0';
	return out;
}

char *client_object_path(const struct cli *c, const char *name, const char *suffix)
{
	_cleanup_free_ char *escaped = client_escape(name);
	char *path = NULL;

	if (!escaped || asprintf(&path, "/1.0/%s/%s%s", cli_collection(c), escaped, suffix) < 0)
		return NULL;
	return path;
}

char *client_container_path(const char *name, const char *suffix)
{
	_cleanup_free_ char *escaped = client_escape(name);
	char *path = NULL;

	if (!escaped || asprintf(&path, "/1.0/containers/%s%s", escaped, suffix) < 0)
		return NULL;
	return path;
}
