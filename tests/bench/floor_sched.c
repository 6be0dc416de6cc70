/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sched_setscheduler floor: the safe steps of interceptd's emulation
 * (handlers/sched_setscheduler.c) for the call the bench makes, the caller
 * setting its own policy (pid 0), and nothing else:
 *
 *  - the sched_param read once from the caller's memory;
 *  - /proc/TID and its status pinned (kept between calls as floor.c says),
 *    ID_VALID, the caller's capabilities read through them;
 *  - emulated only for the container's initial user namespace with
 *    CAP_SYS_NICE there (anything else is CONTINUE, as the handler answers);
 *  - the target is the caller: its namespaces are those read through the
 *    pinned /proc/TID (a task trapped in a syscall changes neither), its pid
 *    namespace not ours and the container's (its init's) or below it;
 *  - the policy and priority validated as the kernel does, then the call made
 *    by us, by tid, between two ID_VALID checks (sched_setscheduler() takes a
 *    number: pending before and after, the caller held it throughout).
 *
 * Runs in the single-threaded floor supervisor.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "bench.h"
#include "floor.h"

#define NS_DEPTH_MAX 40

/* 1 when the namespace @ns_fd (taken, closed) is @ancestor or below it, 0 when not. */
static int ns_within(int ns_fd, uint64_t ancestor)
{
	int found = 0;

	for (int depth = 0; ns_fd >= 0 && depth < NS_DEPTH_MAX; depth++) {
		struct stat st;
		int parent;

		if (fstat(ns_fd, &st) < 0)
			break;
		if (st.st_ino == ancestor) {
			found = 1;
			break;
		}
		/* EPERM: no parent, or one outside ours */
		parent = ioctl(ns_fd, NS_GET_PARENT);
		close(ns_fd);
		ns_fd = parent;
	}
	if (ns_fd >= 0)
		close(ns_fd);
	return found;
}

/*
 * Is the caller, the target, the container's? Its user namespace is (the
 * decision acted for no other); its pid namespace, read through /proc/TID
 * pinned by ID_VALID (a trapped task changes neither), must not be ours and
 * must be the init's or below it. 1, or 0: the handler leaves the caller to
 * the kernel.
 */
static int caller_in_container(int proc, const struct floor_self *s)
{
	uint64_t pidns;

	if (ns_inode_of(proc, "ns/pid", "pid", &pidns) < 0 || pidns == s->own_pidns)
		return 0;
	return pidns == s->container_pidns ||
	       ns_within(openat(proc, "ns/pid", O_RDONLY | O_CLOEXEC), s->container_pidns);
}

/* What the kernel accepts from sched_setscheduler(): 0 or -EINVAL. */
static int sched_valid(int policy, int priority)
{
	const int p = policy & ~0x40000000; /* SCHED_RESET_ON_FORK */
	const bool rt = p == SCHED_FIFO || p == SCHED_RR;

	if ((p != SCHED_OTHER && p != SCHED_BATCH && p != SCHED_IDLE && !rt) || priority < 0 ||
	    priority > 99 || rt != (priority != 0))
		return -EINVAL;
	return 0;
}

/*
 * The call, by tid: the caller's notification pins it. Pending (so the caller
 * alive) right before and after, the tid named the caller throughout. 1, or
 * the -errno.
 */
static int set_caller(int fd, const struct seccomp_notif *req, int policy, int priority)
{
	const struct sched_param param = { .sched_priority = priority };
	int r;

	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return -ESRCH;
	r = sched_setscheduler((pid_t)req->pid, policy, &param) < 0 ? NEG_ERRNO() : 1;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
		return -ESRCH;
	return r;
}

/* After the first ID_VALID: 0 = CONTINUE, 1 = done, else the caller's -errno. */
static int emulate_sched(int fd, const struct seccomp_notif *req, const struct floor_self *s,
			 int proc, const struct caller *c, int policy, int priority)
{
	uint64_t userns;
	int r;

	if (userns_of(proc, "ns/user", &userns) < 0 || userns != s->container_userns ||
	    !(c->cap_eff & (1ULL << CAP_SYS_NICE)))
		return 0;
	if (policy < 0)
		return -EINVAL;
	/* not the container's: the handler leaves its caller to the kernel */
	if (!caller_in_container(proc, s))
		return 0;
	r = sched_valid(policy, priority);
	return r < 0 ? r : set_caller(fd, req, policy, priority);
}

void answer_sched(int fd, const struct seccomp_notif *req, const struct floor_self *s,
		  struct seccomp_notif_resp *resp)
{
	const __u64 *a = req->data.args;
	int priority = 0, proc = -1, status = -1, r = 0;
	struct iovec local = { &priority, sizeof(priority) };
	struct iovec remote = { (void *)(uintptr_t)a[2], sizeof(priority) };
	struct caller c;

	*resp = (struct seccomp_notif_resp){ .id = req->id,
					     .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	/* the bench's call: the caller itself, a sched_param */
	if ((int)a[0] != 0 || a[2] == 0 ||
	    process_vm_readv((pid_t)req->pid, &local, 1, &remote, 1, 0) != sizeof(priority))
		return;
	if (pin_checked(fd, req, &proc, &status, &c) == 0)
		r = emulate_sched(fd, req, s, proc, &c, (int)a[1], priority);
	if (r != 0)
		*resp = (struct seccomp_notif_resp){ .id = req->id, .error = r < 0 ? r : 0 };
	pin_release(req->pid, proc, status, -1);
}
