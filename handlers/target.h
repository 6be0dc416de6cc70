/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "handlers/handler.h"

/*
 * Facts about the task that trapped a syscall, and the few privileged moves
 * the handlers make on its behalf. Per-call state lives on the worker's
 * stack; what outlives a call is the listener's handler_cache, one record of
 * the worker thread's own credentials (thread-local) and the daemon's own
 * user namespace (looked up once). No allocation; safe from any worker thread.
 */

/* What a pure decide function answers. */
enum decision_kind {
	DECISION_CONTINUE, /* let the kernel run it with the caller's own privileges */
	DECISION_EMULATE,  /* perform it for the caller */
	DECISION_ERRNO,    /* refuse with .error (negative errno) */
};

struct decision {
	enum decision_kind kind;
	int error; /* negative errno when kind == DECISION_ERRNO */
};

#define DECIDE_CONTINUE ((struct decision){ .kind = DECISION_CONTINUE })
#define DECIDE_EMULATE ((struct decision){ .kind = DECISION_EMULATE })
#define DECIDE_ERRNO(e) ((struct decision){ .kind = DECISION_ERRNO, .error = (e) })

/* Where the caller's user namespace sits relative to the container. */
enum target_userns {
	TARGET_USERNS_HOST,      /* the daemon's own: the kernel decides alone */
	TARGET_USERNS_CONTAINER, /* the container's initial user namespace */
	TARGET_USERNS_OTHER,     /* nested inside the container, or elsewhere */
};

#define TARGET_GROUPS_MAX 64
#define TARGET_NSPID_MAX 8

enum {
	TARGET_HAS_TGID = 1 << 0,
	TARGET_HAS_UID = 1 << 1,
	TARGET_HAS_GID = 1 << 2,
	TARGET_HAS_CAPEFF = 1 << 3,
	TARGET_HAS_UMASK = 1 << 4,
	TARGET_HAS_NSPID = 1 << 5,
	TARGET_HAS_GROUPS = 1 << 6,
	TARGET_HAS_PID = 1 << 7,
	TARGET_HAS_REQUIRED = TARGET_HAS_TGID | TARGET_HAS_UID | TARGET_HAS_GID | TARGET_HAS_CAPEFF,
};

/* The parts of /proc/PID/status the handlers use. IDs are host IDs. */
struct target_status {
	unsigned seen; /* TARGET_HAS_* */
	pid_t pid;     /* in the pid namespace of the proc mount it was read from */
	pid_t tgid;
	uid_t uid, euid, suid, fsuid;
	gid_t gid, egid, sgid, fsgid;
	uint64_t cap_eff;
	uint64_t cap_inh, cap_prm, cap_bnd, cap_amb; /* 0 when absent */
	mode_t umask;
	bool groups_overflow; /* more than TARGET_GROUPS_MAX: we use none (stricter) */
	size_t n_groups;
	gid_t groups[TARGET_GROUPS_MAX];
	size_t n_nspid;
	pid_t nspid[TARGET_NSPID_MAX];
};

/*
 * Parse one NUL-terminated line of /proc/PID/status (without its newline)
 * into @st. Unknown lines are ignored. Returns 0, or -EINVAL for a malformed
 * known line. Pure; used by target_status_read() and the unit tests.
 */
int target_status_parse_line(struct target_status *st, const char *line);

/* Parse a whole status text (lines separated by '\n'); it is modified in place. Pure. */
int target_status_parse(struct target_status *st, char *text);

/*
 * Read and parse "status" below @proc_dfd (a /proc/PID directory fd) with a
 * bounded stack buffer; overlong lines (Groups:) are skipped in a streaming way.
 * -EIO if a required field is missing.
 */
int target_status_read(int proc_dfd, struct target_status *ret);

/* The same from an open status file, read from its start (pread): it may be read again. */
int target_status_read_fd(int status_fd, struct target_status *ret);

static inline bool target_has_cap(const struct target_status *st, int cap)
{
	return cap >= 0 && cap < 64 && (st->cap_eff & ((uint64_t)1 << cap));
}

/*
 * The trapped task. Filled by target_open(); released by target_close().
 * proc_dfd is /proc/TID (or the LXC-provided directory). The notification
 * (notify_fd, notif_id) is kept to pin anything opened by tid later on.
 */
