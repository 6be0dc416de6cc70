/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A child in a user namespace mapped to USERNS_CHILD_HOST_ID (see
 * userns_child.h). Test processes only, before any thread.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdpass.h"
#include "userns_child.h"

#define ID_MAP "0 100000 65536\n"
_Static_assert(USERNS_CHILD_HOST_ID == 100000, "ID_MAP must map 0 to USERNS_CHILD_HOST_ID");

static int write_map(pid_t pid, const char *file)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, ID_MAP, strlen(ID_MAP)) == (ssize_t)strlen(ID_MAP) ? 0 : -1;
	close(fd);
	return r;
}

/* userns_child_start(), with @init_main instead of @child_main when set */
static int start(void (*child_main)(int sock, int sync_fd), void (*init_main)(int sock),
		 pid_t *ret_pid, int *ret_sock, int *ret_sync)
{
	int sp[2], sync[2];
	char b;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
		return -1;
	*ret_pid = fork();
	if (*ret_pid == 0) {
		close(sp[0]);
		close(sync[0]);
		if (!init_main)
			child_main(sp[1], sync[1]);
		userns_child_enter(sync[1]);
		userns_child_run_init(sp[1], init_main);
	}
	close(sp[1]);
	close(sync[1]);
	*ret_sock = sp[0];
	if (*ret_pid < 0 || read(sync[0], &b, 1) != 1 || write_map(*ret_pid, "uid_map") < 0 ||
	    write_map(*ret_pid, "gid_map") < 0 || write(sync[0], "g", 1) != 1) {
		close(sync[0]);
		return -1;
	}
	if (ret_sync)
		*ret_sync = sync[0];
	else
		close(sync[0]);
	return 0;
}

int userns_child_start(void (*child_main)(int sock, int sync_fd), pid_t *ret_pid, int *ret_sock,
		       int *ret_sync)
{
	return start(child_main, NULL, ret_pid, ret_sock, ret_sync);
}

int userns_child_start_init(void (*init_main)(int sock), pid_t *ret_pid, int *ret_sock)
{
	return start(NULL, init_main, ret_pid, ret_sock, NULL);
}

int userns_child_start_with_init(void (*child_main)(int sock, int sync_fd), pid_t *ret_pid,
				 pid_t *ret_init, int *ret_sock)
{
	int sync, r;

	if (start(child_main, NULL, ret_pid, ret_sock, &sync) < 0)
		return -1;
	r = read(sync, ret_init, sizeof(*ret_init)) == sizeof(*ret_init) ? 0 : -1;
	close(sync);
	return r;
}

void userns_child_enter(int sync_fd)
{
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (unshare(CLONE_NEWUSER) < 0)
		_exit(77);
	/* the parent writes our uid_map and gid_map */
	if (write(sync_fd, "u", 1) != 1 || read(sync_fd, &b, 1) != 1 || setresgid(0, 0, 0) < 0 ||
	    setresuid(0, 0, 0) < 0)
		_exit(2);
}

void userns_child_enter_init(int sync_fd)
{
	pid_t init;

	userns_child_enter(sync_fd);
	if (unshare(CLONE_NEWPID) < 0)
		_exit(77);
	init = fork();
	if (init != 0) {
		if (init < 0 || write(sync_fd, &init, sizeof(init)) != sizeof(init))
			_exit(2);
		waitpid(init, NULL, 0);
		_exit(0);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	umask(022);
}

_Noreturn void userns_child_run_init(int sock, void (*init_main)(int sock))
{
	pid_t init;

	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(77);
	init = fork();
	if (init == 0) {
		init_main(sock);
		_exit(1); /* not reached */
	}
	(void)fdpass_send(sock, &init, sizeof(init), NULL, 0);
	waitpid(init, NULL, 0);
	_exit(0);
}

void userns_child_stop(pid_t child, pid_t init)
{
	if (child > 0) {
		if (init > 0)
			kill(init, SIGKILL);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
}

bool userns_child_call(int sock, int notify_fd, const void *cmd, size_t cmd_size, void *res,
		       size_t res_size, int timeout_ms, void (*serve_one)(void *userdata),
		       void *userdata)
{
	struct pollfd p[2] = { { .fd = notify_fd, .events = POLLIN }, { .fd = sock, .events = POLLIN } };

	if (write(sock, cmd, cmd_size) != (ssize_t)cmd_size)
		return false;
	for (;;) {
		if (poll(p, 2, timeout_ms) <= 0)
			return false;
		if (p[0].revents & POLLIN)
			serve_one(userdata);
		if (p[1].revents & POLLIN)
			return read(sock, res, res_size) == (ssize_t)res_size;
	}
}
