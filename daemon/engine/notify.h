/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Raw SECCOMP_IOCTL_NOTIF_* wrappers that return the real -errno (libseccomp
 * 2.5.4 reports every failure as -ECANCELED). Thread-safe; no allocation.
 */

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* Zeroes @req first (the kernel rejects a dirty buffer), then receives. -ENOENT is normal. */
int notify_recv(int notify_fd, struct seccomp_notif *req);

/* Answer notification @id. -ENOENT means the caller is gone: not an error. */
int notify_send(int notify_fd, const struct seccomp_notif_resp *resp);

/* 0 if @id is still pending, -ENOENT if the caller went away. */
int notify_id_valid(int notify_fd, uint64_t id);

/* Turn on SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP; -EINVAL/-ENOTTY where unsupported. */
int notify_set_sync_wake_up(int notify_fd);

/* true if @fd is a seccomp notify fd ("anon_inode:seccomp notify"). */
bool notify_fd_is_seccomp(int fd);
