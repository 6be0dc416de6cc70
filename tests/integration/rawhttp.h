/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Many raw HTTP/1.1 exchanges over a unix socket at once, driven by one epoll
 * loop in the calling thread: what a burst of clients, a dawdling client or a
 * slowloris does to the API, which libcurl (one request at a time, always
 * complete) cannot show. Plain C and libc only: the integration tests and the
 * benchmark both build it.
 */
struct raw_conn {
	int fd;               /* -1 once closed */
	int err;              /* 0, or the first failure: -EAGAIN from connect() is a full backlog */
	long status;          /* HTTP status of the reply; 0 while none has arrived */
	bool is_done;         /* the reply ended with EOF, or the connection failed */
	const char *req;      /* what to send (not owned); NULL sends nothing */
	size_t req_len, sent;
	char head[1024];      /* the first bytes of the reply, NUL-terminated */
	size_t head_len;
	uint64_t t_start_ns;  /* when connect() was called */
	uint64_t t_done_ns;   /* when the reply ended (or failed) */
};

/* CLOCK_MONOTONIC in ns. */
uint64_t raw_now_ns(void);

/*
 * Connect @c to @path without blocking and without sending anything yet;
 * @req (may be NULL) is what raw_run() will send. Returns 0, or the negative
 * errno also kept in c->err: -EAGAIN when the listen backlog is full.
 */
int raw_connect(struct raw_conn *c, const char *path, const char *req);

/*
 * Send each connection's request and read its reply until the server closes
 * the connection, for all @n at once, until every one is done or the
 * monotonic clock passes @deadline_ns. Connections still open then get
 * c->err = -ETIMEDOUT and stay open. Returns how many are done.
 */
size_t raw_run(struct raw_conn *conns, size_t n, uint64_t deadline_ns);

/* Close @c's socket if open. */
void raw_close(struct raw_conn *c);

/* Open fds of @pid (entries of /proc/PID/fd), or a negative errno. */
int raw_count_fds(pid_t pid);

/* A complete "GET @path" request (a string literal) after which the server closes. */
#define RAW_GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
