/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdint.h>

#include "daemon/engine/listener.h"

/*
 * Resolve the handlers' syscall numbers (handler_table_init()) and their
 * metrics series. Main thread, once, before any worker starts.
 */
int dispatch_init(void);

/*
 * Decide one notification for @l: look up the handler, take the config
 * snapshot current now, call the handler, record metrics. Fills @resp (id,
 * val, error, flags); the caller sends it the way its protocol answers.
 * @notify_fd is the listener handlers ask ID_VALID; @proc_fd and @mem_fd are
 * the caller's /proc/PID and /proc/PID/mem when the protocol passes them, else
 * -EBADF. @received_ns: now_ns() when the notification arrived. Worker thread
 * serving @l.
 */
void dispatch_notification(struct engine_listener *l, const struct seccomp_notif *req,
			   int notify_fd, int proc_fd, int mem_fd, uint64_t received_ns,
			   struct seccomp_notif_resp *resp);

/*
 * The answer to @req when its handler cannot give one (the LXC deadline
 * passed): CONTINUE, or the errno of the handler's table entry (bpf: EPERM,
 * as a CONTINUE would let the kernel attach without any check). Any thread.
 */
void dispatch_undecided(const struct seccomp_notif *req, struct seccomp_notif_resp *resp);

/*
 * Dispatch @req, received from @l->fd (a seccomp notify fd), and send the
 * answer there with SECCOMP_IOCTL_NOTIF_SEND. Worker thread serving @l.
 * Returns when the answer was decided (now_ns()), for the caller's own accounting.
 */
uint64_t dispatch_answer(struct engine_listener *l, const struct seccomp_notif *req,
			 uint64_t received_ns);
