/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF_PROG_LOAD of a device-cgroup program for a container.
 *
 * The instructions (at most BPF_COMPLEXITY_LIMIT_INSNS) and the license are
 * read once, the instructions scanned for anything that reaches outside the
 * program (bpf_insns_check()), and the load is made by a loader task with
 * only CAP_BPF and CAP_NET_ADMIN (effective and permitted), the two a device
 * program needs: the verifier then refuses helpers such as bpf_probe_read_kernel(), which
 * would let a "device" program read kernel memory. The program fd reaches the
 * caller close-on-exec through SECCOMP_IOCTL_NOTIF_ADDFD; the verifier log and
 * log_true_size are copied back as the kernel would.
 *
 * The loader is a vfork-style child (CLONE_VM | CLONE_VFORK | CLONE_FILES)
 * that first moves itself into the caller's memory cgroup, so that the
 * kernel charges the program to the container, and sets its real uid to
 * the caller's host uid, so that the program's created_by_uid says whose it
 * is (bpf_attach.c detaches and replaces only such programs). A task in its
 * vfork is never chosen as the OOM killer's victim, but a group kill
 * (memory.oom.group on cgroup2) takes every task of the cgroup that is not at
 * oom_score_adj -1000, and every process sharing its memory: so the loader
 * sets that for itself before it joins (nsexec_child_oom_exempt()). The
 * worker thread itself never changes cgroup or credentials. The child makes
 * raw system calls only; the worker waits for it (the load is bounded by the
 * verifier's own limits).
 *
 * Each container has at most LOADS_PER_CONTAINER loads in flight; more get
 * EAGAIN, which libbpf and cilium/ebpf retry. That table is the only shared
 * state, under its own mutex, held for a few instructions and no syscall.
 *
 * Called from worker threads.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "daemon/log.h"
#include "daemon/macro.h"
#include "daemon/engine/notify.h"
#include "handlers/bpf.h"
#include "handlers/nsexec.h"
#include "handlers/procmem.h"

#define LICENSE_SIZE 128 /* the kernel keeps 127 characters */
#define LOADER_STACK_SIZE (16u * 1024u)
#define LOADS_PER_CONTAINER 2u
#define LOADS_SLOTS 64u
/* Programs up to this many instructions (4 KiB) are read to the stack; larger ones to a mapping. */
#define INSNS_ON_STACK 512u

/* ---- loads in flight, per container (its initial user namespace) ---- */

static pthread_mutex_t loads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct ns_ident userns;
	unsigned n; /* 0 = free slot */
} loads[LOADS_SLOTS];

/* The container's slot, else a free one to take, else -1. Lock held. */
static int loads_slot(const struct ns_ident *userns)
{
	int free_slot = -1;

	for (unsigned i = 0; i < LOADS_SLOTS; i++) {
		if (loads[i].n > 0 && ns_ident_equal(&loads[i].userns, userns))
			return (int)i;
		if (loads[i].n == 0 && free_slot < 0)
			free_slot = (int)i;
	}
	return free_slot;
}

static int loads_enter(const struct ns_ident *userns)
{
	int i, r = -EAGAIN;

	pthread_mutex_lock(&loads_lock);
	i = loads_slot(userns);
	if (i >= 0 && loads[i].n < LOADS_PER_CONTAINER) {
		loads[i].userns = *userns;
		loads[i].n++;
		r = 0;
	}
	pthread_mutex_unlock(&loads_lock);
	return r;
}

static void loads_leave(const struct ns_ident *userns)
{
	pthread_mutex_lock(&loads_lock);
	for (unsigned i = 0; i < LOADS_SLOTS; i++)
		if (loads[i].n > 0 && ns_ident_equal(&loads[i].userns, userns)) {
			loads[i].n--;
			break;
		}
	pthread_mutex_unlock(&loads_lock);
}

/* ---- the loader ---- */

struct load_job {
	uint8_t attr[BPF_ATTR_SIZE] __attribute__((aligned(8)));
	int memcg_fd; /* the caller's memory cgroup's tasks/cgroup.procs, or -EBADF */
	bool memcg_is_v2; /* memcg_fd is a cgroup2 one: a group OOM kill may happen there */
	uid_t uid;    /* the caller's host uid: the program's created_by_uid */
	int result;   /* the program fd (in our fd table: CLONE_FILES) or the kernel's -errno */
	int setup_r;  /* < 0: joining the memory cgroup or taking the credentials failed */
};

/*
 * The loader's capabilities: CAP_NET_ADMIN and CAP_BPF of the daemon's
 * permitted set, effective and permitted both, nothing inheritable. Worked
 * out once (one capget() for the process), so the loader makes a single
 * capset(). A thread whose permitted set lost one since gets EPERM from it:
 * the load fails, it is never made with more.
 */
static struct __user_cap_data_struct loader_cap_data[2];
static int loader_cap_err; /* 0, or capget()'s errno */
static pthread_once_t loader_cap_once = PTHREAD_ONCE_INIT;

