/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount.fuse: a mount of a listed type is redirected to a FUSE binary that
 * runs inside the container, as the caller, and mounts /dev/fuse itself, as
 * any unprivileged FUSE user does. interceptd adds no privilege here: it only
 * starts, in the container, what the caller could have started itself.
 *
 * The worker opens through the caller's pinned /proc/TID its namespaces,
 * root, cwd and cgroups, translates its credentials into ids of its user
 * namespace, checks ID_VALID and forks three processes:
 *  A. the helper (nsexec), created in the caller's cgroup2 cgroup: it joins
 *     the caller's v1 cgroups but the freezer's, leaves the daemon's session
 *     (and so its controlling terminal), takes the caller's resource limits
 *     and oom_score_adj, joins every namespace (user last), its root and
 *     cwd, takes the caller's ids, groups, capabilities and bounding set,
 *     sets no_new_privs and non-dumpable, puts the container's /dev/null on
 *     stdio, closes every other fd of the daemon's, and forks
 *  B. the supervisor, in the container's pid namespace: a child subreaper,
 *     so that whatever the binary forks stays below it; it forks
 *  C. the binary: own process group, the caller's v1 freezer cgroup (which
 *     holds even a SIGKILLed task while frozen: never A's or B's, or the
 *     container could hold a worker), the deny-list seccomp filter, no
 *     blocked signal (the daemon blocks some), execve() of BINARY SOURCE
 *     TARGET [-o OPTIONS] from the container's root.
 * B waits until the mount appears on the target (its mount id changes),
 * the binary fails, or MOUNT_HELPER_TIMEOUT_MS passes; it sets on the mount
 * the caller's flags the binary cannot be told (nosymfollow), then exits, and
 * what runs on is adopted by the container's init: it outlives interceptd
 * and dies with the container. On failure B kills everything below it
 * first, so nothing is left behind.
 *
 * Called from worker threads; the seccomp program is built once
 * (pthread_once) and read-only afterwards; no locks besides the once.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/engine/notify.h"
/* the deny list is the policies' own: one table for every filter interceptd makes */
#include "daemon/store/policy.h"
#include "handlers/cgroup_join.h"
#include "handlers/mount.h"
#include "handlers/nsexec.h"

#define FILTER_MAX 256
#define POLL_NS (5 * 1000 * 1000)
#define KILL_ROUNDS 64
#define REAP_GRACE_POLLS 40 /* of POLL_NS: 200 ms */
#define FUSE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SEARCH_DIRS 6
#define NEW_LISTENER_FLAG 8u /* SECCOMP_FILTER_FLAG_NEW_LISTENER */
#define PID_LIMIT 4194304L   /* PID_MAX_LIMIT */
#define FREEZER_FD 3         /* in A and B: the caller's v1 freezer "tasks", for C */

/* Joined in this order: the user namespace last, after the others as host root. */
static const struct {
	const char *name;
	int type;
} namespaces[] = {
	{ "ns/mnt", CLONE_NEWNS },	{ "ns/net", CLONE_NEWNET },   { "ns/ipc", CLONE_NEWIPC },
	{ "ns/uts", CLONE_NEWUTS },	{ "ns/cgroup", CLONE_NEWCGROUP }, { "ns/pid", CLONE_NEWPID },
	{ "ns/time", CLONE_NEWTIME }, { "ns/user", CLONE_NEWUSER },
};
#define N_NS (sizeof(namespaces) / sizeof(namespaces[0]))

/* The caller's credentials as ids inside its user namespace. */
struct fuse_creds {
	uint32_t uid[4]; /* real, effective, saved, fs */
	uint32_t gid[4];
	size_t n_groups;
	gid_t groups[TARGET_GROUPS_MAX];
	uint64_t eff, prm, inh, bnd, amb;
	struct rlimit limits[RLIM_NLIMITS];
	char oom_score_adj[16]; /* as /proc/TID/oom_score_adj reads; "" when unknown */
};

