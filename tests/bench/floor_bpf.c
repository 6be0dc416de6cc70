/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor supervisor of the bpf case (floor-bpf-notify): the bench's
 * client (a container's init) loads a device program, attaches it to a
 * cgroup and detaches it, three trapped calls; this supervisor answers them
 * itself with the fewest safe steps, so that what interceptd adds on top of
 * any safe emulation is measured apart from what such an emulation costs:
 *
 *  - the attr read once (process_vm_readv), then for a load the instructions
 *    and the license read once; the load made with our own copies, with
 *    CAP_SYS_ADMIN and CAP_PERFMON out of the effective set (dropped once at
 *    start: the verifier then grants a device program what interceptd's
 *    loader gets, and nothing that reads kernel memory); the caller's mem
 *    and maps files opened before the check, so that the write-back of
 *    log_true_size (which the kernel makes when the attr reaches it) lands
 *    in the trapped task and only where it could write itself; the program
 *    fd handed over with SECCOMP_IOCTL_NOTIF_ADDFD, close-on-exec, and
 *    SECCOMP_ADDFD_FLAG_SEND, which answers the call at the same time;
 *  - for an attach or a detach, both fds taken from the caller with
 *    pidfd_getfd() through one pidfd, then the call made with them;
 *  - SECCOMP_IOCTL_NOTIF_ID_VALID after everything read or opened by tid and
 *    before acting.
 *
 * What it leaves out is interceptd's policy: who may call (capabilities and
 * user namespace of the caller), where a program may go (the container's
 * subtree, MULTI everywhere above), which programs may be detached (created
 * by the caller), which memory cgroup pays for a program, and the checks of
 * fields and instructions. It handles the calls the bench makes; anything
 * else is CONTINUE. Runs in the single-threaded floor supervisor (floor.c).
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "bench.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif

#define INSNS_MAX 512u  /* the bench's program has 11 */
#define LICENSE_SIZE 128 /* the kernel keeps 127 characters */
/* log_true_size: the last field the kernel writes back after a load (Linux 6.4+) */
#define LOG_TRUE_SIZE_OFF 140u
#define PROCMAP_QUERY_IOCTL _IOWR('f', 17, uint64_t[13])

int floor_bpf_init(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return NEG_ERRNO();
	/* CAP_SYS_ADMIN is 21, CAP_PERFMON 38: the two that widen what the verifier allows */
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[1].effective &= ~(1u << (CAP_PERFMON - 32));
	return syscall(SYS_capset, &hdr, data) < 0 ? NEG_ERRNO() : 0;
}

static int read_mem(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* PROCMAP_QUERY (Linux 6.11): does a writable mapping hold [addr, addr + len)? */
static bool writable(int maps, uint64_t addr, size_t len)
{
	uint64_t q[13] = { sizeof(q), 0, addr };

	if (ioctl(maps, PROCMAP_QUERY_IOCTL, q) < 0)
		return false;
	return (q[5] & 2) && q[4] >= addr + len;
}

/* The caller's mem and maps, opened by tid: only an ID_VALID check after this pins them. */
static void open_mem(pid_t tid, int *ret_mem, int *ret_maps)
{
	char path[32];

	(void)snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
	*ret_mem = open(path, O_RDWR | O_CLOEXEC);
	(void)snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
	*ret_maps = open(path, O_RDONLY | O_CLOEXEC);
}

/* The load with our copies, and log_true_size written back as the kernel would: fd or -errno. */
static int load(const union bpf_attr *a, bool wants_true_size, int mem, int maps, uint64_t addr,
		const struct bpf_insn *insns, const char *license)
{
	union bpf_attr ours = { .prog_type = a->prog_type, .insn_cnt = a->insn_cnt,
				.insns = (uintptr_t)insns, .license = (uintptr_t)license };
	const uint32_t true_size = 0; /* no log was asked for */
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &ours, sizeof(ours));

	if (prog < 0)
		return NEG_ERRNO();
	if (wants_true_size &&
	    (!writable(maps, addr + LOG_TRUE_SIZE_OFF, sizeof(true_size)) ||
	     pwrite(mem, &true_size, sizeof(true_size), (off_t)(addr + LOG_TRUE_SIZE_OFF)) !=
		     (ssize_t)sizeof(true_size))) {
		close(prog);
		return -EFAULT;
	}
	return prog;
}

