/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Caller facts for the handlers: the trapped task, opened and pinned.
 *
 * Owns: parsing /proc/TID/status and uid_map/gid_map with bounded stack
 * buffers, opening the trapped task's /proc directory (and, only when one of
 * its fds is needed, a pidfd with the PIDFD_THREAD fallback) and placing its
 * user namespace relative to the container. Path resolution inside its root
 * lives in target_path.c, namespace identities in target_ns.c and the
 * credential switch in target_creds.c.
 *
 * Called from worker threads, one notification at a time per thread. No
 * locks, no allocation; its only state is per thread: the last caller's
 * /proc directory and status file, kept open (struct kept_caller). The
 * daemon's own namespaces are target_ns.c's; the container init's user
 * namespace is cached in the listener's handler_cache.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/target.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define LINE_BUF_SIZE 4096

/* PIDFD_GET_INFO (Linux 6.13), its first version; spelled out for older headers. */
struct target_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid;
	uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define TARGET_PIDFD_INFO_PID (1ULL << 0)
#define TARGET_PIDFD_INFO_CREDS (1ULL << 1)
#define TARGET_PIDFD_GET_INFO _IOWR(0xFF, 11, struct target_pidfd_info)

/* ---- /proc/PID/status ---- */

static int parse_ulongs(const char *s, int base, unsigned long *v, size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (;;) {
		char *end;
		unsigned long x;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (*s < '0' || *s > 'f')
			return -EINVAL;
		errno = 0;
		x = strtoul(s, &end, base);
		if (errno || end == s || (*end && *end != ' ' && *end != '\t'))
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		v[n++] = x;
		s = end;
	}
	*ret_n = n;
	return 0;
}

static int parse_ids(const char *s, unsigned *a, unsigned *b, unsigned *c, unsigned *d)
{
	unsigned long v[4];
	size_t n;

	if (parse_ulongs(s, 10, v, 4, &n) < 0 || n != 4)
		return -EINVAL;
	*a = (unsigned)v[0], *b = (unsigned)v[1], *c = (unsigned)v[2], *d = (unsigned)v[3];
	return 0;
}

static int parse_groups(struct target_status *st, const char *s)
{
	unsigned long v[TARGET_GROUPS_MAX];
	size_t n;
	int r;

	r = parse_ulongs(s, 10, v, TARGET_GROUPS_MAX, &n);
	if (r == -E2BIG) {
		st->groups_overflow = true;
		st->n_groups = 0;
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		st->groups[i] = (gid_t)v[i];
	st->n_groups = n;
	st->groups_overflow = false;
	return 0;
}

static int parse_nspid(struct target_status *st, const char *s)
{
	unsigned long v[TARGET_NSPID_MAX];
	size_t n;

	if (parse_ulongs(s, 10, v, TARGET_NSPID_MAX, &n) < 0 || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		st->nspid[i] = (pid_t)v[i];
	st->n_nspid = n;
	return 0;
}

static int parse_one(const char *s, int base, unsigned long *ret)
{
	size_t n;

	if (parse_ulongs(s, base, ret, 1, &n) < 0 || n != 1)
		return -EINVAL;
	return 0;
}

int target_status_parse_line(struct target_status *st, const char *line)
{
	size_t klen = 0;
	const char *v;
	unsigned long x;
	int r = 0;

	/* keys are a few bytes: a plain loop, not strchr(), on each of some 55 lines a call */
	while (line[klen] != ':' && line[klen] != '\0')
		klen++;
	if (line[klen] == '\0')
		return 0;
	v = line + klen + 1;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(line, k, klen) == 0)
	if (KEY("Pid")) {
		r = parse_one(v, 10, &x);
		st->pid = (pid_t)x;
		st->seen |= r == 0 ? TARGET_HAS_PID : 0;
	} else if (KEY("Tgid")) {
		r = parse_one(v, 10, &x);
		st->tgid = (pid_t)x;
		st->seen |= r == 0 ? TARGET_HAS_TGID : 0;
	} else if (KEY("Uid")) {
		r = parse_ids(v, &st->uid, &st->euid, &st->suid, &st->fsuid);
		st->seen |= r == 0 ? TARGET_HAS_UID : 0;
	} else if (KEY("Gid")) {
		r = parse_ids(v, &st->gid, &st->egid, &st->sgid, &st->fsgid);
		st->seen |= r == 0 ? TARGET_HAS_GID : 0;
	} else if (KEY("CapEff")) {
		r = parse_one(v, 16, &x);
		st->cap_eff = x;
		st->seen |= r == 0 ? TARGET_HAS_CAPEFF : 0;
	} else if (KEY("CapInh")) {
		r = parse_one(v, 16, &x);
		st->cap_inh = x;
	} else if (KEY("CapPrm")) {
		r = parse_one(v, 16, &x);
		st->cap_prm = x;
	} else if (KEY("CapBnd")) {
		r = parse_one(v, 16, &x);
		st->cap_bnd = x;
	} else if (KEY("CapAmb")) {
		r = parse_one(v, 16, &x);
		st->cap_amb = x;
	} else if (KEY("Umask")) {
		r = parse_one(v, 8, &x);
		if (r == 0 && x > 0777)
			r = -EINVAL;
		st->umask = (mode_t)x;
		st->seen |= r == 0 ? TARGET_HAS_UMASK : 0;
	} else if (KEY("NSpid")) {
		r = parse_nspid(st, v);
		st->seen |= r == 0 ? TARGET_HAS_NSPID : 0;
	} else if (KEY("Groups")) {
		r = parse_groups(st, v);
		st->seen |= r == 0 ? TARGET_HAS_GROUPS : 0;
	}
#undef KEY
	return r;
}

int target_status_parse(struct target_status *st, char *text)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int r = target_status_parse_line(st, line);

		if (r < 0)
			return r;
	}
	return 0;
}

