/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for the part of systemd that interceptd's restart story uses:
 * $NOTIFY_SOCKET with FDSTORE=1 / FDSTOREREMOVE=1 / FDNAME=, stored fds
 * dropped when they hang up, and a restart that hands the stored fds back as
 * LISTEN_FDS / LISTEN_FDNAMES / LISTEN_PID. The e2e has no systemd as pid 1.
 *
 *   fdstore_keeper NOTIFY_PATH -- DAEMON [ARGS...]
 *
 * SIGUSR1: SIGKILL the daemon and start it again with the stored fds (a crash
 * under Restart=always). SIGTERM/SIGINT: SIGTERM the daemon, wait, exit.
 * Prints "stored NAME", "dropped NAME", "restarted with N fds".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_STORED 64
#define NAME_MAX_LEN 255

struct stored {
	int fd;
	char name[NAME_MAX_LEN + 1];
};

static struct stored store[MAX_STORED];
static size_t n_stored;

static void drop(size_t i, const char *why)
{
	printf("dropped %s (%s)\n", store[i].name, why);
	close(store[i].fd);
	store[i] = store[--n_stored];
}

static void drop_named(const char *name)
{
	for (size_t i = n_stored; i-- > 0;)
		if (strcmp(store[i].name, name) == 0)
			drop(i, "FDSTOREREMOVE");
}

/* The value of "KEY=" in a newline-separated notify message, or NULL. */
static const char *field(const char *msg, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0) {
			snprintf(buf, size, "%.*s", (int)strcspn(p + klen, "\n"), p + klen);
			return buf;
		}
	return NULL;
}

static void on_message(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} control;
	char text[4096], name[NAME_MAX_LEN + 1], flag[8];
	struct iovec iov = { .iov_base = text, .iov_len = sizeof(text) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	int fds[8], n_fds = 0;

	if (n < 0)
		return;
	text[n] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n_fds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), (size_t)n_fds * sizeof(int));
		}
	if (!field(text, "FDNAME=", name, sizeof(name)))
		snprintf(name, sizeof(name), "stored");
	if (field(text, "FDSTOREREMOVE=", flag, sizeof(flag)) && strcmp(flag, "1") == 0)
		drop_named(name);
	for (int i = 0; i < n_fds; i++) {
		if (!field(text, "FDSTORE=", flag, sizeof(flag)) || strcmp(flag, "1") != 0 ||
		    n_stored == MAX_STORED) {
			close(fds[i]);
			continue;
		}
		store[n_stored] = (struct stored){ .fd = fds[i] };
		snprintf(store[n_stored++].name, sizeof(store[0].name), "%s", name);
		printf("stored %s\n", name);
	}
}

/* In the child: the stored fds at 3.., the LISTEN_* variables, then exec. */
static void exec_daemon(char **argv, const char *notify)
{
	char names[MAX_STORED * (NAME_MAX_LEN + 1)] = "", num[16];
	int tmp[MAX_STORED];

	/* move them out of the way first: a stored fd may already sit where another goes */
	for (size_t i = 0; i < n_stored; i++)
		tmp[i] = fcntl(store[i].fd, F_DUPFD_CLOEXEC, 3 + MAX_STORED);
	for (size_t i = 0; i < n_stored; i++) {
		if (tmp[i] < 0 || dup2(tmp[i], 3 + (int)i) < 0)
			_exit(126);
		strcat(names, i ? ":" : "");
		strcat(names, store[i].name);
	}
	setenv("NOTIFY_SOCKET", notify, 1);
	if (n_stored > 0) {
		snprintf(num, sizeof(num), "%d", (int)getpid());
		setenv("LISTEN_PID", num, 1);
		snprintf(num, sizeof(num), "%zu", n_stored);
		setenv("LISTEN_FDS", num, 1);
		setenv("LISTEN_FDNAMES", names, 1);
	}
	execv(argv[0], argv);
	_exit(127);
}

static pid_t start_daemon(char **argv, const char *notify, sigset_t *old)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		exec_daemon(argv, notify);
	}
	return pid;
}

static int bind_notify(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? fd : -1;
}

/* Stored fds that hung up are dropped, as systemd does (its FDPOLL default). */
static void drop_hung_up(void)
{
	for (size_t i = n_stored; i-- > 0;) {
		struct pollfd p = { .fd = store[i].fd, .events = 0 };

		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
			drop(i, "hung up");
	}
}

int main(int argc, char **argv)
{
	sigset_t mask, old;
	struct signalfd_siginfo si;
	int sock, sfd;
	pid_t daemon;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: %s NOTIFY_PATH -- DAEMON [ARGS...]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &old);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	sock = bind_notify(argv[1]);
	if (sfd < 0 || sock < 0) {
		perror("fdstore_keeper");
		return 1;
	}
	daemon = start_daemon(argv + 3, argv[1], &old);
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

		if (poll(p, 2, 200) < 0 && errno != EINTR)
			return 1;
		drop_hung_up();
		if (p[0].revents & POLLIN)
			on_message(sock);
		if (!(p[1].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGUSR1) {
			kill(daemon, SIGKILL);
			waitpid(daemon, NULL, 0);
			daemon = start_daemon(argv + 3, argv[1], &old);
			printf("restarted with %zu fds\n", n_stored);
			continue;
		}
		kill(daemon, SIGTERM);
		waitpid(daemon, NULL, 0);
		unlink(argv[1]);
		return 0;
	}
}
