/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/daemon.h"

struct api_server;

/*
 * Connection admission (a peer's uid and groups come from SO_PEERCRED and
 * SO_PEERGROUPS at accept). Connections past API_CONNECTIONS_MAX wait in the
 * listen backlog; the last API_CONNECTIONS_RESERVED places are kept for root
 * and the admin group, and a uid other than 0 holds at most
 * API_CONNECTIONS_PER_UID: past either, a peer gets an immediate 503. Every
 * request must have arrived whole API_REQUEST_DEADLINE_MS after accept (or
 * after the previous answer on a kept-alive connection), or the connection
 * is cut.
 */
#define API_CONNECTIONS_MAX 512
#define API_CONNECTIONS_RESERVED 64
#define API_CONNECTIONS_PER_UID 64
#define API_REQUEST_DEADLINE_MS 5000
#define API_LISTEN_BACKLOG 4096

/*
 * Serve the management API on @listen_fd (a bound, listening AF_UNIX stream
 * socket; ownership taken): an acceptor thread (api/conns.c) and
 * libmicrohttpd's internal thread. Writes go to d->store.
 */
int api_server_start(struct daemon *d, int listen_fd, struct api_server **ret);

/*
 * Stop accepting, let the changes in flight finish (store_close(), the store
 * refuses new ones from then on), stop serving and free the server. Returns
 * 0, or -ETIMEDOUT when a change is still held by the disk: the server is
 * then left running and must not be touched again.
 */
int api_server_stop(struct api_server *s);
