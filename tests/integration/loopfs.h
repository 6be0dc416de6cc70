/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * A small ext4 filesystem on a loop device whose writes can be held: FIFREEZE
 * (what `fsfreeze -f` does) makes every write and fsync on it wait until
 * FITHAW, as a stalled disk does. These machines have no device-mapper, so
 * this is how the tests and the benchmark stall the daemon's state directory.
 *
 * A guard process is forked at setup. It thaws the filesystem when asked to
 * at a given time (so a caller that is itself blocked by the freeze is still
 * released), and when the creating process closes its end or dies it thaws,
 * unmounts and detaches everything: a failing or killed test never leaves a
 * frozen or mounted filesystem behind. Root only.
 */
struct loopfs {
	char image[256]; /* the backing file */
	char mount[256]; /* where it is mounted */
	char dev[32];    /* /dev/loopN */
	pid_t guard;
	int guard_fd;    /* our end of the guard's pipe */
};

/*
 * Make a @size_mib MiB ext4 image at @image, attach it to a free loop device
 * and mount it on @mount_dir (created if missing), then start the guard. Returns
 * 0; -EOPNOTSUPP when the machine cannot do it (not root, no loop devices, no
 * mkfs.ext4), with the reason in @why; another negative errno on failure.
 * On failure nothing is left behind.
 */
int loopfs_setup(struct loopfs *l, const char *image, const char *mount_dir, unsigned size_mib,
		 char *why, size_t why_len);

/* Hold every write to the filesystem (FIFREEZE). */
int loopfs_freeze(struct loopfs *l);

/* Release them (FITHAW). -EINVAL when it was not frozen. */
int loopfs_thaw(struct loopfs *l);

/* Have the guard thaw the filesystem @ms from now. */
int loopfs_thaw_later(struct loopfs *l, unsigned ms);

/* Thaw, unmount, detach and remove the image (through the guard); waits for it. */
void loopfs_teardown(struct loopfs *l);
