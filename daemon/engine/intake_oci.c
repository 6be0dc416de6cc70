/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI intake (runtime-spec listenerPath): runc and crun connect to the
 * OCI socket once per filter install, send the "container process state"
 * JSON and the listener fd (SCM_RIGHTS), and never wait for an answer.
 *
 * Owns the OCI socket and every connection still sending its state: all of
 * them non-blocking and watched by the intake thread, each connection with a
 * 5 s deadline, so a client that sends nothing or garbage delays nobody.
 * Whatever has arrived is parsed after every read (oci_state.c: the wire
 * format, pure). A complete state's seccompFd becomes a listener for the worker pool,
 * and a copy goes to systemd's fd store so that a restart can take it back.
 * The listener's ops (serve: RECV, dispatch, SEND; hot mode allowed) are here.
 *
 * Runs on the intake thread (and on the main thread before that thread
 * starts: the start and the adoption of stored listeners); the listener ops
 * run on the worker serving the listener. No locks of its own.
 */
#include <string.h>
#include <sys/socket.h>

#include "daemon/engine/dispatch.h"
#include "daemon/engine/intake_oci.h"
#include "daemon/engine/oci_state.h"
#include "daemon/engine/notify.h"
#include "daemon/engine/pool.h"
#include "daemon/fdstore.h"
#include "daemon/escape.h"
#include "daemon/log.h"
#include "daemon/store/store.h"

#define OCI_STATE_MAX (1024 * 1024)
#define OCI_DEADLINE_NS (5ull * 1000000000ull)
#define OCI_MAX_FDS 16
#define OCI_MAX_CONNS 1024

struct oci_conn {
	struct intake_watch watch; /* of fd */
	struct intake_oci *o;
	int fd;
	char *buf; /* owned */
	size_t len, alloc;
	int fds[OCI_MAX_FDS];
	size_t n_fds;
	uint64_t deadline_ns;
};

struct intake_oci {
	struct intake_socket sock;
	struct oci_conn *conns[OCI_MAX_CONNS];
	size_t n_conns;
};

static void conn_free(struct intake_oci *o, size_t i)
{
	struct oci_conn *c = o->conns[i];

	intake_unwatch(o->sock.t, c->fd);
	close_nointr(c->fd);
	for (size_t k = 0; k < c->n_fds; k++)
		close_nointr(c->fds[k]);
	free(c->buf);
	free(c);
	o->conns[i] = o->conns[--o->n_conns];
}

static void on_conn_ready(struct intake_watch *w);

/* The OCI socket is readable: take every runtime connecting now. */
static void on_listen_ready(struct intake_watch *w)
{
	struct intake_oci *o = container_of(w, struct intake_oci, sock.watch);
	struct oci_conn *c;
	int fd;

	while ((fd = accept4(o->sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (o->n_conns == OCI_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			log_warning("Too many pending OCI connections, dropping one");
			close(fd);
			continue;
		}
		c->watch.on_ready = on_conn_ready;
		c->o = o;
		c->fd = fd;
		c->deadline_ns = now_ns() + OCI_DEADLINE_NS;
		if (intake_watch(o->sock.t, fd, &c->watch) < 0) {
			close(fd);
			free(c);
			continue;
		}
		o->conns[o->n_conns++] = c;
	}
}

/* Read what is there; returns 1 at EOF, 0 for more later, < 0 on error. */
static int conn_read(struct oci_conn *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * OCI_MAX_FDS)];
		struct cmsghdr align;
	} control;
	char data[16384];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : negative_errno();
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; h->cmsg_type == SCM_RIGHTS && i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->n_fds < OCI_MAX_FDS)
				c->fds[c->n_fds++] = fd;
			else
				close(fd);
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		return -EBADMSG;
	if (n == 0)
		return 1;
	if (c->len + (size_t)n > OCI_STATE_MAX)
		return -EMSGSIZE;
	if (c->len + (size_t)n > c->alloc) {
		size_t alloc = (c->len + (size_t)n) * 2;
		char *buf = realloc(c->buf, alloc);

		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		c->alloc = alloc;
	}
	memcpy(c->buf + c->len, data, (size_t)n);
	c->len += (size_t)n;
	return 0;
}

/* One notification from an OCI notify fd. Returns < 0 when the fd is unusable. */
static int serve_oci(struct engine_listener *l)
{
	struct seccomp_notif req;
	uint64_t t0;
	int r;

	r = notify_recv(l->fd, &req);
	t0 = now_ns();
	if (r == -ENOENT || r == -EINTR)
		return 0; /* the caller was interrupted or died before we got to it */
	if (r < 0)
		return log_debug_errno(r, "'%s': receive failed, dropping listener: %m", l->name);
	(void)dispatch_answer(l, &req, t0);
	return 0;
}

static void free_oci_listener(struct engine_listener *l)
{
	free(l);
}

