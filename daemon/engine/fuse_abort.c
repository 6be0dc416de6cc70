/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the workers do in callers, and the shutdown step that ends their waits
 * on FUSE servers (fuse_abort.h).
 *
 * Each worker thread writes its own struct caller_watch (in its shard)
 * through a thread-local pointer, so the hot path takes no lock: a few
 * relaxed stores per notification and per copy. fuse_abort_stuck() runs at
 * shutdown only, on a helper thread of main (pool_stop()), once the workers
 * it is given have been stuck past a grace. It finds what a worker waits on
 * from the caller's /proc/TID/maps: the device of the file mapped under the
 * range being copied, which is a FUSE connection when fusectl has a directory
 * of that number; if the caller is gone, from the maps the watchdog kept open
 * when it held the worker (PROCMAP_QUERY needs the mm, which the waiting
 * worker keeps, not the task). When no mapping is under the range (none
 * recorded, or unmapped since), the FUSE files the caller maps are the
 * candidates. Either way, none that the host mounts (the daemon's namespace
 * or the host's init) is aborted (a shared server such as lxcfs): the worker
 * waits with the caller's mm unlocked, so the caller may have mapped anything
 * over the range since.
 * fusectl is mounted detached (fsopen/fsmount): nothing appears in any mount
 * namespace, a read-only /sys does not matter, and nothing is forked from
 * this multi-threaded process. The FUSE file system itself is never touched
 * (a stat would wait for the same server).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/engine/fuse_abort.h"
#include "daemon/engine/notify.h"
#include "daemon/fileio.h"
#include "daemon/log.h"
#include "daemon/macro.h"

/*
 * The most devices looked at for one worker: a caller whose mappings span
 * more file systems hides the rest from the fallback (the range has one or two).
 */
#define DEVS_MAX 1024
/* A caller's maps or mountinfo larger than this is not read (65530 mappings take about 6 MiB). */
#define PROC_TEXT_MAX (32u << 20)

/* The calling worker's record, or NULL: set once when the worker starts. */
static _Thread_local struct caller_watch *watched;

void caller_watch_thread(struct caller_watch *w)
{
	watched = w;
	procmem_track(w ? &w->range : NULL);
}

void caller_watch_begin(pid_t tid, int notify_fd, uint64_t id)
{
	if (!watched)
		return;
	/* tid works as a sequence word: a reader that sees it move drops what it read */
	atomic_store_explicit(&watched->tid, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&watched->notify_fd, notify_fd, memory_order_relaxed);
	atomic_store_explicit(&watched->id, id, memory_order_relaxed);
	atomic_store_explicit(&watched->tid, tid, memory_order_release);
}

void caller_watch_end(void)
{
	if (watched)
		atomic_store_explicit(&watched->tid, 0, memory_order_relaxed);
}

/* The next line of the text at *@at: its start and length; false at the end. */
static bool next_line(const char **at, const char **ret_line, size_t *ret_len)
{
	const char *line = *at, *nl;

	if (!*line)
		return false;
	nl = strchrnul(line, '\n');
	*ret_line = line;
	*ret_len = (size_t)(nl - line);
	*at = *nl ? nl + 1 : nl;
	return true;
}

/* Copy at most @size - 1 bytes of the @len at @src into @dst, NUL-terminated. */
static void copy_cut(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void dev_add(struct fuse_dev *set, size_t *n, size_t max, struct fuse_dev d)
{
	for (size_t i = 0; i < *n; i++)
		if (set[i].major == d.major && set[i].minor == d.minor)
			return;
	if (*n < max)
		set[(*n)++] = d;
}

/*
 * The devices of the mappings that overlap [@start, @end) of a caller, from
 * @source, into @out; *@ret_overlapping counts those mappings, anonymous ones
 * included (device 0:0: left out; a file whose server says inode 0 still has
 * its device).
 */
typedef size_t devs_under_fn(const void *source, uint64_t start, uint64_t end,
			     struct fuse_dev *out, size_t max, size_t *ret_overlapping);

/* devs_under_fn of a maps text. */
static size_t text_devs_under(const void *source, uint64_t start, uint64_t end,
			      struct fuse_dev *out, size_t max, size_t *ret_overlapping)
{
	const char *at = source, *line;
	size_t len, n = 0;

	*ret_overlapping = 0;
	while (next_line(&at, &line, &len)) {
		char head[128]; /* "start-end perms offset major:minor ...": within 80 characters */
		uint64_t s, e;
		struct fuse_dev d;

		copy_cut(head, sizeof(head), line, len);
		if (sscanf(head, "%" SCNx64 "-%" SCNx64 " %*s %*x %x:%x", &s, &e, &d.major,
			   &d.minor) != 4 || e <= start || s >= end)
			continue;
		++*ret_overlapping;
		if (d.major || d.minor)
			dev_add(out, &n, max, d);
	}
	return n;
}

/* devs_under_fn of a maps file (an int fd) by PROCMAP_QUERY, which needs the mm, not the task. */
static size_t queried_devs_under(const void *source, uint64_t start, uint64_t end,
				 struct fuse_dev *out, size_t max, size_t *ret_overlapping)
{
	int maps_fd = *(const int *)source;
	struct procmem_mapping m;
	size_t n = 0;

	*ret_overlapping = 0;
	for (uint64_t at = start; at < end; at = m.end) {
		if (procmem_query_mapping(maps_fd, at, &m) < 0 || m.start >= end || m.end <= at)
			break;
		++*ret_overlapping;
		if (m.dev_major || m.dev_minor)
			dev_add(out, &n, max, (struct fuse_dev){ m.dev_major, m.dev_minor });
	}
	return n;
}

/* fuse_mapped_devs() from either source. */
static size_t devs_attributed(devs_under_fn *under, const void *source, uint64_t start,
			      uint64_t end, struct fuse_dev *out, size_t max, enum fuse_found *how)
{
	size_t overlapping, n;

	*how = FUSE_FOUND_BY_RANGE;
	if (end > start) {
		n = under(source, start, end, out, max, &overlapping);
		if (overlapping > 0)
			return n;
	}
	/* nothing to go by (the range is unmapped by now, or no copy was recorded) */
	*how = FUSE_FOUND_BY_MAPPINGS;
	return under(source, 0, UINT64_MAX, out, max, &overlapping);
}

size_t fuse_mapped_devs(const char *maps, uint64_t start, uint64_t end, struct fuse_dev *out,
			size_t max, enum fuse_found *how)
{
	return devs_attributed(text_devs_under, maps, start, end, out, max, how);
}

/* Field @index (0-based) of the space-separated @line of @len bytes: its start and length. */
static bool field(const char *line, size_t len, unsigned index, const char **ret, size_t *ret_len)
{
	size_t i = 0;

	for (unsigned f = 0;; f++) {
		size_t begin = i;

		while (i < len && line[i] != ' ')
			i++;
		if (f == index) {
			*ret = line + begin;
			*ret_len = i - begin;
			return true;
		}
		if (i++ >= len)
			return false;
	}
}

bool fuse_mount_of(const char *mountinfo, struct fuse_dev dev, char *fstype, size_t fstype_size,
		   char *mountpoint, size_t mountpoint_size)
{
	const char *at = mountinfo, *line;
	size_t len;

	/* "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER" */
	while (next_line(&at, &line, &len)) {
		const char *f, *sep;
		size_t f_len;
		char numbers[32];
		unsigned major, minor;

		if (!field(line, len, 2, &f, &f_len))
			continue;
		copy_cut(numbers, sizeof(numbers), f, f_len);
		if (sscanf(numbers, "%u:%u", &major, &minor) != 2 || major != dev.major ||
		    minor != dev.minor)
			continue;
		/* paths are escaped (a space is \040): the first " - " is the separator */
		sep = memmem(line, len, " - ", 3);
		if (!sep || !field(sep + 3, len - (size_t)(sep + 3 - line), 0, &f, &f_len))
			continue;
		copy_cut(fstype, fstype_size, f, f_len);
		if (field(line, len, 4, &f, &f_len))
			copy_cut(mountpoint, mountpoint_size, f, f_len);
		return true;
	}
	return false;
}

/* A fusectl mount that belongs to no mount namespace: its root fd, or a negative errno. */
static int fusectl_open(void)
{
	_cleanup_close_ int fs = -EBADF;
	int mnt;

	fs = (int)syscall(SYS_fsopen, "fusectl", FSOPEN_CLOEXEC);
	if (fs < 0)
		return negative_errno();
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return negative_errno();
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	return mnt < 0 ? negative_errno() : mnt;
}

/* Open "/proc/TID/@what" of @s's caller into *@ret_fd. */
static int open_caller_file(const struct stuck_worker *s, const char *what, int *ret_fd)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)s->tid, what);
	*ret_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return *ret_fd < 0 ? negative_errno() : 0;
}

