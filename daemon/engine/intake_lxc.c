/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LXC intake: LXC's seccomp proxy protocol (LXC ≥ 4.0.5). One
 * SOCK_SEQPACKET connection per container monitor; each datagram is header +
 * seccomp_notif + seccomp_notif_resp + cookie with three fds (/proc/PID,
 * /proc/PID/mem, the listener). We answer each with exactly header + notif +
 * resp bytes: any other length makes LXC give the caller ENOSYS, and a second
 * reply would be taken as the answer to the next notification.
 *
 * Owns the LXC socket (accepted on the intake thread), each connection's
 * listener ops (serve: receive, check, dispatch, reply; never hot) and the
 * whole deadline fallback: the reply is armed before dispatch, and the
 * listener's tick, run by the watchdog on the intake thread, sends it when
 * --lxc-deadline-ms passes. LXC, answered, goes on with its next message,
 * which nobody reads while the worker is still busy with the old one: the
 * tick answers that one too once it has waited the deadline (past LXC's own
 * 30 s a reply would be taken as the answer to the call after it, and every
 * later call would get the answer of the one before). Each connection's lock
 * says who receives and replies: the worker, around (never during) its
 * handling of a message, or the tick; so each message gets exactly one reply.
 * A connection is served by one worker at a time: nothing else needs a lock.
 *
 * The peer is root, but a mismatched or buggy LXC must get a refusal (the
 * empty datagram), never an action: besides the sizes, each message's fds
 * are checked before anything is dispatched. The listener must be a seccomp
 * listener (what ID_VALID is asked), and /proc/PID and /proc/PID/mem must
 * belong to the task the notification names (handlers act through them).
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "daemon/events/publish.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/engine/dispatch.h"
#include "daemon/engine/ephemeral.h"
#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/notify.h"
#include "daemon/engine/pool.h"

#define LXC_N_FDS 3
#define MONITOR_TITLE "[lxc monitor]"

struct intake_lxc {
	struct intake_socket sock;
	struct seccomp_notif_sizes kernel; /* what every message must carry */
};

/* Where the message a worker is handling stands: its reply is sent exactly once. */
enum lxc_answer_state {
	LXC_IDLE,        /* no message in progress */
	LXC_IN_PROGRESS, /* the worker is handling one */
	LXC_ANSWERED,    /* the tick replied; the worker is still busy with it and sends nothing */
};

/*
 * The message a worker is handling, answerable by the deadline tick. The
 * worker holds the lock while it receives and checks a message and while it
 * replies, never while it handles one; the tick only tries it (the intake
 * thread never waits for a worker).
 */
struct lxc_pending {
	pthread_mutex_t lock;
	enum lxc_answer_state state;
	uint64_t started_ns;       /* when the message arrived */
	uint64_t next_waiting_ns;  /* ANSWERED: since when the tick has seen LXC's next message wait, or 0 */
	size_t len;                /* of fallback */
	char fallback[LXC_HEADER_SIZE + sizeof(struct seccomp_notif) +
		      sizeof(struct seccomp_notif_resp)];
};

/*
 * A monitor connection: the engine's listener, plus what the proxy protocol
 * keeps. Touched by the worker serving it; lxc, listener_fd and the socket's
 * traffic also by the deadline tick (intake thread), under lxc.lock.
 */
struct lxc_conn {
	struct engine_listener l;
	struct seccomp_notif_sizes kernel; /* a copy of the intake's: outlives it */
	struct lxc_pending lxc;
	int listener_fd; /* the last fd proven a seccomp listener (a dup), or -EBADF */
	bool has_profile_cookie; /* its cookie named a profile: tried once, not per message */
};

static struct lxc_conn *conn_of(struct engine_listener *l)
{
	return container_of(l, struct lxc_conn, l);
}

int lxc_message_parse(const void *buf, size_t len, const struct seccomp_notif_sizes *kernel,
		      struct lxc_message *ret)
{
	struct lxc_proxy_header h;
	size_t base;

