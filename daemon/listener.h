/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

enum listener_source {
	LISTENER_SOURCE_LXC,
	LISTENER_SOURCE_OCI,
	LISTENER_SOURCE_COUNT,
};

/* "lxc" or "oci" */
const char *listener_source_name(enum listener_source s);

/*
 * The public face of an attached seccomp listener (an OCI notify fd or a LXC
 * monitor connection), as linked into container->listeners under
 * container->lock. The engine embeds it in its own private structure.
 */
struct listener {
	struct listener *next; /* guarded by the container's lock */
	enum listener_source source;
	pid_t pid;              /* the process that installed the filter (OCI) or init (LXC) */
	int64_t attached_at;    /* unix seconds */
	unsigned trapped_keys;  /* config_trapped_keys() of the config when it attached */
};
