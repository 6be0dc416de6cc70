/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running the real interceptctl in tests (cli_run.h): fork, exec, collect
 * stdout and stderr through pipes with poll() until both close, reap.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "cli_run.h"

void cli_result_clear(struct cli_result *r)
{
	free(r->out);
	free(r->err);
	*r = (struct cli_result){ 0 };
}

static void exec_cli(const char *const *args, const struct cli_opts *o)
{
	const char *bin = getenv("INTERCEPTCTL_BIN");
	const char *argv[64] = { bin };
	size_t n = 1;

	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	unsetenv("INTERCEPTD_SOCKET");
	if (o && o->env_socket)
		setenv("INTERCEPTD_SOCKET", o->env_socket, 1);
	if (o && o->has_uid && (setgroups(0, NULL) < 0 || setgid(o->uid) < 0 || setuid(o->uid) < 0))
		_exit(126);
	execv(bin, (char *const *)argv);
	_exit(127);
}

static void append(char **buf, size_t *len, const char *p, size_t n)
{
	char *q = realloc(*buf, *len + n + 1);

	assert_non_null(q);
	memcpy(q + *len, p, n);
	*len += n;
	q[*len] = '\0';
	*buf = q;
}

int cli_wait(pid_t pid, bool kill_it)
{
	int status;

	if (kill_it)
		(void)kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void cli_run(struct cli_result *r, const struct cli_opts *o, const char *const *args)
{
	int out[2], err[2];
	size_t n_out = 0, n_err = 0;
	pid_t pid;

	assert_non_null(getenv("INTERCEPTCTL_BIN"));
	*r = (struct cli_result){ .out = strdup(""), .err = strdup("") };
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		exec_cli(args, o);
	}
	close(out[1]);
	close(err[1]);
	for (struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
				    { .fd = err[0], .events = POLLIN } };
	     p[0].fd >= 0 || p[1].fd >= 0;) {
		assert_true(poll(p, 2, 30000) > 0);
		for (int i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t k;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = read(p[i].fd, buf, sizeof(buf));
			if (k <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				continue;
			}
			if (i == 0)
				append(&r->out, &n_out, buf, (size_t)k);
			else
				append(&r->err, &n_err, buf, (size_t)k);
		}
	}
	r->status = cli_wait(pid, false);
	if (getenv("CLI_VERBOSE"))
		fprintf(stderr, "# interceptctl exit %d\n# stdout: %s\n# stderr: %s\n", r->status,
			r->out, r->err);
}

pid_t cli_spawn(const char *const *args, int *ret_out_fd)
{
	int out[2];
	pid_t pid;

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		exec_cli(args, NULL);
	}
	close(out[1]);
	*ret_out_fd = out[0];
	return pid;
}

bool read_line_within(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) <= 0 || read(fd, buf + n, 1) != 1)
			return false;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return true;
		}
		n++;
	}
	return false;
}
