/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The calling end of a seccomp notification the bench controls: client
 * processes (a filter that NOTIFYs one syscall, the listener handed off either
 * to a floor supervisor (floor.c) or to interceptd's OCI socket exactly as
 * runc does, then a timed loop). Everything here runs in forked children; the
 * parent side is fleet_start/go/stop. Single-threaded parent.
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>

#include "bench.h"
#include "../integration/bpf_progs.h"

#define USERNS_BASE 100000
#define USERNS_SIZE 65536

static struct sock_fprog prog_sysinfo, prog_mknod, prog_mount, prog_bpf, prog_setxattr, prog_sched;

/* ------------------------------------------------------------------ filters */

/*
 * Export a libseccomp filter as raw BPF so children install it with one
 * syscall: NOTIFY for each of @nrs, or, with @cmds, for the first syscall
 * when its first argument is one of them (as interceptd's policies trap bpf).
 */
static int export_filter(const int *nrs, size_t n, const int *cmds, size_t n_cmds,
			 struct sock_fprog *ret)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	_cleanup_close_ int mfd = -EBADF;
	struct stat st;
	void *buf;
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < n && r == 0 && n_cmds == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nrs[i], 0);
	for (size_t i = 0; i < n_cmds && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nrs[0], 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)cmds[i]));
	mfd = memfd_create("bench-bpf", MFD_CLOEXEC);
	if (r == 0 && mfd < 0)
		r = NEG_ERRNO();
	if (r == 0)
		r = seccomp_export_bpf(ctx, mfd);
	seccomp_release(ctx);
	if (r < 0)
		return r;
	if (fstat(mfd, &st) < 0 || st.st_size == 0 || st.st_size % sizeof(struct sock_filter))
		return -EIO;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	if (pread(mfd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return -EIO;
	}
	ret->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	ret->filter = buf;
	return 0;
}

int filters_init(void)
{
	static const int sysinfo_nrs[] = { SCMP_SYS(sysinfo) };
	static const int mknod_nrs[] = { SCMP_SYS(mknod), SCMP_SYS(mknodat) };
	static const int mount_nrs[] = { SCMP_SYS(mount) };
	static const int bpf_nrs[] = { SCMP_SYS(bpf) };
	static const int setxattr_nrs[] = { SCMP_SYS(setxattr) };
	static const int sched_nrs[] = { SCMP_SYS(sched_setscheduler) };
	static const int bpf_cmds[] = { BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH,
					BPF_PROG_QUERY, BPF_LINK_CREATE };
	int r;

	r = export_filter(sysinfo_nrs, 1, NULL, 0, &prog_sysinfo);
	if (r == 0)
		r = export_filter(bpf_nrs, 1, bpf_cmds, 5, &prog_bpf);
	if (r == 0)
		r = export_filter(mount_nrs, 1, NULL, 0, &prog_mount);
	if (r == 0)
		r = export_filter(setxattr_nrs, 1, NULL, 0, &prog_setxattr);
	if (r == 0)
		r = export_filter(sched_nrs, 1, NULL, 0, &prog_sched);
	if (r < 0)
		return r;
	return export_filter(mknod_nrs, 2, NULL, 0, &prog_mknod);
}

const struct sock_fprog *filter_sysinfo(void)
{
	return &prog_sysinfo;
}

/* ------------------------------------------------------------------ client side */

int send_fd(int sock, int fd, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return NEG_ERRNO();
	return n == (ssize_t)len ? 0 : -EIO;
}

int recv_fd(int sock, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * What runc 1.1 does: one SOCK_STREAM connection, one sendmsg with the compact
 * container-process state and the listener as the only SCM_RIGHTS fd, and no
 * EOF (the connection stays open until this process exits). Returns the
 * connection, which the caller keeps open.
 */
int oci_handoff(const char *path, const char *name, pid_t pid, int listener)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char json[512];
	int s, n, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	n = snprintf(json, sizeof(json),
		     "{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":%d,"
		     "\"metadata\":\"%s\",\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"%s\","
		     "\"status\":\"creating\",\"pid\":%d,\"bundle\":\"/x\"}}",
		     (int)pid, name, name, (int)pid);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return NEG_ERRNO();
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = NEG_ERRNO();
		close(s);
		return r;
	}
	r = send_fd(s, listener, json, (size_t)n);
	if (r < 0) {
		close(s);
		return r;
	}
	return s;
}

static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return NEG_ERRNO();
	return write(fd, text, len) == (ssize_t)len ? 0 : NEG_ERRNO();
}

/* Move task @pid into the cgroup2 directory @dir. */
static int cgroup_enter(const char *dir, pid_t pid)
{
	char path[300], v[16];

	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	(void)snprintf(v, sizeof(v), "%d", (int)pid);
	return write_file(path, v);
}

