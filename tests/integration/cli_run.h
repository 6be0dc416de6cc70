/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/macro.h"

/*
 * Run the real interceptctl ($INTERCEPTCTL_BIN, set by meson) as a child
 * process and collect what it printed and how it exited. The child gets no
 * INTERCEPTD_SOCKET unless one is passed, so each test names its socket.
 */
struct cli_result {
	int status; /* exit status, or 128 + signal */
	char *out;  /* stdout, NUL-terminated */
	char *err;  /* stderr, NUL-terminated */
};

void cli_result_clear(struct cli_result *r);

/* Options of one run; all may be left zero. */
struct cli_opts {
	const char *env_socket; /* INTERCEPTD_SOCKET for the child */
	uid_t uid;		/* when has_uid: run as this uid (and gid) */
	bool has_uid;
};

/* Run interceptctl with @args (NULL-terminated, without argv[0]). Asserts on harness failures. */
void cli_run(struct cli_result *r, const struct cli_opts *o, const char *const *args);

/* cli_run() with default options and the arguments inline: CLI(&r, "--socket", S, "list"). */
#define CLI(r, ...) cli_run((r), NULL, (const char *const[]){ __VA_ARGS__, NULL })

/* Start interceptctl without waiting: its pid, and its stdout as *ret_out_fd (stderr is inherited). */
pid_t cli_spawn(const char *const *args, int *ret_out_fd);

/* Read one line from @fd within @timeout_ms into @buf (newline removed). false on timeout or EOF. */
bool read_line_within(int fd, char *buf, size_t size, int timeout_ms);

/* Reap @pid (kill it first when @kill_it) and return its exit status as cli_result does. */
int cli_wait(pid_t pid, bool kill_it);
