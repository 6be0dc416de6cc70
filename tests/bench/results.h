/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark's cases, results and report (report.c); shared by bench.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define MAX_ROUNDS 32
#define N_FAN_CONTAINERS 8
#define SKIP_LEN 256

/* ------------------------------------------------------------------ cases */

enum case_id {
	CASE_FLOOR,        /* blocking RECV, SYNC_WAKE_UP when the kernel has it: the reference */
	CASE_FLOOR_NOSYNC, /* blocking RECV without SYNC_WAKE_UP */
	CASE_FLOOR_POLL,   /* poll() then RECV */
	CASE_FLOOR_EPOLL,  /* epoll_wait() then RECV */
	CASE_CONTINUE,     /* interceptd, registered container, key off */
	CASE_FLOOR_SYSINFO, /* the floor emulating sysinfo: pin mem+maps, ID_VALID, query, write */
	CASE_SYSINFO,      /* interceptd emulating sysinfo */
	CASE_FLOOR_MKNOD,  /* the floor emulating mknod: every safe step, nothing else */
	CASE_MKNOD,        /* interceptd emulating mknod c 1 3 */
	CASE_FLOOR_SETXATTR, /* the floor setting trusted.overlay.opaque: every safe step */
	CASE_SETXATTR,     /* interceptd setting it */
	CASE_FLOOR_SCHED,  /* the floor setting the caller's RT policy: every safe step */
	CASE_SCHED,        /* interceptd setting it */
	CASE_FLOOR_MOUNT,  /* ext4 mount + umount done natively by root: the mount case's floor */
	CASE_FLOOR_MOUNT_NOTIFY, /* the same mount trapped, made for the caller with every safe step */
	CASE_MOUNT,        /* the same through interceptd (mount.allowed=ext4), umount native */
	CASE_FLOOR_BPF,    /* load + attach + detach of a device program, made natively by root */
	CASE_FLOOR_BPF_NOTIFY, /* the same three calls trapped, answered with the fewest safe steps */
	CASE_BPF,          /* the same three calls by a container's root, through interceptd */
	CASE_COUNT,
};

struct case_desc {
	const char *name;
	bool daemon;
	enum wait_mode mode;
	bool sync;
	enum call_kind call;
	const char *container;
	bool userns; /* client is a container's init: own pid and user namespaces */
	enum floor_answer answer; /* floor: what it answers */
	bool native;              /* no filter and no supervisor at all: the calls as root makes them */
	/*
	 * interceptd: the floor doing the same safe steps, which its x_own is
	 * against; a native floor is its own (x_own 1). Unused for other floors.
	 */
	enum case_id own_floor;
	/*
	 * interceptd, when its own floor is native: the bare supervisor doing
	 * the same safe steps, a second floor it is compared with (0 = none).
	 */
	enum case_id safe_floor;
};




#define N_MAIN_CONTAINERS 1000 /* registered in the main daemon: the metrics case */

struct stat_set {
	unsigned n;
	double v[MAX_ROUNDS];
};

struct case_result {
	struct stat_set med_us, p99_us, rate, cpu_us;
	char skip[SKIP_LEN]; /* non-empty: not run, and why */
};


#define N_FAN_SIZES 3

struct fanin_result {
	struct stat_set total, mean, slowest; /* calls/s */
	char skip[SKIP_LEN];
};

struct options {
	const char *daemon_bin;
	const char *json;
	const char *only; /* comma-separated case names, NULL = all */
	bool smoke;
	unsigned rounds;
	double case_s, fanin_s;
	unsigned fanin_rounds, api_n, metrics_n, mem_containers, mem_listeners;
};

struct bench {
	struct options o;
	struct shm *shm;
	char dir[128];
	char mknod_dir[200], mknod_path[240], xattr_path[240]; /* xattr_path: in mknod_dir */
	bool mknod_mounted;
	struct mount_fixture mount;
	char bpf_cg[200], bpf_c[220], bpf_t[240]; /* cgroup2: ours, the client's, the target */
	bool has_sync;
	unsigned cpus;
	struct daemon_run main_d, one_d; /* workers = CPUs, workers = 1 */
	bool main_up, one_up;
	char daemon_skip[SKIP_LEN]; /* why interceptd notification cases cannot run */
	char api_skip[SKIP_LEN];    /* why the API cases cannot run */
	struct case_result cr[CASE_COUNT];
	struct fanin_result fr[2][N_FAN_SIZES]; /* [0] workers=1, [1] workers=CPUs */
	struct { double get_med, get_p99, patch_med, patch_p99, metrics_med, metrics_p99;
		 size_t metrics_bytes; char skip[SKIP_LEN]; bool ran; } api;
	/*
	 * api_load.c: a write stalled on a frozen disk; a burst of connections.
	 * skip: the machine lacks what the case needs (not run); fail: the case
	 * could be run, but the daemon (or the bench) failed it: a FAIL.
	 */
	struct { double get_med, get_p99, get_max, metrics_p99, bad_patch_p99;
		 double stalled_after_thaw_ms, other_after_thaw_ms; long stalled_status, other_status;
		 unsigned n_get, freeze_ms; char skip[SKIP_LEN], fail[SKIP_LEN]; bool ran; } stall;
	struct { unsigned n, answered, refused, unanswered, failed; double med, p99, max, patch_ms;
		 long patch_status; int fds_before, fds_after; char skip[SKIP_LEN], fail[SKIP_LEN];
		 bool ran; } burst;
	struct { double rss_base_mib, rss_mib, start_ms, restart_ms; unsigned containers, listeners;
		 char skip[SKIP_LEN]; bool ran_base, ran; } mem;
	bool broken; /* the bench itself failed */
};

extern const struct case_desc cases[CASE_COUNT];
extern const char *const fan_containers[N_FAN_CONTAINERS];
extern const struct container_def main_defs[16];
extern const unsigned fan_sizes[N_FAN_SIZES];

/* statistics (report.c) */
int cmp_u32(const void *a, const void *b);
/* index of the @p quantile in @n sorted values */
size_t rank(size_t n, double p);
int cmp_u64(const void *a, const void *b);
double stat_median(const struct stat_set *s);
void stat_add(struct stat_set *s, double v);
double ms_percentile(uint64_t *v, size_t n, double p);

/* api_load.c */
void run_api_stall(struct bench *b);
void run_api_burst(struct bench *b);

/* true if some interceptd case could not run for want of something (not for a failure) */
bool any_skipped(const struct bench *b);
/* true if the daemon failed a case that ran (the stalled write, the burst): prints why */
bool any_failed(const struct bench *b);
/* Print the tables and targets; write the JSON file when asked. */
void report(const struct bench *b);
