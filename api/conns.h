/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <microhttpd.h>

#include "api/router.h"

/*
 * Admission of API connections (limits in api/server.h). A thread of its own
 * accepts from the listening socket, reads the peer's credentials and admits
 * the connection into libmicrohttpd (MHD_add_connection) or answers it a 503
 * at once. While API_CONNECTIONS_MAX are open it accepts nothing, so further
 * clients wait in the kernel's listen backlog instead of being dropped. It
 * also cuts connections that overrun their request deadline.
 */
struct conns;

/* One admitted connection: its peer, and when it must have sent its request. */
struct conn_slot;

/*
 * Admission for @listen_fd (ownership taken, closed on failure); @d gives the
 * admin group. Nothing is accepted before conns_start().
 */
int conns_new(struct daemon *d, int listen_fd, struct conns **ret);

/* Start the acceptor thread, admitting connections into @mhd. */
int conns_start(struct conns *c, struct MHD_Daemon *mhd);

/* Stop accepting and close the listening socket; admitted connections stay. */
void conns_stop(struct conns *c);

/* Free, once libmicrohttpd has closed every connection. Returns NULL. */
struct conns *conns_free(struct conns *c);

/*
 * MHD thread, when libmicrohttpd starts serving @fd: the slot admitted for
 * it (NULL if unknown: then the peer is treated as unknown and read-only).
 */
struct conn_slot *conns_bind(struct conns *c, int fd);

/* MHD thread, when libmicrohttpd closes a connection: its slot is free again. */
void conns_release(struct conns *c, struct conn_slot *slot);

/* The peer of @slot (an unknown, read-only peer for NULL). */
struct peer conns_peer(const struct conn_slot *slot);

/*
 * MHD thread: the connection must finish what it is doing (receive a
 * request, send an answer) within API_REQUEST_DEADLINE_MS from now, or be
 * cut. With @is_armed false it has no deadline: its request waits on the
 * store.
 */
void conns_set_deadline(struct conns *c, struct conn_slot *slot, bool is_armed);