/* Everything the helpers need; prepared on the worker, only read in the children. */
struct fuse_job {
	int ns_fd[N_NS]; /* -EBADF: the same as ours, not joined */
	int root_fd, cwd_fd;
	const struct cgroup_join *cg;
	struct fuse_creds creds;
	char *argv[6];
	char *envp[2];
	char candidates[SEARCH_DIRS][NAME_MAX + 32];
	size_t n_candidates;
	const char *target;
	unsigned attrs; /* MOUNT_ATTR_* that B sets on the binary's mount */
	const struct sock_fprog *filter;
};

static void fuse_job_closep(struct fuse_job *j)
{
	for (size_t i = 0; i < N_NS; i++)
		closep(&j->ns_fd[i]);
	closep(&j->root_fd);
	closep(&j->cwd_fd);
}

/* ---- the seccomp program: the policies' deny list ---- */

static struct {
	int error; /* 0 once built */
	struct sock_filter insns[FILTER_MAX];
	struct sock_fprog prog;
} deny = { .error = -ENOSYS };
static pthread_once_t deny_once = PTHREAD_ONCE_INIT;

static int add_deny_rule(scmp_filter_ctx ctx, const struct policy_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->syscall);
	struct scmp_arg_cmp cmp = {
		.arg = r->arg_index,
		.op = r->op == POLICY_OP_EQ ? SCMP_CMP_EQ : SCMP_CMP_MASKED_EQ,
		.datum_a = r->op == POLICY_OP_EQ ? r->value : r->mask,
		.datum_b = r->op == POLICY_OP_EQ ? 0 : r->value,
	};

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO((uint32_t)r->errno_value), nr,
				      r->has_arg ? 1 : 0, &cmp);
}

static int export_program(scmp_filter_ctx ctx)
{
	_cleanup_close_ int fd = memfd_create("interceptd-fuse-filter", MFD_CLOEXEC);
	ssize_t n;

	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -EIO;
	n = read(fd, deny.insns, sizeof(deny.insns));
	if (n <= 0 || n % (ssize_t)sizeof(struct sock_filter) != 0 || n == sizeof(deny.insns))
		return -E2BIG;
	deny.prog = (struct sock_fprog){ .len = (unsigned short)(n / sizeof(struct sock_filter)),
					 .filter = deny.insns };
	return 0;
}

