/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <microhttpd.h>

#include "api/conns.h"
#include "daemon/events/bus.h"

/*
 * GET /1.0/events as libmicrohttpd sees it (api/routes_events.c): a chunked
 * answer of unknown length whose content reader hands out the subscriber's
 * events, one JSON object a line, and suspends the connection while there
 * are none. Called by api/server.c only.
 */

/*
 * Subscribe to @bus with @filter for @conn (admitted in @slot of @conns) and
 * queue the stream as its answer. Returns 0, or -EAGAIN (too many
 * subscribers for @is_admin), -ESHUTDOWN (stopping), -ENOMEM: then nothing
 * was queued. MHD thread.
 */
int events_stream_queue(struct MHD_Connection *conn, struct event_bus *bus,
			const struct event_filter *filter, bool is_admin, struct conns *conns,
			struct conn_slot *slot);

/*
 * The thread that ends the streams whose reader hung up (looked for every
 * EVENTS_REAP_MS, so that a gone reader does not hold its place under the
 * cap) and sends a keep-alive line on every stream every
 * EVENTS_KEEPALIVE_MS (a reader gone without a hang-up shows when it cannot
 * be sent; proxies see a live stream). Stopping it ends every stream.
 */
#define EVENTS_REAP_MS 500
#define EVENTS_KEEPALIVE_MS 15000
struct events_keepalive;
int events_keepalive_start(struct event_bus *bus, struct events_keepalive **ret);
/* Close @bus (every stream ends) and stop the thread. Returns NULL. */
struct events_keepalive *events_keepalive_stop(struct events_keepalive *k);
