/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peers for the engine tests (see peers.h): notify children, the OCI hand-off,
 * a fake LXC monitor, and API and /proc helpers. Test threads only.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/notify.h"
#include "peers.h"
#include "rawhttp.h"

struct harness H;

int send_fd(int sock, int fd, const void *data, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static int recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1 || !(c = CMSG_FIRSTHDR(&msg)))
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* A page registered with a new userfaultfd: its first read from anywhere waits on it. */
static char *uffd_page(int *ret_uffd)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api uapi = { .api = UFFD_API };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = { .range = { (unsigned long)p, (unsigned long)page },
				       .mode = UFFDIO_REGISTER_MODE_MISSING };

	if (uffd < 0 || p == MAP_FAILED || ioctl(uffd, UFFDIO_API, &uapi) < 0 ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		_exit(5);
	*ret_uffd = uffd;
	return p;
}

/*
 * mknodat with a path in a page registered with a userfaultfd nobody serves:
 * whoever reads it from outside blocks until the child dies.
 */
static void hostile_mknod(void)
{
	int uffd;
	char *p = uffd_page(&uffd);

	syscall(SYS_mknodat, AT_FDCWD, p, S_IFCHR | 0600, makedev(1, 3));
	_exit(0);
}

#define SLOW_SERVE_MS 900

struct slow_page {
	int uffd;
	char *page;
};

/* Serve each read of the page SLOW_SERVE_MS late, with a path that does not exist. */
static void *serve_slowly(void *arg)
{
	const struct slow_page *s = arg;
	long page = sysconf(_SC_PAGESIZE);
	char *src = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffd_msg m;

	if (src == MAP_FAILED)
		_exit(10);
	strcpy(src, "/nonexistent-interceptd-test/node");
	while (read(s->uffd, &m, sizeof(m)) == sizeof(m)) {
		struct uffdio_copy copy = { .dst = (unsigned long)s->page, .src = (unsigned long)src,
					    .len = (unsigned long)page };

		sleep_ms(SLOW_SERVE_MS);
		(void)ioctl(s->uffd, UFFDIO_COPY, &copy);
	}
	return NULL;
}

/*
 * mknodat until the daemon lets go of the listener (ENOSYS), with its path in
 * a userfaultfd page that this child serves only SLOW_SERVE_MS after each read
 * began, and drops again after each call.
 */
static void slow_mknods(void)
{
	struct slow_page s;
	pthread_t server;

	s.page = uffd_page(&s.uffd);
	if (pthread_create(&server, NULL, serve_slowly, &s) != 0)
		_exit(11);
	while (syscall(SYS_mknodat, AT_FDCWD, s.page, S_IFCHR | 0600, makedev(1, 3)) == 0 ||
	       errno != ENOSYS)
		(void)madvise(s.page, (size_t)sysconf(_SC_PAGESIZE), MADV_DONTNEED);
	_exit(0);
}

/* @ctl's next NUL-terminated path into @path, or exit. */
static void read_path(int ctl, char *path, size_t size)
{
	size_t n = 0;

	while (n < size && read(ctl, &path[n], 1) == 1 && path[n])
		n++;
	if (n == size || n == 0)
		_exit(8);
}

/* A private read-only mapping of the page of @path (a FUSE file: see fuse_peer.h). */
static char *map_page_of(const char *path, void *at, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *p = fd < 0 ? MAP_FAILED : mmap(at, 4096, PROT_READ, MAP_PRIVATE | flags, fd, 0);

	/* no readahead: the fault reads this one page, synchronously */
	if (p == MAP_FAILED || madvise(p, 4096, MADV_RANDOM) < 0)
		_exit(9);
	close(fd);
	return p;
}

static void *mknod_at(void *path)
{
	syscall(SYS_mknodat, AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 3));
	return NULL;
}

/*
 * mknodat with its path in a private mapping of @ctl's next NUL-terminated
 * path (a FUSE file, see fuse_peer.h), never touched here: whoever reads it
 * from outside faults the page in through the FUSE server.
 */
static void fuse_mknod(int ctl)
{
	char path[128];

	read_path(ctl, path, sizeof(path));
	mknod_at(map_page_of(path, NULL, 0));
	_exit(0);
}

/*
 * 'M': fuse_mknod() of the first path, on a thread of its own; on the next
 * byte, the page its path is in is mapped from the second path instead
 * (MAP_FIXED, while the daemon's read waits with the mm unlocked), answered "m".
 */
