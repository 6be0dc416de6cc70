/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "daemon/error.h"

/*
 * The pure half of the read-only metrics listener (api/metrics_listener.c):
 * the --metrics-address syntax, and what a request head gets answered. No
 * I/O, no state: the unit tests and the fuzzer call these directly.
 */

/* Request heads longer than this get 431 (Prometheus sends about 300 bytes). */
#define METRICS_HEAD_MAX 4096

enum metrics_route {
	METRICS_ROUTE_NONE,    /* an error answer */
	METRICS_ROUTE_METRICS, /* /1.0/metrics */
	METRICS_ROUTE_HEALTHZ, /* /healthz */
};

/* The answer a request head gets. */
struct metrics_request {
	unsigned status;          /* 200, 400, 404, 405 or 431 */
	enum metrics_route route; /* METRICS_ROUTE_NONE unless status is 200 */
	bool is_head;             /* HEAD: the headers of a GET, no body */
};

/*
 * Parse @text as "IPV4:PORT" or "[IPV6]:PORT": numeric addresses only (no
 * name is looked up at start), a decimal port from 1 to 65535. Fills
 * *ret_addr and *ret_len on success; -EINVAL with the reason in @reterr
 * otherwise. Pure.
 */
int metrics_address_parse(const char *text, struct sockaddr_storage *ret_addr,
			  socklen_t *ret_len, struct icd_error *reterr);

/*
 * The length of the request head at the start of @buf (@len bytes), up to and
 * including its blank line ("\r\n\r\n" or "\n\n"), or 0 while incomplete.
 */
size_t metrics_http_head_length(const char *buf, size_t len);

/*
 * What the complete request head @head (@len bytes, not NUL-terminated) is
 * answered: 200 for GET or HEAD of /1.0/metrics or /healthz (a query string is
 * ignored), 405 for another method on those, 404 for any other path, 400 for
 * a request line that is not "METHOD /PATH HTTP/1.x". Pure.
 */
struct metrics_request metrics_http_classify(const char *head, size_t len);

/*
 * The whole answer to @rq: status line, headers (Content-Type,
 * Content-Length, Connection: close, Allow on a 405) and, unless @rq is a
 * HEAD, @body (@body_len bytes; ignored for errors, which carry a short
 * text). A new malloc'd buffer in *ret (its length in *ret_len). Returns 0 or
 * -ENOMEM.
 */
int metrics_http_response(const struct metrics_request *rq, const char *body, size_t body_len,
			  char **ret, size_t *ret_len);
