/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpf(2): device-cgroup programs for runtimes nested in a container
 * (security.syscalls.intercept.bpf + .bpf.devices).
 *
 * The policies trap BPF_PROG_LOAD, PROG_ATTACH, PROG_DETACH, PROG_QUERY and
 * LINK_CREATE. With bpf.devices off (read per notification) every trapped
 * call gets EPERM: a CONTINUE would let a program fd the container still
 * holds be attached anywhere, as attaching needs no capability once one holds
 * a program. With it on, a caller with CAP_SYS_ADMIN in the container's
 * initial user namespace gets BPF_PROG_TYPE_CGROUP_DEVICE programs loaded
 * with only CAP_BPF and CAP_NET_ADMIN (bpf_prog.c), and attached, detached,
 * linked and queried inside its own cgroup subtree only (bpf_attach.c,
 * bpf_cgroup.c).
 *
 * Here: the attr is read once (at most a page, as the kernel reads it),
 * decided on by the pure bpf_parse(), the caller is opened and placed
 * (target_open_unchecked()), and the command is dispatched. Each command
 * checks ID_VALID once, after the last thing it reads or opens by tid (the
 * attr, /proc/TID, its status, mem and maps, the pidfd and what comes through
 * it) and before it acts: a check right after opening /proc/TID and another
 * after opening the pidfd, with nothing acted on between, told no more.
 * No call is ever CONTINUEd after a check on its attr except where the
 * kernel's own answer cannot depend on it: loads of other program types and
 * queries of other attach types, which need capabilities the container does
 * not have.
 *
 * Called from worker threads; no locks, no allocation here.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/bpf.h"
#include "handlers/procmem.h"

/* Copy the caller's attr once: min(size, a page), as the kernel copies it. */
static int read_attr(const struct notif_ctx *ctx, uint64_t addr, uint32_t size,
		     struct bpf_attr_copy *ret)
{
	uint8_t buf[BPF_ATTR_SIZE_MAX];
	size_t n = size < sizeof(buf) ? size : sizeof(buf);
	int r;

	if (size > BPF_ATTR_SIZE_MAX)
		return -E2BIG;
	r = procmem_read((pid_t)ctx->req->pid, ctx->mem_fd, addr, buf, n);
	if (r < 0)
		return r;
	return bpf_attr_take(buf, n, size, ret);
}

/* Install @fd (ours) in the caller close-on-exec: its number there. @flags: SECCOMP_ADDFD_FLAG_*. */
static int install_fd(const struct notif_ctx *ctx, int fd, uint32_t flags)
{
	struct seccomp_notif_addfd addfd = {
		.id = ctx->req->id,
		.flags = flags,
		.srcfd = (uint32_t)fd,
		.newfd_flags = O_CLOEXEC, /* as bpf() makes its own fds */
	};

	/* -ENOENT: the caller went away; -EMFILE: its fd table is full, as bpf() would say */
	return RET_NERRNO(ioctl(ctx->notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd));
}

/*
 * With SECCOMP_ADDFD_FLAG_SEND the install answers the call too (one ioctl
 * and one wake-up of the caller fewer). The kernel installs and answers at
 * once or does neither: a failed install (EMFILE) leaves the call waiting
 * for the answer below, and no fd behind.
 */
static int install_and_answer(const struct notif_ctx *ctx, int fd, struct notif_reply *reply)
{
	int r = install_fd(ctx, fd, SECCOMP_ADDFD_FLAG_SEND);

	if (r >= 0) {
		reply_value(reply, r);
		reply->is_answered = true;
	}
	return r;
}

int bpf_reply_fd(const struct notif_ctx *ctx, int fd, struct notif_reply *reply)
{
	int r = ctx->may_answer ? install_and_answer(ctx, fd, reply) : -EINVAL;

	if (r >= 0)
		return 0;
	/* EINVAL: not ours to answer, or a kernel before 5.14 without the flag */
	if (r == -EINVAL)
		r = install_fd(ctx, fd, 0);
	if (r == -EMFILE || r == -ENFILE) {
		reply_errno(reply, r);
		return 0;
	}
	if (r < 0)
		return r;
	reply_value(reply, r);
	return 0;
}

static int dispatch(const struct bpf_call *call, const struct bpf_req *req,
		    struct notif_reply *reply)
{
	switch (req->cmd) {
	case BPF_CMD_PROG_LOAD:
		return bpf_prog_load_act(call, &req->load, reply);
	case BPF_CMD_PROG_ATTACH:
		return bpf_attach_act(call, &req->attach, reply);
	case BPF_CMD_PROG_DETACH:
		return bpf_detach_act(call, &req->attach, reply);
	case BPF_CMD_PROG_QUERY:
		return bpf_query_act(call, &req->query, reply);
	case BPF_CMD_LINK_CREATE:
		return bpf_link_create_act(call, &req->link, reply);
	default:
		reply_continue(reply);
		return 0;
	}
}