	if (len < LXC_HEADER_SIZE)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	/* the request must carry exactly the structures this kernel uses */
	if (h.reserved != 0 || h.sizes.seccomp_notif != kernel->seccomp_notif ||
	    h.sizes.seccomp_notif_resp != kernel->seccomp_notif_resp ||
	    h.sizes.seccomp_data != kernel->seccomp_data ||
	    h.sizes.seccomp_notif != sizeof(struct seccomp_notif) ||
	    h.sizes.seccomp_notif_resp != sizeof(struct seccomp_notif_resp) ||
	    h.sizes.seccomp_data != sizeof(struct seccomp_data) || h.cookie_len > LXC_COOKIE_MAX)
		return -EBADMSG;
	base = LXC_HEADER_SIZE + h.sizes.seccomp_notif + h.sizes.seccomp_notif_resp;
	if (len != base + h.cookie_len)
		return -EBADMSG;
	*ret = (struct lxc_message){
		.header = h,
		.req = (const struct seccomp_notif *)((const char *)buf + LXC_HEADER_SIZE),
		.cookie = (const char *)buf + base,
		.cookie_len = (size_t)h.cookie_len,
	};
	return 0;
}

int lxc_monitor_name(const char *cmdline, size_t len, char *name, size_t size)
{
	const char *end = cmdline + len, *last;
	size_t n;

	/* one argv string: "[lxc monitor] PATH NAME" (LXC rewrites its title so) */
	if (len <= strlen(MONITOR_TITLE) || strncmp(cmdline, MONITOR_TITLE, strlen(MONITOR_TITLE)) != 0)
		return -EINVAL;
	while (end > cmdline && (end[-1] == '\0' || end[-1] == ' '))
		end--;
	for (last = end; last > cmdline && last[-1] != ' ' && last[-1] != '\0'; last--)
		;
	n = (size_t)(end - last);
	if (n == 0 || n >= size || last <= cmdline + strlen(MONITOR_TITLE))
		return -EINVAL;
	memcpy(name, last, n);
	name[n] = '\0';
	return 0;
}

static void name_from_monitor(pid_t monitor_pid, char *name, size_t size)
{
	char path[64], buf[4096];
	_cleanup_close_ int fd = -EBADF;
	ssize_t n;

	(void)snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)monitor_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	if (n > 0)
		(void)lxc_monitor_name(buf, (size_t)n, name, size);
}

/*
 * A cookie "profile=NAME[,...]": register an ephemeral container named after
 * the monitor's container (or its init pid) into @name. Returns true when the
 * cookie had that form, also if it was broken or the registration failed
 * (@name then "" and the calls are answered CONTINUE).
 */
static bool identify_by_profile(struct engine_listener *l, const struct lxc_message *m,
				char name[static CONTAINER_NAME_MAX + 1])
{
	char cookie[LXC_COOKIE_MAX + 1], profile[CONTAINER_NAME_MAX + 1], base[32] = "";
	int r;

	memcpy(cookie, m->cookie, m->cookie_len);
	cookie[m->cookie_len] = '\0';
	r = ephemeral_parse_metadata(cookie, profile);
	if (r == 0)
		return false;
	name[0] = '\0';
	if (r < 0) {
		log_warning("LXC cookie '%s' is not profile=NAME[,key=value...], answering CONTINUE",
			    ESCAPED(cookie, LXC_COOKIE_MAX));
		return true;
	}
	if (m->header.monitor_pid > 0)
		name_from_monitor(m->header.monitor_pid, name, CONTAINER_NAME_MAX + 1);
	/* no monitor title: the init pid names it for its life */
	if (!name[0])
		(void)snprintf(base, sizeof(base), "lxc-%d", (int)m->header.init_pid);
	if (ephemeral_name(NULL, name[0] ? name : base, name) < 0) {
		name[0] = '\0';
		return true;
	}
	/* a name taken by another container is not ours to attach to */
	if (intake_register_ephemeral(l->d, name, profile, NULL) < 0)
		name[0] = '\0';
	return true;
}

