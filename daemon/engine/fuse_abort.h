/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/store/container.h"
#include "handlers/procmem.h"

/*
 * Ending, at shutdown, a worker's wait on a FUSE server. A worker copying a
 * caller's memory that a FUSE file backs waits for the server to answer the
 * read, and once the server has taken the request the kernel waits without
 * regard to signals, SIGKILL included: the daemon could not exit. So each
 * worker records whose notification it is deciding and which range of the
 * caller's memory it is copying; at shutdown the FUSE connections behind a
 * worker still stuck are found in the caller's /proc/TID/maps and mountinfo
 * (never by touching the FUSE file system, which would block as well) and
 * aborted through fusectl. Never at run time: the watchdog's quarantine deals
 * with a stuck worker then.
 */

/* What one worker is doing in a caller, written by that worker only, read by any thread. */
struct caller_watch {
	struct procmem_range range; /* the copy in progress (handlers/procmem.c records it) */
	atomic_int tid;             /* the caller whose notification is being decided, 0: none */
	atomic_int notify_fd;       /* the listener it came on, for ID_VALID */
	atomic_uint_fast64_t id;    /* its notification id */
};

/* The calling worker thread records into @w from now on (NULL: stop). */
void caller_watch_thread(struct caller_watch *w);

/* The calling thread begins or ends deciding notification @id of @tid from @notify_fd. */
void caller_watch_begin(pid_t tid, int notify_fd, uint64_t id);
void caller_watch_end(void);

/*
 * Another thread's look at @w: the caller, its listener and its notification
 * id, all of one notification. False (*@ret_tid 0) when @w's worker decides
 * none, or moved to another while it looked.
 */
bool caller_watch_read(const struct caller_watch *w, pid_t *ret_tid, int *ret_notify_fd,
		       uint64_t *ret_id);

/*
 * Open the maps of the caller whose notification @w's worker is deciding, for
 * fuse_abort_stuck(): while that worker waits in the caller's memory the
 * memory lives on, and PROCMAP_QUERY through this file still reads it once
 * the caller is gone and reaped (a hostile caller may die to hide what holds
 * the worker). Opened before ID_VALID. A new fd, and in *@ret_id the
 * notification it is for; or a negative errno. Any thread (the watchdog, when
 * it holds a stuck worker).
 */
int caller_watch_keep_maps(const struct caller_watch *w, uint64_t *ret_id);

/* A worker still stuck at shutdown, copied out of its shard. */
struct stuck_worker {
	unsigned index;
	char name[CONTAINER_NAME_MAX + 1]; /* the container of the caller, "" when unnamed */
	uint64_t busy_ms;
	pid_t tid; /* 0: it decides no notification (nothing to find) */
	int notify_fd;
	uint64_t id;
	uint64_t start, end; /* the copy in progress; end == 0: none */
	int kept_maps_fd;    /* caller_watch_keep_maps() of its hold, or -EBADF */
};

/*
 * Abort the FUSE connections that hold the @n workers of @stuck, logging each
 * with the reason, and the workers for which none is found. Returns how many
 * connections were aborted. Any thread; blocks only in /proc reads of the
 * callers (killable).
 */
unsigned fuse_abort_stuck(const struct stuck_worker *stuck, size_t n);

/* A device number as /proc/TID/maps and mountinfo show it. */
struct fuse_dev {
	unsigned major, minor;
};

/* How fuse_mapped_devs() attributed a wait. */
enum fuse_found {
	FUSE_FOUND_BY_RANGE,    /* the files mapped under the range being copied */
	FUSE_FOUND_BY_MAPPINGS, /* no range, or nothing mapped there: every file mapped */
};

/*
 * The devices of the files that a caller whose /proc/TID/maps text is @maps
 * (NUL-terminated) maps under [@start, @end), or, when @end is 0 or nothing is
 * mapped there, under any of its mappings (*@how says which). Anonymous
 * mappings (device 0:0) are left out; which of the others are FUSE
 * connections is fusectl's to say. At most @max, each once, into @out;
 * returns the count. Pure.
 */
size_t fuse_mapped_devs(const char *maps, uint64_t start, uint64_t end, struct fuse_dev *out,
			size_t max, enum fuse_found *how);

/*
 * The file system type and mount point (as escaped there, cut to the sizes)
 * of the first mount of device @dev in the mountinfo text @mountinfo; false
 * when none is mounted there. Pure.
 */
bool fuse_mount_of(const char *mountinfo, struct fuse_dev dev, char *fstype, size_t fstype_size,
		   char *mountpoint, size_t mountpoint_size);

/*
 * Whether shutdown may abort FUSE connection @dev, which may hold a stuck
 * worker: only if the host does not mount it, as @host_mountinfo (the mount
 * tables of the daemon's namespace and of the host's init, one after the
 * other; NULL: unknown) shows. A caller cannot get a FUSE server that others
 * use (lxcfs, a user's sshfs) aborted by mapping one of its files, neither
 * beside its own nor over the range being read: the worker waits with the
 * caller's mm unlocked, so what that range shows at shutdown is the caller's
 * choice. Pure.
 */
bool fuse_may_abort(struct fuse_dev dev, const char *host_mountinfo);