/* An OCI listener is the container's notify fd itself, served with RECV and SEND. */
static const struct listener_ops oci_listener_ops = {
	.source = LISTENER_SOURCE_OCI,
	.serve = serve_oci,
	.free = free_oci_listener,
	.can_go_hot = true,
};

/* Hand OCI listener @fd (now ours) to the workers; false if it could not be set up (closed). */
static bool adopt_oci_listener(struct intake_oci *o, int fd, pid_t pid, pid_t init_pid,
			       const char *name)
{
	struct engine_listener *l;

	/* the caller then runs on our CPU when we answer: about 8x faster here */
	if (o->sock.d->features.sync_wake_up)
		(void)notify_set_sync_wake_up(fd);
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return false;
	}
	engine_listener_init(l, &oci_listener_ops, o->sock.d, fd, pid, name);
	l->init_pid = init_pid;
	(void)engine_listener_container(l); /* attach now so the gauge shows it */
	log_about_errno(LOG_LEVEL_INFO, 0, name[0] ? name : NULL, NULL,
			"OCI listener attached for '%s' (pid %d)%s", name[0] ? name : "?", (int)pid,
			l->container ? "" : ", not registered: answering CONTINUE");
	return pool_add(o->sock.pool, l) >= 0;
}

/*
 * Keep a copy in systemd's fd store (when there is one) so a restart can take
 * it back; @profile ("" if none) so that it registers itself again.
 */
static void store_oci_listener(int fd, pid_t pid, pid_t init_pid, const char *name,
			       const char *profile)
{
	struct fdstore_oci o = { .pid = pid, .init_pid = init_pid };
	char fdname[FDSTORE_NAME_MAX + 1];
	int r;

	if (strlen(name) > CONTAINER_NAME_MAX || strlen(profile) > CONTAINER_NAME_MAX)
		return;
	strcpy(o.name, name);
	strcpy(o.profile, profile);
	if (fdstore_oci_format(&o, fdname) < 0)
		return; /* not a name a container can have: nothing to re-attach it to */
	r = fdstore_push(fdname, fd);
	if (r < 0)
		log_warning_errno(r, "Cannot keep the listener of '%s' in the systemd fd store, "
				  "it will not survive a restart: %m", name);
}

/*
 * The container a state's listener speaks for, into @name: the registered
 * container its metadata names; an ephemeral one when the metadata is
 * "profile=NAME[,...]" (its profile into @profile); else its OCI id.
 * Returns < 0 when the ephemeral container could not be registered: @name
 * may then be another container's, not one to attach the listener to.
 */
static int resolve_oci_name(struct daemon *d, const struct oci_state *st,
			    char name[static CONTAINER_NAME_MAX + 1],
			    char profile[static CONTAINER_NAME_MAX + 1])
{
	struct container *known = st->metadata[0] ? registry_get(d->registry, st->metadata) : NULL;
	int r;

	strcpy(name, known ? st->metadata : st->id);
	profile[0] = '\0';
	if (known) {
		container_unref(known);
		return 0;
	}
	r = ephemeral_parse_metadata(st->raw_metadata, profile);
	if (r < 0)
		log_warning("OCI listenerMetadata '%s' is not profile=NAME[,key=value...], "
			    "answering CONTINUE for '%s'", ESCAPED(st->raw_metadata, 128),
			    name[0] ? name : "?");
	if (r <= 0) {
		profile[0] = '\0';
		return 0;
	}
	if (ephemeral_name(&st->k8s, st->raw_id, name) < 0) {
		log_warning("OCI state names neither a pod nor a container id: cannot register a "
			    "container of profile '%s', answering CONTINUE", profile);
		name[0] = profile[0] = '\0';
		return 0;
	}
	r = intake_register_ephemeral(d, name, profile, &st->k8s);
	return r < 0 ? r : 0;
}

/* A complete state arrived: turn its seccompFd into a listener for the workers. */
static void conn_complete(struct intake_oci *o, struct oci_conn *c, const struct oci_state *st)
{
	char name[CONTAINER_NAME_MAX + 1], profile[CONTAINER_NAME_MAX + 1];
	pid_t init_pid = st->init_pid ? st->init_pid : st->pid;
	int fd, r;

	/* the fd first: an ephemeral container is registered only for a real listener */
	if ((size_t)st->seccomp_fd_index >= c->n_fds) {
		log_warning("OCI state for '%s' names a seccompFd but carries no such fd, ignoring",
			    st->id[0] ? st->id : "?");
		return;
	}
	fd = c->fds[st->seccomp_fd_index];
	if (!notify_fd_is_seccomp(fd)) {
		log_warning("OCI state for '%s' carries an fd that is not a seccomp listener, ignoring",
			    st->id[0] ? st->id : "?");
		return;
	}
	r = resolve_oci_name(o->sock.d, st, name, profile);
	c->fds[st->seccomp_fd_index] = c->fds[--c->n_fds]; /* now ours */
	/* stored as named, so a restart tries the registration again */
	store_oci_listener(fd, st->pid, init_pid, name, profile);
	(void)adopt_oci_listener(o, fd, st->pid, init_pid, r < 0 ? "" : name);
}

