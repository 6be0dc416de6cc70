/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The notification engine, assembled: the worker pool, the intake thread and
 * the two intakes that feed it (LXC and OCI), started and stopped in order.
 * Data flows one way: an intake turns a connection into a listener, the pool
 * serves it, dispatch decides each notification with the handlers, and the
 * listener's protocol sends the reply.
 *
 * Main thread only: engine_start() before the signal loop, engine_stop()
 * after it. Its state hangs off struct daemon (d->engine).
 */
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include "daemon/engine/dispatch.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/intake.h"
#include "daemon/engine/intake_lxc.h"
#include "daemon/engine/intake_oci.h"
#include "daemon/engine/pool.h"
#include "daemon/log.h"
#include "daemon/store/store.h"

struct engine {
	struct workers *pool;      /* owned */
	struct intake *intake;     /* owned: the intake thread */
	struct intake_lxc *lxc;    /* owned: the LXC socket */
	struct intake_oci *oci;    /* owned: the OCI socket and its pending connections */
};

static int check_notif_sizes(struct seccomp_notif_sizes *ret)
{
	struct seccomp_notif_sizes sizes;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return log_error_errno(errno, "Seccomp user notification is not available: %m");
	/* RECV copies the kernel's struct: a larger one would overrun ours */
	if (sizes.seccomp_notif != sizeof(struct seccomp_notif) ||
	    sizes.seccomp_notif_resp != sizeof(struct seccomp_notif_resp))
		return log_error_errno(ENOTSUP, "Kernel notification sizes %u/%u differ from ours %zu/%zu",
				       sizes.seccomp_notif, sizes.seccomp_notif_resp,
				       sizeof(struct seccomp_notif), sizeof(struct seccomp_notif_resp));
	*ret = sizes;
	return 0;
}

/* The intake thread's tick: OCI deadlines, then the pool's watchdog. */
static void tick(void *userdata, uint64_t now)
{
	struct engine *e = userdata;

	intake_oci_tick(e->oci, now);
	watchdog_tick(e->pool);
}

/* Give the listeners systemd kept for us to the OCI intake; they are its from now on. */
static void adopt_stored_fds(struct daemon *d, struct intake_oci *oci)
{
	intake_oci_adopt_stored(oci, d->stored_fds, d->n_stored_fds);
	free(d->stored_fds);
	d->stored_fds = NULL;
	d->n_stored_fds = 0;
}

int engine_start(struct daemon *d, int lxc_listen_fd, int oci_listen_fd)
{
	struct seccomp_notif_sizes sizes;
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e) {
		close_nointr(lxc_listen_fd);
		close_nointr(oci_listen_fd);
		return -ENOMEM;
	}
	d->engine = e;
	r = check_notif_sizes(&sizes);
	if (r >= 0)
		r = dispatch_init();
	if (r >= 0)
		r = pool_start(d, d->opts.n_workers, &e->pool);
	if (r >= 0)
		r = intake_new(&e->intake);
	if (r >= 0)
		r = intake_lxc_start(d, e->intake, e->pool, TAKE_FD(lxc_listen_fd), &sizes, &e->lxc);
	if (r >= 0)
		r = intake_oci_start(d, e->intake, e->pool, TAKE_FD(oci_listen_fd), &e->oci);
	if (r >= 0) {
		adopt_stored_fds(d, e->oci);
		r = intake_start(e->intake, tick, e);
	}
	close_nointr(lxc_listen_fd); /* when not taken over above */
	close_nointr(oci_listen_fd);
	if (r < 0)
		engine_stop(d);
	return r < 0 ? r : 0;
}

void engine_stop(struct daemon *d)
{
	struct engine *e = d->engine;

	if (!e)
		return;
	/* the intake thread first: nothing new reaches the pool after this */
	intake_stop(e->intake);
	e->oci = intake_oci_free(e->oci);
	e->lxc = intake_lxc_free(e->lxc);
	/* systemd keeps the listeners detaching below for the next start: keep their labels */
	store_stopping(d->store);
	d->workers_left_behind = !pool_stop(e->pool);
	e->intake = intake_free(e->intake);
	free(e);
	d->engine = NULL;
}