/*
 * The text of @s's caller's maps and mountinfo (free() both). Opened before
 * ID_VALID: while the notification is pending its task is alive, so the
 * number still names it, and the files opened name it for good.
 */
static int read_caller(const struct stuck_worker *s, char **ret_maps, char **ret_mountinfo)
{
	_cleanup_close_ int maps_fd = -EBADF, mountinfo_fd = -EBADF;
	size_t len;
	int r;

	r = open_caller_file(s, "maps", &maps_fd);
	if (r >= 0)
		r = open_caller_file(s, "mountinfo", &mountinfo_fd);
	if (r >= 0)
		r = notify_id_valid(s->notify_fd, s->id);
	if (r < 0)
		return r;
	r = read_fd_all(maps_fd, PROC_TEXT_MAX, ret_maps, &len);
	if (r < 0)
		return r;
	r = read_fd_all(mountinfo_fd, PROC_TEXT_MAX, ret_mountinfo, &len);
	if (r < 0) {
		free(*ret_maps);
		*ret_maps = NULL;
	}
	return r;
}

bool fuse_may_abort(struct fuse_dev dev, const char *host_mountinfo)
{
	char fstype[8], mountpoint[8];

	return host_mountinfo && !fuse_mount_of(host_mountinfo, dev, fstype, sizeof(fstype),
						mountpoint, sizeof(mountpoint));
}

