/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mini_agent: the smallest seccomp-notify agent the e2e tests need, and a baseline.
 *
 * It answers every notification with CONTINUE, from
 *  - OCI runtimes (runc, crun): SOCK_STREAM socket; one connection per filter install
 *    carrying the container-process state JSON and the `seccompFd` via SCM_RIGHTS. The
 *    runtime may never close the connection, so the JSON is read until it is complete,
 *    never until EOF. crun may send an empty connection when it fails.
 *  - LXC's seccomp proxy: SOCK_SEQPACKET socket; one connection per container monitor,
 *    one packet per notification (header, seccomp_notif, seccomp_notif_resp, cookie) with
 *    three fds; the reply is exactly header + notif + resp bytes.
 *
 * One line per event on stdout ("oci attach …", "oci notify … name=sysinfo",
 * "lxc notify cookie=… name=sysinfo", …) so shell tests can grep it.
 * Single-threaded poll loop; stop it with SIGTERM.
 *
 * Usage: mini_agent [--oci PATH] [--lxc PATH]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 512
#define JSON_MAX 65536

/* LXC's struct seccomp_notify_proxy_msg header (lxc/src/lxc/lxcseccomp.h layout). */
struct lxc_proxy_hdr {
	uint64_t reserved;
	int32_t monitor_pid;
	int32_t init_pid;
	struct seccomp_notif_sizes sizes;
	uint64_t cookie_len;
};
_Static_assert(sizeof(struct lxc_proxy_hdr) == 32, "LXC proxy header is 32 bytes");

enum kind { OCI_LISTEN, LXC_LISTEN, OCI_CONN, OCI_NOTIFY, LXC_CONN };

struct slot {
	enum kind kind;
	char *buf; /* OCI_CONN: JSON received so far */
	size_t len;
	int notify_fd; /* OCI_CONN: the fd received with the JSON */
	char meta[128];
};

static struct pollfd pfds[MAX_FDS];
static struct slot slots[MAX_FDS];
static int n_pfds;

static void add(int fd, enum kind kind, const char *meta)
{
	if (n_pfds == MAX_FDS) {
		printf("error too many fds\n");
		close(fd);
		return;
	}
	pfds[n_pfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
	slots[n_pfds] = (struct slot){ .kind = kind, .notify_fd = -1 };
	snprintf(slots[n_pfds].meta, sizeof(slots[n_pfds].meta), "%s", meta ? meta : "");
	n_pfds++;
}

static void drop(int i)
{
	close(pfds[i].fd);
	if (slots[i].notify_fd >= 0)
		close(slots[i].notify_fd);
	free(slots[i].buf);
	n_pfds--;
	pfds[i] = pfds[n_pfds];
	slots[i] = slots[n_pfds];
}

static int listen_on(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	(void)unlink(path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		perror(path);
		exit(1);
	}
	return fd;
}

/* Receive data and any SCM_RIGHTS fds; returns bytes or -errno. */
static ssize_t recv_fds(int fd, void *buf, size_t size, int *fds, int *n_fds)
{
	union {
		char raw[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw,
			     .msg_controllen = sizeof(ctl.raw) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	*n_fds = 0;
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds + *n_fds, CMSG_DATA(c), sizeof(int) * k);
		*n_fds += k;
	}
	return n;
}

/* True once buf holds one complete JSON object (braces balanced outside strings). */
static int json_complete(const char *buf, size_t len)
{
	int depth = 0, in_str = 0, seen = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '{') {
			depth++;
			seen = 1;
		} else if (ch == '}' && --depth == 0 && seen) {
			return 1;
		}
	}
	return 0;
}

/* Copy the string value of "key" (first occurrence) into out. */
static void json_str(const char *buf, const char *key, char *out, size_t size)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	out[0] = '\0';
	p = strstr(buf, pat);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == ' ' || *p == ':' || *p == '\n' || *p == '\t')
		p++;
	if (*p++ != '"')
		return;
	while (*p && *p != '"' && n + 1 < size)
		out[n++] = *p++;
	out[n] = '\0';
}

static const char *name_of(const struct seccomp_data *d, char *buf, size_t size)
{
	char *s = seccomp_syscall_resolve_num_arch(d->arch, d->nr);

	snprintf(buf, size, "%s", s ? s : "?");
	free(s);
	return buf;
}

