/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a container may put device programs: its own cgroup2 subtree.
 *
 * The container's cgroup is its init's 0:: entry (the caller's when the init
 * is not known), read with bpf_cgroup_parse(), which refuses a file whose
 * lines a cgroup name with a newline could have forged. It is opened through
 * the host's cgroup2 mount, confirmed by the init being listed in it, and
 * kept by identity in the listener's handler_cache. A container whose cgroup
 * is the root gets nothing; for an attach, every task listed in it must also
 * belong to the container (its user namespace is the container's or nested
 * below it): a cgroup shared with others gets no attach.
 *
 * A target is what the caller handed over by fd. It must be a cgroup2
 * directory (else EBADF, as the kernel says). Its file handle reopens it
 * through the host's mount, whatever mount the caller used (a cgroup
 * namespace's, a bind mount of a host cgroup), and the walk from there up to
 * the root compares identities (st_dev, st_ino), never path strings; for
 * an attach it also queries every level's device programs, which must all be
 * BPF_F_ALLOW_MULTI (bpf_subtree_decide()).
 *
 * Owns: an fd of the host's cgroup2 mount, opened once (pthread_once) and
 * kept. Called from worker threads; no locks, no allocation; the cache is the
 * listener's, which only its worker touches.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include "handlers/bpf.h"
#include "handlers/cgroup.h"

/* Levels walked from a target up to the root; deeper cgroups get EPERM. */
#define WALK_DEPTH_MAX 64
#define PROC_CGROUP_BUF 8192
#define PROCS_BUF 4096

struct host_cgroup2 {
	int fd; /* O_RDONLY|O_DIRECTORY, or a negative errno */
	struct ns_ident id;
};

static struct host_cgroup2 host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_open(void)
{
	const struct cgroup_mounts *m = cgroup_mounts_host();
	struct stat st;

	host.fd = -ENOENT;
	if (!m->v2)
		return;
	host.fd = open(m->v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (host.fd < 0) {
		host.fd = negative_errno();
		return;
	}
	if (fstat(host.fd, &st) < 0) {
		(void)close_nointr(host.fd);
		host.fd = negative_errno();
		return;
	}
	host.id = (struct ns_ident){ .dev = st.st_dev, .ino = st.st_ino };
}

static const struct host_cgroup2 *host_cgroup2(void)
{
	(void)pthread_once(&host_once, host_open);
	return &host;
}

static int ident_of(int fd, struct ns_ident *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return negative_errno();
	*ret = (struct ns_ident){ .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

/* A path from /proc/PID/cgroup, below the host's mount: never a symlink, never up. */
static int open_below_host(const struct host_cgroup2 *h, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
	const char *rel = path[1] ? path + 1 : ".";

	return RET_NERRNO((int)syscall(SYS_openat2, h->fd, rel, &how, sizeof(how)));
}

/* ---- the container's cgroup ---- */

/*
 * A /proc/PID/cgroup file, NUL-terminated. It is one seq_file record
 * (single_open), rendered whole: a short read is all of it, which saves the
 * read that sees EOF. -E2BIG when it does not fit.
 */
static int read_cgroup_file(int dfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return negative_errno();
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return negative_errno();
	if ((size_t)n == size - 1)
		return -E2BIG;
	buf[n] = '\0';
	return 0;
}

static int read_proc_cgroup(const struct bpf_call *call, char *buf, size_t size)
{
	char path[32];

	if (call->ctx->init_pid > 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)call->ctx->init_pid);
		return read_cgroup_file(AT_FDCWD, path, buf, size);
	}
	return read_cgroup_file(call->t->proc_dfd, "cgroup", buf, size);
}

/* The levels of a cgroup below the root, from its path ("/" is 0, "/a/b" 2). */
static unsigned path_depth(const char *path)
{
	unsigned n = 0;

	for (const char *p = path; *p; p++)
		if (*p != '/' && (p == path || p[-1] == '/'))
			n++;
	return n;
}

/*
 * 1 when the task @pid belongs to the container (user namespace @userns or
 * below), 0 when not. By pid, as listed a moment ago: a task that is gone
 * (ENOENT) cannot be outside. Most are in @userns itself: the text of their
 * ns link tells (one readlink); only the others have theirs opened and walked.
 */
static int task_inside(pid_t pid, const struct ns_ident *userns)
{
	_cleanup_close_ int ns_fd = -EBADF;
	struct ns_ident id;
	char path[40];
	int r;

	r = target_ns_of_pid(pid, TARGET_NS_USER, &id);
	if (r < 0)
		return r == -ENOENT ? 1 : r;
	if (ns_ident_equal(&id, userns))
		return 1;
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return errno == ENOENT ? 1 : negative_errno();
	return target_ns_within(ns_fd, userns);
}

struct procs_scan {
	const struct ns_ident *userns; /* the container's: look for outsiders; NULL = don't */
	pid_t caller_tgid;             /* known to be in @userns: not looked at again; 0 = none */
	pid_t init_pid;                /* look for it; 0 = don't */
	bool saw_init, saw_outsider;
};

static int scan_pids(struct procs_scan *s, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		pid_t pid = (pid_t)strtol(l, NULL, 10);
		int r;

		if (pid <= 0)
			continue;
		if (pid == s->init_pid)
			s->saw_init = true;
		if (!s->userns || pid == s->caller_tgid)
			continue;
		r = task_inside(pid, s->userns);
		if (r < 0)
			return r;
		if (r == 0)
			s->saw_outsider = true;
	}
	return 0;
}