/* The runtime side of a user-namespace client: still host root, like runc's parent. */
static _Noreturn void runtime_main(const struct fleet_spec *spec, const char *name, pid_t client,
				   int sync_r, int sync_w, int sock)
{
	char c = 0, path[64], map[64];
	int listener, conn = -EBADF, r = 0;
	int32_t init_pid = 0;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sync_r, &c, 1) != 1)
		_exit(1);
	/* the runtime places the container in its cgroup; it stays outside itself */
	if (spec->cgroup && cgroup_enter(spec->cgroup, client) < 0)
		_exit(6);
	(void)snprintf(map, sizeof(map), "0 %d %d\n", USERNS_BASE, USERNS_SIZE);
	(void)snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)client);
	if (write_file(path, map) < 0)
		_exit(2);
	(void)snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)client);
	if (write_file(path, map) < 0)
		_exit(3);
	if (write(sync_w, &c, 1) != 1)
		_exit(4);
	/* the OCI socket is root's: the runtime, not the container, hands the listener off */
	listener = recv_fd(sock, &init_pid, sizeof(init_pid));
	if (listener < 0)
		r = listener;
	else if (spec->to.floor_sock >= 0)
		r = send_fd(spec->to.floor_sock, listener, &init_pid, sizeof(init_pid));
	else
		r = conn = oci_handoff(spec->to.oci_path, name, init_pid, listener);
	c = (char)(r < 0 ? -r : 0);
	if (write(sock, &c, 1) != 1)
		_exit(5);
	while (read(sock, &c, 1) > 0 || errno == EINTR) /* until the client exits */
		;
	(void)conn;
	_exit(0);
}

/*
 * Become root of a fresh user namespace mapped 0 → USERNS_BASE, owning a
 * fresh pid namespace (entered by become_init()), like an unprivileged
 * container's init. A runtime helper that stays host root writes the maps
 * (only the parent user namespace may) and later hands the listener off;
 * *ret_sock reaches it.
 */