static void fuse_mknod_remapped(int ctl)
{
	char path[128], other[128], byte;
	pthread_t t;
	char *p;

	read_path(ctl, path, sizeof(path));
	read_path(ctl, other, sizeof(other));
	p = map_page_of(path, NULL, 0);
	if (pthread_create(&t, NULL, mknod_at, p) != 0 || read(ctl, &byte, 1) != 1)
		_exit(12);
	(void)map_page_of(other, p, MAP_FIXED);
	if (write(ctl, "m", 1) != 1)
		_exit(13);
	(void)pthread_join(t, NULL);
	_exit(0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 't': time @n sysinfo() calls and send the latencies back. */
static void timed_sysinfo(int ctl)
{
	uint32_t n, *ns;
	struct sysinfo si;

	if (read(ctl, &n, sizeof(n)) != sizeof(n) || n > 1000000 || !(ns = calloc(n, sizeof(*ns))))
		_exit(6);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t0 = mono_ns();

		(void)sysinfo(&si);
		ns[i] = (uint32_t)(mono_ns() - t0);
	}
	for (size_t off = 0; off < n * sizeof(*ns);) {
		ssize_t k = write(ctl, (char *)ns + off, n * sizeof(*ns) - off);

		if (k <= 0)
			_exit(7);
		off += (size_t)k;
	}
	free(ns);
}

static void child_main(int ctl)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	char cmd;
	int fd;

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(mknodat), 0) < 0 ||
	    seccomp_load(ctx) < 0 || (fd = seccomp_notify_fd(ctx)) < 0)
		_exit(2);
	if (send_fd(ctl, fd, "F", 1) < 0)
		_exit(3);
	close(fd);
	while (read(ctl, &cmd, 1) == 1) {
		struct sysinfo si = { 0 };
		char out[64];
		int r;

		if (cmd == 'q')
			_exit(0);
		if (cmd == 'u')
			hostile_mknod();
		if (cmd == 'F')
			fuse_mknod(ctl);
		if (cmd == 'M')
			fuse_mknod_remapped(ctl);
		if (cmd == 'w')
			slow_mknods();
		if (cmd == 't') {
			timed_sysinfo(ctl);
			continue;
		}
		do
			r = sysinfo(&si) < 0 ? errno : 0;
		while (cmd == 'l');
		snprintf(out, sizeof(out), "%d %lu", r, (unsigned long)si.totalram * si.mem_unit);
		if (write(ctl, out, strlen(out)) < 0)
			_exit(4);
	}
	_exit(0);
}

void child_start(struct child *c)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(sv[0]);
		child_main(sv[1]);
	}
	close(sv[1]);
	c->ctl = sv[0];
	c->listener = recv_fd(c->ctl);
	assert_true(c->listener >= 0);
}

void child_stop(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	close_nointr(c->ctl);
	close_nointr(c->listener);
	c->pid = 0;
	c->ctl = c->listener = -1;
}

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

int child_sysinfo(struct child *c, unsigned long *totalram)
{
	char buf[64] = "";
	int err = -1;
	ssize_t n;

	/* a call the daemon never answers fails all the same; a host stall must not */
	set_timeout(c->ctl, EVENT_WAIT_MS / 1000);
	assert_int_equal(write(c->ctl, "s", 1), 1);
	n = read(c->ctl, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(sscanf(buf, "%d %lu", &err, totalram), 2);
	return err;
}

void child_sysinfo_timed(struct child *c, uint32_t *ns, uint32_t n)
{
	size_t want = n * sizeof(*ns);

	set_timeout(c->ctl, 30);
	assert_int_equal(write(c->ctl, "t", 1), 1);
	assert_int_equal(write(c->ctl, &n, sizeof(n)), sizeof(n));
	for (size_t off = 0; off < want;) {
		ssize_t k = read(c->ctl, (char *)ns + off, want - off);

		assert_true(k > 0);
		off += (size_t)k;
	}
}

int unix_connect(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_true(fd >= 0);
	/* a missing answer fails the test instead of hanging it */
	set_timeout(fd, EVENT_WAIT_MS / 1000);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

int oci_handoff(const char *json, int fd)
{
	int sock = unix_connect(H.oci_socket, SOCK_STREAM);

	assert_int_equal(send_fd(sock, fd, json, strlen(json)), 0);
	return sock;
}

int oci_handoff_child(struct child *c, const char *name)
{
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"%s\","
		 "\"state\":{\"ociVersion\":\"1.0.2-dev\",\"id\":\"%s\",\"status\":\"creating\","
		 "\"pid\":%d,\"bundle\":\"/tmp\"}}",
		 (int)c->pid, name, name, (int)c->pid);
	return oci_handoff(json, c->listener);
}

int oci_handoff_annotated(struct child *c, const char *metadata, const char *id,
			  const char *annotations)
{
	char json[2048];

	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"%s\","
		 "\"state\":{\"ociVersion\":\"1.0.2\",\"id\":\"%s\",\"status\":\"creating\","
		 "\"pid\":%d,\"bundle\":\"/tmp\",\"annotations\":%s}}",
		 (int)c->pid, metadata, id, (int)c->pid, annotations);
	return oci_handoff(json, c->listener);
}

