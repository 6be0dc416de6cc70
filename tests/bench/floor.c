/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor supervisors: for each case the bench measures, the least any
 * supervisor must do, in a forked process of its own (its CPU time comes from
 * wait4()). floor_start/stop and probe_sync_wake_up run in the bench's only
 * thread; everything else runs in the single-threaded supervisor.
 *
 *  - CONTINUE: RECV → SEND CONTINUE, waiting in RECV, poll() or epoll_wait().
 *  - sysinfo: pin the caller's memory and maps, ID_VALID, check that the
 *    target is writable, write a fixed struct.
 *  - mknod: the safe steps of an emulation, none skipped (see answer_mknod()).
 *  - mount, setxattr, sched_setscheduler: the same, in floor_mount.c,
 *    floor_setxattr.c and floor_sched.c.
 *  - bpf: load, attach, detach with the fewest safe steps (floor_bpf.c).
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "bench.h"
#include "floor.h"

#define PAGE_MIN 4096u

/* ------------------------------------------------------------------ sysinfo */

/*
 * Whether the caller's maps (opened with its mem file) show [addr, addr + len)
 * writable: PROCMAP_QUERY (Linux 6.11) as a bare array of its 13 fields
 * (size, flags, addr in; vma_end at 4, vma_flags at 5, bit 1 writable out).
 */
static bool maps_writable(int maps, uint64_t addr, size_t len)
{
	uint64_t q[13] = { sizeof(q), 0, addr };

	if (ioctl(maps, _IOWR('f', 17, uint64_t[13]), q) < 0)
		return false;
	return (q[5] & 2) && q[4] >= addr + len;
}

/*
 * The least a safe sysinfo emulation does: pin the caller's memory and maps
 * (/proc/TID/mem and /proc/TID/maps, opened before the check so that they
 * name the trapped task even if its pid is reused later), ID_VALID, one
 * look-up that the target is writable (a mem file write would force its way
 * into read-only pages), one write through the mem file.
 */
static void answer_sysinfo(int fd, const struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	static const struct sysinfo fixed = { .totalram = 256u << 20, .mem_unit = 1, .procs = 1 };
	char path[32];
	int mem, maps;

	*resp = (struct seccomp_notif_resp){ .id = req->id };
	snprintf(path, sizeof(path), "/proc/%u/mem", req->pid);
	mem = open(path, O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%u/maps", req->pid);
	maps = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0 || maps < 0) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
		   (!maps_writable(maps, req->data.args[0], sizeof(fixed)) ||
		    pwrite(mem, &fixed, sizeof(fixed), (off_t)req->data.args[0]) !=
			    (ssize_t)sizeof(fixed))) {
		resp->error = -EFAULT;
	}
	if (mem >= 0)
		close(mem);
	if (maps >= 0)
		close(maps);
}

/* ------------------------------------------------------------------ mknod */