/* Read cgroup.procs of @cg_fd line by line; a pid cut at the buffer's end is kept for the next read. */
static int scan_procs(int cg_fd, struct procs_scan *s)
{
	_cleanup_close_ int fd = openat(cg_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	char buf[PROCS_BUF];
	size_t have = 0;

	if (fd < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *end;
		int r;

		if (n < 0)
			return negative_errno();
		have += (size_t)n;
		buf[have] = '\0';
		end = n == 0 ? buf + have : strrchr(buf, '\n');
		if (!end)
			return have == sizeof(buf) - 1 ? -EIO : 0;
		*end = '\0';
		r = scan_pids(s, buf);
		if (r < 0 || n == 0)
			return r;
		have -= (size_t)(end + 1 - buf);
		memmove(buf, end + 1, have);
	}
}

/*
 * Find the container's cgroup: its init's 0:: path (the caller's when the
 * init is not known), opened through the host's mount and confirmed by the
 * init being listed in it, else a recycled pid or a forged line named it.
 */
static int container_find(const struct bpf_call *call, const struct host_cgroup2 *h,
			  struct bpf_container_cgroup *ret)
{
	char text[PROC_CGROUP_BUF], v2[PATH_MAX], mem[PATH_MAX];
	struct procs_scan s = { .init_pid = call->ctx->init_pid };
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = read_proc_cgroup(call, text, sizeof(text));
	if (r < 0)
		return r;
	r = bpf_cgroup_parse(text, v2, sizeof(v2), mem, sizeof(mem));
	if (r < 0)
		return r == -ENOENT || r == -ENAMETOOLONG ? -EPERM : r;
	fd = open_below_host(h, v2);
	if (fd < 0)
		return fd == -ENOENT ? -EPERM : fd;
	r = ident_of(fd, &ret->id);
	if (r < 0)
		return r;
	ret->is_root = ns_ident_equal(&ret->id, &h->id);
	/* fixed for this identity: cgroup2 renames a directory only within its parent */
	ret->depth = path_depth(v2);
	if (s.init_pid > 0 && !ret->is_root) {
		r = scan_procs(fd, &s);
		if (r < 0)
			return r;
		if (!s.saw_init)
			return -EPERM;
	}
	return 0;
}

/* The container's cgroup by identity: the listener's cache, else found now and kept there. */
static int container_ident(const struct bpf_call *call, const struct host_cgroup2 *h,
			   struct bpf_container_cgroup *ret)
{
	struct handler_cache *cache = call->ctx->cache;
	const pid_t init = call->ctx->init_pid;
	int r;

	*ret = (struct bpf_container_cgroup){};
	if (cache && init > 0 && cache->bpf_cgroup_of == init) {
		ret->id = cache->bpf_cgroup;
		ret->is_root = cache->bpf_cgroup_is_root;
		ret->depth = cache->bpf_cgroup_depth;
		return 0;
	}
	r = container_find(call, h, ret);
	if (r == 0 && cache && init > 0) {
		cache->bpf_cgroup = ret->id;
		cache->bpf_cgroup_is_root = ret->is_root;
		cache->bpf_cgroup_depth = ret->depth;
		cache->bpf_cgroup_of = init;
	}
	return r;
}

/* Is anything but the container's own tasks in the cgroup @fd? */
static int shared_with_outsiders(const struct bpf_call *call, int fd, bool *ret)
{
	/*
	 * The caller is in the container's initial user namespace
	 * (bpf_caller_decide()), and so is its whole thread group: a process
	 * changes its user namespace only while single-threaded. Its user
	 * namespace was read through its pinned /proc/TID, which the call's
	 * ID_VALID, still to come, holds to the trapped task.
	 */
	struct procs_scan s = { .userns = &call->t->userns_id,
				.caller_tgid = (call->t->st.seen & TARGET_HAS_TGID) ? call->t->st.tgid : 0 };
	int r;

	r = scan_procs(fd, &s);
	if (r < 0)
		return r;
	*ret = s.saw_outsider;
	return 0;
}

/* ---- the target ---- */

/*
 * The caller's cgroup directory, reopened through the host's mount. Anything
 * but a cgroup2 directory gets EBADF, as from the kernel's
 * cgroup_get_from_fd(): another filesystem by its magic, a cgroup2 file by
 * O_DIRECTORY (ENOTDIR), a cgroup removed meanwhile by its stale handle.
 */
static int reopen_on_host(const struct host_cgroup2 *h, int fd)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} handle = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct statfs sfs;
	int mnt_id;

	if (fstatfs(fd, &sfs) < 0)
		return negative_errno();
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EBADF;
	if (name_to_handle_at(fd, "", &handle.fh, &mnt_id, AT_EMPTY_PATH) < 0)
		return negative_errno();
	fd = open_by_handle_at(h->fd, &handle.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : errno == ESTALE || errno == ENOTDIR ? -EBADF : negative_errno();
}