static void build_deny_program(void)
{
	static const struct policy_rule no_listener = {
		.syscall = "seccomp", .action = POLICY_ACTION_ERRNO, .errno_value = EINVAL,
		.has_arg = true, .arg_index = 1, .op = POLICY_OP_MASKED_EQ,
		.mask = NEW_LISTENER_FLAG, .value = NEW_LISTENER_FLAG,
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t n;
	const struct policy_rule *rules = policy_deny_list(&n);
	int r = ctx ? 0 : -ENOMEM;

	/* a 32-bit binary gets the same list */
	if (r == 0 && seccomp_arch_native() == SCMP_ARCH_X86_64)
		r = seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0 || seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0
			    ? -EIO
			    : 0;
	for (size_t i = 0; r == 0 && i <= n; i++)
		r = add_deny_rule(ctx, i < n ? &rules[i] : &no_listener) < 0 ? -EIO : 0;
	if (r == 0)
		r = export_program(ctx);
	deny.error = r;
	seccomp_release(ctx);
}

/* ---- in the children: raw, async-signal-safe system calls only ---- */

static int err_or(int fallback)
{
	return errno > 0 ? errno : fallback;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	(void)nanosleep(&ts, NULL);
}

static long raw_fork(void)
{
	/* no glibc fork handlers: another thread of the daemon may hold their locks */
	return syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

static int set_caps(const struct fuse_creds *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++)
		data[i] = (struct __user_cap_data_struct){ (uint32_t)(c->eff >> (32 * i)),
							   (uint32_t)(c->prm >> (32 * i)),
							   (uint32_t)(c->inh >> (32 * i)) };
	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_or(EPERM);
	for (int cap = 0; cap < 64; cap++)
		if ((c->amb >> cap) & 1 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return err_or(EPERM);
	return 0;
}

/* Inside the caller's user namespace, with all capabilities there: become the caller. */
static int become_caller(const struct fuse_creds *c)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_or(EPERM);
	for (int cap = 0; cap < 64; cap++)
		if (!((c->bnd >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return err_or(EPERM);
	/* setgroups is refused where the namespace's setgroups says "deny": then we fail */
	if (syscall(SYS_setgroups, c->n_groups, c->groups) < 0 ||
	    syscall(SYS_setresgid, c->gid[0], c->gid[1], c->gid[2]) < 0 ||
	    syscall(SYS_setresuid, c->uid[0], c->uid[1], c->uid[2]) < 0)
		return err_or(EPERM);
	(void)syscall(SYS_setfsgid, c->gid[3]);
	(void)syscall(SYS_setfsuid, c->uid[3]);
	if ((uint32_t)syscall(SYS_setfsgid, -1) != c->gid[3] ||
	    (uint32_t)syscall(SYS_setfsuid, -1) != c->uid[3])
		return EPERM;
	return set_caps(c);
}

/*
 * The container's /dev/null on stdio (nothing of the daemon's); then no other
 * fd but @freezer_fd (>= 0: the freezer's "tasks"), which becomes FREEZER_FD.
 */
static int own_stdio(int freezer_fd)
{
	int fd = open("/dev/null", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (freezer_fd >= 0 && freezer_fd != FREEZER_FD && dup3(freezer_fd, FREEZER_FD, O_CLOEXEC) < 0)
		return err_or(EBADF);
	for (int i = 0; i < 3; i++)
		if (fd < 0 || dup2(fd, i) < 0)
			(void)close(i);
	(void)syscall(SYS_close_range, freezer_fd >= 0 ? FREEZER_FD + 1 : 3, ~0U, 0);
	return 0;
}

/* The caller's limits (none above ours: raising needs CAP_SYS_RESOURCE) and oom_score_adj. */
static void take_limits(const struct fuse_creds *c)
{
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		struct rlimit ours, lim = c->limits[i];

		if (syscall(SYS_prlimit64, 0, i, NULL, &ours) < 0)
			continue;
		if (lim.rlim_max > ours.rlim_max)
			lim.rlim_max = ours.rlim_max;
		if (lim.rlim_cur > lim.rlim_max)
			lim.rlim_cur = lim.rlim_max;
		(void)syscall(SYS_prlimit64, 0, i, &lim, NULL);
	}
	/* lower than ours needs CAP_SYS_RESOURCE too: then ours, which the OOM killer prefers */
	if (c->oom_score_adj[0]) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			(void)write(fd, c->oom_score_adj, strlen(c->oom_score_adj));
			(void)close(fd);
		}
	}
}

/*
 * In C: run the binary. Reports an exec failure through fd @err_fd, then exits
 * (127 without a report when it cannot join the freezer cgroup).
 */
static _Noreturn void run_binary(const struct fuse_job *j, int err_fd, bool has_freezer)
{
	sigset_t none;
	int e = ENOENT;

	(void)setpgid(0, 0);
	if (has_freezer && write(FREEZER_FD, "0", 1) != 1)
		_exit(127);
	if (err_fd != 3 && dup3(err_fd, 3, O_CLOEXEC) < 0)
		_exit(127);
	(void)syscall(SYS_close_range, 4, ~0U, 0);
	(void)sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, j->filter) < 0)
		e = err_or(EPERM);
	else
		for (size_t i = 0; i < j->n_candidates; i++) {
			(void)execve(j->candidates[i], j->argv, j->envp);
			if (errno != ENOENT && errno != ENOTDIR)
				e = errno; /* as execvp: a found but unusable file wins */
		}
	(void)write(3, &e, sizeof(e));
	_exit(127);
}

