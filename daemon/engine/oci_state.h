/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/engine/ephemeral.h"
#include "daemon/store/container.h"

/* What we take from an OCI container-process state. */
struct oci_state {
	int seccomp_fd_index;                 /* index of "seccompFd" in "fds" */
	pid_t pid;                            /* the process that installed the filter */
	pid_t init_pid;                       /* state.pid */
	char metadata[CONTAINER_NAME_MAX + 1]; /* "" when absent or not a valid name */
	char id[CONTAINER_NAME_MAX + 1];       /* state.id; "" when not a valid name */
	/* "metadata" as sent, "" when absent or longer than EPHEMERAL_METADATA_MAX */
	char raw_metadata[EPHEMERAL_METADATA_MAX + 1];
	char raw_id[EPHEMERAL_ID_MAX + 1];     /* state.id as sent, "" when absent or too long */
	struct container_k8s k8s;              /* from state.annotations */
};

/*
 * Try to parse the bytes received so far. Returns 1 and fills @ret when a
 * complete state arrived, 0 when more bytes are needed, -EBADMSG for garbage
 * or a state without a "seccompFd". Pure: no syscalls.
 */
int oci_state_parse(const char *buf, size_t len, struct oci_state *ret);