typedef int line_fn(void *userdata, const char *line);

/* How a file below /proc ends. */
enum proc_file_kind {
	PROC_FILE_ANY,    /* a read of 0 bytes */
	PROC_FILE_SINGLE, /* one record (single_open): any short read is all there is */
};

/*
 * Stream the lines of the file @fd, from its start, through @fn with one
 * stack buffer. A line longer than the buffer is skipped and reported to @fn
 * as "" with *ret_skipped set, so fixed-size parsing never sees a truncated
 * line. pread(): a /proc file read again from offset 0 is rendered afresh.
 */
static int read_lines(int fd, enum proc_file_kind kind, line_fn *fn, void *userdata,
		      bool *ret_skipped)
{
	char buf[LINE_BUF_SIZE];
	size_t have = 0;
	off_t offset = 0;
	bool skipping = false, eof = false;

	*ret_skipped = false;
	while (!eof) {
		const size_t want = sizeof(buf) - 1 - have;
		ssize_t n = pread(fd, buf + have, want, offset);
		size_t start = 0;

		if (n < 0)
			return errno == ESRCH ? -ENOENT : negative_errno();
		offset += n;
		/* seq_file renders a single record whole: a short read saves the read of 0 */
		eof = n == 0 || (kind == PROC_FILE_SINGLE && (size_t)n < want);
		have += (size_t)n;
		for (char *nl; (nl = memchr(buf + start, '\n', have - start)) != NULL;
		     start = (size_t)(nl - buf) + 1) {
			int r;

			*nl = '\0';
			if (!skipping && (r = fn(userdata, buf + start)) < 0)
				return r;
			skipping = false;
		}
		if (eof && start < have && !skipping) {
			buf[have] = '\0';
			return fn(userdata, buf + start);
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == sizeof(buf) - 1) {
			/* an overlong line: drop what we have, skip to its end */
			skipping = true;
			*ret_skipped = true;
			have = 0;
		}
	}
	return 0;
}

/* @name below @dfd, opened for read_lines(). */
static int open_below(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
	return fd;
}

static int status_line(void *userdata, const char *line)
{
	return target_status_parse_line(userdata, line);
}

int target_status_read(int proc_dfd, struct target_status *ret)
{
	_cleanup_close_ int fd = open_below(proc_dfd, "status");

	if (fd < 0)
		return fd;
	return target_status_read_fd(fd, ret);
}

