/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "req.h"

/*
 * Peers of the real daemon for the engine tests: child processes under a
 * NOTIFY filter whose listener is handed to the OCI socket as runc does, or
 * relayed through the LXC proxy socket as an LXC monitor would, and small
 * helpers over the API. They all talk to the daemon in H (req.h).
 */

/*
 * How long to wait for what the daemon must do soon (an answer, a log line, a
 * listener count, threads blocking): generous, since a loaded host can keep
 * the processes waiting for seconds, and free when the event comes.
 */
#define EVENT_WAIT_MS 30000

/* A child under a filter that notifies sysinfo and mknodat, driven over a socketpair. */
struct child {
	pid_t pid;
	int ctl;      /* our end of the control socketpair */
	int listener; /* the child's notify fd, received over SCM_RIGHTS */
};

/*
 * Commands a child understands (one byte on ctl):
 *  's' one sysinfo(), answered "errno totalram";
 *  'l' sysinfo() forever;
 *  'u' mknodat() with its path in a userfaultfd page nobody serves: whoever
 *      reads it from outside blocks until the child dies;
 *  'w' mknodat() until the daemon is gone, with its path in a userfaultfd
 *      page the child serves 0.9 s after each read began: every call holds
 *      its reader 0.9 s;
 *  'F' followed by a NUL-terminated path: mknodat() with its path in a
 *      mapping of that file (a fuse_peer.h file: the read never ends);
 *  'M' followed by two NUL-terminated paths: 'F' with the first, on a thread;
 *      on the next byte the page holding the path is mapped from the second
 *      path in its place (answered "m"), the read still waiting on the first;
 *  't' followed by a uint32_t count: that many sysinfo() calls, answered with
 *      the count latencies in ns (uint32_t each);
 *  'q' exit.
 */
void child_start(struct child *c);
/* Kill and reap the child, close our ends. */
void child_stop(struct child *c);
/* Ask the child for one sysinfo() (EVENT_WAIT_MS at most); its errno, and *totalram. */
int child_sysinfo(struct child *c, unsigned long *totalram);
/* Ask the child for @n timed sysinfo() calls; fills @ns (n entries). */
void child_sysinfo_timed(struct child *c, uint32_t *ns, uint32_t n);

int send_fd(int sock, int fd, const void *data, size_t len);
/* Connect to a unix socket with an EVENT_WAIT_MS receive timeout (asserts on failure). */
int unix_connect(const char *path, int type);
/* Hand @fd to the OCI socket as runc 1.1 does; the connection stays open like runc's. */
int oci_handoff(const char *json, int fd);
/* The same with the child's listener, metadata and id @name. */
int oci_handoff_child(struct child *c, const char *name);
/*
 * The same with the child's listener, @metadata (e.g. "profile=p"), OCI id
 * @id and @annotations (a JSON object, or "null"): how a container that
 * registers itself hands its listener over.
 */
int oci_handoff_annotated(struct child *c, const char *metadata, const char *id,
			  const char *annotations);

/*
 * Act as an LXC monitor: send @cmd to the child, receive its notification
 * and relay it to @proxy with @cookie. Fills *ret_req.
 */
void relay_lxc_send(int proxy, struct child *c, const char *cookie, char cmd,
		    struct seccomp_notif *ret_req);
/* Read the proxy's answer to @req, check its size and id, pass it to the kernel. */
void relay_lxc_answer(int proxy, struct child *c, const struct seccomp_notif *req,
		      struct seccomp_notif_resp *ret);
/* relay_lxc_send() + relay_lxc_answer(). */
void relay_lxc_cmd(int proxy, struct child *c, const char *cookie, char cmd,
		   struct seccomp_notif_resp *ret);

void sleep_ms(long ms);
int count_fds(pid_t pid);
/* Wait until the daemon holds no more than @expect fds; the count then. */
int wait_fds(int expect);
/* Threads of @pid, and those of them in uninterruptible sleep (state D). */
int count_threads(pid_t pid, int *ret_blocked);
/* Threads of @pid whose name (comm) is @name: the daemon names its workers "icd-worker". */
int count_named_threads(pid_t pid, const char *name);
/* Each thread of @pid with its state and where it waits, as TAP comments (diagnostics). */
void print_threads(pid_t pid);
/* Wait up to @ms until exactly @n threads of the daemon are in state D; that count. */
int wait_blocked_threads(int n, long ms);

/* interceptd_syscalls_total for @name/@syscall/@outcome, 0 if absent. */
long metric(const char *name, const char *syscall, const char *outcome);
/* The value of the unlabelled sample @family from /1.0/metrics, -1 if absent. */
long metric_value(const char *family);
/* Whether GET …/state of @name lists @key under restart_required. */
bool restart_required_has(const char *name, const char *key);
size_t n_listeners(const char *name);
/* Wait up to EVENT_WAIT_MS until @name has @expect listeners (asserts it then). */
void wait_listeners(const char *name, size_t expect);

/* A fake systemd: the datagram socket $NOTIFY_SOCKET names, bound at @path. Returns its fd. */
int fake_notify_socket(const char *path);
/* One FDSTORE=1 message on @sock: its FDNAME into @name, the fd it carried as the result. */
int fake_notify_recv_fdstore(int sock, char *name, size_t size);

/*
 * Stop the daemon in H and start it again under a fake systemd: $NOTIFY_SOCKET
 * names the datagram socket it returns (at H.dir/notify.sock), so the daemon
 * keeps OCI listeners in its "fd store". @args as for harness_start().
 */
int restart_with_fd_store(const char *const *args);

/*
 * Stop the daemon with @sig (SIGKILL: a crash; SIGTERM: systemd's restart) and
 * start it again with @fd handed back as @fdname, as systemd would. Closes @fd.
 */
void stop_and_hand_back(int sig, int fd, const char *fdname, const char *const *args);

/* stop_and_hand_back() with SIGKILL. */
void crash_and_hand_back(int fd, const char *fdname, const char *const *args);