/* Send one proxy message of @len bytes with the three fds LXC passes. */
static void send_proxy_message(int proxy, const char *out, size_t len, const int fds[3])
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct iovec iov = { .iov_base = (void *)out, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 3 * sizeof(int));
	assert_int_equal(sendmsg(proxy, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

void relay_lxc_send(int proxy, struct child *c, const char *cookie, char cmd,
		    struct seccomp_notif *ret_req)
{
	struct lxc_proxy_header hdr = {
		.monitor_pid = getpid(), .init_pid = c->pid,
		.sizes = { sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp),
			   sizeof(struct seccomp_data) },
		.cookie_len = strlen(cookie),
	};
	struct seccomp_notif_resp resp = { 0 };
	char path[64], out[512];
	size_t len = 0;
	int fds[3];

	assert_int_equal(write(c->ctl, &cmd, 1), 1);
	assert_int_equal(notify_recv(c->listener, ret_req), 0);
	resp.id = ret_req->id;
	memcpy(out, &hdr, sizeof(hdr));
	len = sizeof(hdr);
	memcpy(out + len, ret_req, sizeof(*ret_req));
	len += sizeof(*ret_req);
	memcpy(out + len, &resp, sizeof(resp));
	len += sizeof(resp);
	memcpy(out + len, cookie, strlen(cookie));
	len += strlen(cookie);
	snprintf(path, sizeof(path), "/proc/%d", (int)ret_req->pid);
	fds[0] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)ret_req->pid);
	fds[1] = open(path, O_RDWR | O_CLOEXEC);
	fds[2] = c->listener;
	send_proxy_message(proxy, out, len, fds);
	close(fds[0]);
	close(fds[1]);
}

void relay_lxc_answer(int proxy, struct child *c, const struct seccomp_notif *req,
		      struct seccomp_notif_resp *ret)
{
	char in[512];
	ssize_t n = recv(proxy, in, sizeof(in), MSG_TRUNC);

	/* exactly header + notif + resp, never the cookie */
	assert_int_equal(n, 32 + sizeof(struct seccomp_notif) + sizeof(struct seccomp_notif_resp));
	memcpy(ret, in + 32 + sizeof(struct seccomp_notif), sizeof(*ret));
	assert_int_equal(ret->id, req->id);
	(void)notify_send(c->listener, ret);
}

void relay_lxc_cmd(int proxy, struct child *c, const char *cookie, char cmd,
		   struct seccomp_notif_resp *ret)
{
	struct seccomp_notif req;

	relay_lxc_send(proxy, c, cookie, cmd, &req);
	relay_lxc_answer(proxy, c, &req, ret);
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int count_fds(pid_t pid)
{
	int n = raw_count_fds(pid);

	assert_true(n >= 0);
	return n;
}

/*
 * Listeners are released asynchronously, and an idle API keep-alive
 * connection may come and go.
 */
int wait_fds(int expect)
{
	int n = -1;

	for (int i = 0; i < 100 && (n = count_fds(H.pid)) > expect; i++)
		sleep_ms(20);
	return n;
}

/* The state letter of thread @tid of @pid ('?' when it is gone). */
static char thread_state(pid_t pid, const char *tid)
{
	char path[300], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may contain anything */
	return p && p[1] == ' ' ? p[2] : '?';
}

int count_threads(pid_t pid, int *ret_blocked)
{
	char path[64];
	struct dirent *de;
	int n = 0, blocked = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		/* a read of a userfaultfd page waits in TASK_KILLABLE, shown as D */
		blocked += thread_state(pid, de->d_name) == 'D';
	}
	closedir(d);
	if (ret_blocked)
		*ret_blocked = blocked;
	return n;
}

int count_named_threads(pid_t pid, const char *name)
{
	char path[300], comm[32];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			n += strcmp(comm, name) == 0;
		}
		if (f)
			fclose(f);
	}
	closedir(d);
	return n;
}