int target_status_read_fd(int status_fd, struct target_status *ret)
{
	struct target_status st = {};
	bool skipped;
	int r;

	r = read_lines(status_fd, PROC_FILE_SINGLE, status_line, &st, &skipped);
	if (r < 0)
		return r;
	if ((st.seen & TARGET_HAS_REQUIRED) != TARGET_HAS_REQUIRED)
		return -EIO;
	if (!(st.seen & TARGET_HAS_GROUPS)) {
		/* Groups: was longer than our buffer: use no supplementary groups */
		st.groups_overflow = true;
		st.n_groups = 0;
	}
	*ret = st;
	return 0;
}

/* ---- uid_map / gid_map ---- */

struct map_query {
	uint32_t id;
	bool found;
};

static int map_line(void *userdata, const char *line)
{
	struct map_query *q = userdata;
	unsigned long v[3];
	size_t n = 0;

	if (parse_ulongs(line, 10, v, 3, &n) < 0 || n != 3)
		return n == 0 ? 0 : -EINVAL;
	/* inside outside count: host id q->id is mapped if in [outside, outside + count) */
	if (q->id >= v[1] && (uint64_t)q->id < (uint64_t)v[1] + v[2])
		q->found = true;
	return 0;
}

static int id_in_map(int proc_dfd, const char *name, uint32_t id)
{
	_cleanup_close_ int fd = open_below(proc_dfd, name);
	struct map_query q = { .id = id };
	bool skipped;
	int r;

	if (fd < 0)
		return fd;
	r = read_lines(fd, PROC_FILE_ANY, map_line, &q, &skipped);
	if (r < 0)
		return r;
	return q.found;
}

int target_ids_mapped(const struct target *t, uid_t uid, gid_t gid)
{
	int r = id_in_map(t->proc_dfd, "uid_map", uid);

	if (r <= 0)
		return r;
	return id_in_map(t->proc_dfd, "gid_map", gid);
}

/* ---- opening the target ---- */

/* Is the user ns of @proc_dfd a direct child of ours (init_pid unknown)? */
static int userns_is_child_of_ours(int proc_dfd)
{
	_cleanup_close_ int ns_fd = openat(proc_dfd, "ns/user", O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int parent_fd = -EBADF;
	struct ns_ident parent, ours;
	int r;

	if (ns_fd < 0)
		return negative_errno();
	parent_fd = ioctl(ns_fd, NS_GET_PARENT);
	if (parent_fd < 0)
		return errno == EPERM ? 0 : negative_errno();
	r = ns_ident_at(parent_fd, "", &parent);
	if (r < 0)
		return r;
	r = target_own_ns(TARGET_NS_USER, &ours);
	if (r < 0)
		return r;
	return ns_ident_equal(&parent, &ours);
}

/*
 * The container's initial user namespace: the owner of its init's pid namespace,
 * cached per listener. Not the init's own user namespace: an init may move itself
 * into a nested one (unshare -Ur) before we first look, but never out of its pid
 * namespace, which runc, crun and LXC create with or after the user namespace.
 * The identity of a namespace outlives a recycled pid. -ENOENT/-ESRCH when the
 * init is gone, -EPERM when that owner is above our own user namespace.
 */
static int init_userns_ident(const struct notif_ctx *ctx, struct ns_ident *ret)
{
	struct handler_cache *cache = ctx->cache;
	_cleanup_close_ int pidns_fd = -EBADF, owner_fd = -EBADF;
	char path[64];
	int r;

	if (cache && cache->init_userns_of == ctx->init_pid) {
		*ret = cache->init_userns;
		return 0;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)ctx->init_pid);
	pidns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pidns_fd < 0)
		return negative_errno();
	owner_fd = ioctl(pidns_fd, NS_GET_USERNS);
	if (owner_fd < 0)
		return negative_errno();
	r = ns_ident_at(owner_fd, "", ret);
	if (r < 0)
		return r;
	if (cache) {
		cache->init_userns = *ret;
		cache->init_userns_of = ctx->init_pid;
	}
	return 0;
}