static uint64_t target_mnt_id(const struct fuse_job *j, int *ret_err)
{
	struct statx stx;

	/* DONT_SYNC: never ask a FUSE daemon, it may be the one that hangs */
	if (syscall(SYS_statx, AT_FDCWD, j->target, AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
		    STATX_MNT_ID, &stx) < 0) {
		*ret_err = err_or(ENOENT);
		return 0;
	}
	*ret_err = 0;
	return stx.stx_mnt_id;
}

/* A pid at @s (digits), 0 when there is none or it is beyond any pid. The text may be forged. */
static long parse_pid(const char *s)
{
	long v = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > PID_LIMIT)
			return 0;
	}
	return v;
}

/* "PID/stat" without snprintf(), which is not async-signal-safe. @buf: 32 bytes. */
static void stat_path(long pid, char *buf)
{
	char digits[24];
	size_t n = 0, len = 0;

	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && n < sizeof(digits));
	while (n > 0)
		buf[len++] = digits[--n];
	memcpy(buf + len, "/stat", sizeof("/stat"));
}

/* Kill every child of ours listed in the container's /proc (orphans we adopted). */
static void kill_adopted(int proc_fd, long self)
{
	char buf[4096], stat[512];

	if (proc_fd < 0 || lseek(proc_fd, 0, SEEK_SET) < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, proc_fd, buf, sizeof(buf));

		if (n <= 0)
			return;
		for (long off = 0; off < n;) {
			const char *name = buf + off + 19; /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
			unsigned short reclen;
			char path[32];
			char *paren;
			long pid, ppid;
			int fd;
			ssize_t len;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (reclen == 0)
				return;
			off += reclen;
			pid = parse_pid(name);
			if (pid <= 0 || pid == self)
				continue;
			stat_path(pid, path);
			fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
			len = fd < 0 ? -1 : read(fd, stat, sizeof(stat) - 1);
			if (fd >= 0)
				(void)close(fd);
			if (len <= 0)
				continue;
			stat[len] = '\0';
			paren = strrchr(stat, ')');
			if (!paren || !paren[1] || !paren[2] || !paren[3])
				continue;
			ppid = parse_pid(paren + 4);
			if (ppid == self)
				(void)kill((pid_t)pid, SIGKILL);
		}
	}
}

/* Kill the binary's process group and everything we adopted, until we have no child. */
static void kill_tree(long binary_pid, int proc_fd)
{
	long self = syscall(SYS_getpid);
	siginfo_t si;

	(void)kill(-(pid_t)binary_pid, SIGKILL);
	(void)kill((pid_t)binary_pid, SIGKILL);
	for (int round = 0; round < KILL_ROUNDS; round++) {
		kill_adopted(proc_fd, self);
		for (;;) {
			si.si_pid = 0;
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0)
				return; /* ECHILD: nothing left */
			if (si.si_pid == 0)
				break;
		}
		sleep_ns(POLL_NS / 5);
	}
}

/* One look: 0 mounted, > 0 an errno to fail with, -1 keep waiting. */
static int look(const struct fuse_job *j, uint64_t before, long binary_pid, int err_fd,
		bool *is_reaped)
{
	siginfo_t si = {};
	int e, exec_err;

	if (target_mnt_id(j, &e) != before && !e)
		return 0;
	if (read(err_fd, &exec_err, sizeof(exec_err)) == sizeof(exec_err))
		return ENODEV; /* no such binary in the container, or not executable */
	if (!*is_reaped && waitid(P_PID, (id_t)binary_pid, &si, WEXITED | WNOHANG) == 0 &&
	    si.si_pid != 0) {
		*is_reaped = true;
		if (si.si_code != CLD_EXITED || si.si_status != 0)
			return target_mnt_id(j, &e) != before && !e ? 0 : EIO;
	}
	/* the binary exited 0: a daemon it forked may still mount; none left, nothing will */
	while (*is_reaped) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0)
			return target_mnt_id(j, &e) != before && !e ? 0 : EIO;
		if (si.si_pid == 0)
			break; /* some still run */
	}
	return -1;
}

