/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/daemon.h"

/*
 * The read-only TCP listener of --metrics-address: GET and HEAD of
 * /1.0/metrics and /healthz, nothing else, so that Prometheus never needs the
 * admin API. It never routes to the API's handlers. Its peers are untrusted:
 * at most METRICS_CONNECTIONS_MAX connections are served at once (more wait
 * in the listen backlog), each must have sent its request head (at most
 * METRICS_HEAD_MAX bytes) and taken the whole answer within
 * METRICS_DEADLINE_MS of being accepted, or it is closed. With every slot
 * taken, one that has not sent its request 250 ms after its accept is closed
 * to make room for a waiting connection, so silent peers cannot keep a
 * scraper out. Every answer closes its connection.
 */
#define METRICS_CONNECTIONS_MAX 8
#define METRICS_DEADLINE_MS 5000
#define METRICS_LISTEN_BACKLOG 16

struct metrics_listener;

/*
 * Bind @address ("IPV4:PORT" or "[IPV6]:PORT", see metrics_address_parse())
 * and serve it from a thread of its own, rendering from @d. Call it on the
 * main thread with signals blocked. Returns 0, or a negative errno after
 * logging why (a malformed address, a port in use).
 */
int metrics_listener_start(struct daemon *d, const char *address, struct metrics_listener **ret);

/* Stop serving, close every connection and the socket, free. Accepts NULL; returns NULL. */
struct metrics_listener *metrics_listener_stop(struct metrics_listener *l);
