/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A user-namespace "container" for the privileged bpf tests. A child maps
 * 0 -> 100000 in a user namespace, starts an init in new mount and pid
 * namespaces inside a cgroup2 directory of the test (delegated to it, as
 * runtimes do) and a fresh v1 memory cgroup when the host has one, and
 * installs a filter that traps the bpf commands the policies trap. The test
 * process is the supervisor: it sends one command at a time and serves the
 * notifications that command causes with handle_bpf(), so each test sees the
 * real result in the container.
 *
 * Cgroups: ROOT (this test's) holds C (the container's) with C/child and
 * C/child/deep, and H, a sibling of C the container must not reach.
 */
#include <stdbool.h>
#include <stdint.h>

#include "daemon/store/config.h"
#include "handlers/handler.h"
#include "bpf_progs.h"
#include "userns_child.h"

#define BPFC_HOST_ID USERNS_CHILD_HOST_ID

enum bpfc_op {
	BPFC_LOAD,     /* keeps the program fd open; ret = its number */
	BPFC_ATTACH,
	BPFC_DETACH,
	BPFC_LINK,     /* keeps the link fd open; ret = its number */
	BPFC_QUERY,
	BPFC_CLOSE,    /* close fd prog_fd */
	BPFC_OPEN_DEV, /* a task moved into cgroup opens dev: ret 0 or -errno */
	BPFC_CAPS,     /* set the effective capabilities to caps */
	BPFC_TAKE_FD,  /* take the fd the supervisor passes along; ret = its number */
	BPFC_SWAP,     /* a thread flips the attach type while attaching to target */
	BPFC_SWAP_LOAD, /* a thread flips the program type while loading; n_ok: device fds, n_other: others */
	BPFC_COUNT_FDS,
	BPFC_LOAD_THREADS, /* iterations threads load at once; n_ok, n_eperm (EAGAIN here), n_other */
	BPFC_RUN,      /* run(): a test's own code in the container (a fork of the test program) */
	BPFC_EXIT,
};

/* How the pointers of a load are broken. */
enum bpfc_ptr {
	BPFC_PTR_OK,
	BPFC_PTR_ATTR_UNMAPPED,
	BPFC_PTR_ATTR_CUT,   /* the attr runs into an unmapped page */
	BPFC_PTR_INSNS_UNMAPPED,
	BPFC_PTR_LICENSE_UNMAPPED,
	BPFC_PTR_LOG_UNMAPPED,
};

struct bpfc_result;

struct bpfc_cmd {
	int op;
	/* load */
	int kind;                /* enum bpft_prog */
	unsigned major, minor;   /* BPFT_DENY_DEV */
	uint32_t n;              /* BPFT_LINEAR: instructions */
	uint32_t prog_type;      /* 0: BPF_PROG_TYPE_CGROUP_DEVICE */
	uint32_t expected_attach_type;
	uint32_t log_level, log_size;
	uint32_t size;           /* the attr size; 0: 144 */
	int poke_off;            /* > 0: set that byte of the attr to 1 */
	int ptr;                 /* enum bpfc_ptr */
	/* attach, detach, link, query: target is a path opened O_RDONLY, or target_fd */
	char target[160];
	int target_fd, prog_fd, replace_fd;
	uint32_t attach_type;    /* 0: BPF_CGROUP_DEVICE */
	uint32_t flags;
	uint32_t prog_cnt, query_flags;
	/* open dev */
	char cgroup[160], dev[32];
	uint64_t caps;
	int iterations;
	long (*run)(const struct bpfc_cmd *c, struct bpfc_result *res); /* BPFC_RUN */
};

struct bpfc_result {
	long ret; /* >= 0 or -errno */
	bool cloexec;
	int fdinfo_type; /* prog_type from /proc/self/fdinfo, -1 if none */
	uint32_t prog_id, created_by_uid, log_true_size;
	uint32_t prog_cnt, attach_flags, ids[8];
	char log[256];
	int n_ok, n_eperm, n_other; /* BPFC_SWAP */
};

struct bpfc {
	char root[96], c[128], child[160], deep[192], host[128];
	char memcg[128]; /* the container's v1 memory cgroup, "" when the host has none */
	int sock, notify_fd;
	pid_t pid, init_pid; /* the first child; the container's init (host pid) */
	struct config *cfg;
	struct handler_cache cache;
	int n_notif, n_continue;
	bool is_lxc_like;  /* serve as for LXC: handlers may not answer themselves (may_answer) */
	int n_send_failed; /* answers the kernel refused (the call was answered already, or gone) */
};

/* The container of the running test program, set up around its group of tests. */
extern struct bpfc bpfc_env;

struct CMUnitTest;

/*
 * main() of a bpf test program: 77 (after a TAP skip plan saying why) without
 * root or cgroup2, else @tests run as one group, bpfc_env set up around them
 * with bpf and bpf.devices on.
 */
int bpfc_run_group(const struct CMUnitTest *tests, size_t n);

/* The key bpf.devices, read per notification like the daemon does. */
void bpfc_set_devices(struct bpfc *b, bool on);

/* Run @c in the container, serving its notifications. Fails the test if the RPC breaks. */
struct bpfc_result bpfc_call(struct bpfc *b, const struct bpfc_cmd *c);

/*
 * Run @c, whose @n_concurrent notifications are received first and then
 * served by as many threads at once, as a daemon with that many workers
 * serving that many listeners of one container would.
 */
struct bpfc_result bpfc_call_concurrent(struct bpfc *b, const struct bpfc_cmd *c, int n_concurrent);

/* A task of the container moved into @cgroup opens @dev: 0 or -errno. */
long bpfc_open_dev(struct bpfc *b, const char *cgroup, const char *dev);

/* Hand @fd (of the supervisor) to the container: its number there. */
int bpfc_give_fd(struct bpfc *b, int fd);

/* The supervisor's own (the "runtime's") program, loaded natively as root. */
int bpfc_host_load(int kind, unsigned major, unsigned minor);

/* O_RDONLY|O_DIRECTORY of a cgroup path, or -1. */
int bpfc_open_dir(const char *path);

/* Device programs attached at @path (host view): their count, the first id in *ret_id. */
int bpfc_host_query(const char *path, uint32_t *ret_id, uint32_t *ret_flags);

/* Move host task @pid into the cgroup at @path. */
int bpfc_move(const char *path, pid_t pid);