static int caps_set(const uint32_t eff[2], const uint32_t prm[2], const uint32_t inh[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	for (int i = 0; i < 2; i++)
		data[i] = (struct __user_cap_data_struct){ eff[i], prm[i], inh[i] };
	return syscall(SYS_capset, &hdr, data) < 0 ? NEG_ERRNO() : 0;
}

/* setfs[ug]id() never reports a failure: read the id back (an invalid id changes nothing). */
static int set_fsid(long nr, unsigned id)
{
	(void)syscall(nr, id);
	return (unsigned)syscall(nr, (unsigned)-1) == id ? 0 : -EPERM;
}

/* "TYPE:[4026531837]", the text of a namespace link → the inode number */
int ns_inode_of(int dfd, const char *path, const char *type, uint64_t *ret)
{
	const size_t len = strlen(type);
	char link[64];
	ssize_t n = readlinkat(dfd, path, link, sizeof(link) - 1);

	if (n < 0)
		return NEG_ERRNO();
	link[n] = '\0';
	if (strncmp(link, type, len) != 0 || strncmp(link + len, ":[", 2) != 0)
		return -EIO;
	*ret = strtoull(link + len + 2, NULL, 10);
	return 0;
}

int userns_of(int dfd, const char *path, uint64_t *ret)
{
	return ns_inode_of(dfd, path, "user", ret);
}

/* Once, before the first notification: our credentials; the container's user namespace. */
int floor_self_init(struct floor_self *s, pid_t init_pid)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	char path[48];
	struct stat st;
	int pidns, owner, n;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return NEG_ERRNO();
	for (int i = 0; i < 2; i++)
		s->cap_eff[i] = data[i].effective, s->cap_prm[i] = data[i].permitted,
		s->cap_inh[i] = data[i].inheritable;
	n = (int)syscall(SYS_getgroups, GROUPS_MAX, s->groups);
	if (n < 0)
		return NEG_ERRNO();
	s->n_groups = (size_t)n;
	s->fsuid = (uid_t)syscall(SYS_setfsuid, (unsigned)-1);
	s->fsgid = (gid_t)syscall(SYS_setfsgid, (unsigned)-1);
	if (userns_of(AT_FDCWD, "/proc/self/ns/user", &s->own_userns) < 0)
		return -EIO;
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)init_pid);
	pidns = open(path, O_RDONLY | O_CLOEXEC);
	owner = pidns >= 0 ? ioctl(pidns, NS_GET_USERNS) : -1;
	if (owner < 0 || fstat(owner, &st) < 0)
		return -EIO;
	s->container_userns = st.st_ino;
	close(owner);
	if (fstat(pidns, &st) < 0)
		return -EIO;
	s->container_pidns = st.st_ino;
	close(pidns);
	if (stat("/proc/self/ns/pid", &st) < 0)
		return -EIO;
	s->own_pidns = st.st_ino;
	return 0;
}

/* The fourth number of "Uid:" or "Gid:" (real, effective, saved, filesystem). */
static unsigned long fourth(const char *v)
{
	unsigned long x = 0;
	char *end;

	for (int i = 0; i < 4; i++, v = end)
		x = strtoul(v, &end, 10);
	return x;
}

static void parse_groups(struct caller *c, const char *v)
{
	char *end;

	c->n_groups = 0;
	for (unsigned long g = strtoul(v, &end, 10); end != v && c->n_groups < GROUPS_MAX;
	     g = strtoul(v, &end, 10)) {
		c->groups[c->n_groups++] = (gid_t)g;
		v = end;
	}
}

/* The fields of /proc/TID/status a mknod decision and the switch of identity need. */
int caller_read(int status_fd, struct caller *c)
{
	char buf[4096], *line, *next;
	ssize_t n = pread(status_fd, buf, sizeof(buf) - 1, 0); /* offset 0: rendered afresh */

	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	*c = (struct caller){};
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "Umask:", 6))
			c->umask = (mode_t)strtoul(line + 6, NULL, 8), c->seen |= 1;
		else if (!strncmp(line, "Uid:", 4))
			c->fsuid = (uid_t)fourth(line + 4), c->seen |= 2;
		else if (!strncmp(line, "Gid:", 4))
			c->fsgid = (gid_t)fourth(line + 4), c->seen |= 4;
		else if (!strncmp(line, "Groups:", 7))
			parse_groups(c, line + 7), c->seen |= 8;
		else if (!strncmp(line, "CapEff:", 7))
			c->cap_eff = strtoull(line + 7, NULL, 16), c->seen |= 16;
	}
	return c->seen == 31 ? 0 : -EIO;
}

/*
 * The caller's filesystem identity on this (only) thread: umask, groups when
 * they differ from ours, fsgid, fsuid (both read back), and @eff as the only
 * effective capabilities. *ret_groups: setgroups() ran.
 */