struct target {
	pid_t tid;
	int proc_dfd;
	int status_fd;  /* its status file, owned */
	bool is_by_tid; /* proc_dfd opened by tid (else LXC's): owned, kept by target_close() */
	int notify_fd; /* borrowed from the notif_ctx */
	uint64_t notif_id;
	struct target_status st;
	enum target_userns userns;
	struct ns_ident userns_id; /* the identity of its user namespace, read by target_open() */
};

/*
 * Open /proc/TID (unless ctx->proc_fd is given), then check that the
 * notification is still pending: from then on proc_dfd names the trapped
 * task. Then read its status (a given ctx->proc_fd must be the trapped
 * thread's own: else -EBADFD) and place its user namespace relative to the
 * container's: the owner of the pid namespace of its init (ctx->init_pid;
 * when unknown, or the init has no pid namespace of its own: a direct child
 * of the daemon's user namespace). Returns 0, -ENOENT when the caller went away,
 * -ENOTRECOVERABLE on a thread whose credentials could not be restored, or
 * another negative errno.
 *
 * /proc/TID and its status file are kept open per thread after
 * target_close(), for the next target_open() of the same tid (target.c says
 * why that is safe). Only one struct target per thread holds them at a time.
 */
int target_open(const struct notif_ctx *ctx, struct target *t);
void target_close(struct target *t);

/*
 * target_open() without its ID_VALID check, for a handler that checks once
 * itself after its last open or read by tid and before acting (a check right
 * after this one would have nothing between them). Until that check,
 * everything read through @t may be another task's, one that took the tid of
 * a caller gone meanwhile: it may decide a refusal or a CONTINUE (the answer
 * to a notification that is gone is dropped), never an action.
 */
int target_open_unchecked(const struct notif_ctx *ctx, struct target *t);

/*
 * Get an O_PATH-or-better fd for the caller's fd @fd: pidfd_getfd() (the same
 * open file, flags included) through a pidfd opened now (PIDFD_THREAD, else
 * the thread group leader) and checked with ID_VALID, else /proc/TID/fd/N
 * with O_PATH. -EBADF when @fd is not open in the caller.
 */
int target_getfd(const struct target *t, int fd);

/*
 * The pidfd target_getfd() takes fds through, for a caller that takes
 * several: opened by tid (PIDFD_THREAD, else the thread group leader) and
 * checked with ID_VALID, so that it names the trapped task. -ENOSYS where
 * the kernel has no pidfds (target_getfd() then falls back to /proc).
 */
int target_pidfd(const struct target *t);

/* The same without the ID_VALID check, under target_open_unchecked()'s rule. */
int target_pidfd_unchecked(const struct target *t);

/*
 * target_open_unchecked() and target_pidfd_unchecked() at once, for a
 * handler that takes the caller's fds anyway: the caller's ids, tgid and
 * capabilities then come through the pidfd (PIDFD_GET_INFO, Linux 6.13)
 * and capget() instead of its status file, whose rendering costs more than
 * the rest of the open; t->st then holds no groups (groups_overflow), umask
 * or NSpid. Under the same rule: the handler checks ID_VALID after its last
 * read by tid and before acting. *ret_pidfd: the pidfd, the caller's to
 * close, or -ENOSYS (no pidfds: target_getfd() then falls back to /proc) or
 * another negative errno, as target_pidfd_unchecked() says. LXC's given
 * /proc directory, and older kernels, get the status file.
 */
int target_open_with_pidfd(const struct notif_ctx *ctx, struct target *t, int *ret_pidfd);

/* The caller's fd @fd through @pidfd (target_pidfd()): -EBADF when it is not open there. */
int target_getfd_by_pidfd(int pidfd, int fd);

/* ---- namespaces (target_ns.c) ---- */

enum target_ns_type {
	TARGET_NS_USER,
	TARGET_NS_PID,
};

/* The identity of the namespace file at @path below @dfd ("" = @dfd itself). */
int ns_ident_at(int dfd, const char *path, struct ns_ident *ret);

