/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/types.h>

#include "daemon/store/config.h"

/*
 * The handler contract. A worker has received @req and taken the config
 * snapshot current at that moment; it looks the handler up by (arch, nr),
 * checks that the handler's key is on, and calls it.
 *
 * A handler returns 0 after filling @reply: emulated (val/error as the real
 * syscall would return; error is a negative errno) or CONTINUE (flags =
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE). It returns < 0 only for an internal
 * failure: the worker then logs, counts and answers CONTINUE, so a failure
 * never grants more than the container's own privileges.
 *
 * Order inside a handler: read every pointer argument once into bounded
 * locals, check notify_id_valid() after opening anything by pid and before
 * acting, decide (pure, unit-tested), act, fill the reply.
 */

/* A namespace's identity: its nsfs inode. */
struct ns_ident {
	dev_t dev;
	ino_t ino;
};

/*
 * Whether mounts sit on a superblock that refuses device nodes (SB_I_NODEV,
 * e.g. a tmpfs mounted inside a user namespace), by unique mount id: those
 * are never reused, and a mount never changes its superblock. A few slots,
 * overwritten round-robin. mknod_nodev_lookup()/mknod_nodev_record().
 */
#define NODEV_CACHE_SLOTS 4

struct nodev_cache {
	uint64_t mnt_id[NODEV_CACHE_SLOTS]; /* 0 = empty */
	bool is_nodev_sb[NODEV_CACHE_SLOTS];
	unsigned next; /* the slot the next new mount overwrites */
};

/*
 * Scratch space a handler may keep per listener, between notifications. Only
 * the worker serving the listener touches it, so it needs no lock.
 */
struct handler_cache {
	uint64_t sysinfo_filled_ns; /* CLOCK_MONOTONIC of the last collection; 0 = never */
	struct sysinfo sysinfo;     /* the container's view at that time */
	long init_started_at;       /* host uptime (s) when the container's init started; -1 = unknown */
	pid_t init_userns_of;       /* init_userns is that of this init pid; 0 = not known yet */
	struct ns_ident init_userns; /* the container's initial user namespace (its init's pid ns owner) */
	pid_t init_pidns_of;         /* init_pidns is that of this init pid; 0 = not known yet */
	struct ns_ident init_pidns;  /* the container's pid namespace */
	struct nodev_cache nodev;    /* mknod: where created nodes need the bind-mount fallback */
	pid_t bpf_cgroup_of;         /* bpf_cgroup is that of this init pid; 0 = not known yet */
	struct ns_ident bpf_cgroup;  /* bpf: the container's cgroup2 directory, by identity */
	bool bpf_cgroup_is_root;     /* bpf: that is the root of the hierarchy */
	unsigned bpf_cgroup_depth;   /* bpf: its levels below the root (0 for the root) */
};

/*
 * What a handler acted on, for the audit event of its call (GET
 * /1.0/events?type=audit): filled only when the dispatcher passes one.
 */
struct notif_audit {
	char path[256];  /* as read from the caller, raw (escaped when rendered); "" for none */
	char device[32]; /* "c MAJOR:MINOR" or "b ..."; "" for none */
};

struct notif_ctx {
	const struct seccomp_notif *req;
	int notify_fd;           /* the listener: ID_VALID, ADDFD */
	const struct config *cfg;
	pid_t init_pid;          /* the container's init in our pid ns; 0 if unknown */
	int proc_fd;             /* LXC: /proc/PID directory fd; -EBADF otherwise */
	int mem_fd;              /* LXC: /proc/PID/mem (O_RDWR); -EBADF otherwise */
	struct handler_cache *cache; /* the listener's; may be NULL */
	struct notif_audit *audit;   /* NULL unless an audit event is wanted for this call */
	/*
	 * The handler may answer the call itself, with an fd it installs
	 * (SECCOMP_ADDFD_FLAG_SEND), and then sets reply->is_answered. False
	 * where the protocol carries the answer (LXC's proxy sends it).
	 */
	bool may_answer;
};

struct notif_reply {
	int64_t val;
	int32_t error;  /* 0 or a negative errno for the caller */
	uint32_t flags; /* SECCOMP_USER_NOTIF_FLAG_CONTINUE or 0 */
	bool is_answered; /* the handler answered already (ctx->may_answer): val is what it said */
};

typedef int handler_fn(const struct notif_ctx *ctx, struct notif_reply *reply);

/* Note @path (cut to fit) for the audit event of this call, when one is wanted. */
static inline void audit_note_path(const struct notif_ctx *ctx, const char *path)
{
	size_t len;

	if (!ctx->audit)
		return;
	/* a cut through a multi-byte character shows as \xNN escapes in the event */
	len = strnlen(path, sizeof(ctx->audit->path) - 1);
	memcpy(ctx->audit->path, path, len);
	ctx->audit->path[len] = '\0';
}

static inline void reply_continue(struct notif_reply *reply)
{
	*reply = (struct notif_reply){ .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };
}

static inline void reply_value(struct notif_reply *reply, int64_t val)
{
	*reply = (struct notif_reply){ .val = val };
}

static inline void reply_errno(struct notif_reply *reply, int negative_errno)
{
	*reply = (struct notif_reply){ .error = negative_errno };
}

/* The emulated call's result: 0 on success, else the negative errno it failed with. */
static inline void reply_result(struct notif_reply *reply, int err)
{
	if (err < 0)
		reply_errno(reply, err);
	else
		reply_value(reply, 0);
}

/* Handlers, one file per syscall family under handlers/. */
handler_fn handle_sysinfo;
handler_fn handle_mknod;
handler_fn handle_mknodat;
handler_fn handle_setxattr;  /* setxattr, lsetxattr, fsetxattr (dispatch on nr) */
handler_fn handle_sched_setscheduler;
handler_fn handle_mount;
handler_fn handle_bpf; /* BPF_PROG_LOAD, PROG_ATTACH, PROG_DETACH, PROG_QUERY, LINK_CREATE */
