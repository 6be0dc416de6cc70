/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/daemon.h"
#include "daemon/engine/intake.h"
#include "daemon/fdstore.h"

struct intake_oci;
struct workers;

/*
 * Serve the OCI socket @listen_fd (bound and listening; taken over, also on
 * failure) on intake thread @t, handing listeners to @pool. Main thread.
 */
int intake_oci_start(struct daemon *d, struct intake *t, struct workers *pool, int listen_fd,
		     struct intake_oci **ret);

/*
 * Take back the OCI listeners the previous daemon kept in systemd's fd store
 * (@fds, as fdstore_take() returned them; every fd is taken over), their
 * ephemeral containers with their kept Kubernetes labels, then remove the
 * labels kept for containers that did not come back. Main thread, before the
 * intake thread starts.
 */
void intake_oci_adopt_stored(struct intake_oci *o, struct fdstore_fd *fds, size_t n);

/* Drop connections that sent no complete state within 5 s. Intake thread's tick. */
void intake_oci_tick(struct intake_oci *o, uint64_t now);

/* Close every pending connection and the socket. After the intake thread stopped; accepts NULL. */
struct intake_oci *intake_oci_free(struct intake_oci *o);
