/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF_PROG_ATTACH, BPF_PROG_DETACH, BPF_LINK_CREATE and BPF_PROG_QUERY of
 * device programs, for a container inside its own cgroup subtree.
 *
 * Every fd in the attr is the caller's: it is taken with pidfd_getfd()
 * (bpf_caller_fd(), through one pidfd per call), never read as a number in
 * our fd table. The target cgroup is checked by bpf_cgroup_check(), then the
 * call is made by the worker (attaching needs no capability, querying
 * CAP_NET_ADMIN):
 *  - an attach is always BPF_F_ALLOW_MULTI, whatever the caller asked, so
 *    the kernel ANDs the program with every one above it;
 *  - a detach, and the program a BPF_F_REPLACE replaces, must be one
 *    interceptd loaded for this container (bpf_prog_is_callers(): its
 *    created_by_uid is the caller's mapped host uid, see bpf_prog.c): a
 *    runtime's own program (loaded by host root) is never detached or
 *    replaced. The kernel keeps that mark, so it holds across restarts of
 *    interceptd without any state of ours. A detach where the programs are
 *    not MULTI is ENOENT: there the kernel ignores which program it is given;
 *  - a link is created by us and installed in the caller close-on-exec; its
 *    updates (BPF_LINK_UPDATE, not trapped) can only swap device programs on
 *    that same cgroup;
 *  - a query is made on the target and its results written back into the
 *    caller's attr and arrays, as the kernel would.
 *
 * Called from worker threads; no locks. Only the query allocates (its id arrays).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/bpf.h"
#include "handlers/procmem.h"

/* What the kernel says of a program fd of the caller; -EBADF when the caller holds no such fd. */
static int prog_of_caller(const struct bpf_call *call, int fd, struct bpf_prog_info *info,
			  int *ret_fd)
{
	_cleanup_close_ int prog = bpf_caller_fd(call, fd);
	union bpf_attr a = {};
	int r;

	if (prog < 0)
		return prog;
	*info = (struct bpf_prog_info){};
	a.info.bpf_fd = (uint32_t)prog;
	a.info.info_len = sizeof(*info);
	a.info.info = (uintptr_t)info;
	r = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
	/* not a program at all, or not a device program: bpf_prog_get_type() says EINVAL */
	if (r == -EINVAL || (r == 0 && info->type != BPF_PROG_TYPE_CGROUP_DEVICE))
		return -EINVAL;
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(prog);
	return 0;
}

/* A program interceptd loaded for this container, not a runtime's: else -EPERM. */
static int check_ours(const struct bpf_call *call, const struct bpf_prog_info *info)
{
	int r = 0;

	/* usually the caller's own uid; else any its user namespace maps (its gid is mapped there) */
	if (info->created_by_uid == call->t->st.euid)
		r = 1;
	else if (info->created_by_uid != 0)
		r = target_ids_mapped(call->t, info->created_by_uid, call->t->st.egid);
	if (r < 0)
		return r;
	return bpf_prog_is_callers(info->created_by_uid, r > 0) ? 0 : -EPERM;
}

/* Errors that are the caller's answer go to @reply; anything else is ours. */
static int answer(struct notif_reply *reply, int r)
{
	bool is_callers = r == -EBADF || r == -EINVAL || r == -EPERM;

	if (is_callers)
		reply_errno(reply, r);
	return is_callers ? 0 : r;
}

/* PROG_ATTACH or PROG_DETACH of @prog at @target, as the daemon; the kernel's answer to @reply. */
static void attach_as_daemon(int cmd, int target, int prog, uint32_t flags, int replace,
			     struct notif_reply *reply)
{
	union bpf_attr a = {};

	a.target_fd = (uint32_t)target;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	a.replace_bpf_fd = replace >= 0 ? (uint32_t)replace : 0;
	reply_result(reply, sys_bpf(cmd, &a, sizeof(a)));
}

/*
 * ID_VALID, the one check of the call (bpf.c): after the caller's fds are
 * taken and checked and before acting. It covers everything read by tid
 * before it (the attr, the status, the pidfd the fds come through), and the
 * checks in between (the scan of the container cgroup's tasks) take as long
 * as the caller makes them.
 */
static int still_trapped(const struct bpf_call *call)
{
	return notify_id_valid(call->ctx->notify_fd, call->ctx->req->id);
}

int bpf_attach_act(const struct bpf_call *call, const struct bpf_attach_req *req,
		   struct notif_reply *reply)
{
	_cleanup_close_ int prog = -EBADF, target = -EBADF, replace = -EBADF;
	struct bpf_prog_info info;
	int r;

	/* the kernel's order: the program, the target, then the one to replace */
	r = prog_of_caller(call, req->prog_fd, &info, &prog);
	if (r == 0)
		r = bpf_cgroup_check(call, req->target_fd, true, &target);
	if (r == 0 && (req->caller_flags & BPF_F_REPLACE)) {
		r = prog_of_caller(call, req->replace_fd, &info, &replace);
		if (r == 0)
			r = check_ours(call, &info);
	}
	if (r < 0)
		return answer(reply, r);
	r = still_trapped(call);
	if (r < 0)
		return r;
	attach_as_daemon(BPF_PROG_ATTACH, target, prog,
			 BPF_F_ALLOW_MULTI | (req->caller_flags & BPF_F_REPLACE), replace, reply);
	return 0;
}

/*
 * Where the device programs are not BPF_F_ALLOW_MULTI (a runtime's exclusive
 * or OVERRIDE program), the kernel's detach removes the one program there
 * whatever program it is given; none of ours is there, as we attach only with
 * BPF_F_ALLOW_MULTI and the kernel does not mix the two. -ENOENT then.
 */
static int check_multi(int target)
{
	struct bpf_cgroup_level l;
	int r = bpf_cgroup_query_level(target, &l);

	if (r < 0)
		return r;
	return l.prog_cnt > 0 && !(l.attach_flags & BPF_F_ALLOW_MULTI) ? -ENOENT : 0;
}

int bpf_detach_act(const struct bpf_call *call, const struct bpf_attach_req *req,
		   struct notif_reply *reply)
{
	_cleanup_close_ int prog = -EBADF, target = -EBADF;
	struct bpf_prog_info info;
	int r;

	/* always with the program: without one the kernel detaches whatever sits there alone */
	r = prog_of_caller(call, req->prog_fd, &info, &prog);
	if (r == 0)
		r = check_ours(call, &info);
	if (r == 0)
		r = bpf_cgroup_check(call, req->target_fd, false, &target);
	if (r < 0)
		return answer(reply, r);
	r = check_multi(target);
	if (r == 0)
		r = still_trapped(call) < 0 ? -ESRCH : 0;
	if (r == -ENOENT)
		reply_errno(reply, r);
	else if (r == 0)
		attach_as_daemon(BPF_PROG_DETACH, target, prog, 0, -EBADF, reply);
	return r == -ENOENT ? 0 : r;
}

int bpf_link_create_act(const struct bpf_call *call, const struct bpf_link_req *req,
			struct notif_reply *reply)
{
	_cleanup_close_ int prog = -EBADF, target = -EBADF, link = -EBADF;
	struct bpf_prog_info info;
	union bpf_attr a = {};
	int r;

	r = prog_of_caller(call, req->prog_fd, &info, &prog);
	if (r == 0)
		r = bpf_cgroup_check(call, req->target_fd, true, &target);
	if (r < 0)
		return answer(reply, r);
	r = still_trapped(call);
	if (r < 0)
		return r;
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_fd = (uint32_t)target;
	a.link_create.attach_type = BPF_CGROUP_DEVICE;
	link = sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	if (link < 0) {
		reply_errno(reply, link);
		return 0;
	}
	return bpf_reply_fd(call->ctx, link, reply);
}

/* ---- query ---- */

static int write_u32(const struct bpf_call *call, unsigned off, uint32_t v)
{
	return procmem_write(call->mem_fd, call->maps_fd, call->attr_addr + off, &v, sizeof(v));
}

/*
 * The kernel's copy-out: attach_flags, prog_cnt, the arrays (@held entries
 * each), then the revision. On ENOSPC prog_cnt is the whole count, which may
 * pass what the arrays hold: never more than they hold goes out.
 */
static int write_back(const struct bpf_call *call, const struct bpf_query_req *req,
		      const union bpf_attr *q, const uint32_t *ids, const uint32_t *flags,
		      uint32_t held)
{
	uint32_t n = q->query.prog_cnt < req->prog_cnt ? q->query.prog_cnt : req->prog_cnt;
	uint64_t revision;
	int r;

	if (n > held)
		n = held;
	r = write_u32(call, BPF_QUERY_ATTACH_FLAGS_OFF, q->query.attach_flags);
	if (r == 0)
		r = write_u32(call, BPF_QUERY_PROG_CNT_OFF, q->query.prog_cnt);
	if (r == 0 && ids)
		r = procmem_write(call->mem_fd, call->maps_fd, req->prog_ids, ids, n * sizeof(*ids));
	if (r == 0 && flags)
		r = procmem_write(call->mem_fd, call->maps_fd, req->prog_attach_flags, flags, n * sizeof(*flags));
	if (r == 0 && req->wants_revision) {
		memcpy(&revision, (const uint8_t *)q + BPF_QUERY_REVISION_OFF, sizeof(revision));
		r = procmem_write(call->mem_fd, call->maps_fd, call->attr_addr + BPF_QUERY_REVISION_OFF, &revision,
				  sizeof(revision));
	}
	return r;
}

int bpf_query_act(const struct bpf_call *call, const struct bpf_query_req *req,
		  struct notif_reply *reply)
{
	_cleanup_close_ int target = -EBADF;
	_cleanup_free_ uint32_t *ids = NULL, *flags = NULL;
	uint32_t cnt = req->prog_cnt < BPF_QUERY_IDS_MAX ? req->prog_cnt : BPF_QUERY_IDS_MAX;
	uint8_t buf[BPF_ATTR_SIZE] __attribute__((aligned(8))) = { 0 };
	union bpf_attr *q = (union bpf_attr *)buf;
	int r;

	r = bpf_cgroup_check(call, req->target_fd, false, &target);
	if (r < 0)
		return answer(reply, r);
	/* before the results go into the caller's memory through its mem file */
	r = still_trapped(call);
	if (r < 0)
		return r;
	if (req->prog_ids && cnt > 0 && !(ids = calloc(cnt, sizeof(*ids))))
		return -ENOMEM;
	if (req->prog_ids && req->prog_attach_flags && cnt > 0 &&
	    !(flags = calloc(cnt, sizeof(*flags))))
		return -ENOMEM;
	q->query.target_fd = (uint32_t)target;
	q->query.attach_type = BPF_CGROUP_DEVICE;
	q->query.query_flags = req->query_flags;
	q->query.prog_ids = (uintptr_t)ids;
	q->query.prog_cnt = cnt;
	q->query.prog_attach_flags = (uintptr_t)flags;
	r = sys_bpf(BPF_PROG_QUERY, buf, sizeof(buf));
	/* the kernel copies the results out on success and when the arrays were short */
	if ((r == 0 || r == -ENOSPC) && write_back(call, req, q, ids, flags, cnt) < 0)
		r = -EFAULT;
	reply_result(reply, r);
	return 0;
}