/* What the aborts of one shutdown share. */
struct abort_ctx {
	int fusectl;               /* the root of a detached fusectl mount */
	const char *host_mountinfo; /* host_mountinfo_read(), or NULL when unreadable */
};

/* fusectl's file @what of connection @dev, opened with @flags, or a negative errno. */
static int fusectl_file(const struct abort_ctx *ctx, struct fuse_dev dev, const char *what,
			int flags)
{
	char name[32];
	int fd;

	(void)snprintf(name, sizeof(name), "%u%s", (dev.major << 20) | dev.minor, what);
	fd = openat(ctx->fusectl, name, flags | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? negative_errno() : fd;
}

/* Whether @dev is a FUSE connection: fusectl has a directory of its number. */
static bool is_fuse_conn(const struct abort_ctx *ctx, struct fuse_dev dev)
{
	_cleanup_close_ int fd = fusectl_file(ctx, dev, "", O_RDONLY | O_DIRECTORY);

	return fd >= 0;
}

static int abort_conn(const struct abort_ctx *ctx, struct fuse_dev dev)
{
	_cleanup_close_ int fd = fusectl_file(ctx, dev, "/abort", O_WRONLY);

	if (fd < 0)
		return fd;
	return write_all(fd, "1", 1);
}

/* How connection @dev shows in @mountinfo (NULL: the caller's is gone), into @where. */
static void describe_conn(const char *mountinfo, struct fuse_dev dev, char *where, size_t size)
{
	char fstype[32], mountpoint[128];

	if (!mountinfo)
		(void)snprintf(where, size, "the caller is gone: found in the maps kept since the "
			       "worker was held");
	else if (fuse_mount_of(mountinfo, dev, fstype, sizeof(fstype), mountpoint,
			       sizeof(mountpoint)))
		(void)snprintf(where, size, "%s on '%s'", fstype, mountpoint);
	else
		(void)snprintf(where, size, "not mounted where the caller sees it");
}

/* Abort FUSE connection @dev, which may hold worker @s, if that is safe; logs. 1 if aborted. */
static unsigned abort_one(const struct abort_ctx *ctx, const struct stuck_worker *s,
			  struct fuse_dev dev, enum fuse_found how, const char *where)
{
	int r;

	if (!fuse_may_abort(dev, ctx->host_mountinfo)) {
		log_about_errno(LOG_LEVEL_WARNING, 0, s->name, NULL,
				"Not aborting FUSE connection %u:%u (%s) that worker %u may wait on: "
				"the host mounts it too, or that is unknown (others may use it)",
				dev.major, dev.minor, where, s->index);
		return 0;
	}
	r = abort_conn(ctx, dev);
	if (r < 0) {
		log_about_errno(LOG_LEVEL_ERROR, r, s->name, NULL,
				"Cannot abort FUSE connection %u:%u (%s) that holds worker %u: %m",
				dev.major, dev.minor, where, s->index);
		return 0;
	}
	log_about_errno(LOG_LEVEL_WARNING, 0, s->name, NULL,
			"Aborting FUSE connection %u:%u (%s) at shutdown: worker %u has waited %llu "
			"ms in a notification of '%s' (pid %d), reading %s", dev.major, dev.minor,
			where, s->index, (unsigned long long)s->busy_ms, s->name, (int)s->tid,
			how == FUSE_FOUND_BY_RANGE ? "a mapping of one of its files" :
			"where no mapping is known: the caller maps its files");
	return 1;
}

/*
 * Abort each FUSE connection among @devs that may hold worker @s, describing
 * it from the caller's @mountinfo (NULL: the caller is gone); how many were.
 */
static unsigned abort_devs(const struct abort_ctx *ctx, const struct stuck_worker *s,
			   const struct fuse_dev *devs, size_t n, enum fuse_found how,
			   const char *mountinfo)
{
	unsigned aborted = 0;

	for (size_t i = 0; i < n; i++) {
		char where[200];

		if (!is_fuse_conn(ctx, devs[i]))
			continue;
		describe_conn(mountinfo, devs[i], where, sizeof(where));
		aborted += abort_one(ctx, s, devs[i], how, where);
	}
	return aborted;
}

/* Log that nothing was found for worker @s when @aborted is 0; returns @aborted. */
static unsigned report_none(const struct stuck_worker *s, unsigned aborted, enum fuse_found how)
{
	if (!aborted)
		log_about_errno(LOG_LEVEL_WARNING, 0, s->name, NULL,
				"Worker %u waits on no FUSE connection of '%s' (pid %d) found in %s",
				s->index, s->name, (int)s->tid, how == FUSE_FOUND_BY_RANGE ?
				"the mapping it reads" : "the files the caller maps");
	return aborted;
}

/* Find and abort what holds worker @s; how many connections were aborted. */
static unsigned abort_for(const struct abort_ctx *ctx, const struct stuck_worker *s)
{
	_cleanup_free_ char *maps = NULL, *mountinfo = NULL;
	struct fuse_dev devs[DEVS_MAX];
	enum fuse_found how;
	size_t n;
	int r;

	if (!s->tid) {
		log_warning("Worker %u is stuck outside any notification: nothing to abort", s->index);
		return 0;
	}
	r = read_caller(s, &maps, &mountinfo);
	if ((r == -ENOENT || r == -ESRCH) && s->kept_maps_fd >= 0) {
		/* it died (and may be reaped): the maps kept at the hold still reach its memory */
		n = devs_attributed(queried_devs_under, &s->kept_maps_fd, s->start, s->end, devs,
				    ARRAY_SIZE(devs), &how);
		return report_none(s, abort_devs(ctx, s, devs, n, how, NULL), how);
	}
	if (r == -ENOENT || r == -ESRCH) {
		log_about_errno(LOG_LEVEL_WARNING, 0, s->name, NULL,
				"Cannot tell what worker %u waits on: its caller in '%s' (pid %d) is gone",
				s->index, s->name, (int)s->tid);
		return 0;
	}
	if (r < 0) {
		log_about_errno(LOG_LEVEL_WARNING, r, s->name, NULL,
				"Cannot tell what worker %u waits on in '%s' (pid %d): %m", s->index,
				s->name, (int)s->tid);
		return 0;
	}
	n = fuse_mapped_devs(maps, s->start, s->end, devs, ARRAY_SIZE(devs), &how);
	return report_none(s, abort_devs(ctx, s, devs, n, how, mountinfo), how);
}

bool caller_watch_read(const struct caller_watch *w, pid_t *ret_tid, int *ret_notify_fd,
		       uint64_t *ret_id)
{
	pid_t tid = atomic_load_explicit(&w->tid, memory_order_acquire);

	*ret_notify_fd = atomic_load_explicit(&w->notify_fd, memory_order_relaxed);
	*ret_id = atomic_load_explicit(&w->id, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	/* the worker went on to another notification meanwhile: the three do not belong together */
	*ret_tid = tid == atomic_load_explicit(&w->tid, memory_order_relaxed) ? tid : 0;
	return *ret_tid != 0;
}

int caller_watch_keep_maps(const struct caller_watch *w, uint64_t *ret_id)
{
	pid_t tid;
	int notify_fd, fd, r;
	uint64_t id;

	if (!caller_watch_read(w, &tid, &notify_fd, &id))
		return -ESRCH;
	fd = procmem_open_maps(-EBADF, tid);
	if (fd < 0)
		return fd;
	/* after the open: while the notification is pending, the number names its caller */
	r = notify_id_valid(notify_fd, id);
	if (r < 0) {
		close_nointr(fd);
		return r;
	}
	*ret_id = id;
	return fd;
}

/* The text of the /proc file at @path into *@ret (free() it) and *@ret_len. */
static int read_proc_text(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? negative_errno() : read_fd_all(fd, PROC_TEXT_MAX, ret, ret_len);
}

/*
 * The mount tables of the daemon's namespace and of the host's init, one
 * after the other (free() it), or NULL: what the host mounts. Not the
 * daemon's alone: the unit's ProtectHome= unmounts /home, /root and /run/user
 * (a user's sshfs, gvfs) from it, which a container may still have bound.
 */
static char *host_mountinfo_read(void)
{
	_cleanup_free_ char *own = NULL, *init = NULL;
	size_t own_len, init_len;
	char *all;

	if (read_proc_text("/proc/self/mountinfo", &own, &own_len) < 0 ||
	    read_proc_text("/proc/1/mountinfo", &init, &init_len) < 0)
		return NULL;
	all = malloc(own_len + 1 + init_len + 1);
	if (all) /* the newline: a table whose last line has none must not run into the next */
		(void)sprintf(all, "%s\n%s", own, init);
	return all;
}

unsigned fuse_abort_stuck(const struct stuck_worker *stuck, size_t n)
{
	_cleanup_free_ char *host_mountinfo = NULL;
	_cleanup_close_ int fusectl = fusectl_open();
	struct abort_ctx ctx = { .fusectl = fusectl };
	unsigned aborted = 0;

	if (fusectl < 0) {
		log_error_errno(fusectl, "Cannot mount fusectl to free %zu stuck worker(s): %m", n);
		return 0;
	}
	host_mountinfo = host_mountinfo_read();
	ctx.host_mountinfo = host_mountinfo;
	for (size_t i = 0; i < n; i++)
		aborted += abort_for(&ctx, &stuck[i]);
	return aborted;
}
