/* SPDX-License-Identifier: Apache-2.0 */
/* SECCOMP_IOCTL_NOTIF_* wrappers; called from workers and intake, no state. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "daemon/macro.h"
#include "daemon/engine/notify.h"

int notify_recv(int notify_fd, struct seccomp_notif *req)
{
	memset(req, 0, sizeof(*req));
	return RET_NERRNO(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req));
}

int notify_send(int notify_fd, const struct seccomp_notif_resp *resp)
{
	return RET_NERRNO(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp));
}

int notify_id_valid(int notify_fd, uint64_t id)
{
	return RET_NERRNO(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id));
}

int notify_set_sync_wake_up(int notify_fd)
{
	return RET_NERRNO(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
				(unsigned long)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP));
}

bool notify_fd_is_seccomp(int fd)
{
	char path[64], target[64];
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:seccomp notify") == 0;
}