/* Hand @prog (closed here) over, close-on-exec, answering the call with its number: 1 when done. */
static int install_answer(int fd, const struct seccomp_notif *req, int prog,
			  struct seccomp_notif_resp *resp)
{
	struct seccomp_notif_addfd addfd = { .id = req->id, .flags = SECCOMP_ADDFD_FLAG_SEND,
					     .srcfd = (uint32_t)prog, .newfd_flags = O_CLOEXEC };
	int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);

	if (r < 0)
		r = NEG_ERRNO();
	close(prog);
	if (r >= 0 || r == -ENOENT)
		return 1; /* answered, or nobody waits any more */
	resp->error = r; /* EMFILE: the answer bpf() itself would give */
	return 0;
}

/*
 * BPF_PROG_LOAD of a device program without a log: 1 when answered (the fd
 * installed with the answer), 0 to answer @resp (an errno or CONTINUE).
 */
static int answer_load(int fd, const struct seccomp_notif *req, const union bpf_attr *a,
		       uint32_t size, struct seccomp_notif_resp *resp)
{
	struct bpf_insn insns[INSNS_MAX];
	char license[LICENSE_SIZE];
	const pid_t tid = (pid_t)req->pid;
	const bool wants_true_size = size >= LOG_TRUE_SIZE_OFF + sizeof(uint32_t);
	int mem = -EBADF, maps = -EBADF, prog = -EINVAL;

	if (a->prog_type != BPF_PROG_TYPE_CGROUP_DEVICE || a->insn_cnt == 0 ||
	    a->insn_cnt > INSNS_MAX || a->log_buf || a->log_level)
		return 0;
	resp->flags = 0;
	resp->error = -EFAULT;
	if (read_mem(tid, a->insns, insns, a->insn_cnt * sizeof(*insns)) < 0 ||
	    read_caller_string(tid, a->license, license, sizeof(license)) < 0)
		return 0;
	if (wants_true_size)
		open_mem(tid, &mem, &maps);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0 &&
	    (!wants_true_size || (mem >= 0 && maps >= 0)))
		prog = load(a, wants_true_size, mem, maps, req->data.args[1], insns, license);
	closep(&mem);
	closep(&maps);
	if (prog < 0) {
		resp->error = prog;
		return 0;
	}
	return install_answer(fd, req, prog, resp);
}

/* PROG_ATTACH or PROG_DETACH of a device program: the kernel's answer to @resp. */
static void answer_attach(int fd, const struct seccomp_notif *req, int cmd, const union bpf_attr *a,
			  struct seccomp_notif_resp *resp)
{
	int pidfd, target = -EBADF, prog = -EBADF;
	union bpf_attr ours;

	if (a->attach_type != BPF_CGROUP_DEVICE || (a->attach_flags & BPF_F_REPLACE))
		return;
	resp->flags = 0;
	resp->error = -EBADF;
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)req->pid, PIDFD_THREAD);
	if (pidfd < 0)
		return;
	target = (int)syscall(SYS_pidfd_getfd, pidfd, (int)a->target_fd, 0);
	prog = (int)syscall(SYS_pidfd_getfd, pidfd, (int)a->attach_bpf_fd, 0);
	close(pidfd);
	if (target >= 0 && prog >= 0 && ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0) {
		ours = (union bpf_attr){ .target_fd = (uint32_t)target,
					 .attach_bpf_fd = (uint32_t)prog,
					 .attach_type = BPF_CGROUP_DEVICE,
					 .attach_flags = a->attach_flags };
		resp->error = syscall(SYS_bpf, cmd, &ours, sizeof(ours)) < 0 ? NEG_ERRNO() : 0;
	}
	closep(&target);
	closep(&prog);
}

int answer_bpf(int fd, const struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	const int cmd = (int)req->data.args[0];
	const uint32_t size = (uint32_t)req->data.args[2];
	union bpf_attr a = {};

	*resp = (struct seccomp_notif_resp){ .id = req->id,
					     .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
	if (size > sizeof(a))
		return 0; /* larger than the bench's: the kernel decides */
	if (read_mem((pid_t)req->pid, req->data.args[1], &a, size) < 0) {
		*resp = (struct seccomp_notif_resp){ .id = req->id, .error = -EFAULT };
		return 0;
	}
	if (cmd == BPF_PROG_LOAD)
		return answer_load(fd, req, &a, size, resp);
	if (cmd == BPF_PROG_ATTACH || cmd == BPF_PROG_DETACH)
		answer_attach(fd, req, cmd, &a, resp);
	return 0;
}