int bpf_caller_fd(const struct bpf_call *call, int fd)
{
	if (call->pidfd < 0)
		return target_getfd(call->t, fd);
	return target_getfd_by_pidfd(call->pidfd, fd);
}

/* The caller's memory for the write-backs: LXC's, else opened through the pinned /proc/TID. */
static int open_mem(const struct notif_ctx *ctx, const struct target *t)
{
	if (ctx->mem_fd >= 0)
		return RET_NERRNO(fcntl(ctx->mem_fd, F_DUPFD_CLOEXEC, 3));
	return procmem_open(t->proc_dfd, t->tid);
}

static int emulate(const struct notif_ctx *ctx, const struct bpf_attr_copy *attr,
		   uint64_t attr_addr, const struct bpf_req *req, struct notif_reply *reply)
{
	_cleanup_(target_closep) struct target t = TARGET_INIT;
	_cleanup_close_ int mem_fd = -EBADF, maps_fd = -EBADF, pidfd = -EBADF;
	struct decision d;
	int r;

	/* every command but a load names fds of the caller: one pidfd for all, checked with the rest */
	if (req->cmd == BPF_CMD_PROG_LOAD)
		r = target_open_unchecked(ctx, &t);
	else
		r = target_open_with_pidfd(ctx, &t, &pidfd);
	if (r < 0)
		return r;
	if (pidfd < 0 && pidfd != -EBADF && pidfd != -ENOSYS)
		return pidfd;
	/* unchecked yet: a refusal or a CONTINUE only (a gone caller's answer is dropped) */
	d = bpf_caller_decide(t.userns, t.st.cap_eff);
	if (d.kind != DECISION_EMULATE) {
		decision_reply(d, reply);
		return 0;
	}
	/* the /proc/TID directory is pinned: its mem is the trapped caller's */
	if (req->cmd == BPF_CMD_PROG_LOAD || req->cmd == BPF_CMD_PROG_QUERY) {
		mem_fd = open_mem(ctx, &t);
		if (mem_fd < 0)
			return mem_fd;
		maps_fd = procmem_open_maps(t.proc_dfd, t.tid);
		if (maps_fd < 0)
			return maps_fd;
	}
	return dispatch(&(struct bpf_call){ .ctx = ctx, .t = &t, .pidfd = pidfd, .mem_fd = mem_fd,
					    .maps_fd = maps_fd, .attr = attr, .attr_addr = attr_addr },
			req, reply);
}

static const char *cmd_name(int cmd)
{
	switch (cmd) {
	case BPF_CMD_PROG_LOAD:
		return "PROG_LOAD";
	case BPF_CMD_PROG_ATTACH:
		return "PROG_ATTACH";
	case BPF_CMD_PROG_DETACH:
		return "PROG_DETACH";
	case BPF_CMD_PROG_QUERY:
		return "PROG_QUERY";
	case BPF_CMD_LINK_CREATE:
		return "LINK_CREATE";
	default:
		return "other";
	}
}

static int handle(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	const __u64 *a = ctx->req->data.args;
	const uint64_t attr_addr = bpf_attr_pointer(ctx->req->data.arch, a[1]);
	struct bpf_attr_copy attr;
	struct bpf_req req;
	struct decision d;
	int r;

	if (!config_enabled(ctx->cfg, CONFIG_BPF_DEVICES)) {
		reply_errno(reply, -EPERM);
		return 0;
	}
	/* the kernel takes cmd as an int and size as an unsigned int */
	r = read_attr(ctx, attr_addr, (uint32_t)a[2], &attr);
	if (r == 0) {
		d = bpf_parse((int)a[0], &attr, &req);
		if (d.kind != DECISION_EMULATE) {
			decision_reply(d, reply);
			return 0;
		}
		r = emulate(ctx, &attr, attr_addr, &req, reply);
	}
	if (r == -EFAULT || r == -E2BIG) {
		reply_errno(reply, r);
	} else if (r < 0) {
		/*
		 * Never the worker's CONTINUE on a failure: the kernel would attach
		 * a program the caller holds wherever it asks, without a check. The
		 * failure ends here, so it is logged here, as the worker would.
		 */
		log_full_errno(r == -ENOENT || r == -ESRCH ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING, r,
			       "id=%llu: bpf %s failed, answering EPERM: %m",
			       (unsigned long long)ctx->req->id, cmd_name((int)a[0]));
		reply_errno(reply, -EPERM);
	}
	return 0;
}

int handle_bpf(const struct notif_ctx *ctx, struct notif_reply *reply)
{
	int r = handle(ctx, reply);

	/* what a nested runtime was told: runc skips eBPF errors in a user namespace silently */
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("id=%llu: bpf %s: %s %lld", (unsigned long long)ctx->req->id,
			  cmd_name((int)ctx->req->data.args[0]),
			  reply->flags ? "continue" : reply->error ? "error" : "value",
			  reply->error ? (long long)reply->error : (long long)reply->val);
	return r;
}