/* Name the connection's container on its first message: cookie, else monitor title. */
static void identify(struct engine_listener *l, const struct lxc_message *m)
{
	char name[CONTAINER_NAME_MAX + 1] = "";

	if (l->name[0])
		return;
	if (conn_of(l)->has_profile_cookie)
		return; /* registering failed once: said so, not again per message */
	if (m->cookie_len > 0 && identify_by_profile(l, m, name)) {
		conn_of(l)->has_profile_cookie = true;
	} else if (m->cookie_len > 0 && m->cookie_len <= CONTAINER_NAME_MAX) {
		memcpy(name, m->cookie, m->cookie_len);
		name[m->cookie_len] = '\0';
	} else if (m->header.monitor_pid > 0) {
		name_from_monitor(m->header.monitor_pid, name, sizeof(name));
	}
	if (name[0] && container_name_valid(name)) {
		strcpy(l->name, name);
		l->is_resolved = false;
	}
	l->pub.pid = m->header.init_pid;
	l->init_pid = m->header.init_pid;
}

struct received {
	union {
		char bytes[LXC_HEADER_SIZE + 256 + LXC_COOKIE_MAX];
		uint64_t align;
	} buf;
	ssize_t len;
	int fds[LXC_N_FDS + 1];
	size_t n_fds;
};

