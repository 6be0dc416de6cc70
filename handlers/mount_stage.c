/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The staging mount namespace for mount.allowed (see mount_stage.h).
 *
 * Locking a new mount's flags needs a mount namespace of the initial user
 * namespace to copy from inside the container's user namespace: the kernel
 * locks every mount it copies into a namespace of a less privileged user
 * namespace (copy_mnt_ns(), lock_mnt_tree()). A copy costs one mount
 * structure per mount in the source, and freeing it an expedited RCU grace
 * period, so the source should hold as little as possible. The container's
 * own namespace held everything it mounted, copied twice per mount; this one
 * holds a single empty, read-only tmpfs.
 *
 * Built once, by a helper that shares our fd table: a private copy of our
 * namespace whose root is swapped for the tmpfs (pivot_root(".", ".")) and
 * whose old tree is detached, so none of the host's mounts stay in it. The
 * nsfs fd we keep pins it; no task lives in it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "handlers/mount.h"
#include "handlers/nsexec.h"

#define STAGE_BUILD_TIMEOUT_MS 3000

/* The staging namespace's nsfs fd, or -errno: set once, read-only afterwards. */
static int stage_fd = -EAGAIN;
static pthread_once_t stage_once = PTHREAD_ONCE_INIT;

/* An empty read-only tmpfs, detached; its fd or -1 with errno set. */
static long empty_tmpfs(void)
{
	long fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC), mnt = -1;

	if (fs < 0)
		return -1;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0555", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", 0) == 0 &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID |
				      MOUNT_ATTR_NOEXEC);
	(void)close((int)fs);
	return mnt;
}

/*
 * In the helper (our fd table): raw syscalls only. Every fd it opens is
 * closed again on every path but the namespace's, which it leaves to us.
 */
static int build_stage(const void *arg)
{
	int *ret = (int *)arg;
	long ns_fd = -1, mnt = -1;
	int err = 0;

	if (syscall(SYS_unshare, CLONE_NEWNS) < 0 ||
	    syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    (ns_fd = syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/mnt",
			     O_RDONLY | O_CLOEXEC)) < 0 ||
	    (mnt = empty_tmpfs()) < 0 ||
	    syscall(SYS_move_mount, mnt, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0 ||
	    syscall(SYS_fchdir, mnt) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    syscall(SYS_umount2, ".", MNT_DETACH) < 0)
		err = errno > 0 && errno < 256 ? errno : EIO;
	if (mnt >= 0)
		(void)syscall(SYS_close, mnt);
	if (err && ns_fd >= 0)
		(void)syscall(SYS_close, ns_fd);
	if (!err)
		*ret = (int)ns_fd;
	return err;
}

static void stage_build(void)
{
	int fd = -EBADF, r;

	r = nsexec_run_sharing_fds(build_stage, &fd, STAGE_BUILD_TIMEOUT_MS);
	if (r < 0) {
		log_warning_errno(r, "Failed to build the staging mount namespace, mount.allowed "
				  "copies the container's instead: %m");
		stage_fd = r;
		return;
	}
	stage_fd = fd;
}

int mount_stage_ns(void)
{
	(void)pthread_once(&stage_once, stage_build);
	return stage_fd;
}