int bpf_cgroup_query_level(int fd, struct bpf_cgroup_level *ret)
{
	union bpf_attr q = { .query = { .target_fd = (uint32_t)fd,
					.attach_type = BPF_CGROUP_DEVICE } };
	int r = sys_bpf(BPF_PROG_QUERY, &q, sizeof(q));

	if (r < 0)
		return r;
	ret->prog_cnt = q.query.prog_cnt;
	ret->attach_flags = q.query.attach_flags;
	return 0;
}

struct walk {
	const struct bpf_call *call;
	const struct host_cgroup2 *h;
	struct bpf_container_cgroup *c; /* its is_shared is learned on the way */
	bool needs_multi;               /* an attach: every level to the root, and the tasks */
};

/*
 * One level of the walk, @fd: its identity, its programs, and the
 * container's tasks. Between the container's level and the root's
 * (@is_placed) the container's depth tells the levels apart: no identity to
 * look up or compare there.
 */
static int visit(const struct walk *w, int fd, bool is_placed, struct bpf_cgroup_level *l)
{
	int r = 0;

	if (!is_placed) {
		*l = (struct bpf_cgroup_level){};
		r = ident_of(fd, &l->id);
	}
	if (r < 0 || !w->needs_multi)
		return r;
	r = bpf_cgroup_query_level(fd, l);
	if (r == 0 && !is_placed && ns_ident_equal(&l->id, &w->c->id))
		r = shared_with_outsiders(w->call, fd, &w->c->is_shared);
	return r;
}