/* 1 when @caller is the container's initial user ns, 0 when not, or a negative errno. */
static int is_container_userns(const struct notif_ctx *ctx, const struct target *t,
			       const struct ns_ident *caller, const struct ns_ident *ours)
{
	struct ns_ident init;
	int r;

	if (ctx->init_pid <= 0)
		return userns_is_child_of_ours(t->proc_dfd);
	r = init_userns_ident(ctx, &init);
	if (r == -ENOENT || r == -ESRCH)
		return 0; /* init gone before we ever saw it: nobody is in its initial user ns */
	/* no pid namespace of its own: as for an unknown init */
	if (r == -EPERM || (r == 0 && ns_ident_equal(&init, ours)))
		return userns_is_child_of_ours(t->proc_dfd);
	if (r < 0)
		return r;
	return ns_ident_equal(caller, &init);
}

static int place_userns(const struct notif_ctx *ctx, struct target *t)
{
	struct ns_ident caller, ours;
	int r;

	r = target_own_ns(TARGET_NS_USER, &ours);
	if (r < 0)
		return r;
	r = target_ns_of(t->proc_dfd, TARGET_NS_USER, &caller);
	if (r < 0)
		return r;
	t->userns_id = caller;
	if (ns_ident_equal(&caller, &ours)) {
		t->userns = TARGET_USERNS_HOST;
		return 0;
	}
	r = is_container_userns(ctx, t, &caller, &ours);
	if (r < 0)
		return r;
	t->userns = r > 0 ? TARGET_USERNS_CONTAINER : TARGET_USERNS_OTHER;
	return 0;
}

/* A pidfd for the trapped task, opened by tid: check the notification before trusting it. */
static int open_pidfd(const struct target *t)
{
	int fd;

	fd = pidfd_open(t->tid, PIDFD_THREAD);
	if (fd < 0 && errno == EINVAL)
		fd = pidfd_open(t->tid, 0); /* kernel without PIDFD_THREAD: fine for a leader */
	if (fd < 0 && errno == EINVAL)
		fd = pidfd_open(t->st.tgid, 0); /* a non-leader there: use its thread group */
	if (fd >= 0)
		return fd;
	return errno == ESRCH ? -ENOENT : negative_errno();
}

/*
 * The last caller this thread served: its /proc/TID directory and status
 * file, left open by target_close() for the next target_open() of the same
 * tid. A worker serves the same few callers over and over, and opening and
 * closing both each time costs about a twentieth of an emulated mknod.
 *
 * Keeping them is safe because they are bound to the caller's struct pid, not
 * to its number. The task holding that struct pid always has that tid (an
 * exec hands the struct pid of the leader over to the thread that takes the
 * leader's tid), and no two live tasks share a tid; so while a lookup or a
 * read through them works, they name the task that trapped with that tid.
 * Once that task is reaped, every lookup and read through them fails (ESRCH,
 * ENOENT): a new task that got the same tid is then opened afresh.
 *
 * Per thread, so no lock. target_open() takes the fds out and target_close()
 * puts them back, so that they have one owner at a time. They stay open when
 * the thread ends (worker threads live as long as the daemon).
 */
struct kept_caller {
	pid_t tid; /* 0: nothing kept */
	int proc_dfd;
	int status_fd;
};

static __thread struct kept_caller kept = { .proc_dfd = -EBADF, .status_fd = -EBADF };

static void kept_drop(void)
{
	if (kept.tid == 0)
		return;
	(void)close_nointr(kept.proc_dfd);
	(void)close_nointr(kept.status_fd);
	kept = (struct kept_caller){ .proc_dfd = -EBADF, .status_fd = -EBADF };
}

/* Move what is kept for t->tid into @t. */
static bool kept_take(struct target *t)
{
	if (kept.tid == 0 || kept.tid != t->tid)
		return false;
	t->proc_dfd = TAKE_FD(kept.proc_dfd);
	t->status_fd = TAKE_FD(kept.status_fd);
	kept.tid = 0;
	return true;
}

/* /proc/TID and its status file, opened by tid: only an ID_VALID check after this pins them. */
static int open_by_tid(struct target *t)
{
	char path[32];

	(void)snprintf(path, sizeof(path), "/proc/%d", (int)t->tid);
	t->proc_dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->proc_dfd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
	t->status_fd = open_below(t->proc_dfd, "status");
	return t->status_fd < 0 ? t->status_fd : 0;
}