static inline bool ns_ident_equal(const struct ns_ident *a, const struct ns_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* The daemon's own namespace of @type (looked up once). */
int target_own_ns(enum target_ns_type type, struct ns_ident *ret);

/*
 * The inode number in the text of a /proc/PID/ns/@type link, "@type:[INUM]".
 * 0 or -EINVAL. Pure.
 */
int target_ns_link_inode(const char *link, const char *type, uint64_t *ret_ino);

/* The @type namespace of the task behind @proc_dfd, from the text of its ns link. */
int target_ns_of(int proc_dfd, enum target_ns_type type, struct ns_ident *ret);

/*
 * The same for the task @pid (in our pid namespace), by number: one readlink,
 * for a look at tasks that are not pinned. -ENOENT when there is none.
 */
int target_ns_of_pid(pid_t pid, enum target_ns_type type, struct ns_ident *ret);

/*
 * 1 when the namespace behind @ns_fd (user or pid) is @ancestor or nested
 * below it (NS_GET_PARENT, bounded), 0 when not, or a negative errno.
 * @ns_fd stays the caller's, open and untouched.
 */
int target_ns_within(int ns_fd, const struct ns_ident *ancestor);

/*
 * A new fd for the @type namespace of the task @pidfd pins (tid @pid):
 * PIDFD_GET_USER/PID_NAMESPACE; kernels without them (before 6.11), and
 * zombies, open /proc/PID/ns/ and then check with the pidfd that the task is
 * not reaped yet. -ESRCH when the task has been reaped.
 */
int target_pidfd_ns(int pidfd, pid_t pid, enum target_ns_type type);

/* Host pid of @pid as seen in the pid namespace of the task behind @proc_dfd; -ESRCH if none. */
int target_pid_from_ns(int proc_dfd, pid_t pid, pid_t *ret_host_pid);

/* ---- paths inside the caller's root (target_path.c) ---- */

/*
 * Open a directory of the caller that relative paths start from: its cwd for
 * AT_FDCWD, else the directory @dirfd (-ENOTDIR if it is not one).
 * O_PATH|O_DIRECTORY|O_CLOEXEC.
 */
int target_open_base(const struct target *t, int dirfd);

/*
 * Resolve @path like the caller would, confined to its root @root_fd:
 * absolute paths with RESOLVE_IN_ROOT from @root_fd; relative ones from
 * @base_fd with RESOLVE_BENEATH, and when they leave @base_fd (".." above it,
 * absolute symlinks) again with RESOLVE_IN_ROOT from @root_fd using the
 * base's verified root-relative path as prefix. @base_fd must be inside the
 * root (else -EXDEV). Magic links are never followed. @o_flags: openat2 flags
 * (O_CLOEXEC added). Returns a new fd or a negative errno for the caller.
 */
int target_resolve(int root_fd, int base_fd, const char *path, int o_flags);

/* ---- the caller's identity (target.c, target_creds.c) ---- */

/*
 * Is the caller's user ns able to own @uid/@gid, i.e. both appear in its
 * uid_map/gid_map? (The kernel's capable_wrt_inode_uidgid() test.)
 */
int target_ids_mapped(const struct target *t, uid_t uid, gid_t gid);

/*
 * Switch the calling thread to the caller's filesystem identity: umask,
 * supplementary groups (only when they differ from the thread's own), fsgid,
 * fsuid (each verified), effective capabilities reduced to @caps_keep (a mask
 * of CAP_* bits from our permitted set). All with raw per-thread syscalls:
 * glibc's setgroups would broadcast to every thread. The thread's own
 * credentials are captured on its first switch (with unshare(CLONE_FS), which
 * makes umask per thread); worker threads never change them otherwise.
 * target_creds_leave() restores them exactly; it must be called exactly once
 * after a successful enter, on the same thread. When a restore fails the
 * thread is poisoned: enter answers -ENOTRECOVERABLE from then on, and
 * target_creds_thread_usable() turns false.
 */
struct target_saved_creds {
	bool groups_changed; /* setgroups() ran: leave puts the thread's own back */
};

int target_creds_enter(const struct target_status *st, uint64_t caps_keep,
		       struct target_saved_creds *saved);
int target_creds_leave(const struct target_saved_creds *saved);

/* false once a restore failed on this thread: it must not act for any caller again. */
bool target_creds_thread_usable(void);

/*
 * Would setfsuid(0), coming back from a caller's fsuid, leave the effective
 * set @eff different? The kernel raises the filesystem capabilities
 * (CAP_FS_MASK) that are in the permitted set @prm. Pure.
 */
bool target_creds_fsuid_root_raises(const uint32_t eff[2], const uint32_t prm[2]);

static inline void target_closep(struct target *t)
{
	target_close(t);
}

#define TARGET_INIT                                                                                \
	((struct target){ .proc_dfd = -EBADF, .status_fd = -EBADF, .notify_fd = -EBADF })

/* Fill @reply for a CONTINUE or ERRNO decision (EMULATE is the handler's job). */
static inline void decision_reply(struct decision d, struct notif_reply *reply)
{
	if (d.kind == DECISION_ERRNO)
		reply_errno(reply, d.error);
	else
		reply_continue(reply);
}
