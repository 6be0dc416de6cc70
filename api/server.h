/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "daemon/daemon.h"

struct api_server;

/*
 * Serve the management API on @listen_fd (a bound, listening AF_UNIX stream
 * socket; ownership taken) with libmicrohttpd's internal thread.
 */
int api_server_start(struct daemon *d, int listen_fd, struct api_server **ret);

/* Stop accepting, finish in-flight requests and free the server. Returns NULL. */
struct api_server *api_server_stop(struct api_server *s);