int creds_enter(const struct floor_self *s, const struct caller *c, const uint32_t eff[2],
		bool *ret_groups)
{
	(void)umask(c->umask & 0777);
	*ret_groups = c->n_groups != s->n_groups ||
		      memcmp(c->groups, s->groups, c->n_groups * sizeof(gid_t)) != 0;
	if (*ret_groups && syscall(SYS_setgroups, c->n_groups, c->groups) < 0)
		return NEG_ERRNO();
	if (set_fsid(SYS_setfsgid, c->fsgid) < 0 || set_fsid(SYS_setfsuid, c->fsuid) < 0)
		return -EPERM;
	return caps_set(eff, s->cap_prm, s->cap_inh);
}

/* Back to ourselves (the umask is not restored: this process creates nothing else). */
void creds_leave(const struct floor_self *s, bool groups)
{
	if (caps_set(s->cap_eff, s->cap_prm, s->cap_inh) < 0 ||
	    (groups && syscall(SYS_setgroups, s->n_groups, s->groups) < 0) ||
	    set_fsid(SYS_setfsgid, s->fsgid) < 0 || set_fsid(SYS_setfsuid, s->fsuid) < 0)
		_exit(7); /* a supervisor that cannot become itself again must stop */
}

int read_caller_string(pid_t tid, uint64_t addr, char *buf, size_t size)
{
	for (size_t off = 0, chunk; off < size; off += chunk) {
		struct iovec local, remote;

		chunk = PAGE_MIN - (addr + off) % PAGE_MIN;
		if (chunk > size - off)
			chunk = size - off;
		local = (struct iovec){ buf + off, chunk };
		remote = (struct iovec){ (void *)(uintptr_t)(addr + off), chunk };
		if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)chunk)
			return -EFAULT;
		if (memchr(buf + off, '\0', chunk))
			return 0;
	}
	return -ENAMETOOLONG;
}

/* As the caller, inside its root: the parent directory by openat2(), then mknodat(). */
static int make_node(int root, char *path, unsigned mode, dev_t dev)
{
	char *slash = strrchr(path, '/');
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int parent, r;

	*slash = '\0';
	parent = (int)syscall(SYS_openat2, root, slash == path ? "/" : path, &how, sizeof(how));
	if (parent < 0)
		return NEG_ERRNO();
	r = mknodat(parent, slash + 1, S_IFCHR | (mode & 07777), dev) < 0 ? NEG_ERRNO() : 0;
	close(parent);
	return r;
}

/*
 * mknod's decision: 1 emulate for a caller in the container's user namespace
 * with CAP_MKNOD there, 0 CONTINUE (a host caller: the kernel decides), else
 * -EPERM.
 */
static int decide_mknod(int proc, const struct floor_self *s, const struct caller *c)
{
	uint64_t ns;

	if (userns_of(proc, "ns/user", &ns) < 0 || ns == s->own_userns)
		return 0;
	return ns == s->container_userns && (c->cap_eff & (1ULL << CAP_MKNOD)) ? 1 : -EPERM;
}

/* What the caller asked for. */
struct mknod_call {
	unsigned mode;
	dev_t dev;
	char path[4096];
};

/* After the first ID_VALID: decide, check again, act as the caller. 0 = CONTINUE, else the reply. */
static int emulate_mknod(int fd, const struct seccomp_notif *req, const struct floor_self *s,
			 int proc, int root, const struct caller *c, struct mknod_call *call)
{
	bool groups;
	int r = decide_mknod(proc, s, c);

	if (r <= 0)
		return r;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return 0; /* gone: nobody waits for an answer */
	r = creds_enter(s, c, (const uint32_t[2]){ 1u << CAP_MKNOD, 0 }, &groups);
	if (r == 0)
		r = make_node(root, call->path, call->mode, call->dev);
	creds_leave(s, groups);
	return r < 0 ? r : 1;
}

/*
 * The last caller's /proc/TID and status file, kept open for its next call,
 * as the daemon keeps them (handlers/target.c says why that is safe): bound
 * to the caller's struct pid, they name it while lookups through them work,
 * and fail once it is reaped, when a new task with its tid is opened afresh.
 */
static struct {
	unsigned tid;
	int proc, status;
} kept = { 0, -1, -1 };

