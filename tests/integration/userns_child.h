/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The first steps of the user-namespace "containers" of the privileged tests
 * (handlers_rig, bpf_child, test_mknod_notify, mount_box): a child unshares a
 * user namespace, the parent maps 0 -> USERNS_CHILD_HOST_ID (65536 ids) in
 * it, and the child becomes its root. Each test's own child goes on from
 * there.
 */
#define USERNS_CHILD_HOST_ID 100000

/*
 * Parent side. Fork a child that runs @child_main(sock, sync_fd), which must
 * not return and must call userns_child_enter(sync_fd) first; @sock is its end
 * of a SOCK_SEQPACKET pair, whose other end goes to *ret_sock. Writes the
 * child's uid and gid maps once it has unshared, then lets it go on.
 * *ret_sync: our end of the sync pair, for more (closed when NULL). Returns
 * 0, or -1 when a step failed (the child, if forked, is in *ret_pid).
 */
int userns_child_start(void (*child_main)(int sock, int sync_fd), pid_t *ret_pid, int *ret_sock,
		       int *ret_sync);

/*
 * userns_child_start() for the usual child: userns_child_enter(), then
 * userns_child_run_init() with @init_main, which must not return.
 */
int userns_child_start_init(void (*init_main)(int sock), pid_t *ret_pid, int *ret_sock);

/*
 * userns_child_start() for a child that goes on with
 * userns_child_enter_init(): also reads the pid it sends, into *ret_init.
 * Returns 0, or -1 when a step failed (the child, if forked, is in *ret_pid).
 */
int userns_child_start_with_init(void (*child_main)(int sock, int sync_fd), pid_t *ret_pid,
				 pid_t *ret_init, int *ret_sock);

/*
 * Child side: die with the parent, unshare a user namespace (exit 77 when
 * refused), wait for the parent's maps and become root of the namespace
 * (exit 2 when that fails).
 */
void userns_child_enter(int sync_fd);

/*
 * Child side: userns_child_enter(), then a pid namespace owned by the new
 * user namespace, as the runtimes order them (exit 77 when refused). Returns
 * in its init (pid 1, dying with its parent, umask 022), which sets up its
 * own mounts; the calling process sends the init's pid (in the parent's
 * namespace) on @sync_fd, waits for the init and exits.
 */
void userns_child_enter_init(int sync_fd);

/*
 * Child side, after userns_child_enter(): new mount (all private) and pid
 * namespaces (exit 77 when refused); their init runs @init_main(sock), which
 * must not return. Sends the init's pid (in the parent's namespace) on @sock
 * as an int-sized message, waits for the init and exits.
 */
_Noreturn void userns_child_run_init(int sock, void (*init_main)(int sock));

/* Parent side: when @child > 0, kill the init (when @init > 0) and @child, and reap @child. */
void userns_child_stop(pid_t child, pid_t init);

/*
 * Supervisor side of the one-command RPC the tests run in their child: send
 * @cmd (@cmd_size bytes) on @sock, then serve the notifications arriving on
 * @notify_fd with @serve_one(@userdata) until the child's @res_size-byte
 * result arrives in @res. false when the RPC broke or nothing came for
 * @timeout_ms.
 */
bool userns_child_call(int sock, int notify_fd, const void *cmd, size_t cmd_size, void *res,
		       size_t res_size, int timeout_ms, void (*serve_one)(void *userdata),
		       void *userdata);