static void close_proc_files(struct target *t)
{
	if (t->proc_dfd >= 0 && t->is_by_tid)
		(void)close_nointr(t->proc_dfd);
	if (t->status_fd >= 0)
		(void)close_nointr(t->status_fd);
	t->proc_dfd = t->status_fd = -EBADF;
}

/*
 * The caller's /proc directory and status file, pinned: opened by tid (or
 * kept from the last call of this tid), then the notification is checked
 * (@is_checked; else the handler checks it after its last read by tid), then
 * the status read. What was kept for a task reaped since fails the read: then
 * opened afresh.
 */
static int pin_by_tid(const struct notif_ctx *ctx, struct target *t, bool is_checked)
{
	const bool is_kept = kept_take(t);
	int r;

	t->is_by_tid = true;
	if (!is_kept && (r = open_by_tid(t)) < 0)
		return r;
	/* once checked, proc_dfd names the task that trapped (see struct kept_caller) */
	if (is_checked && (r = notify_id_valid(ctx->notify_fd, ctx->req->id)) < 0)
		return r;
	r = target_status_read_fd(t->status_fd, &t->st);
	if (r == -ENOENT && is_kept) {
		close_proc_files(t);
		/* nothing is kept now: this opens by tid */
		return pin_by_tid(ctx, t, is_checked);
	}
	return r;
}

/* LXC's /proc/PID directory: the intake checked the thread group; the creds are the thread's. */
static int pin_given(const struct notif_ctx *ctx, struct target *t, bool is_checked)
{
	int r;

	t->proc_dfd = ctx->proc_fd;
	if (is_checked && (r = notify_id_valid(ctx->notify_fd, ctx->req->id)) < 0)
		return r;
	t->status_fd = open_below(t->proc_dfd, "status");
	if (t->status_fd < 0)
		return t->status_fd;
	r = target_status_read_fd(t->status_fd, &t->st);
	if (r < 0)
		return r;
	if (!(t->st.seen & TARGET_HAS_PID) || t->st.pid != t->tid)
		return -EBADFD;
	return 0;
}

static int open_target(const struct notif_ctx *ctx, struct target *t, bool is_checked)
{
	int r;

	*t = (struct target){ .tid = (pid_t)ctx->req->pid, .proc_dfd = -EBADF,
			      .status_fd = -EBADF, .notify_fd = ctx->notify_fd,
			      .notif_id = ctx->req->id };
	/* a thread whose own credentials could not be restored acts for nobody */
	if (!target_creds_thread_usable())
		return -ENOTRECOVERABLE;
	r = ctx->proc_fd >= 0 ? pin_given(ctx, t, is_checked) : pin_by_tid(ctx, t, is_checked);
	if (r < 0)
		return r;
	return place_userns(ctx, t);
}

int target_open(const struct notif_ctx *ctx, struct target *t)
{
	return open_target(ctx, t, true);
}

int target_open_unchecked(const struct notif_ctx *ctx, struct target *t)
{
	return open_target(ctx, t, false);
}

void target_close(struct target *t)
{
	if (t->is_by_tid && t->proc_dfd >= 0 && t->status_fd >= 0) {
		kept_drop();
		kept = (struct kept_caller){ .tid = t->tid, .proc_dfd = TAKE_FD(t->proc_dfd),
					     .status_fd = TAKE_FD(t->status_fd) };
	}
	close_proc_files(t);
	t->is_by_tid = false;
}

int target_pidfd_unchecked(const struct target *t)
{
	return open_pidfd(t);
}

/*
 * What target_status_read() gives of the task @pidfd (a PIDFD_THREAD one of
 * t->tid) pins, without the status file: ids and tgid from PIDFD_GET_INFO,
 * the capability sets from capget() by tid. No groups (groups_overflow: none
 * used), umask or NSpid. -ENOTTY where the kernel has no PIDFD_GET_INFO.
 */
