/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/daemon.h"
#include "daemon/engine/intake.h"

/* LXC's struct seccomp_notify_proxy_msg: the fixed 32-byte header. */
struct lxc_proxy_header {
	uint64_t reserved; /* must be 0 */
	int32_t monitor_pid;
	int32_t init_pid;
	struct seccomp_notif_sizes sizes;
	uint16_t padding;
	uint64_t cookie_len;
};

#define LXC_HEADER_SIZE 32
#define LXC_COOKIE_MAX 64

struct lxc_message {
	struct lxc_proxy_header header;
	const struct seccomp_notif *req; /* points into the receive buffer */
	const char *cookie;              /* not NUL-terminated */
	size_t cookie_len;
};

/*
 * Validate a received proxy message of @len bytes against the kernel's
 * notification sizes @kernel. Returns 0 and fills @ret, or -EBADMSG.
 * Pure: no syscalls.
 */
int lxc_message_parse(const void *buf, size_t len, const struct seccomp_notif_sizes *kernel,
		      struct lxc_message *ret);

/*
 * Extract the container name from an LXC monitor's process title
 * "[lxc monitor] LXCPATH NAME" (@cmdline, @len bytes, NUL-separated args).
 * Returns 0 and copies at most @size - 1 bytes, or -EINVAL.
 */
int lxc_monitor_name(const char *cmdline, size_t len, char *name, size_t size);

struct intake_lxc;
struct workers;

/*
 * Serve the LXC socket @listen_fd (bound and listening; taken over, also on
 * failure) on intake thread @t: every monitor connection becomes a listener of
 * @pool. @kernel: the kernel's notification sizes, which every message must
 * carry. Main thread.
 */
int intake_lxc_start(struct daemon *d, struct intake *t, struct workers *pool, int listen_fd,
		     const struct seccomp_notif_sizes *kernel, struct intake_lxc **ret);

/* Close the socket (connections are the pool's). After the intake thread stopped; accepts NULL. */
struct intake_lxc *intake_lxc_free(struct intake_lxc *x);

