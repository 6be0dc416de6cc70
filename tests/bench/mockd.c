/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for interceptd that lets the bench test its own interceptd paths
 * before the real engine and API exist (the bench-selftest meson test):
 * interceptd's command line, the OCI intake (JSON + one SCM_RIGHTS fd, no
 * EOF), an epoll worker pool answering CONTINUE, a crude mknod emulation for
 * containers whose state-file line names the mknod key, and a minimal
 * keep-alive HTTP/1.1 server answering 200 to every request. Its figures mean
 * nothing about interceptd. Not part of the product.
 */
#include <fcntl.h>
#include <getopt.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "bench.h"

struct listener {
	int fd;
	bool mknod;
};

static int ep = -1;
static char *mknod_names; /* "\nname\nname\n" of containers with the mknod key */

static int listen_on(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	(void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	(void)unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4096) < 0) {
		perror(path);
		exit(1);
	}
	return s;
}

static void load_state(const char *dir)
{
	char path[512], line[1024];
	size_t len = 1;
	FILE *f;

	mknod_names = calloc(1, 2);
	mknod_names[0] = '\n';
	(void)snprintf(path, sizeof(path), "%s/state.json", dir);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *n = strstr(line, "\"name\":\""), *e;

		if (!n || !strstr(line, "intercept.mknod"))
			continue;
		n += 8;
		e = strchr(n, '"');
		if (!e)
			continue;
		mknod_names = realloc(mknod_names, len + (size_t)(e - n) + 2);
		memcpy(mknod_names + len, n, (size_t)(e - n));
		len += (size_t)(e - n);
		mknod_names[len++] = '\n';
		mknod_names[len] = '\0';
	}
	if (f)
		fclose(f);
}

