/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptd benchmark: shared declarations. The bench is a single-threaded
 * parent that forks supervisors (the floor), client processes (the callers
 * under a notify filter) and the daemon, and talks to them through one shared
 * anonymous mapping, pipes and the daemon's sockets.
 */
#pragma once

#include <errno.h>
#include <linux/filter.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

#define MAX_CLIENTS 1024
#define MAX_SAMPLES (1u << 21)
#define MAX_LISTENERS 4096 /* memory case: threads of one holder process */

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		(void)close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ __attribute__((cleanup(closep)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

#define NEG_ERRNO() (errno > 0 ? -errno : -EIO)

/* ------------------------------------------------------------------ shared memory */

/*
 * One mapping shared by the parent and every client it forks. Clients write
 * their own slot only; the parent reads after a client is ready or gone.
 */
struct shm {
	atomic_int stop;           /* parent → clients: leave the loop */
	atomic_int ready;          /* clients past hand-off and warm-up */
	atomic_int failed;         /* clients whose trapped call gave a wrong result */
	atomic_int first_errno;    /* errno of the first such failure */
	atomic_int fail_stage;     /* enum fail_stage of that failure */
	_Atomic uint64_t count[MAX_CLIENTS]; /* trapped calls done, warm-up included */
	uint64_t loop_ns;          /* client 0: time spent in the measured loop */
	uint64_t cpu_ns;           /* client 0: its own CPU time (user + system) at the end */
	uint32_t n_samples;        /* client 0: latencies recorded */
	uint64_t client_cpu_ns;    /* client 0: its CPU time in the measured loop */
	uint32_t lat_ns[MAX_SAMPLES];
};

/* ------------------------------------------------------------------ clients */

enum fail_stage {
	STAGE_NONE,
	STAGE_USERNS,  /* entering the client's user namespace */
	STAGE_FILTER,  /* installing the notify filter */
	STAGE_HANDOFF, /* handing the listener to the supervisor */
	STAGE_CALL,    /* the trapped call itself returned an error */
};

/* "entering a user namespace", … */
const char *fail_stage_name(int stage);

enum call_kind {
	CALL_SYSINFO, /* sysinfo(2): notified, cheap, what floor/continue/sysinfo time */
	CALL_MKNOD,   /* mknodat(AT_FDCWD, path, S_IFCHR|0666, 1:3) then unlink */
	CALL_MOUNT,   /* mount(source, target, "ext4") then umount2(target), in its own mount ns */
	CALL_BPF,     /* one device program loaded, attached MULTI to bpf_target, detached, closed */
	CALL_SETXATTR, /* setxattr(xattr_path, "trusted.overlay.opaque", "y", 1, 0) */
	CALL_SCHED,   /* sched_setscheduler(0, ...) to SCHED_FIFO and SCHED_RR (priority 1) in turn */
};

/* How a client's listener reaches its supervisor. */
struct handoff {
	int floor_sock;        /* socketpair end of a floor supervisor, or -1 */
	const char *oci_path;  /* interceptd's OCI socket (when floor_sock < 0) */
};

struct fleet_spec {
	enum call_kind call;
	unsigned n;                 /* client processes, ≤ MAX_CLIENTS */
	const char *const *containers; /* client i uses containers[i % n_containers] */
	unsigned n_containers;
	struct handoff to;
	bool record;                /* client 0 records per-call latencies */
	bool userns;                /* run as pid 1 of a fresh pid namespace owned by a fresh
				       user namespace (0 → 100000): a container's init */
	const char *mknod_path;     /* CALL_MKNOD */
	const char *xattr_path;     /* CALL_SETXATTR: a directory the client's root owns */
	const char *mount_source, *mount_target; /* CALL_MOUNT */
	const char *bpf_target;     /* CALL_BPF: the cgroup2 directory to attach to */
	const char *cgroup;         /* a cgroup2 directory to run the client in, or NULL */
	bool native;                /* no filter, no supervisor: the calls as root makes them (a floor) */
	unsigned warmup;            /* trapped calls before ready */
	int ready_timeout_ms;
};

struct fleet {
	pid_t pids[MAX_CLIENTS];
	unsigned n;
	int go_fd; /* write end: closing it starts every client */
};

/* Build the BPF programs once (libseccomp, exported), before any fork. */
int filters_init(void);

/*
 * Fork @spec->n clients; each installs its filter, hands its listener off,
 * does the warm-up calls and waits for fleet_go(). Returns 0 when all are
 * ready, -ETIMEDOUT when the supervisor does not answer (clients are then
 * killed and reaped), -EPROTO when a call returned a wrong result.
 */
int fleet_start(struct shm *shm, const struct fleet_spec *spec, struct fleet *ret);
void fleet_go(struct fleet *f);
/* Set stop, wait up to @grace_ms for clients to exit, kill the rest. 0 if all exited cleanly. */
int fleet_stop(struct shm *shm, struct fleet *f, int grace_ms);

/* The sysinfo NOTIFY program, built by filters_init(). */
const struct sock_fprog *filter_sysinfo(void);

/*
 * May a task of ours take SCHED_FIFO at all (RT group scheduling can give its
 * cgroup no real-time runtime, and then root is refused too)? 0 or the errno
 * a child of ours got when it tried as root.
 */
int sched_rt_probe(void);

/* One SCM_RIGHTS fd with @len bytes of @data; 0 or a negative errno. */
int send_fd(int sock, int fd, const void *data, size_t len);
/* The fd of one such message (its data into @data, up to @len bytes), or a negative errno. */
int recv_fd(int sock, void *data, size_t len);

/*
 * Hand @listener to interceptd as runc 1.1 does (see client.c). Returns the
 * connection, which the caller keeps open: runc sends no EOF.
 */
int oci_handoff(const char *path, const char *name, pid_t pid, int listener);

/*
 * Memory case: fork a holder process with @n threads, each attaching one
 * listener to container fill-NNNNN (from @first_fill on) and proving it is
 * served. Returns 0 when all are served; the holder runs until killed.
 */
int holder_start(struct shm *shm, const char *oci_path, unsigned n, unsigned first_fill,
		 int timeout_ms, pid_t *ret_pid);

/* ------------------------------------------------------------------ floor supervisor (floor.c) */

enum wait_mode {
	WAIT_BLOCK, /* blocking RECV */
	WAIT_POLL,  /* poll(POLLIN) then RECV */
	WAIT_EPOLL, /* epoll_wait then RECV */
};

/* What a floor supervisor answers. */
enum floor_answer {
	FLOOR_CONTINUE, /* CONTINUE, nothing else */
	FLOOR_SYSINFO,  /* a fixed struct sysinfo, written the cheapest safe way */
	FLOOR_MKNOD,    /* mknod c 1 3 made as the caller, every safe step of an emulation */
	FLOOR_BPF,      /* the bench's device program loaded, attached, detached: the safe steps */
	FLOOR_MOUNT,    /* the bench's ext4 mount made for the caller, every safe step of an emulation */
	FLOOR_SETXATTR, /* trusted.overlay.opaque set for the caller, every safe step of an emulation */
	FLOOR_SCHED,    /* the caller's own scheduling policy set, every safe step of an emulation */
};

/*
 * Fork a minimal supervisor answering @answer to every notification of the
 * listener it receives over *ret_sock's peer (the message's data: the pid of
 * the container's init, as in the OCI state). @sync: set SYNC_WAKE_UP.
 */
int floor_start(enum wait_mode mode, bool sync, enum floor_answer answer, pid_t *ret_pid,
		int *ret_sock);
/* A NUL-terminated string of @tid, read page by page up to its NUL: 0, -EFAULT or -ENAMETOOLONG. */
int read_caller_string(pid_t tid, uint64_t addr, char *buf, size_t size);

/* floor_bpf.c, in the supervisor: drop what the verifier must not see, once. */
int floor_bpf_init(void);
struct seccomp_notif;
struct seccomp_notif_resp;
/* Answer a trapped bpf call: 1 when answered already (ADDFD_FLAG_SEND), else 0 and @resp set. */
int answer_bpf(int fd, const struct seccomp_notif *req, struct seccomp_notif_resp *resp);
/* Kill and reap the supervisor; its CPU time (user+system) in ns. */
int floor_stop(pid_t pid, uint64_t *ret_cpu_ns);
/* Does this kernel accept SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP? */
bool probe_sync_wake_up(void);

/* ------------------------------------------------------------------ interceptd */

struct container_def {
	const char *name;
	const char *key; /* a "security.syscalls.intercept.*" key set to "true", or NULL */
	const char *more; /* more config members as JSON ("\"k\":\"v\""), or NULL */
};

struct daemon_run {
	pid_t pid;
	char dir[256];
	char api[300], oci[300], lxc[300], state_dir[300], log[300];
	unsigned workers;
	void *curl; /* CURL *, reused: keep-alive over the API socket */
};

/* Write STATE_DIR/containers/NAME.json for @defs plus @n_fill "fill-NNNNN" containers. */
int state_write(const char *state_dir, const struct container_def *defs, size_t n_defs,
		unsigned n_fill);
/* Start the daemon in @dir (sockets, state, log); waits for the API socket. */
int daemon_start(struct daemon_run *d, const char *bin, const char *dir, unsigned workers);
void daemon_stop(struct daemon_run *d);
/* Print the last lines of the daemon's log to stderr. */
void daemon_log_tail(const struct daemon_run *d);

/*
 * One HTTP request over the API socket. @ret_status: HTTP status; @ret_ns:
 * wall time of the request; body in *ret_body (malloc'd) when wanted.
 */
int api_request(struct daemon_run *d, const char *method, const char *path, const char *body,
		int timeout_ms, long *ret_status, uint64_t *ret_ns, char **ret_body);

/*
 * CPU time of @pid in ns: every thread's (its CPU clock), with that of the
 * children it has waited for (the daemon's mount helpers)
 */
int proc_cpu_ns(pid_t pid, uint64_t *ret);
/* VmRSS of @pid in KiB */
int proc_rss_kib(pid_t pid, uint64_t *ret);

/* ------------------------------------------------------------------ misc */

/*
 * The mount case: an ext4 image on a loop device of our own, a node for it
 * owned by the client's root (100000) and a target directory, below @dir.
 * 0, or a negative errno and the reason in @why. Cleanup detaches the device.
 */
struct mount_fixture {
	int loop_nr; /* -1: none attached */
	char source[300], target[300];
};

int mount_fixture_setup(const char *dir, struct mount_fixture *ret, char *why, size_t why_size);
void mount_fixture_cleanup(struct mount_fixture *f);

uint64_t now_ns(void);
void sleep_ns(uint64_t ns);
/* Wait for @pid to exit for at most @timeout_ms; SIGKILL it after that. 0 = exited by itself. */
int wait_or_kill(pid_t pid, int timeout_ms, int *ret_status);