static void oci_conn_readable(int i)
{
	struct slot *s = &slots[i];
	int fds[8], n_fds;
	char meta[64], id[64];

	if (!s->buf && !(s->buf = malloc(JSON_MAX)))
		exit(1);
	ssize_t n = recv_fds(pfds[i].fd, s->buf + s->len, JSON_MAX - 1 - s->len, fds, &n_fds);
	for (int k = 0; k < n_fds; k++) {
		if (s->notify_fd < 0)
			s->notify_fd = fds[k];
		else
			close(fds[k]);
	}
	if (n <= 0) {
		printf("oci empty-connection bytes=%zu fd=%d\n", s->len, s->notify_fd >= 0);
		drop(i);
		return;
	}
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
	if (!json_complete(s->buf, s->len)) {
		if (s->len >= JSON_MAX - 1) {
			printf("oci error json too large\n");
			drop(i);
		}
		return;
	}
	json_str(s->buf, "metadata", meta, sizeof(meta));
	json_str(s->buf, "id", id, sizeof(id));
	if (s->notify_fd < 0) {
		printf("oci error no-fd meta=%s id=%s\n", meta, id);
		drop(i);
		return;
	}
	int nfd = s->notify_fd;
	s->notify_fd = -1;
	printf("oci attach meta=%s id=%s bytes=%zu\n", meta, id, s->len);
	drop(i); /* runc never closes its end: close ours */
	add(nfd, OCI_NOTIFY, meta);
}

static void oci_notify_readable(int i)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	char name[64];

	memset(&req, 0, sizeof(req)); /* the kernel insists on a zeroed struct */
	if (ioctl(pfds[i].fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
		if (errno != ENOENT && errno != EINTR)
			printf("oci error recv: %s\n", strerror(errno));
		return;
	}
	printf("oci notify meta=%s pid=%u name=%s\n", slots[i].meta, req.pid,
	       name_of(&req.data, name, sizeof(name)));
	resp = (struct seccomp_notif_resp){ .id = req.id,
					    .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	if (ioctl(pfds[i].fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
		printf("oci error send: %s\n", strerror(errno));
}

static void lxc_conn_readable(int i)
{
	char buf[4096], cookie[128] = "", name[64];
	int fds[8], n_fds;
	struct lxc_proxy_hdr h;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	ssize_t n = recv_fds(pfds[i].fd, buf, sizeof(buf), fds, &n_fds);
	for (int k = 0; k < n_fds; k++)
		close(fds[k]);
	if (n <= 0) {
		printf("lxc disconnect\n");
		drop(i);
		return;
	}
	memcpy(&h, buf, sizeof(h));
	size_t base = sizeof(h) + h.sizes.seccomp_notif + h.sizes.seccomp_notif_resp;
	if ((size_t)n < sizeof(h) || h.sizes.seccomp_notif < sizeof(req) ||
	    h.sizes.seccomp_notif_resp < sizeof(resp) || (size_t)n < base) {
		printf("lxc error short message bytes=%zd\n", n);
		return;
	}
	memcpy(&req, buf + sizeof(h), sizeof(req));
	if (h.cookie_len < sizeof(cookie) && base + h.cookie_len <= (size_t)n) {
		memcpy(cookie, buf + base, h.cookie_len);
		cookie[h.cookie_len] = '\0';
	}
	printf("lxc notify cookie=%s pid=%u name=%s bytes=%zd fds=%d reply=%zu\n", cookie,
	       req.pid, name_of(&req.data, name, sizeof(name)), n, n_fds, base);
	resp = (struct seccomp_notif_resp){ .id = req.id,
					    .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	memcpy(buf + sizeof(h) + h.sizes.seccomp_notif, &resp, sizeof(resp));
	if (send(pfds[i].fd, buf, base, MSG_NOSIGNAL) != (ssize_t)base)
		printf("lxc error send: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--oci"))
			add(listen_on(argv[i + 1], SOCK_STREAM), OCI_LISTEN, NULL);
		else if (!strcmp(argv[i], "--lxc"))
			add(listen_on(argv[i + 1], SOCK_SEQPACKET), LXC_LISTEN, NULL);
	}
	if (n_pfds == 0) {
		fprintf(stderr, "usage: mini_agent [--oci PATH] [--lxc PATH]\n");
		return 2;
	}
	printf("ready\n");
	for (;;) {
		if (poll(pfds, (nfds_t)n_pfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		for (int i = n_pfds - 1; i >= 0; i--) {
			short re = pfds[i].revents;
			int fd;

			if (!re)
				continue;
			switch (slots[i].kind) {
			case OCI_LISTEN:
			case LXC_LISTEN:
				fd = accept4(pfds[i].fd, NULL, NULL, SOCK_CLOEXEC);
				if (fd >= 0)
					add(fd, slots[i].kind == OCI_LISTEN ? OCI_CONN : LXC_CONN,
					    NULL);
				break;
			case OCI_CONN:
				oci_conn_readable(i);
				break;
			case LXC_CONN:
				lxc_conn_readable(i);
				break;
			case OCI_NOTIFY:
				if (re & POLLIN)
					oci_notify_readable(i);
				else if (re & (POLLHUP | POLLERR)) {
					printf("oci detach meta=%s\n", slots[i].meta);
					drop(i);
				}
				break;
			}
		}
	}
}