static void loader_caps_compute(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct prm[2] = {};

	if (syscall(SYS_capget, &hdr, prm) < 0) {
		loader_cap_err = errno;
		return;
	}
	/* CAP_NET_ADMIN is 12 and CAP_BPF 39: one in each word */
	loader_cap_data[0].effective = (1u << CAP_NET_ADMIN) & prm[0].permitted;
	loader_cap_data[1].effective = (1u << (CAP_BPF - 32)) & prm[1].permitted;
	loader_cap_data[0].permitted = loader_cap_data[0].effective;
	loader_cap_data[1].permitted = loader_cap_data[1].effective;
}

static int loader_caps_prepare(void)
{
	(void)pthread_once(&loader_cap_once, loader_caps_compute);
	return -loader_cap_err;
}

/* In the loader: raw system call, no errno of its own to keep. */
static int loader_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return (int)syscall(SYS_capset, &hdr, loader_cap_data);
}

/*
 * The child: shares our memory and fd table and runs while its parent thread
 * waits in clone() (CLONE_VFORK). Raw system calls only; errno is the waiting
 * thread's, which is safe while it waits.
 */
__attribute__((no_sanitize("address"))) static int loader(void *arg)
{
	struct load_job *j = arg;
	long r;

	/*
	 * "0", the writer itself, not its tid: the kernel moves the current task
	 * without the global threadgroup lock, whose write side makes every fork
	 * and exit on the host wait (and waits for an RCU grace period itself).
	 */
	if (j->memcg_fd >= 0) {
		/* exempt first: in a cgroup2 memory cgroup a group OOM kill could take us */
		int err = j->memcg_is_v2 ? nsexec_child_oom_exempt() : 0;

		if (err) {
			errno = err;
			goto fail;
		}
		if (syscall(SYS_write, j->memcg_fd, "0", 1) != 1)
			goto fail;
	}
	/* the real uid only: effective and saved stay 0, so no capability is dropped by it */
	if (syscall(SYS_setresuid, j->uid, (uid_t)-1, (uid_t)-1) < 0 || loader_caps() < 0)
		goto fail;
	r = syscall(SYS_bpf, BPF_PROG_LOAD, j->attr, BPF_ATTR_SIZE);
	j->result = r < 0 ? negative_errno() : (int)r;
	return 0;
fail:
	j->setup_r = negative_errno(); /* ours, not the caller's to hear of */
	return 0;
}

static int run_loader(struct load_job *j)
{
	char stack[LOADER_STACK_SIZE] __attribute__((aligned(16)));
	pid_t pid;
	int status;

	j->result = -EIO;
	j->setup_r = 0;
	/* exit signal 0: a SIGCHLD reaper elsewhere never takes it; reaped with __WALL */
	pid = clone(loader, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | CLONE_FILES, j);
	if (pid < 0)
		return negative_errno();
	while (waitpid(pid, &status, __WALL) < 0)
		if (errno != EINTR)
			return negative_errno();
	return 0;
}

/* ---- reading and writing the caller's side ---- */

struct mapping {
	void *p;
	size_t len;
};

static void mapping_freep(struct mapping *m)
{
	if (m->p && m->p != MAP_FAILED)
		(void)munmap(m->p, m->len);
}

static int mapping_new(size_t len, struct mapping *ret)
{
	/* untouched pages cost nothing: a large log is only paid for as it is written */
	ret->len = len;
	ret->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		      -1, 0);
	return ret->p == MAP_FAILED ? -ENOMEM : 0;
}

/* The license as the kernel takes it: 127 characters at most, silently cut. */
static int read_license(pid_t pid, int mem_fd, uint64_t addr, char buf[LICENSE_SIZE])
{
	int r = procmem_read_string(pid, mem_fd, addr, buf, LICENSE_SIZE);

	return r == -ENAMETOOLONG ? 0 : r;
}

/* The log as the kernel leaves it for the caller: the string and its NUL, within log_size. */
static int copy_log_back(const struct bpf_call *call, const struct bpf_load_req *req,
			 const struct mapping *log)
{
	size_t n = strnlen(log->p, log->len);

	if (n < log->len)
		n++;
	return procmem_write(call->mem_fd, call->maps_fd, req->log_buf, log->p, n);
}

static int write_log_true_size(const struct bpf_call *call, const struct load_job *j)
{
	uint32_t v;

	memcpy(&v, j->attr + BPF_LOAD_LOG_TRUE_SIZE_OFF, sizeof(v));
	return procmem_write(call->mem_fd, call->maps_fd, call->attr_addr + BPF_LOAD_LOG_TRUE_SIZE_OFF, &v,
			     sizeof(v));
}

/*
 * The kernel's answer after a load: whatever the verifier wrote to the log
 * goes back, and log_true_size (which the kernel writes whenever the attr
 * reaches it); a failed write turns the answer into EFAULT, as in the kernel.
 */
