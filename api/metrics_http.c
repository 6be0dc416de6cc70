/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure half of the read-only metrics listener: the --metrics-address
 * syntax, the classification of a request head and the text of an answer.
 * Everything here reads only its arguments (hostile bytes from the network
 * among them) and keeps no state, so any thread may call it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/metrics_http.h"

/* The longest method token we bother to look at; anything longer is malformed. */
#define METHOD_MAX 16

static int parse_port(const char *s, uint16_t *ret)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* Split "HOST:PORT" or "[HOST]:PORT" into @host (@size bytes) and the port text. */
static int split_address(const char *text, char *host, size_t size, const char **ret_port,
			 bool *ret_is_v6, struct icd_error *reterr)
{
	const char *colon, *start = text, *end;

	if (text[0] == '[') {
		start = text + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return icd_error_set(reterr, -EINVAL, "'%s': expected [IPV6]:PORT", text);
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return icd_error_set(reterr, -EINVAL, "'%s': expected HOST:PORT", text);
		end = colon;
		if (memchr(text, ':', (size_t)(colon - text)))
			return icd_error_set(reterr, -EINVAL,
					     "'%s': an IPv6 address goes in brackets, as in [::1]:9464",
					     text);
	}
	if (end == start)
		return icd_error_set(reterr, -EINVAL,
				     "'%s': no address (use 127.0.0.1, [::1], or 0.0.0.0 to listen "
				     "on every interface)", text);
	if ((size_t)(end - start) >= size)
		return icd_error_set(reterr, -EINVAL, "'%s': the address is too long", text);
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*ret_port = colon + 1;
	*ret_is_v6 = text[0] == '[';
	return 0;
}

int metrics_address_parse(const char *text, struct sockaddr_storage *ret_addr,
			  socklen_t *ret_len, struct icd_error *reterr)
{
	struct sockaddr_storage sa = { 0 };
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text = NULL;
	bool is_v6 = false;
	uint16_t port;
	int r;

	if (!text || !text[0])
		return icd_error_set(reterr, -EINVAL, "empty address: expected HOST:PORT");
	r = split_address(text, host, sizeof(host), &port_text, &is_v6, reterr);
	if (r < 0)
		return r;
	if (parse_port(port_text, &port) < 0)
		return icd_error_set(reterr, -EINVAL, "'%s': the port must be a number from 1 to 65535",
				     text);
	if (is_v6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return icd_error_set(reterr, -EINVAL, "'%s': '%s' is not an IPv6 address",
					     text, host);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*ret_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;

		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return icd_error_set(reterr, -EINVAL,
					     "'%s': '%s' is not an IPv4 address (names are not "
					     "looked up; IPv6 goes in brackets)", text, host);
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*ret_len = sizeof(*in4);
	}
	*ret_addr = sa;
	return 0;
}

size_t metrics_http_head_length(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static bool is_method_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_';
}

/* The route of @path (@len bytes, the query string already cut off). */
static enum metrics_route route_of(const char *path, size_t len)
{
	static const char metrics[] = "/1.0/metrics", healthz[] = "/healthz";

	if (len == sizeof(metrics) - 1 && memcmp(path, metrics, len) == 0)
		return METRICS_ROUTE_METRICS;
	if (len == sizeof(healthz) - 1 && memcmp(path, healthz, len) == 0)
		return METRICS_ROUTE_HEALTHZ;
	return METRICS_ROUTE_NONE;
}

static const struct metrics_request bad_request = { .status = 400 };

struct metrics_request metrics_http_classify(const char *head, size_t len)
{
	const char *nl = memchr(head, '\n', len), *sp1, *sp2, *target;
	size_t line, n_method, n_target, n_version, n_path = 0;
	enum metrics_route route;
	bool is_get, is_head;

	line = nl ? (size_t)(nl - head) : len;
	if (line > 0 && head[line - 1] == '\r')
		line--;
	for (size_t i = 0; i < line; i++)
		if ((unsigned char)head[i] < 0x20 || head[i] == 0x7f)
			return bad_request;
	sp1 = memchr(head, ' ', line);
	if (!sp1)
		return bad_request;
	n_method = (size_t)(sp1 - head);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', line - n_method - 1);
	if (!sp2 || n_method == 0 || n_method > METHOD_MAX)
		return bad_request;
	for (size_t i = 0; i < n_method; i++)
		if (!is_method_char(head[i]))
			return bad_request;
	n_target = (size_t)(sp2 - target);
	n_version = line - n_method - n_target - 2;
	if (n_target == 0 || target[0] != '/' || n_version != 8 ||
	    (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return bad_request;
	while (n_path < n_target && target[n_path] != '?')
		n_path++;
	route = route_of(target, n_path);
	is_get = n_method == 3 && memcmp(head, "GET", 3) == 0;
	is_head = n_method == 4 && memcmp(head, "HEAD", 4) == 0;
	if (route == METRICS_ROUTE_NONE)
		return (struct metrics_request){ .status = 404, .is_head = is_head };
	if (!is_get && !is_head)
		return (struct metrics_request){ .status = 405 };
	return (struct metrics_request){ .status = 200, .route = route, .is_head = is_head };
}

static const char *reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default: return "Service Unavailable";
	}
}

/* The short text of an error answer. */
static const char *error_text(unsigned status)
{
	switch (status) {
	case 400: return "bad request: expected \"GET /PATH HTTP/1.1\"\n";
	case 404: return "not found: this listener serves only /1.0/metrics and /healthz\n";
	case 405: return "method not allowed: only GET and HEAD\n";
	case 431: return "request head too large\n";
	default: return "the metrics cannot be rendered now, try again\n";
	}
}

int metrics_http_response(const struct metrics_request *rq, const char *body, size_t body_len,
			  char **ret, size_t *ret_len)
{
	const char *type = "text/plain; charset=utf-8";
	char *text = NULL;
	int n;

	if (rq->status != 200) {
		body = error_text(rq->status);
		body_len = strlen(body);
	} else if (rq->route == METRICS_ROUTE_METRICS)
		type = "text/plain; version=0.0.4; charset=utf-8";
	n = asprintf(&text,
		     "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n%s"
		     "Connection: close\r\n\r\n%.*s",
		     rq->status, reason(rq->status), type, body_len,
		     rq->status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     rq->is_head ? 0 : (int)body_len, body);
	if (n < 0)
		return -ENOMEM;
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}