/*
 * The levels from @fd (a cgroup in the host's mount) upwards: to the root
 * for an attach, else until the container's cgroup. Returns the number of
 * levels, or -EPERM when the walk ends neither there nor at the root
 * (deeper than WALK_DEPTH_MAX). Identities are looked up (fstat) up to the
 * container's level; the root is then its depth further up, and the levels
 * between are only queried. The root's identity is looked up all the same:
 * a depth that were wrong ends the walk there, never short of the root.
 */
static int walk_up(const struct walk *w, int fd, struct bpf_cgroup_level chain[WALK_DEPTH_MAX])
{
	_cleanup_close_ int owned = -EBADF; /* the levels above @fd, one at a time */
	int cur = fd, root_at = -1;         /* the root's level, once the container's is found */

	for (int n = 0; n < WALK_DEPTH_MAX; n++) {
		const bool is_placed = root_at >= 0 && n < root_at;
		int up, r;

		if (is_placed)
			chain[n] = (struct bpf_cgroup_level){};
		r = visit(w, cur, is_placed, &chain[n]);
		if (r < 0)
			return r;
		if (ns_ident_equal(&chain[n].id, &w->h->id))
			return n + 1;
		if (n == root_at)
			return -EPERM;
		if (root_at < 0 && ns_ident_equal(&chain[n].id, &w->c->id)) {
			if (!w->needs_multi)
				return n + 1;
			root_at = n + (int)w->c->depth;
		}
		up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			return negative_errno();
		closep(&owned);
		owned = cur = up;
	}
	return -EPERM;
}

int bpf_cgroup_check(const struct bpf_call *call, int target_fd, bool needs_multi, int *ret_fd)
{
	const struct host_cgroup2 *h = host_cgroup2();
	struct bpf_container_cgroup c;
	struct bpf_cgroup_level chain[WALK_DEPTH_MAX];
	_cleanup_close_ int fd = -EBADF, on_host = -EBADF;
	int n, r;

	if (h->fd < 0)
		return -EBADF; /* no cgroup2 here: nothing can be a cgroup2 directory */
	fd = bpf_caller_fd(call, target_fd);
	if (fd < 0)
		return fd;
	on_host = reopen_on_host(h, fd);
	if (on_host < 0)
		return on_host;
	r = container_ident(call, h, &c);
	if (r < 0)
		return r;
	n = walk_up(&(struct walk){ .call = call, .h = h, .c = &c, .needs_multi = needs_multi },
		    on_host, chain);
	if (n < 0)
		return n;
	r = bpf_subtree_decide(chain, (size_t)n, &c, needs_multi);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(on_host);
	return 0;
}

int bpf_cgroup_open_memcg(const struct target *t, bool *ret_is_v2)
{
	const struct cgroup_mounts *m = cgroup_mounts_host();
	char text[PROC_CGROUP_BUF], v2[PATH_MAX], mem[PATH_MAX], path[PATH_MAX * 2];
	int r;

	r = read_cgroup_file(t->proc_dfd, "cgroup", text, sizeof(text));
	if (r < 0)
		return r;
	r = bpf_cgroup_parse(text, v2, sizeof(v2), mem, sizeof(mem));
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EPERM;
	/* the hierarchy that has the memory controller; v1 moves one task cheaply */
	*ret_is_v2 = false;
	if (m->v1_memory && mem[0]) {
		(void)snprintf(path, sizeof(path), "%s%s/tasks", m->v1_memory, mem);
	} else if (m->v2 && m->v2_memory) {
		(void)snprintf(path, sizeof(path), "%s%s/cgroup.procs", m->v2, v2);
		*ret_is_v2 = true;
	} else {
		return -ENOENT;
	}
	r = open(path, O_WRONLY | O_CLOEXEC);
	return r >= 0 ? r : negative_errno();
}