/*
 * Mounted: a daemonizing binary (fuse2fs) exits right after its mount. Reap it
 * if it does so soon, rather than leave a zombie to an init that may never
 * reap (a container's init is often no init at all).
 */
static void reap_briefly(long binary_pid)
{
	for (int i = 0; i < REAP_GRACE_POLLS; i++) {
		siginfo_t si = {};

		if (waitid(P_PID, (id_t)binary_pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid != 0)
			return;
		sleep_ns(POLL_NS);
	}
}

/* The flags the binary was not told, on its mount: unmounted again when that fails. */
static int set_attrs(const struct fuse_job *j)
{
	struct mount_attr attr = { .attr_set = j->attrs };
	int e;

	if (syscall(SYS_mount_setattr, AT_FDCWD, j->target, 0, &attr, sizeof(attr)) == 0)
		return 0;
	e = err_or(EPERM);
	(void)umount2(j->target, MNT_DETACH);
	return e;
}

/* B: start the binary and wait for its mount. Returns the exit status for A. */
static int supervise(const struct fuse_job *j, bool has_freezer)
{
	int proc_fd, pipe_fd[2], r = -1, e;
	bool is_reaped = false;
	uint64_t before, deadline;
	long pid;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return err_or(EPERM);
	before = target_mnt_id(j, &e);
	if (e)
		return e; /* the kernel's answer for the target: ENOENT, ENOTDIR, ELOOP... */
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_or(EMFILE);
	pid = raw_fork();
	if (pid == 0)
		run_binary(j, pipe_fd[1], has_freezer);
	(void)close(pipe_fd[1]);
	if (pid < 0)
		return err_or(EAGAIN);
	deadline = now_ns() + MOUNT_HELPER_TIMEOUT_MS * 1000000ULL;
	while (r < 0 && now_ns() < deadline) {
		r = look(j, before, pid, pipe_fd[0], &is_reaped);
		if (r < 0)
			sleep_ns(POLL_NS);
	}
	if (r == 0 && j->attrs)
		r = set_attrs(j);
	if (r != 0)
		kill_tree(pid, proc_fd);
	else if (!is_reaped)
		reap_briefly(pid);
	return r < 0 ? ETIMEDOUT : r;
}

static int enter(const struct fuse_job *j, int freezer_fd)
{
	int r;

	for (size_t i = 0; i < N_NS; i++)
		if (j->ns_fd[i] >= 0 && syscall(SYS_setns, j->ns_fd[i], namespaces[i].type) < 0)
			return err_or(EPERM);
	if (fchdir(j->root_fd) < 0 || chroot(".") < 0 || fchdir(j->cwd_fd) < 0)
		return err_or(EPERM);
	r = become_caller(&j->creds);
	if (r)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return err_or(EPERM);
	return own_stdio(freezer_fd);
}

/* A: runs in the caller's cgroup2 cgroup; returns B's exit status. */
static int fuse_child(const void *arg)
{
	const struct fuse_job *j = arg;
	siginfo_t si = {};
	int r, freezer_fd;
	long pid;

	/* a copy of the daemon's memory: no one inside may read it, and we die with our parent */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return err_or(EPERM);
	r = cgroup_join_v1(j->cg);
	if (r)
		return r;
	/* opened as root: C joins it later as the caller */
	freezer_fd = cgroup_join_freezer_open(j->cg);
	if (freezer_fd < 0 && freezer_fd != -EBADF)
		return -freezer_fd;
	/* no controlling terminal of the daemon's: a binary could type into it (TIOCSTI) */
	if (setsid() < 0)
		return err_or(EPERM);
	take_limits(&j->creds);
	r = enter(j, freezer_fd);
	if (r)
		return r;
	pid = raw_fork();
	if (pid == 0)
		_exit(supervise(j, freezer_fd >= 0) & 0xff);
	if (pid < 0)
		return err_or(EAGAIN);
	while (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0)
		if (errno != EINTR)
			return err_or(EIO);
	return si.si_code == CLD_EXITED ? si.si_status : EIO;
}

/* ---- on the worker ---- */

/* Open the caller's namespaces; those it shares with us are left out. */
static int open_namespaces(const struct target *t, struct fuse_job *j)
{
	for (size_t i = 0; i < N_NS; i++) {
		struct stat mine, theirs;
		char own[32];
		int fd = openat(t->proc_dfd, namespaces[i].name, O_RDONLY | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT)
			continue; /* a kernel without that namespace type */
		if (fd < 0)
			return negative_errno();
		(void)snprintf(own, sizeof(own), "/proc/self/%s", namespaces[i].name);
		if (fstat(fd, &theirs) == 0 && stat(own, &mine) == 0 && mine.st_ino == theirs.st_ino &&
		    mine.st_dev == theirs.st_dev) {
			(void)close(fd);
			continue;
		}
		j->ns_fd[i] = fd;
	}
	return 0;
}

static int ids_to_ns(const struct idmap *m, const uint32_t host[4], uint32_t ret[4])
{
	for (int i = 0; i < 4; i++)
		if (idmap_to_ns(m, host[i], &ret[i]) < 0)
			return -EPERM;
	return 0;
}

/* The small file @name below @proc_dfd, NUL-terminated in @buf. */
static int read_proc_file(int proc_dfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(proc_dfd, name, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return errno == ESRCH ? -ENOENT : negative_errno();
	for (;;) {
		ssize_t n = read(fd, buf + have, size - 1 - have);

		if (n < 0)
			return errno == ESRCH ? -ENOENT : negative_errno();
		if (n == 0 || (have += (size_t)n) == size - 1)
			break;
	}
	buf[have] = '\0';
	return 0;
}

/* What the binary must not get from the daemon instead: limits, oom_score_adj. */
static int caller_limits(const struct target *t, struct fuse_creds *c)
{
	char text[4096];
	int r = read_proc_file(t->proc_dfd, "limits", text, sizeof(text));

	if (r >= 0)
		r = mount_limits_parse(text, c->limits);
	if (r >= 0)
		r = read_proc_file(t->proc_dfd, "oom_score_adj", c->oom_score_adj,
				   sizeof(c->oom_score_adj));
	return r;
}

/* The caller's credentials, its ids translated into its user namespace, and its limits. */
static int caller_creds(const struct target *t, struct fuse_creds *ret)
{
	const struct target_status *st = &t->st;
	const uint32_t uids[4] = { st->uid, st->euid, st->suid, st->fsuid };
	const uint32_t gids[4] = { st->gid, st->egid, st->sgid, st->fsgid };
	/* more groups than we parse: none at all (stricter) */
	struct fuse_creds c = { .n_groups = st->groups_overflow ? 0 : st->n_groups,
				.eff = st->cap_eff, .prm = st->cap_prm, .inh = st->cap_inh,
				.bnd = st->cap_bnd, .amb = st->cap_amb };
	struct idmap um, gm;
	int r;

	r = idmap_read(t->proc_dfd, "uid_map", &um);
	if (r >= 0)
		r = idmap_read(t->proc_dfd, "gid_map", &gm);
	if (r >= 0)
		r = ids_to_ns(&um, uids, c.uid);
	if (r >= 0)
		r = ids_to_ns(&gm, gids, c.gid);
	for (size_t i = 0; r >= 0 && i < c.n_groups; i++) {
		uint32_t g;

		r = idmap_to_ns(&gm, st->groups[i], &g) < 0 ? -EPERM : 0;
		c.groups[i] = g;
	}
	if (r >= 0)
		r = caller_limits(t, &c);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

/* Where execve() looks for the binary: as given when it has a '/', else a fixed PATH. */
static int binary_candidates(const char *binary, struct fuse_job *j)
{
	static const char *const dirs[SEARCH_DIRS] = { "/usr/local/sbin", "/usr/local/bin",
						       "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	if (strchr(binary, '/')) {
		size_t n = strlen(binary);

		if (n >= sizeof(j->candidates[0]))
			return -ENAMETOOLONG;
		memcpy(j->candidates[0], binary, n + 1);
		j->n_candidates = 1;
		return 0;
	}
	for (size_t i = 0; i < SEARCH_DIRS; i++) {
		int n = snprintf(j->candidates[i], sizeof(j->candidates[i]), "%s/%s", dirs[i], binary);

		if (n < 0 || (size_t)n >= sizeof(j->candidates[i]))
			return -ENAMETOOLONG;
	}
	j->n_candidates = SEARCH_DIRS;
	return 0;
}

/* BINARY SOURCE TARGET [-o OPTIONS], with @options as the buffer for the last. */
static int build_command(const struct mount_request *m, struct fuse_job *j, char *options,
			 size_t size)
{
	static char path_env[] = "PATH=" FUSE_PATH;
	static char none[] = "none", dash_o[] = "-o";
	int r;

	if (!m->fuse_binary)
		return -ENODEV; /* not routed here: no FUSE binary for this type */
	r = mount_fuse_options(m->flags, m->data, options, size);
	if (r < 0)
		return r;
	r = binary_candidates(m->fuse_binary, j);
	if (r < 0)
		return r;
	/* execve() takes char *const[]; nothing here is ever written through them */
	j->argv[0] = (char *)m->fuse_binary;
	j->argv[1] = m->source ? (char *)m->source : none;
	j->argv[2] = (char *)m->target;
	j->argv[3] = options[0] ? dash_o : NULL;
	j->argv[4] = options[0] ? options : NULL;
	j->argv[5] = NULL;
	j->envp[0] = path_env;
	j->envp[1] = NULL;
	j->target = m->target;
	j->attrs = mount_fuse_attrs(m->flags);
	return 0;
}

static int prepare(const struct target *t, const struct mount_request *m, struct fuse_job *j,
		   char *options, size_t size)
{
	int r;

	(void)pthread_once(&deny_once, build_deny_program);
	if (deny.error < 0)
		return log_error_errno(deny.error, "Failed to build the FUSE helpers' filter: %m");
	j->filter = &deny.prog;
	r = build_command(m, j, options, size);
	if (r < 0)
		return r;
	r = open_namespaces(t, j);
	if (r < 0)
		return r;
	j->root_fd = openat(t->proc_dfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	j->cwd_fd = openat(t->proc_dfd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (j->root_fd < 0 || j->cwd_fd < 0)
		return negative_errno();
	return caller_creds(t, &j->creds);
}

int mount_fuse_act(const struct notif_ctx *ctx, const struct target *t,
		   const struct mount_request *m)
{
	_cleanup_(fuse_job_closep) struct fuse_job j = { .root_fd = -EBADF, .cwd_fd = -EBADF };
	_cleanup_(cgroup_join_close) struct cgroup_join cg = CGROUP_JOIN_INIT;
	char options[MOUNT_DATA_MAX + 64];
	int r;

	for (size_t i = 0; i < N_NS; i++)
		j.ns_fd[i] = -EBADF;
	r = prepare(t, m, &j, options, sizeof(options));
	if (r >= 0)
		r = cgroup_join_open(t->proc_dfd, NULL, &cg); /* all: the daemon lives on there */
	if (r < 0)
		return r;
	j.cg = &cg;
	/* everything above was opened through the caller's pinned /proc/TID */
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	/* the supervisor keeps its own deadline; this one only bounds a helper gone wrong */
	r = nsexec_fork_in_cgroup(fuse_child, &j, cg.v2_fd, MOUNT_HELPER_TIMEOUT_MS + 1000);
	if (r < 0)
		log_debug_errno(r, "id=%llu: FUSE mount with '%s': %m",
				(unsigned long long)ctx->req->id, m->fuse_binary);
	return r;
}
