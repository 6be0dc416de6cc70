/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sched_setscheduler for a caller with CAP_SYS_NICE in the container's
 * initial user namespace (the kernel wants CAP_SYS_NICE in the initial user
 * namespace for real-time policies). pid 0 is the caller; any other pid is
 * relative to the caller's pid namespace and is translated by the kernel
 * itself (NS_GET_PID_FROM_PIDNS on the caller's pid namespace), so a host pid
 * or a task outside the container is ESRCH. Arguments are validated in the
 * kernel's order and the host call's errno is returned as is.
 *
 * Called from worker threads; no locks, no allocation, no global state.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/pidfd.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/notify.h"
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

static int open_task_pidfd(pid_t pid)
{
	int fd = pidfd_open(pid, PIDFD_THREAD);

	if (fd < 0 && errno == EINVAL)
		fd = pidfd_open(pid, 0);
	return fd >= 0 ? fd : negative_errno();
}

/* Returns < 0 for an internal failure; the caller's result goes to *ret_err. */
static int sched_act(const struct notif_ctx *ctx, const struct target *t, int pid, int policy,
		     int priority, int *ret_err)
{
	_cleanup_close_ int pidfd = -EBADF;
	struct sched_param param = { .sched_priority = priority };
	pid_t host = t->tid, again;
	int r;

	if (pid != 0) {
		r = target_pid_from_ns(t->proc_dfd, pid, &host);
		if (r == -ESRCH) {
			*ret_err = -ESRCH;
			return 0;
		}
		if (r < 0)
			return r;
	}
	r = sched_validate(policy, priority);
	if (r < 0) {
		*ret_err = r;
		return 0;
	}
	/* pin the task, then check the number still names it in the caller's namespace */
	pidfd = open_task_pidfd(host);
	if (pidfd == -ESRCH) {
		*ret_err = -ESRCH;
		return 0;
	}
	if (pidfd < 0)
		return pidfd;
	if (pid != 0 && (target_pid_from_ns(t->proc_dfd, pid, &again) < 0 || again != host)) {
		*ret_err = -ESRCH;
		return 0;
	}
	r = notify_id_valid(ctx->notify_fd, ctx->req->id);
	if (r < 0)
		return r;
	*ret_err = RET_NERRNO(sched_setscheduler(host, policy, &param));
	/* alive after the call: the pid could not have been recycled in between */
	if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0)
		log_debug("id=%llu: sched_setscheduler target %d exited during the call",
			  (unsigned long long)ctx->req->id, (int)host);
	return 0;
}

int handle_sched_setscheduler(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	const __u64 *a = ctx->req->data.args;
	const int pid = (int)a[0], policy = (int)a[1];
	int priority = 0, param_r = -EFAULT, r, err = 0;
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
	r = sched_act(ctx, &t, pid, policy, priority, &err);
	if (r < 0)
		return r;
	reply_result(reply, err);
	return 0;
}
