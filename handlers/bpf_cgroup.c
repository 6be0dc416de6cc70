/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a container may put device programs: its own cgroup2 subtree.
 *
 * The container's cgroup is its init's 0:: entry (the caller's when the init
 * is not known), read with bpf_cgroup_parse(), which refuses a file whose
 * lines a cgroup name with a newline could have forged. It is opened through
 * the host's cgroup2 mount and confirmed by identity: the init must be listed
 * in it, and every task listed must belong to the container (its user
 * namespace is the container's or nested below it). A container whose
 * cgroup is the root, or shared with others, gets no attach at all.
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
 * kept. Called from worker threads; no locks, no allocation.
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

static int read_proc_cgroup(const struct bpf_call *call, char *buf, size_t size)
{
	char path[32];

	if (call->ctx->init_pid > 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)call->ctx->init_pid);
		return (int)cgroup_read_at(AT_FDCWD, path, buf, size);
	}
	return (int)cgroup_read_at(call->t->proc_dfd, "cgroup", buf, size);
}

/* 1 when the task @pid belongs to the container (user namespace @userns or below), 0 when not. */
static int task_inside(pid_t pid, const struct ns_ident *userns)
{
	_cleanup_close_ int dfd = -EBADF, ns_fd = -EBADF;
	struct ns_ident id;
	char path[32];
	int r;

	(void)snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 1 : negative_errno(); /* gone: it cannot be outside */
	r = target_ns_of(dfd, TARGET_NS_USER, &id);
	if (r < 0)
		return r == -ENOENT ? 1 : r;
	if (ns_ident_equal(&id, userns))
		return 1;
	ns_fd = openat(dfd, "ns/user", O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return errno == ENOENT ? 1 : negative_errno();
	return target_ns_within(ns_fd, userns);
}

struct procs_scan {
	const struct ns_ident *userns;
	pid_t init_pid;
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

struct container_cgroup {
	int fd; /* through the host's mount */
	struct bpf_container_cgroup facts;
};

static void container_cgroup_close(struct container_cgroup *c)
{
	(void)close_nointr(c->fd);
}

static int container_cgroup_open(const struct bpf_call *call, const struct host_cgroup2 *h,
				 struct container_cgroup *ret)
{
	char text[PROC_CGROUP_BUF], v2[PATH_MAX], mem[PATH_MAX];
	struct ns_ident userns;
	struct procs_scan s = { .userns = &userns, .init_pid = call->ctx->init_pid };
	int r;

	r = read_proc_cgroup(call, text, sizeof(text));
	if (r < 0)
		return r;
	r = bpf_cgroup_parse(text, v2, sizeof(v2), mem, sizeof(mem));
	if (r < 0)
		return r == -ENOENT || r == -ENAMETOOLONG ? -EPERM : r;
	ret->facts.is_root = strcmp(v2, "/") == 0;
	ret->fd = open_below_host(h, v2);
	if (ret->fd < 0)
		return ret->fd == -ENOENT ? -EPERM : ret->fd;
	r = ident_of(ret->fd, &ret->facts.id);
	if (r < 0)
		return r;
	/* the caller is in the container's initial user namespace (bpf_caller_decide()) */
	r = target_ns_of(call->t->proc_dfd, TARGET_NS_USER, &userns);
	if (r < 0)
		return r;
	r = scan_procs(ret->fd, &s);
	if (r < 0)
		return r;
	/* no init in it: the path was not the init's (a recycled pid, a forged line) */
	ret->facts.is_shared = s.saw_outsider || (call->ctx->init_pid > 0 && !s.saw_init);
	return 0;
}

/* ---- the target ---- */

/* The caller's cgroup directory, reopened through the host's mount. */
static int reopen_on_host(const struct host_cgroup2 *h, int fd)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} handle = { .fh.handle_bytes = MAX_HANDLE_SZ };
	struct statfs sfs;
	struct stat st;
	int mnt_id;

	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	/* anything but a cgroup2 directory: the kernel's cgroup_get_from_fd() says EBADF */
	if (sfs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return -EBADF;
	if (name_to_handle_at(fd, "", &handle.fh, &mnt_id, AT_EMPTY_PATH) < 0)
		return negative_errno();
	fd = open_by_handle_at(h->fd, &handle.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* ESTALE: removed meanwhile, as if the caller's fd were a dead cgroup */
	return fd >= 0 ? fd : errno == ESTALE ? -EBADF : negative_errno();
}

static int query_level(int fd, struct bpf_cgroup_level *ret)
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

/*
 * The levels from @fd (a cgroup in the host's mount) upwards: to the root
 * when @needs_multi (every level's programs matter), else until the
 * container's cgroup. Returns the number of levels, or -EPERM when the walk
 * ends neither there nor at the root (deeper than WALK_DEPTH_MAX).
 */
static int walk_up(const struct host_cgroup2 *h, int fd, const struct ns_ident *container,
		   bool needs_multi, struct bpf_cgroup_level chain[WALK_DEPTH_MAX])
{
	_cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int r;

	if (cur < 0)
		return negative_errno();
	for (int n = 0; n < WALK_DEPTH_MAX; n++) {
		struct bpf_cgroup_level *l = &chain[n];
		int up;

		*l = (struct bpf_cgroup_level){};
		r = ident_of(cur, &l->id);
		if (r == 0 && needs_multi)
			r = query_level(cur, l);
		if (r < 0)
			return r;
		if (ns_ident_equal(&l->id, &h->id) ||
		    (!needs_multi && ns_ident_equal(&l->id, container)))
			return n + 1;
		up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0)
			return negative_errno();
		(void)close_nointr(cur);
		cur = up;
	}
	return -EPERM;
}

int bpf_cgroup_check(const struct bpf_call *call, int target_fd, bool needs_multi, int *ret_fd)
{
	const struct host_cgroup2 *h = host_cgroup2();
	_cleanup_(container_cgroup_close) struct container_cgroup c = { .fd = -EBADF };
	struct bpf_cgroup_level chain[WALK_DEPTH_MAX];
	_cleanup_close_ int fd = -EBADF, on_host = -EBADF;
	int n, r;

	if (h->fd < 0)
		return -EBADF; /* no cgroup2 here: nothing can be a cgroup2 directory */
	fd = target_getfd(call->t, target_fd);
	if (fd < 0)
		return fd;
	on_host = reopen_on_host(h, fd);
	if (on_host < 0)
		return on_host;
	r = container_cgroup_open(call, h, &c);
	if (r < 0)
		return r;
	n = walk_up(h, on_host, &c.facts.id, needs_multi, chain);
	if (n < 0)
		return n;
	r = bpf_subtree_decide(chain, (size_t)n, &c.facts, needs_multi);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(on_host);
	return 0;
}

int bpf_cgroup_open_memcg(const struct target *t)
{
	const struct cgroup_mounts *m = cgroup_mounts_host();
	char text[PROC_CGROUP_BUF], v2[PATH_MAX], mem[PATH_MAX], path[PATH_MAX * 2];
	int r;

	r = (int)cgroup_read_at(t->proc_dfd, "cgroup", text, sizeof(text));
	if (r < 0)
		return r;
	r = bpf_cgroup_parse(text, v2, sizeof(v2), mem, sizeof(mem));
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -EPERM;
	/* the hierarchy that has the memory controller; v1 moves one task cheaply */
	if (m->v1_memory && mem[0])
		(void)snprintf(path, sizeof(path), "%s%s/tasks", m->v1_memory, mem);
	else if (m->v2 && m->v2_memory)
		(void)snprintf(path, sizeof(path), "%s%s/cgroup.procs", m->v2, v2);
	else
		return -ENOENT;
	r = open(path, O_WRONLY | O_CLOEXEC);
	return r >= 0 ? r : negative_errno();
}
