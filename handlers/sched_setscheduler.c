/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched_setscheduler for a caller with CAP_SYS_NICE in the container's
 * initial user namespace (the kernel wants CAP_SYS_NICE in the initial user
 * namespace for real-time policies). pid 0 is the caller; any other pid is
 * relative to the caller's pid namespace and is translated by the kernel
 * itself (NS_GET_PID_FROM_PIDNS on the caller's pid namespace).
 *
 * The target must belong to the container, whatever the caller can name:
 * its user namespace is the container's (the caller's) or nested below it,
 * and its pid namespace is the container's (its init's) or nested below it,
 * both read through the target's pinned pidfd (for pid 0, the caller's own,
 * read when it was pinned: see target_facts()). A caller in the daemon's own
 * pid namespace (a user-namespaced container sharing the host's pids) names
 * host tasks: nothing it names is emulated. Any target outside the container
 * is ESRCH, as a host pid is; the caller's own task is then left to the
 * kernel (CONTINUE). Arguments are validated in the kernel's order and the
 * host call's errno is returned as is.
 *
 * Called from worker threads; no locks, no allocation. The container's pid
 * namespace is cached in the listener's handler_cache.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/pidfd.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/decide.h"
#include "handlers/handler.h"
#include "handlers/procmem.h"
#include "handlers/target.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

struct decision sched_decide(int pid, int policy, bool has_param, int param_r,
			     enum target_userns userns, uint64_t cap_eff)
{
	if (userns != TARGET_USERNS_CONTAINER || !(cap_eff & ((uint64_t)1 << CAP_SYS_NICE)))
		return DECIDE_CONTINUE;
	if (policy < 0 || !has_param || pid < 0)
		return DECIDE_ERRNO(-EINVAL);
	if (param_r < 0)
		return DECIDE_ERRNO(-EFAULT);
	return DECIDE_EMULATE;
}

int sched_validate(int policy, int priority)
{
	int p = policy & ~SCHED_RESET_ON_FORK;
	bool rt = p == SCHED_FIFO || p == SCHED_RR;

	if (p != SCHED_OTHER && p != SCHED_BATCH && p != SCHED_IDLE && !rt)
		return -EINVAL; /* SCHED_DEADLINE needs sched_setattr() */
	if (priority < 0 || priority > 99)
		return -EINVAL;
	return rt == (priority != 0) ? 0 : -EINVAL;
}

struct decision sched_target_decide(const struct sched_target_facts *f)
{
	if (!f->caller_in_host_pidns && f->userns_in_container && f->pidns_in_container)
		return DECIDE_EMULATE;
	return f->is_caller ? DECIDE_CONTINUE : DECIDE_ERRNO(-ESRCH);
}

static int open_task_pidfd(pid_t pid)
{
	int fd = pidfd_open(pid, PIDFD_THREAD);

	if (fd < 0 && errno == EINVAL)
		fd = pidfd_open(pid, 0);
	return fd >= 0 ? fd : negative_errno();
}

/* The host tid @pid (not 0) names in the caller's pid namespace, pinned by a pidfd; or -ESRCH. */
static int pin_target(const struct target *t, int pid, pid_t *ret_host, int *ret_pidfd)
{
	_cleanup_close_ int pidfd = -EBADF;
	pid_t host, again;
	int r;

	r = target_pid_from_ns(t->proc_dfd, pid, &host);
	if (r < 0)
		return r;
	pidfd = open_task_pidfd(host);
	if (pidfd < 0)
		return pidfd;
	/* pinned: the number must still name it in the caller's namespace */
	if (target_pid_from_ns(t->proc_dfd, pid, &again) < 0 || again != host)
		return -ESRCH;
	*ret_host = host;
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

/*
 * The container's pid namespace: its init's, cached per listener (the
 * identity of a namespace outlives a recycled pid); the caller's own when the
 * init is not known. -ENOENT/-ESRCH when the init is gone.
 */
static int container_pidns(const struct notif_ctx *ctx, const struct ns_ident *caller,
			   struct ns_ident *ret)
{
	struct handler_cache *cache = ctx->cache;
	char path[32];
	int r;

	if (ctx->init_pid <= 0) {
		*ret = *caller;
		return 0;
	}
	if (cache && cache->init_pidns_of == ctx->init_pid) {
		*ret = cache->init_pidns;
		return 0;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)ctx->init_pid);
	r = ns_ident_at(AT_FDCWD, path, ret);
	if (r >= 0 && cache) {
		cache->init_pidns = *ret;
		cache->init_pidns_of = ctx->init_pid;
	}
	return r;
}

/* 1/0: is the @type namespace of the task @pidfd pins @ancestor or below it? */
static int pinned_ns_within(int pidfd, pid_t host, enum target_ns_type type,
			    const struct ns_ident *ancestor)
{
	_cleanup_close_ int fd = target_pidfd_ns(pidfd, host, type);

	return fd < 0 ? fd : target_ns_within(fd, ancestor);
}

/* 1/0: is @caller_pidns, the caller's pid namespace (t->proc_dfd's), @ancestor or below? */
static int caller_pidns_within(const struct target *t, const struct ns_ident *caller_pidns,
			       const struct ns_ident *ancestor)
{
	_cleanup_close_ int fd = -EBADF;

	if (ns_ident_equal(caller_pidns, ancestor))
		return 1;
	fd = openat(t->proc_dfd, "ns/pid", O_RDONLY | O_CLOEXEC);
	return fd < 0 ? negative_errno() : target_ns_within(fd, ancestor);
}

/*
 * Where the target stands: pinned by @pidfd (tid @host), or, with no pidfd,
 * the caller itself (pid 0). The caller's namespaces were read through
 * t->proc_dfd, which target_open() pinned with ID_VALID, and a task trapped
 * in a syscall changes neither (its user namespace only by its own hand, its
 * pid namespace never): so for it the target's facts are those, with no
 * second look. -ESRCH when a pinned target exited meanwhile.
 */
static int target_facts(const struct notif_ctx *ctx, const struct target *t, int pidfd,
			pid_t host, struct sched_target_facts *f)
{
	/* the caller's user ns, read by target_open(): sched_decide() acts for no other */
	const struct ns_ident *container_userns = &t->userns_id;
	struct ns_ident own, caller_pidns, container;
	int r;

	*f = (struct sched_target_facts){ .is_caller = host == t->tid };
	r = target_own_ns(TARGET_NS_PID, &own);
	if (r >= 0)
		r = target_ns_of(t->proc_dfd, TARGET_NS_PID, &caller_pidns);
	if (r >= 0)
		r = pidfd < 0 ? 1 : pinned_ns_within(pidfd, host, TARGET_NS_USER, container_userns);
	if (r < 0)
		return r;
	f->caller_in_host_pidns = ns_ident_equal(&caller_pidns, &own);
	f->userns_in_container = r > 0;
	r = container_pidns(ctx, &caller_pidns, &container);
	if (r == -ENOENT || r == -ESRCH)
		return 0; /* the init is gone: nothing is the container's any more */
	if (r >= 0)
		r = pidfd < 0 ? caller_pidns_within(t, &caller_pidns, &container)
			      : pinned_ns_within(pidfd, host, TARGET_NS_PID, &container);
	if (r < 0)
		return r;
	f->pidns_in_container = r > 0;
	return 0;
}

/*
 * sched_setscheduler() takes a number, and the pidfd pins the task, not its
 * number. But a number is freed only when its task is reaped: alive before
 * the call and alive after it, the task held the number throughout and the
 * call reached it. The residual window: the task exits after the check
 * before, is reaped, and its number goes to a new task, all before the call
 * looks the number up (two syscalls of this thread, longer if it is
 * preempted). The check after cannot undo that; it answers ESRCH and logs.
 * Returns 0 or the negative errno for the caller.
 */
static int set_pinned(const struct notif_ctx *ctx, int pidfd, pid_t host, int policy,
		      int priority)
{
	struct sched_param param = { .sched_priority = priority };
	int r;

	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	r = RET_NERRNO(sched_setscheduler(host, policy, &param));
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0) {
		log_debug("id=%llu: sched_setscheduler target %d exited during the call",
			  (unsigned long long)ctx->req->id, (int)host);
		return -ESRCH;
	}
	return r;
}