static int enter_userns(const struct fleet_spec *spec, const char *name, int *ret_sock)
{
	int p[2], q[2], sp[2];
	pid_t helper, me = getpid();
	char c = 0;
	int r = 0;

	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(q, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return NEG_ERRNO();
	helper = fork();
	if (helper < 0)
		return NEG_ERRNO();
	if (helper == 0) {
		close(sp[0]);
		runtime_main(spec, name, me, p[0], q[1], sp[1]);
	}
	close(sp[1]);
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
		r = NEG_ERRNO();
	if (write(p[1], &c, 1) != 1 && r == 0)
		r = -EIO;
	if (read(q[0], &c, 1) != 1 && r == 0)
		r = -EPERM;
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	if (r < 0)
		return r;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return NEG_ERRNO();
	(void)setgroups(0, NULL);
	*ret_sock = sp[0];
	return 0;
}

/*
 * Fork pid 1 of the pid namespace enter_userns() made: as runc, crun and LXC
 * start a container's init, so that the daemon finds the container's user
 * namespace as the owner of its init's pid namespace. Returns in the child;
 * the parent stays behind as the client process the bench knows, and leaves
 * with the child's exit status.
 */
static int become_init(void)
{
	pid_t child = fork();
	int st;

	if (child < 0)
		return NEG_ERRNO();
	if (child == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		return 0;
	}
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

/* Our pid as the host sees it: /proc is the host's mount, so /proc/self names it. */
static pid_t host_pid(void)
{
	char buf[16];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return getpid();
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

/* Through the runtime helper: send the listener and our host pid, wait for its verdict. */
static int handoff_via_runtime(int sock, int listener)
{
	int32_t pid = host_pid();
	char c;
	int r = send_fd(sock, listener, &pid, sizeof(pid));

	if (r < 0)
		return r;
	if (read(sock, &c, 1) != 1)
		return -EIO;
	return c ? -(int)(unsigned char)c : 0;
}

/* What a runtime does to install a device filter: load, attach (MULTI), and later detach. */
static int bpf_iteration(const struct fleet_spec *spec)
{
	static struct bpf_insn insns[16];
	static uint32_t n_insns;
	static int target = -EBADF;
	long prog, r;

	if (target < 0) {
		target = open(spec->bpf_target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (target < 0)
			return NEG_ERRNO();
		n_insns = bpft_build(BPFT_DENY_DEV, 1, 3, 0, insns);
	}
	prog = bpft_load(insns, n_insns);
	if (prog < 0)
		return (int)prog;
	r = bpft_attach(target, (int)prog, BPF_F_ALLOW_MULTI, 0, 0);
	if (r == 0)
		r = bpft_attach(target, (int)prog, 0, 0, 1);
	close((int)prog);
	return (int)r;
}

/*
 * A real-time policy, SCHED_FIFO and SCHED_RR in turn: without RLIMIT_RTPRIO
 * (set to 0 before the filter) the kernel refuses every one of these changes
 * to the caller itself, so a call that succeeds was emulated.
 */
static int sched_iteration(void)
{
	static unsigned n;
	const struct sched_param param = { .sched_priority = 1 };

	return sched_setscheduler(0, n++ % 2 ? SCHED_RR : SCHED_FIFO, &param) < 0 ? NEG_ERRNO() : 0;
}

static int do_call(const struct fleet_spec *spec)
{
	struct sysinfo si;

	if (spec->call == CALL_SYSINFO)
		return sysinfo(&si) < 0 ? NEG_ERRNO() : 0;
	/* trusted.* needs CAP_SYS_ADMIN in the initial user namespace: success means emulated */
	if (spec->call == CALL_SETXATTR)
		return setxattr(spec->xattr_path, "trusted.overlay.opaque", "y", 1, 0) < 0
			       ? NEG_ERRNO()
			       : 0;
	if (spec->call == CALL_SCHED)
		return sched_iteration();
	if (spec->call == CALL_MOUNT)
		return mount(spec->mount_source, spec->mount_target, "ext4", 0, NULL) < 0 ||
				       umount2(spec->mount_target, 0) < 0
			       ? NEG_ERRNO()
			       : 0;
	if (spec->call == CALL_BPF)
		return bpf_iteration(spec);
	if (syscall(SYS_mknodat, AT_FDCWD, spec->mknod_path, S_IFCHR | 0666, makedev(1, 3)) < 0)
		return NEG_ERRNO();
	return 0;
}

const char *fail_stage_name(int stage)
{
	switch (stage) {
	case STAGE_USERNS: return "entering the client's user namespace";
	case STAGE_FILTER: return "installing the notify filter";
	case STAGE_HANDOFF: return "handing the listener off";
	case STAGE_CALL: return "the trapped call";
	default: return "client";
	}
}

static void note_failure(struct shm *shm, enum fail_stage stage, int r)
{
	int zero = 0;

	if (atomic_compare_exchange_strong(&shm->first_errno, &zero, -r))
		atomic_store(&shm->fail_stage, (int)stage);
	atomic_fetch_add(&shm->failed, 1);
}

static void client_loop(struct shm *shm, const struct fleet_spec *spec, unsigned idx)
{
	bool record = spec->record && idx == 0;
	uint64_t n = atomic_load_explicit(&shm->count[idx], memory_order_relaxed);
	uint32_t ns = 0;
	uint64_t t_begin = now_ns();
	struct timespec a, b, cpu0, cpu1;
	int r;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
	while (!atomic_load_explicit(&shm->stop, memory_order_relaxed)) {
		if (record) {
			clock_gettime(CLOCK_MONOTONIC, &a);
			r = do_call(spec);
			clock_gettime(CLOCK_MONOTONIC, &b);
			if (ns < MAX_SAMPLES)
				shm->lat_ns[ns++] = (uint32_t)((b.tv_sec - a.tv_sec) * 1000000000LL +
							       (b.tv_nsec - a.tv_nsec));
		} else {
			r = do_call(spec);
		}
		if (r < 0) {
			note_failure(shm, STAGE_CALL, r);
			break;
		}
		if (spec->call == CALL_MKNOD)
			(void)unlink(spec->mknod_path);
		atomic_store_explicit(&shm->count[idx], ++n, memory_order_relaxed);
	}
	if (record) {
		struct rusage ru;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
		shm->loop_ns = now_ns() - t_begin;
		shm->n_samples = ns;
		shm->client_cpu_ns = (uint64_t)((cpu1.tv_sec - cpu0.tv_sec) * 1000000000LL +
						(cpu1.tv_nsec - cpu0.tv_nsec));
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			shm->cpu_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
				      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	}
}

/* A mount namespace of the client's own, propagating nothing, as a container's. */
static int own_mount_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return NEG_ERRNO();
	return 0;
}

/* The filter, and the listener handed to the supervisor: from here on the calls trap. */
static int trap_calls(const struct fleet_spec *spec, const char *name, int runtime,
		      int *ret_conn, enum fail_stage *stage)
{
	const struct sock_fprog *prog = spec->call == CALL_MKNOD      ? &prog_mknod
					: spec->call == CALL_MOUNT    ? &prog_mount
					: spec->call == CALL_BPF      ? &prog_bpf
					: spec->call == CALL_SETXATTR ? &prog_setxattr
					: spec->call == CALL_SCHED    ? &prog_sched
								      : &prog_sysinfo;
	int32_t self = getpid();
	int listener, r;

	*stage = STAGE_FILTER;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return NEG_ERRNO();
	listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	if (listener < 0)
		return NEG_ERRNO();
	*stage = STAGE_HANDOFF;
	if (runtime >= 0)
		r = handoff_via_runtime(runtime, listener);
	else if (spec->to.floor_sock >= 0)
		r = send_fd(spec->to.floor_sock, listener, &self, sizeof(self));
	else
		r = *ret_conn = oci_handoff(spec->to.oci_path, name, self, listener);
	close(listener); /* the supervisor holds the only copy now, as with runc */
	return r;
}

/* The whole life of one client process. Never returns. */
static _Noreturn void client_main(struct shm *shm, const struct fleet_spec *spec, unsigned idx,
				  int go_fd)
{
	const char *name = spec->n_containers ? spec->containers[idx % spec->n_containers] : "";
	enum fail_stage stage = STAGE_USERNS;
	int conn = -EBADF, runtime = -EBADF, r;
	char c;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (spec->userns && ((r = enter_userns(spec, name, &runtime)) < 0 || (r = become_init()) < 0))
		goto fail;
	if (!spec->userns && spec->cgroup && (r = cgroup_enter(spec->cgroup, getpid())) < 0)
		goto fail;
	if (spec->call == CALL_MOUNT && (r = own_mount_ns()) < 0)
		goto fail;
	if (spec->call == CALL_SCHED && setrlimit(RLIMIT_RTPRIO, &(struct rlimit){ 0, 0 }) < 0) {
		r = NEG_ERRNO();
		goto fail;
	}
	if (!spec->native && (r = trap_calls(spec, name, runtime, &conn, &stage)) < 0)
		goto fail;
	stage = STAGE_CALL;
	for (unsigned i = 0; i < spec->warmup; i++) {
		r = do_call(spec);
		if (r < 0)
			goto fail;
		if (spec->call == CALL_MKNOD)
			(void)unlink(spec->mknod_path);
		atomic_fetch_add_explicit(&shm->count[idx], 1, memory_order_relaxed);
	}
	atomic_fetch_add(&shm->ready, 1);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	client_loop(shm, spec, idx);
	(void)conn;
	_exit(0);
fail:
	note_failure(shm, stage, r);
	_exit(1);
}

int fleet_start(struct shm *shm, const struct fleet_spec *spec, struct fleet *ret)
{
	int go[2];
	uint64_t deadline;

	if (spec->n == 0 || spec->n > MAX_CLIENTS)
		return -EINVAL;
	atomic_store(&shm->stop, 0);
	atomic_store(&shm->ready, 0);
	atomic_store(&shm->failed, 0);
	atomic_store(&shm->first_errno, 0);
	atomic_store(&shm->fail_stage, 0);
	for (unsigned i = 0; i < spec->n; i++)
		atomic_store(&shm->count[i], 0);
	shm->n_samples = 0;
	shm->loop_ns = 0;
	shm->cpu_ns = 0;
	if (pipe2(go, O_CLOEXEC) < 0)
		return NEG_ERRNO();
	*ret = (struct fleet){ .go_fd = go[1] };
	for (unsigned i = 0; i < spec->n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			int r = NEG_ERRNO();

			close(go[0]);
			fleet_stop(shm, ret, 0);
			return r;
		}
		if (pid == 0) {
			close(go[1]);
			client_main(shm, spec, i, go[0]);
		}
		ret->pids[ret->n++] = pid;
	}
	close(go[0]);
	deadline = now_ns() + (uint64_t)spec->ready_timeout_ms * 1000000ULL;
	while ((unsigned)atomic_load(&shm->ready) + (unsigned)atomic_load(&shm->failed) < spec->n) {
		if (now_ns() > deadline) {
			fleet_stop(shm, ret, 0);
			return -ETIMEDOUT;
		}
		sleep_ns(1000000);
	}
	if (atomic_load(&shm->failed)) {
		fleet_stop(shm, ret, 0);
		return -EPROTO;
	}
	return 0;
}

void fleet_go(struct fleet *f)
{
	if (f->go_fd >= 0)
		close(f->go_fd);
	f->go_fd = -EBADF;
}

int fleet_stop(struct shm *shm, struct fleet *f, int grace_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)grace_ms * 1000000ULL;
	int r = 0;

	atomic_store(&shm->stop, 1);
	fleet_go(f);
	for (unsigned i = 0; i < f->n; i++) {
		int64_t left = (int64_t)(deadline - now_ns()) / 1000000;
		int st;

		if (wait_or_kill(f->pids[i], left > 0 ? (int)left : 0, &st) != 0 ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			r = -EIO;
	}
	f->n = 0;
	return r;
}


int sched_rt_probe(void)
{
	const struct sched_param param = { .sched_priority = 1 };
	pid_t pid = fork();
	int st, r;

	if (pid < 0)
		return NEG_ERRNO();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(sched_setscheduler(0, SCHED_FIFO, &param) < 0 ? errno : 0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return NEG_ERRNO();
	r = WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
	return r ? -r : 0;
}