void print_threads(pid_t pid)
{
	char path[300], wchan[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/wchan", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f || !fgets(wchan, sizeof(wchan), f))
			strcpy(wchan, "?");
		if (f)
			fclose(f);
		fprintf(stderr, "# thread %s: state %c, waiting in %s\n", de->d_name,
			thread_state(pid, de->d_name), wchan);
	}
	if (d)
		closedir(d);
}

int wait_blocked_threads(int n, long ms)
{
	int blocked = -1;

	for (long waited = 0; waited <= ms; waited += 20) {
		(void)count_threads(H.pid, &blocked);
		if (blocked == n)
			break;
		sleep_ms(20);
	}
	return blocked;
}

/* The number after @needle in the exposition, @missing if absent. */
static long exposition_value(const char *needle, long missing)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	const char *p;

	assert_int_equal(harness_request(&H, "GET", "/1.0/metrics", NULL, &r), 0);
	p = strstr(r->data, needle);
	return p ? strtol(p + strlen(needle), NULL, 10) : missing;
}

long metric(const char *name, const char *syscall, const char *outcome)
{
	char needle[256];

	snprintf(needle, sizeof(needle),
		 "interceptd_syscalls_total{container=\"%s\",syscall=\"%s\",outcome=\"%s\"} ", name,
		 syscall, outcome);
	return exposition_value(needle, 0);
}

long metric_value(const char *family)
{
	char needle[256];

	snprintf(needle, sizeof(needle), "\n%s ", family);
	return exposition_value(needle, -1);
}

bool restart_required_has(const char *name, const char *key)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	char path[160];
	json_t *arr, *v;
	size_t i;

	snprintf(path, sizeof(path), "/1.0/containers/%s/state", name);
	r = req("GET", path, NULL);
	arr = json_object_get(reply_meta(r), "restart_required");
	assert_true(json_is_array(arr));
	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), key) == 0)
			return true;
	return false;
}

size_t n_listeners(const char *name)
{
	_cleanup_(http_reply_freep) struct http_reply *r = NULL;
	char path[128];

	snprintf(path, sizeof(path), "/1.0/containers/%s/state", name);
	assert_int_equal(harness_request(&H, "GET", path, NULL, &r), 0);
	assert_int_equal(r->status, 200);
	return json_array_size(json_object_get(reply_meta(r), "listeners"));
}

void wait_listeners(const char *name, size_t expect)
{
	for (long waited = 0; waited < EVENT_WAIT_MS && n_listeners(name) != expect; waited += 20)
		sleep_ms(20);
	assert_int_equal(n_listeners(name), expect);
}

/* A fake systemd: the datagram socket $NOTIFY_SOCKET names. Returns its fd. */
int fake_notify_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 5 };

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	(void)unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* The next FDSTORE=1 message (READY=1 and STATUS= skipped): its FDNAME into @name, its fd. */
int fake_notify_recv_fdstore(int sock, char *name, size_t size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	char text[512];
	struct iovec iov = { .iov_base = text, .iov_len = sizeof(text) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	ssize_t n;
	const char *p;
	int fd;

	do {
		msg.msg_controllen = sizeof(control.buf);
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		assert_true(n > 0);
		text[n] = '\0';
	} while (!strstr(text, "FDSTORE=1\n"));
	p = strstr(text, "FDNAME=");
	assert_non_null(p);
	snprintf(name, size, "%s", p + strlen("FDNAME="));
	c = CMSG_FIRSTHDR(&msg);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

int restart_with_fd_store(const char *const *args)
{
	char notify[400];
	int nsock;

	snprintf(notify, sizeof(notify), "%s/notify.sock", H.dir);
	nsock = fake_notify_socket(notify);
	assert_int_equal(WEXITSTATUS(harness_stop(&H, SIGTERM)), 0);
	setenv("NOTIFY_SOCKET", notify, 1);
	assert_int_equal(harness_start(&H, args), 0);
	unsetenv("NOTIFY_SOCKET");
	return nsock;
}

void crash_and_hand_back(int fd, const char *fdname, const char *const *args)
{
	stop_and_hand_back(SIGKILL, fd, fdname, args);
}

void stop_and_hand_back(int sig, int fd, const char *fdname, const char *const *args)
{
	int status = harness_stop(&H, sig);

	if (sig == SIGTERM)
		assert_int_equal(WEXITSTATUS(status), 0);
	H.pass_fd = fd;
	H.pass_fd_name = fdname;
	assert_int_equal(harness_start(&H, args), 0);
	H.pass_fd_name = NULL;
	close(fd);
}