static int status_by_pidfd(int pidfd, pid_t tid, struct target_status *ret)
{
	struct target_pidfd_info i = { .mask = TARGET_PIDFD_INFO_PID | TARGET_PIDFD_INFO_CREDS };
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = tid };
	struct __user_cap_data_struct caps[2] = {};

	if (ioctl(pidfd, TARGET_PIDFD_GET_INFO, &i) < 0 || syscall(SYS_capget, &hdr, caps) < 0)
		return errno == ESRCH ? -ENOENT : negative_errno();
	if ((i.mask & TARGET_PIDFD_INFO_CREDS) == 0 || i.pid != (uint32_t)tid)
		return -EIO;
	*ret = (struct target_status){
		.seen = TARGET_HAS_PID | TARGET_HAS_TGID | TARGET_HAS_UID | TARGET_HAS_GID |
			TARGET_HAS_CAPEFF,
		.pid = (pid_t)i.pid, .tgid = (pid_t)i.tgid,
		.uid = i.ruid, .euid = i.euid, .suid = i.suid, .fsuid = i.fsuid,
		.gid = i.rgid, .egid = i.egid, .sgid = i.sgid, .fsgid = i.fsgid,
		.cap_eff = caps[0].effective | (uint64_t)caps[1].effective << 32,
		.cap_prm = caps[0].permitted | (uint64_t)caps[1].permitted << 32,
		.cap_inh = caps[0].inheritable | (uint64_t)caps[1].inheritable << 32,
		.groups_overflow = true,
	};
	return 0;
}

/* The light half of target_open_with_pidfd(); -ENOTTY/-EINVAL: the kernel cannot. */
static int open_with_pidfd(const struct notif_ctx *ctx, struct target *t, int *ret_pidfd)
{
	_cleanup_close_ int pidfd = -EBADF;
	char path[32];
	int r;

	*t = (struct target){ .tid = (pid_t)ctx->req->pid, .proc_dfd = -EBADF,
			      .status_fd = -EBADF, .is_by_tid = true,
			      .notify_fd = ctx->notify_fd, .notif_id = ctx->req->id };
	if (!target_creds_thread_usable())
		return -ENOTRECOVERABLE;
	/* opened afresh, not kept: no status file to tell that a kept one went stale */
	(void)snprintf(path, sizeof(path), "/proc/%d", (int)t->tid);
	t->proc_dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->proc_dfd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : negative_errno();
	pidfd = pidfd_open(t->tid, PIDFD_THREAD);
	if (pidfd < 0)
		return errno == ESRCH ? -ENOENT : negative_errno();
	r = status_by_pidfd(pidfd, t->tid, &t->st);
	if (r == 0)
		r = place_userns(ctx, t);
	if (r < 0)
		return r;
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

int target_open_with_pidfd(const struct notif_ctx *ctx, struct target *t, int *ret_pidfd)
{
	int r = ctx->proc_fd >= 0 ? -EINVAL : open_with_pidfd(ctx, t, ret_pidfd);

	if (r != -ENOTTY && r != -EINVAL)
		return r;
	/* LXC's /proc directory, or a kernel before 6.13: the status file, and a pidfd */
	target_close(t);
	r = open_target(ctx, t, false);
	if (r < 0)
		return r;
	*ret_pidfd = open_pidfd(t);
	return 0;
}

int target_pidfd(const struct target *t)
{
	_cleanup_close_ int pidfd = open_pidfd(t);
	int r;

	if (pidfd < 0)
		return pidfd;
	/* opened by tid after target_open()'s check: the tid could have been reused since */
	r = notify_id_valid(t->notify_fd, t->notif_id);
	if (r < 0)
		return r;
	return TAKE_FD(pidfd);
}

int target_getfd_by_pidfd(int pidfd, int fd)
{
	if (fd < 0)
		return -EBADF;
	return RET_NERRNO((int)syscall(SYS_pidfd_getfd, pidfd, fd, 0));
}

int target_getfd(const struct target *t, int fd)
{
	_cleanup_close_ int pidfd = -EBADF;
	char name[32];
	int r;

	if (fd < 0)
		return -EBADF;
	pidfd = target_pidfd(t);
	r = pidfd >= 0 ? target_getfd_by_pidfd(pidfd, fd) : pidfd;
	if (r != -ENOSYS)
		return r;
	(void)snprintf(name, sizeof(name), "fd/%d", fd);
	r = openat(t->proc_dfd, name, O_PATH | O_CLOEXEC);
	if (r < 0)
		return errno == ENOENT ? -EBADF : negative_errno();
	return r;
}
