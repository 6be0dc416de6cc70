/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatch: one received notification → its answer. Looks the handler up by
 * (arch, nr), takes the container's config snapshot current now (cached per
 * listener until the container's generation moves), calls the handler if its
 * key is on, turns a handler's internal failure into CONTINUE (or the errno
 * its entry gives instead, bpf's EPERM), and records the outcome and latency
 * in the container's metrics (or the unregistered ones).
 *
 * Called by worker threads for the listener they serve, so the listener's
 * cached snapshot and handler cache need no lock; the snapshot is re-taken
 * under the container's lock only when its generation moved. The hot path
 * allocates nothing and takes no global lock. The only file of the engine
 * that includes handlers/table.h.
 */
#include "daemon/engine/dispatch.h"
#include "daemon/engine/fuse_abort.h"
#include "daemon/engine/notify.h"
#include "daemon/events/publish.h"
#include "daemon/log.h"
#include "handlers/table.h"

/* The metrics series of each handler table entry, by handler_index(); set by dispatch_init(). */
static enum metrics_syscall series[HANDLER_TABLE_MAX];

int dispatch_init(void)
{
	int r = handler_table_init();

	if (r < 0)
		return r;
	for (size_t i = 0; i < handler_table_size(); i++)
		series[i] = metrics_syscall_from_name(handler_table_entry(i)->name);
	return 0;
}

/* The container's current snapshot, cached until its generation moves. */
static const struct config *listener_config(struct engine_listener *l, struct container *c)
{
	uint64_t gen = atomic_load_explicit(&c->config_generation, memory_order_acquire);

	if (!l->cfg || gen != l->cfg_gen) {
		config_unref(l->cfg);
		/* generation first, then the snapshot: a racing swap only costs a re-take */
		l->cfg_gen = gen;
		l->cfg = container_config_get(c);
	}
	return l->cfg;
}

static enum metrics_outcome outcome_of(const struct notif_reply *reply)
{
	if (reply->flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE)
		return METRICS_OUTCOME_CONTINUED;
	return reply->error ? METRICS_OUTCOME_ERRNO : METRICS_OUTCOME_EMULATED;
}

/* The answer for @e's syscall when no handler decides it: CONTINUE, or the entry's errno. */
static void reply_undecided(const struct handler_entry *e, struct notif_reply *reply)
{
	if (e && e->undecided_errno < 0)
		reply_errno(reply, e->undecided_errno);
	else
		reply_continue(reply);
}

void dispatch_undecided(const struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	struct notif_reply reply;

	reply_undecided(handler_lookup(req->data.arch, req->data.nr), &reply);
	*resp = (struct seccomp_notif_resp){ .id = req->id, .error = reply.error,
					     .flags = reply.flags };
}

static void call_handler(struct engine_listener *l, const struct handler_entry *e,
			 const struct notif_ctx *ctx, struct notif_reply *reply)
{
	int r = e->fn(ctx, reply);

	if (r == -ENOENT || r == -ESRCH) {
		log_about_errno(LOG_LEVEL_DEBUG, 0, l->name, e->name, "'%s' id=%llu: caller went away",
				l->name, (unsigned long long)ctx->req->id);
		reply_undecided(e, reply);
	} else if (r < 0) {
		log_about_errno(LOG_LEVEL_WARNING, r, l->name, e->name,
				"'%s' id=%llu: %s handler failed, %s: %m", l->name,
				(unsigned long long)ctx->req->id, e->name,
				e->undecided_errno < 0 ? "refusing" : "continuing");
		reply_undecided(e, reply);
	}
}

/* The audit event of a call @e's handler decided (someone asked for audit events). */
static void audit(struct engine_listener *l, const struct handler_entry *e,
		  const struct seccomp_notif *req, const struct notif_reply *reply,
		  const struct notif_audit *what)
{
	struct audit_call call = {
		.container = l->name, .pid = (pid_t)req->pid, .syscall = e->name,
		.outcome = metrics_outcome_name(outcome_of(reply)), .error = reply->error,
		.path = what->path, .device = what->device,
	};

	publish_audit(l->d->events, &call);
}

/* dispatch_notification(); @may_answer: the handler may answer itself. Returns whether it did. */
static bool decide(struct engine_listener *l, const struct seccomp_notif *req, int notify_fd,
		   int proc_fd, int mem_fd, bool may_answer, uint64_t received_ns,
		   struct seccomp_notif_resp *resp, uint64_t *ret_decided_ns)
{
	const struct handler_entry *e = handler_lookup(req->data.arch, req->data.nr);
	struct container *c = engine_listener_container(l);
	struct container_metrics *m = c ? &c->metrics : &l->d->unregistered;
	enum metrics_outcome outcome = METRICS_OUTCOME_UNREGISTERED;
	struct notif_reply reply;

	reply_undecided(e, &reply);
	if (c) {
		const struct config *cfg = listener_config(l, c);

		if (e && e->fn && config_enabled(cfg, e->key)) {
			struct notif_audit what = { 0 };
			struct notif_ctx ctx = { .req = req, .notify_fd = notify_fd, .cfg = cfg,
						 .init_pid = l->init_pid, .proc_fd = proc_fd,
						 .mem_fd = mem_fd, .cache = &l->cache,
						 .may_answer = may_answer };

			/* one relaxed load when nobody asked for audit events */
			if (_unlikely_(event_bus_wants(l->d->events, EVENT_AUDIT)))
				ctx.audit = &what;
			/* what shutdown looks at if the handler never comes back */
			caller_watch_begin((pid_t)req->pid, notify_fd, req->id);
			call_handler(l, e, &ctx, &reply);
			caller_watch_end();
			if (ctx.audit)
				audit(l, e, req, &reply, &what);
		}
		outcome = outcome_of(&reply);
	}
	*resp = (struct seccomp_notif_resp){ .id = req->id, .val = reply.val,
					     .error = reply.error, .flags = reply.flags };
	*ret_decided_ns = now_ns();
	metrics_record(m, e ? series[handler_index(e)] : METRICS_SYSCALL_OTHER, outcome,
		       *ret_decided_ns - received_ns);
	return reply.is_answered;
}

void dispatch_notification(struct engine_listener *l, const struct seccomp_notif *req, int notify_fd,
			   int proc_fd, int mem_fd, uint64_t received_ns,
			   struct seccomp_notif_resp *resp)
{
	uint64_t decided_ns;

	(void)decide(l, req, notify_fd, proc_fd, mem_fd, false, received_ns, resp, &decided_ns);
}

uint64_t dispatch_answer(struct engine_listener *l, const struct seccomp_notif *req, uint64_t t0)
{
	struct seccomp_notif_resp resp;
	uint64_t decided_ns;
	int r;

	/* a handler that installed an fd with SECCOMP_ADDFD_FLAG_SEND answered already */
	if (decide(l, req, l->fd, -EBADF, -EBADF, true, t0, &resp, &decided_ns))
		return decided_ns;
	r = notify_send(l->fd, &resp);
	if (r < 0 && r != -ENOENT)
		log_about_errno(LOG_LEVEL_DEBUG, r, l->name, NULL,
				"'%s' id=%llu: send failed, ignoring: %m", l->name,
				(unsigned long long)req->id);
	return decided_ns;
}