/*
 * The caller itself: its notification pins its tid as a pidfd would. While
 * ID_VALID holds the caller is trapped, so alive: checked right before the
 * call and after it, its tid named it throughout, with the same residual
 * window as set_pinned() (ID_VALID is the stricter check: a zombie's pidfd
 * still takes a signal). Returns 0 or the negative errno for the caller.
 */
static int set_caller(const struct notif_ctx *ctx, const struct target *t, int policy,
		      int priority)
{
	struct sched_param param = { .sched_priority = priority };
	int r;

	if (notify_id_valid(ctx->notify_fd, ctx->req->id) < 0)
		return -ESRCH;
	r = RET_NERRNO(sched_setscheduler(t->tid, policy, &param));
	if (notify_id_valid(ctx->notify_fd, ctx->req->id) < 0) {
		log_debug("id=%llu: sched_setscheduler caller %d went away during the call",
			  (unsigned long long)ctx->req->id, (int)t->tid);
		return -ESRCH;
	}
	return r;
}

/* Returns < 0 for an internal failure; fills @reply otherwise. */
static int sched_act(const struct notif_ctx *ctx, const struct target *t, int pid, int policy,
		     int priority, struct notif_reply *reply)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct sched_target_facts f;
	struct decision d;
	pid_t host = t->tid;
	int r = 0;

	/* pid 0, the caller: target_open() pinned it, and nothing is opened by number since */
	if (pid != 0) {
		r = pin_target(t, pid, &host, &pidfd);
		/* the caller is still trapped: t->proc_dfd names it, and what it named is pinned */
		if (r >= 0)
			r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	}
	if (r >= 0)
		r = target_facts(ctx, t, pidfd, host, &f);
	if (r == -ESRCH) {
		reply_errno(reply, -ESRCH);
		return 0;
	}
	if (r < 0)
		return r;
	d = sched_target_decide(&f);
	if (d.kind == DECISION_EMULATE && (r = sched_validate(policy, priority)) < 0)
		d = DECIDE_ERRNO(r);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	reply_result(reply, pidfd >= 0 ? set_pinned(ctx, pidfd, host, policy, priority)
				       : set_caller(ctx, t, policy, priority));
	return 0;
}

int handle_sched_setscheduler(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	const __u64 *a = ctx->req->data.args;
	const int pid = (int)a[0], policy = (int)a[1];
	int priority = 0, param_r = -EFAULT, r;
	struct decision d;

	if (a[2] != 0)
		param_r = procmem_read((pid_t)ctx->req->pid, ctx->mem_fd, a[2], &priority,
				       sizeof(priority));
	if (param_r < 0 && param_r != -EFAULT)
		return param_r == -ESRCH ? -ENOENT : param_r;
	r = target_open(ctx, &t);
	if (r < 0)
		return r;
	d = sched_decide(pid, policy, a[2] != 0, param_r, t.userns, t.st.cap_eff);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	return sched_act(ctx, &t, pid, policy, priority, reply);
}