static int finish(const struct bpf_call *call, const struct bpf_load_req *req,
		  const struct load_job *j, const struct mapping *log)
{
	int r = j->result;

	if (req->log_buf && ((const char *)log->p)[0] != '\0' && copy_log_back(call, req, log) < 0)
		r = -EFAULT;
	if (req->wants_log_true_size && write_log_true_size(call, j) < 0)
		r = -EFAULT;
	return r;
}

/* The loader does the load; the result (a program fd of ours or the kernel's -errno) goes to *ret. */
static int load(const struct bpf_call *call, const struct bpf_load_req *req, const void *insns,
		const char *license, int *ret)
{
	_cleanup_(mapping_freep) struct mapping log = {};
	struct load_job j = { .memcg_fd = -EBADF, .uid = call->t->st.euid };
	uint32_t log_size = req->log_size < BPF_LOG_MAX ? req->log_size : BPF_LOG_MAX;
	int r;

	r = loader_caps_prepare();
	if (r < 0)
		return r;
	if (req->log_buf && (r = mapping_new(log_size, &log)) < 0)
		return r;
	bpf_load_attr_build(req, (uintptr_t)insns, (uintptr_t)license, (uintptr_t)log.p, log_size,
			    j.attr);
	j.memcg_fd = bpf_cgroup_open_memcg(call->t, &j.memcg_is_v2);
	if (j.memcg_fd < 0 && j.memcg_fd != -ENOENT)
		return j.memcg_fd;
	r = run_loader(&j);
	(void)close_nointr(j.memcg_fd);
	if (r == 0 && j.setup_r < 0)
		r = log_warning_errno(j.setup_r, "bpf: the loader could not take its place and "
				      "credentials%s: %m", j.memcg_is_v2 ? " (in a cgroup2 memory "
				      "cgroup it first exempts itself from the OOM killer, which "
				      "needs CAP_SYS_RESOURCE)" : "");
	if (r < 0)
		return r;
	*ret = finish(call, req, &j, &log);
	if (*ret < 0 && j.result >= 0)
		(void)close_nointr(j.result);
	return 0;
}

/*
 * Read the program and load it: *ret is then our program fd or the caller's
 * -errno, or *ret_continue says it is not one we emulate after all.
 */
static int read_and_load(const struct bpf_call *call, const struct bpf_load_req *req, int *ret,
			 bool *ret_continue)
{
	const pid_t pid = (pid_t)call->ctx->req->pid;
	_cleanup_(mapping_freep) struct mapping big = {};
	struct bpf_insn small[INSNS_ON_STACK], *insns = small;
	size_t len = (size_t)req->insn_cnt * sizeof(struct bpf_insn);
	char license[LICENSE_SIZE];
	int r;

	/* a runtime's device program is a few dozen instructions: no mapping to make and unmap */
	if (req->insn_cnt > INSNS_ON_STACK) {
		r = mapping_new(len, &big);
		if (r < 0)
			return r;
		insns = big.p;
	}
	/* in the kernel's order: the instructions, then the license */
	r = procmem_read(pid, call->mem_fd, req->insns, insns, len);
	if (r == 0)
		r = read_license(pid, call->mem_fd, req->license, license);
	if (r == -EFAULT) {
		*ret = -EFAULT;
		return 0;
	}
	if (r < 0)
		return r == -ESRCH ? -ENOENT : r;
	if (req->prog_type != BPF_PROG_TYPE_CGROUP_DEVICE &&
	    !bpf_insns_is_probe(insns, req->insn_cnt)) {
		*ret_continue = true; /* not the probe: the kernel answers, with the caller's rights */
		return 0;
	}
	if (bpf_insns_check(insns, req->insn_cnt) < 0) {
		*ret = -EINVAL;
		return 0;
	}
	/* everything is read: the caller must still be the one waiting */
	r = notify_id_valid(call->ctx->notify_fd, call->ctx->req->id);
	if (r < 0)
		return r;
	return load(call, req, insns, license, ret);
}

int bpf_prog_load_act(const struct bpf_call *call, const struct bpf_load_req *req,
		      struct notif_reply *reply)
{
	const struct ns_ident *userns = &call->t->userns_id;
	int r, prog_fd = -EBADF;
	bool is_kernels = false;

	/* the program's owner mark: host root would pass for the runtime */
	if (call->t->st.euid == 0) {
		reply_errno(reply, -EPERM);
		return 0;
	}
	if (loads_enter(userns) < 0) {
		reply_errno(reply, -EAGAIN);
		return 0;
	}
	r = read_and_load(call, req, &prog_fd, &is_kernels);
	loads_leave(userns);
	if (r < 0)
		return r;
	if (is_kernels) {
		reply_continue(reply);
		return 0;
	}
	if (prog_fd < 0) {
		reply_errno(reply, prog_fd);
		return 0;
	}
	r = bpf_reply_fd(call->ctx, prog_fd, reply);
	(void)close_nointr(prog_fd);
	return r;
}