static void kept_drop(void)
{
	if (kept.tid == 0)
		return;
	close(kept.proc);
	close(kept.status);
	kept.tid = 0;
}

void pin_release(unsigned tid, int proc, int status, int root)
{
	if (root >= 0)
		close(root);
	if (kept.tid != tid) { /* not kept: opening failed half-way */
		if (status >= 0)
			close(status);
		if (proc >= 0)
			close(proc);
	}
}

/* /proc/TID, its status file (kept, or opened by tid) and root: *ret_proc < 0 if gone. */
void pin_caller(unsigned tid, int *ret_proc, int *ret_status, int *ret_root)
{
	char name[32];

	if (kept.tid == tid && !ret_root) {
		*ret_proc = kept.proc, *ret_status = kept.status;
		return;
	}
	if (kept.tid == tid) {
		*ret_root = openat(kept.proc, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*ret_root >= 0) {
			*ret_proc = kept.proc, *ret_status = kept.status;
			return;
		}
	}
	kept_drop(); /* another caller's, or one reaped since */
	(void)snprintf(name, sizeof(name), "/proc/%u", tid);
	*ret_proc = open(name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	*ret_status = openat(*ret_proc, "status", O_RDONLY | O_CLOEXEC);
	if (ret_root)
		*ret_root = openat(*ret_proc, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*ret_proc >= 0 && *ret_status >= 0)
		kept.tid = tid, kept.proc = *ret_proc, kept.status = *ret_status;
}

int pin_checked(int fd, const struct seccomp_notif *req, int *ret_proc, int *ret_status,
		struct caller *c)
{
	for (int tries = 0; tries < 2; tries++) {
		const bool was_kept = kept.tid == req->pid;

		pin_caller(req->pid, ret_proc, ret_status, NULL);
		if (*ret_proc < 0 || *ret_status < 0 ||
		    ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
			return -ESRCH;
		if (caller_read(*ret_status, c) == 0)
			return 0;
		if (!was_kept)
			return -ESRCH;
		kept_drop(); /* a reaped task's: its tid names another one now */
	}
	return -ESRCH;
}

/*
 * The safe steps of a mknod emulation, none skipped: the path read once from
 * the caller's memory; /proc/TID, its root and its status opened (or kept,
 * see above) before ID_VALID, so that they name the trapped task whatever its
 * pid names later; the caller's credentials and user namespace for the
 * decision; ID_VALID again just before acting; the caller's fsuid, fsgid,
 * groups and umask with only CAP_MKNOD; the parent resolved inside the
 * caller's root (RESOLVE_IN_ROOT, no magic links); mknodat(); our own
 * credentials back. Handles what the bench calls, an absolute path to c 1:3;
 * anything else is CONTINUE.
 */
static void answer_mknod(int fd, const struct seccomp_notif *req, const struct floor_self *s,
			 struct seccomp_notif_resp *resp)
{
	const unsigned at = req->data.nr == SYS_mknodat;
	struct mknod_call call = { .mode = (uint16_t)req->data.args[at + 1],
				   .dev = (uint32_t)req->data.args[at + 2] };
	struct caller c;
	int proc, root, status, r = 0;

	*resp = (struct seccomp_notif_resp){ .id = req->id,
					     .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	/* the bench's c 1:3 (the kernel's 32-bit encoding and glibc's agree for it) */
	if ((call.mode & S_IFMT) != S_IFCHR || call.dev != makedev(1, 3) ||
	    read_caller_string((pid_t)req->pid, req->data.args[at], call.path, sizeof(call.path)) < 0 ||
	    call.path[0] != '/')
		return;
	pin_caller(req->pid, &proc, &status, &root);
	if (root >= 0 && status >= 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
	    caller_read(status, &c) == 0)
		r = emulate_mknod(fd, req, s, proc, root, &c, &call);
	if (r != 0)
		*resp = (struct seccomp_notif_resp){ .id = req->id, .error = r < 0 ? r : 0 };
	pin_release(req->pid, proc, status, root);
}

/* ------------------------------------------------------------------ the supervisor */

/* RECV → SEND until the listener hangs up or we are killed. */
static _Noreturn void floor_main(int sock, enum wait_mode mode, bool sync, enum floor_answer answer)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct pollfd pfd;
	struct epoll_event ev = { .events = EPOLLIN };
	struct floor_self self = {};
	int32_t init_pid = 0;
	int fd, ep = -1;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = recv_fd(sock, &init_pid, sizeof(init_pid));
	if (fd < 0)
		_exit(2);
	if (sync && ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		_exit(3);
	if ((answer == FLOOR_MKNOD || answer == FLOOR_MOUNT || answer == FLOOR_SETXATTR ||
	     answer == FLOOR_SCHED) &&
	    floor_self_init(&self, init_pid) < 0)
		_exit(8);
	if (answer == FLOOR_MOUNT && floor_mount_init() < 0)
		_exit(10);
	if (answer == FLOOR_BPF && floor_bpf_init() < 0)
		_exit(9);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (mode == WAIT_EPOLL) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			_exit(4);
	}
	for (;;) {
		if (mode == WAIT_POLL) {
			if (poll(&pfd, 1, -1) < 0)
				continue;
			if (pfd.revents & (POLLHUP | POLLERR))
				_exit(0);
		} else if (mode == WAIT_EPOLL) {
			if (epoll_wait(ep, &ev, 1, -1) < 1)
				continue;
			if (ev.events & (EPOLLHUP | EPOLLERR))
				_exit(0);
		}
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			_exit(5);
		}
		resp = (struct seccomp_notif_resp){ .id = req.id,
						    .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
		if (answer == FLOOR_SYSINFO)
			answer_sysinfo(fd, &req, &resp);
		else if (answer == FLOOR_MKNOD)
			answer_mknod(fd, &req, &self, &resp);
		else if (answer == FLOOR_MOUNT)
			answer_mount(fd, &req, &self, &resp);
		else if (answer == FLOOR_SETXATTR)
			answer_setxattr(fd, &req, &self, &resp);
		else if (answer == FLOOR_SCHED)
			answer_sched(fd, &req, &self, &resp);
		else if (answer == FLOOR_BPF && answer_bpf(fd, &req, &resp) > 0)
			continue; /* answered by SECCOMP_ADDFD_FLAG_SEND */
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			_exit(6);
	}
}

int floor_start(enum wait_mode mode, bool sync, enum floor_answer answer, pid_t *ret_pid,
		int *ret_sock)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0)
		return NEG_ERRNO();
	pid = fork();
	if (pid < 0) {
		int r = NEG_ERRNO();

		close(sp[0]);
		close(sp[1]);
		return r;
	}
	if (pid == 0) {
		close(sp[1]);
		floor_main(sp[0], mode, sync, answer);
	}
	close(sp[0]);
	*ret_pid = pid;
	*ret_sock = sp[1];
	return 0;
}

int floor_stop(pid_t pid, uint64_t *ret_cpu_ns)
{
	struct rusage ru;
	int st;

	(void)kill(pid, SIGKILL); /* not reaped yet, so the pid is still ours */
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			return NEG_ERRNO();
	*ret_cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	/* exited on POLLHUP (0) or killed: anything else is a broken floor */
	if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		return -EIO;
	return 0;
}

bool probe_sync_wake_up(void)
{
	pid_t pid;
	int sp[2], fd, st;
	bool ok = false;
	char byte;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0)
		return false;
	pid = fork();
	if (pid == 0) {
		close(sp[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(1);
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  SECCOMP_FILTER_FLAG_NEW_LISTENER, filter_sysinfo());
		_exit(fd < 0 || send_fd(sp[1], fd, "L", 1) < 0 ? 1 : 0);
	}
	close(sp[1]);
	if (pid > 0) {
		fd = recv_fd(sp[0], &byte, 1);
		if (fd >= 0) {
			ok = ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
				   SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
			close(fd);
		}
		(void)waitpid(pid, &st, 0);
	}
	close(sp[0]);
	return ok;
}