/*
 * Register again the ephemeral container of a stored listener, with the
 * Kubernetes labels kept for it; a kept file that is not valid is said so
 * and ignored. Returns < 0 when it could not be registered.
 */
static int register_stored(struct daemon *d, const struct fdstore_oci *s)
{
	struct container_k8s k8s;
	struct icd_error err = { 0 };
	int r = store_load_k8s(d->store, s->name, &k8s, &err);

	if (r < 0 && r != -ENOENT && err.msg[0])
		log_about_errno(LOG_LEVEL_WARNING, r, s->name, NULL,
				"Ignoring the kept Kubernetes labels of '%s': %s", s->name,
				err.msg);
	else if (r < 0 && r != -ENOENT)
		log_about_errno(LOG_LEVEL_WARNING, r, s->name, NULL,
				"Ignoring the kept Kubernetes labels of '%s': %m", s->name);
	return intake_register_ephemeral(d, s->name, s->profile, r >= 0 ? &k8s : NULL);
}

/* Remove the labels kept for containers that no listener taken back registered again. */
static void sweep_k8s(struct daemon *d)
{
	int r = store_sweep_k8s(d->store);

	if (r < 0)
		log_warning_errno(r, "Cannot remove stale Kubernetes labels, ignoring: %m");
	else if (r > 0)
		log_info("Removed the Kubernetes labels of %d containers that did not come back",
			 r);
}

void intake_oci_adopt_stored(struct intake_oci *o, struct fdstore_fd *fds, size_t n)
{
	size_t adopted = 0;

	for (size_t i = 0; i < n; i++) {
		struct fdstore_oci s;

		if (fdstore_oci_parse(fds[i].name, &s) < 0 || !notify_fd_is_seccomp(fds[i].fd)) {
			log_warning("Ignoring fd %d ('%s') passed by systemd: not a stored OCI listener",
				    fds[i].fd, fds[i].name);
			close_nointr(fds[i].fd);
			continue;
		}
		/* an ephemeral container registers again, with its kept Kubernetes names */
		if (s.profile[0] && register_stored(o->sock.d, &s) < 0)
			s.name[0] = '\0'; /* the name may be another container's */
		adopted += adopt_oci_listener(o, fds[i].fd, s.pid, s.init_pid, s.name);
	}
	if (n > 0)
		log_info("Took back %zu of %zu OCI listeners from the systemd fd store", adopted, n);
	sweep_k8s(o->sock.d);
}

/* A connection is readable: read, and once a whole state arrived, act on it and close. */
static void on_conn_ready(struct intake_watch *w)
{
	struct oci_conn *c = container_of(w, struct oci_conn, watch);
	struct intake_oci *o = c->o;
	struct oci_state st;
	size_t i;
	int r = conn_read(c), p;

	p = r >= 0 ? oci_state_parse(c->buf, c->len, &st) : r;
	if (p == 0 && r == 0)
		return; /* wait for more */
	if (p > 0)
		conn_complete(o, c, &st);
	else
		log_warning_errno(p < 0 ? p : -EBADMSG, "Dropping OCI connection (%zu bytes, %zu fds): %s",
				  c->len, c->n_fds, p < 0 ? "invalid state" : "closed before a complete state");
	for (i = 0; i < o->n_conns && o->conns[i] != c; i++)
		;
	conn_free(o, i);
}

void intake_oci_tick(struct intake_oci *o, uint64_t now)
{
	for (size_t i = 0; i < o->n_conns;) {
		if (o->conns[i]->deadline_ns > now) {
			i++;
			continue;
		}
		log_warning("OCI connection sent no complete state within 5 s, dropping");
		conn_free(o, i);
	}
}

int intake_oci_start(struct daemon *d, struct intake *t, struct workers *pool, int listen_fd,
		     struct intake_oci **ret)
{
	struct intake_oci *o = calloc(1, sizeof(*o));
	int r;

	if (!o) {
		close_nointr(listen_fd);
		return -ENOMEM;
	}
	r = intake_socket_open(&o->sock, d, t, pool, listen_fd, on_listen_ready);
	if (r < 0) {
		free(o);
		return r;
	}
	*ret = o;
	return 0;
}

struct intake_oci *intake_oci_free(struct intake_oci *o)
{
	if (!o)
		return NULL;
	while (o->n_conns > 0)
		conn_free(o, 0);
	intake_socket_close(&o->sock);
	free(o);
	return NULL;
}