static int receive(int fd, struct received *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * (LXC_N_FDS + 1))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = r->buf.bytes, .iov_len = sizeof(r->buf.bytes) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };

	r->n_fds = 0;
	do
		r->len = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_TRUNC);
	while (r->len < 0 && errno == EINTR);
	if (r->len < 0)
		return errno == EAGAIN ? 0 : negative_errno();
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < n && r->n_fds < ARRAY_SIZE(r->fds); i++)
				memcpy(&r->fds[r->n_fds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
	if ((size_t)r->len > sizeof(r->buf.bytes) || (msg.msg_flags & MSG_CTRUNC))
		r->len = -1; /* oversized or too many fds: invalid, but still answered */
	return 1;
}

/*
 * Is @fd a seccomp listener? A monitor passes the same listener with every
 * message (a new fd number for the same open file), so the last one that
 * passed is kept and compared with kcmp(KCMP_FILE), well under the cost of
 * the readlink of /proc/self/fd/N that proves a new one.
 */
static bool is_seccomp_listener(struct lxc_conn *c, int fd)
{
	const pid_t self = getpid();

	if (c->listener_fd >= 0 &&
	    syscall(SYS_kcmp, self, self, KCMP_FILE, c->listener_fd, fd) == 0)
		return true;
	if (!notify_fd_is_seccomp(fd))
		return false;
	(void)close_nointr(c->listener_fd);
	c->listener_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return true;
}

/*
 * Do @proc_fd and @mem_fd belong to the task @pid? @proc_fd must be a procfs
 * directory whose thread group holds @pid (task/PID is looked up in the pid
 * namespace of LXC's proc mount, the one the monitor received the pid in),
 * and @mem_fd must be the "mem" file below it: while it is open its dentry
 * stays, so a lookup through @proc_fd finds the same inode. target_open()
 * also compares the exact thread (Pid: of its status). ID_VALID, checked
 * later by each handler, then proves the task is still the trapped one.
 */
static bool proc_fds_name(pid_t pid, int proc_fd, int mem_fd)
{
	struct stat task, mem, expected;
	struct statfs fs;
	char name[32];

	if (pid <= 0 || fstatfs(proc_fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
		return false;
	(void)snprintf(name, sizeof(name), "task/%d", (int)pid);
	if (fstatat(proc_fd, name, &task, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(task.st_mode))
		return false;
	if (fstat(mem_fd, &mem) < 0 || fstatat(proc_fd, "mem", &expected, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return mem.st_dev == expected.st_dev && mem.st_ino == expected.st_ino;
}

/* Why the received message must not be acted on, or NULL (then @m is filled). */
static const char *refusal(struct lxc_conn *c, const struct received *r, struct lxc_message *m)
{
	if (r->len < 0 || r->n_fds != LXC_N_FDS)
		return "bad size or fd count";
	if (lxc_message_parse(r->buf.bytes, (size_t)r->len, &c->kernel, m) < 0)
		return "bad header or sizes";
	if (!is_seccomp_listener(c, r->fds[2]))
		return "the listener fd is not a seccomp listener";
	if (!proc_fds_name((pid_t)m->req->pid, r->fds[0], r->fds[1]))
		return "the /proc fds are not those of the notification's task";
	return NULL;
}

static void close_all(struct received *r)
{
	for (size_t i = 0; i < r->n_fds; i++)
		close_nointr(r->fds[i]);
	r->n_fds = 0;
}

static int reply(int fd, const struct lxc_message *m, const struct seccomp_notif_resp *resp)
{
	struct iovec iov[3] = {
		{ .iov_base = (void *)&m->header, .iov_len = LXC_HEADER_SIZE },
		{ .iov_base = (void *)m->req, .iov_len = m->header.sizes.seccomp_notif },
		{ .iov_base = (void *)resp, .iov_len = m->header.sizes.seccomp_notif_resp },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
	ssize_t n;

	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? negative_errno() : 0;
}

/* An invalid message gets an empty datagram: LXC then answers ENOSYS at once. */
static int reply_invalid(int fd)
{
	ssize_t n;

	do
		n = send(fd, "", 0, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? negative_errno() : 0;
}

/* Prepare the reply the deadline tick sends if the deadline passes: CONTINUE, but EPERM for bpf. */
static void arm_fallback(struct lxc_conn *c, const struct lxc_message *m, uint64_t t0)
{
	struct seccomp_notif_resp resp;
	char *p = c->lxc.fallback;

	dispatch_undecided(m->req, &resp);
	memcpy(p, &m->header, LXC_HEADER_SIZE);
	memcpy(p + LXC_HEADER_SIZE, m->req, m->header.sizes.seccomp_notif);
	memcpy(p + LXC_HEADER_SIZE + m->header.sizes.seccomp_notif, &resp, sizeof(resp));
	c->lxc.len = LXC_HEADER_SIZE + m->header.sizes.seccomp_notif + sizeof(resp);
	c->lxc.started_ns = t0;
	c->lxc.state = LXC_IN_PROGRESS;
}

/* What a tick did, logged once the connection's lock is released. */
struct tick_report {
	bool is_late;       /* it answered the message the worker is busy with */
	unsigned n_waiting; /* it answered a message that waited behind that one */
	bool is_error;      /* the answer was an errno (bpf), not CONTINUE */
	int error;          /* that errno (negative) */
	pid_t caller;       /* the caller of the last message answered */
	int send_r;         /* < 0: a reply failed */
};

/* Note in @rep the answer @resp sent to @caller. */
static void note_answer(struct tick_report *rep, const struct seccomp_notif_resp *resp,
			pid_t caller)
{
	rep->is_error = !(resp->flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	rep->error = resp->error;
	rep->caller = caller;
}

/* Answer the message the worker is busy with, past the deadline. Lock held. */
static void answer_late(struct lxc_conn *c, struct tick_report *rep)
{
	struct seccomp_notif_resp resp;
	__u32 caller;

	if (send(c->l.fd, c->lxc.fallback, c->lxc.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		rep->send_r = negative_errno();
	c->lxc.state = LXC_ANSWERED;
	c->lxc.next_waiting_ns = 0;
	memcpy(&resp, c->lxc.fallback + c->lxc.len - sizeof(resp), sizeof(resp));
	rep->is_late = true;
	/* the caller, from the copy of its notification kept with the fallback answer */
	memcpy(&caller, c->lxc.fallback + LXC_HEADER_SIZE + offsetof(struct seccomp_notif, pid),
	       sizeof(caller));
	note_answer(rep, &resp, (pid_t)caller);
}

/*
 * The worker is still busy with a message answered here, and LXC sent its
 * next one, which nobody reads: past the deadline (counted from when a tick
 * first saw it wait), answer it the same way from here. Lock held.
 */
static void answer_waiting(struct lxc_conn *c, uint64_t now, uint64_t deadline,
			   struct tick_report *rep)
{
	struct pollfd p = { .fd = c->l.fd, .events = POLLIN };
	struct seccomp_notif_resp resp;
	struct lxc_message m;
	struct received r;
	int ret;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
		return;
	if (!c->lxc.next_waiting_ns) {
		c->lxc.next_waiting_ns = now;
		return;
	}
	if (now - c->lxc.next_waiting_ns <= deadline || receive(c->l.fd, &r) <= 0)
		return;
	c->lxc.next_waiting_ns = 0;
	if (r.len == 0 && r.n_fds == 0)
		return; /* the monitor left: the worker sees it once free */
	if (refusal(c, &r, &m)) {
		ret = reply_invalid(c->l.fd);
	} else {
		dispatch_undecided(m.req, &resp);
		ret = reply(c->l.fd, &m, &resp);
		rep->n_waiting++;
		note_answer(rep, &resp, (pid_t)m.req->pid);
	}
	close_all(&r);
	if (ret < 0)
		rep->send_r = ret;
}

/*
 * The listener's tick (watchdog, intake thread, pool lock held): past
 * --lxc-deadline-ms, answer the message the worker is stuck on with CONTINUE
 * (EPERM for bpf) on its behalf, then any message LXC sends while the worker
 * is still stuck (LXC gives up after 30 s and would take a late reply as the
 * answer to its next notification). The worker then sends nothing.
 */
static void deadline_tick(struct engine_listener *l, uint64_t now)
{
	struct lxc_conn *c = conn_of(l);
	const uint64_t deadline = (uint64_t)l->d->opts.lxc_deadline_ms * 1000000u;
	struct tick_report rep = { 0 };

	if (pthread_mutex_trylock(&c->lxc.lock) != 0)
		return; /* the worker is receiving or replying: it is not stuck */
	if (c->lxc.state == LXC_IN_PROGRESS && now - c->lxc.started_ns > deadline)
		answer_late(c, &rep);
	else if (c->lxc.state == LXC_ANSWERED)
		answer_waiting(c, now, deadline, &rep);
	pthread_mutex_unlock(&c->lxc.lock);
	if (!rep.is_late && !rep.n_waiting)
		return;
	atomic_fetch_add(&l->d->lxc_deadline_exceeded, rep.is_late + rep.n_waiting);
	log_about_errno(LOG_LEVEL_WARNING, 0, l->name, NULL,
			"LXC notification of '%s' %s over %u ms: answered %s%s", l->name,
			rep.is_late ? "took" : "waited behind a stuck one for",
			l->d->opts.lxc_deadline_ms, rep.is_error ? "with an error" : "CONTINUE",
			rep.send_r < 0 ? " (send failed)" : "");
	publish_lxc_deadline(l->d->events, l->name, rep.caller, l->d->opts.lxc_deadline_ms,
			     rep.is_error ? strerrorname_np(-rep.error) : "continue");
}

/*
 * Receive the next message and check it (an invalid one gets its empty
 * datagram here), then arm its fallback. Returns 1 when @m is to be handled,
 * 0 when there is nothing to handle, < 0 when the connection is gone. Lock held.
 */
static int take_message(struct lxc_conn *c, struct received *r, struct lxc_message *m,
			uint64_t *ret_t0)
{
	const char *why;
	uint64_t t0;
	int ret;

	ret = receive(c->l.fd, r);
	t0 = now_ns();
	if (ret <= 0)
		return ret;
	if (r->len == 0 && r->n_fds == 0)
		return -ECONNRESET; /* the monitor closed the connection */
	/* a message that waited behind a stuck one has used part of its time already */
	if (c->lxc.next_waiting_ns && c->lxc.next_waiting_ns < t0)
		t0 = c->lxc.next_waiting_ns;
	c->lxc.next_waiting_ns = 0;
	why = refusal(c, r, m);
	if (why) {
		log_debug("LXC connection of '%s': invalid message (%zd bytes, %zu fds): %s",
			  c->l.name, r->len, r->n_fds, why);
		close_all(r);
		return reply_invalid(c->l.fd);
	}
	identify(&c->l, m);
	arm_fallback(c, m, t0);
	*ret_t0 = t0;
	return 1;
}

/*
 * Serve one proxy message on @l: receive it with its fds, dispatch it, answer
 * exactly once with header + notif + resp, close the fds. Returns < 0 when the
 * connection is gone. The worker serving @l.
 */
static int serve_message(struct engine_listener *l)
{
	struct lxc_conn *c = conn_of(l);
	struct seccomp_notif_resp resp;
	struct lxc_message m;
	struct received r;
	bool is_answered;
	uint64_t t0 = 0;
	int ret;

	pthread_mutex_lock(&c->lxc.lock);
	ret = take_message(c, &r, &m, &t0);
	pthread_mutex_unlock(&c->lxc.lock);
	if (ret <= 0)
		return ret;
	dispatch_notification(l, m.req, r.fds[2], r.fds[0], r.fds[1], t0, &resp);
	close_all(&r);
	pthread_mutex_lock(&c->lxc.lock);
	/* answered by the tick: a second reply would be taken as the answer to the next one */
	is_answered = c->lxc.state == LXC_ANSWERED;
	c->lxc.state = LXC_IDLE;
	ret = is_answered ? 0 : reply(l->fd, &m, &resp);
	pthread_mutex_unlock(&c->lxc.lock);
	if (ret < 0)
		log_debug_errno(ret, "LXC connection of '%s': reply failed: %m", l->name);
	return ret == -EPIPE || ret == -ECONNRESET ? ret : 0;
}

static void free_conn(struct engine_listener *l)
{
	struct lxc_conn *c = conn_of(l);

	close_nointr(c->listener_fd);
	pthread_mutex_destroy(&c->lxc.lock);
	free(c);
}

/* A LXC listener is a monitor connection relaying proxy messages; never hot. */
static const struct listener_ops lxc_listener_ops = {
	.source = LISTENER_SOURCE_LXC,
	.serve = serve_message,
	.tick = deadline_tick,
	.free = free_conn,
};

/* ---- the LXC socket ---- */

/* The LXC socket is readable: every monitor connecting now becomes a listener. */
static void on_listen_ready(struct intake_watch *w)
{
	struct intake_lxc *x = container_of(w, struct intake_lxc, sock.watch);
	int fd;

	while ((fd = accept4(x->sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct lxc_conn *c = calloc(1, sizeof(*c));

		if (!c) {
			close(fd);
			continue;
		}
		engine_listener_init(&c->l, &lxc_listener_ops, x->sock.d, fd, 0, NULL);
		c->kernel = x->kernel;
		c->listener_fd = -EBADF;
		pthread_mutex_init(&c->lxc.lock, NULL);
		log_debug("LXC monitor connected");
		(void)pool_add(x->sock.pool, &c->l);
	}
}

int intake_lxc_start(struct daemon *d, struct intake *t, struct workers *pool, int listen_fd,
		     const struct seccomp_notif_sizes *kernel, struct intake_lxc **ret)
{
	struct intake_lxc *x = calloc(1, sizeof(*x));
	int r;

	if (!x) {
		close_nointr(listen_fd);
		return -ENOMEM;
	}
	x->kernel = *kernel;
	r = intake_socket_open(&x->sock, d, t, pool, listen_fd, on_listen_ready);
	if (r < 0) {
		free(x);
		return r;
	}
	*ret = x;
	return 0;
}

struct intake_lxc *intake_lxc_free(struct intake_lxc *x)
{
	if (!x)
		return NULL;
	intake_socket_close(&x->sock);
	free(x);
	return NULL;
}