static void *oci_main(void *arg)
{
	int ls = *(int *)arg;

	for (;;) {
		char buf[4096], cbuf[CMSG_SPACE(16 * sizeof(int))], name[80], key[84];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				      .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		struct listener *l;
		struct epoll_event ev;
		char *m, *e;
		ssize_t n;
		int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC), fd = -1;

		if (conn < 0)
			continue;
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
		close(conn); /* one message; never wait for EOF */
		c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
		if (!c || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
		buf[n] = '\0';
		name[0] = '\0';
		if ((m = strstr(buf, "\"metadata\":\"")) && (e = strchr(m + 12, '"')) &&
		    e - (m + 12) < 64)
			(void)snprintf(name, sizeof(name), "%.*s", (int)(e - (m + 12)), m + 12);
		(void)snprintf(key, sizeof(key), "\n%s\n", name);
		l = calloc(1, sizeof(*l));
		l->fd = fd;
		l->mknod = name[0] && strstr(mknod_names, key);
		(void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
		ev = (struct epoll_event){ .events = EPOLLIN | EPOLLONESHOT, .data.ptr = l };
		(void)epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	return NULL;
}

/* mknodat(AT_FDCWD, path, mode, dev) as host root, node handed to the container's root */
static int emulate_mknod(const struct seccomp_notif *req)
{
	char mem[64], path[4096];
	int fd;
	ssize_t n;
	uint64_t addr = req->data.nr == SYS_mknod ? req->data.args[0] : req->data.args[1];
	unsigned mode = (unsigned)(req->data.nr == SYS_mknod ? req->data.args[1] : req->data.args[2]);
	dev_t dev = (dev_t)(req->data.nr == SYS_mknod ? req->data.args[2] : req->data.args[3]);

	(void)snprintf(mem, sizeof(mem), "/proc/%u/mem", req->pid);
	fd = open(mem, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EPERM;
	n = pread(fd, path, sizeof(path) - 1, (off_t)addr);
	close(fd);
	if (n <= 0)
		return -EFAULT;
	path[n] = '\0';
	if (mknodat(AT_FDCWD, path, mode, dev) < 0)
		return NEG_ERRNO();
	(void)lchown(path, 100000, 100000);
	return 0;
}

static void *worker_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct epoll_event ev;
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		struct listener *l;

		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		l = ev.data.ptr;
		if (ev.events & (EPOLLHUP | EPOLLERR)) {
			(void)epoll_ctl(ep, EPOLL_CTL_DEL, l->fd, NULL);
			close(l->fd);
			free(l);
			continue;
		}
		memset(&req, 0, sizeof(req));
		if (ioctl(l->fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
			resp = (struct seccomp_notif_resp){ .id = req.id };
			if (l->mknod && (req.data.nr == SYS_mknod || req.data.nr == SYS_mknodat))
				resp.error = emulate_mknod(&req);
			else
				resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
			(void)ioctl(l->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		}
		ev.events = EPOLLIN | EPOLLONESHOT;
		(void)epoll_ctl(ep, EPOLL_CTL_MOD, l->fd, &ev);
	}
	return NULL;
}

/* Keep-alive HTTP/1.1: read headers (+ Content-Length body), answer 200. */
static void serve_conn(int c)
{
	char buf[65536];
	size_t have = 0;

	for (;;) {
		char *end, *cl, hdr[256], *body;
		size_t need, blen;
		ssize_t n;

		buf[have] = '\0';
		while (!(end = strstr(buf, "\r\n\r\n"))) {
			n = read(c, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				return;
			have += (size_t)n;
			buf[have] = '\0';
		}
		cl = strcasestr(buf, "Content-Length:");
		need = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		while (have < need) {
			n = read(c, buf + have, sizeof(buf) - 1 - have);
			if (n <= 0)
				return;
			have += (size_t)n;
		}
		if (strncmp(buf, "GET /1.0/metrics", 16) == 0) {
			static char text[200000];
			size_t len = 0;

			for (int i = 0; i < 1000; i++)
				len += (size_t)snprintf(text + len, sizeof(text) - len,
							"interceptd_listeners{container=\"fill-%05d\",source=\"oci\"} 0\n", i);
			body = text;
			blen = len;
		} else {
			body = "{\"type\":\"sync\",\"status\":\"Success\",\"status_code\":200,"
			       "\"operation\":\"\",\"error_code\":0,\"error\":\"\",\"metadata\":{}}";
			blen = strlen(body);
		}
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
		if (write(c, hdr, (size_t)n) != n || write(c, body, blen) != (ssize_t)blen)
			return;
		memmove(buf, buf + need, have - need);
		have -= need;
	}
}

static void *api_main(void *arg)
{
	int ls = *(int *)arg;

	for (;;) {
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		serve_conn(c);
		close(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-socket", required_argument, NULL, 'a' },
		{ "lxc-socket", required_argument, NULL, 'l' },
		{ "oci-socket", required_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "log-level", required_argument, NULL, 'v' },
		{}
	};
	const char *api = NULL, *lxc = NULL, *oci = NULL, *state = ".";
	int c, workers = 1, api_fd, oci_fd, lxc_fd;
	pthread_t t;
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (c) {
		case 'a': api = optarg; break;
		case 'l': lxc = optarg; break;
		case 'o': oci = optarg; break;
		case 's': state = optarg; break;
		case 'w': workers = atoi(optarg); break;
		case 'v': break;
		default: return 2;
		}
	}
	if (!api || !lxc || !oci)
		return 2;
	load_state(state);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	api_fd = listen_on(api, SOCK_STREAM);
	lxc_fd = listen_on(lxc, SOCK_SEQPACKET);
	oci_fd = listen_on(oci, SOCK_STREAM); /* last: the bench waits for this one */
	pthread_create(&t, NULL, api_main, &api_fd);
	pthread_create(&t, NULL, oci_main, &oci_fd);
	for (int i = 0; i < workers; i++)
		pthread_create(&t, NULL, worker_main, NULL);
	sigwait(&mask, &c);
	(void)unlink(api);
	(void)unlink(lxc);
	(void)unlink(oci);
	close(lxc_fd);
	return 0;
}
