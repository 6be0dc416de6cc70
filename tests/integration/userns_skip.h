/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * For the privileged tests that build a user-namespace "container": can this
 * machine host one? If not, print the TAP plan that skips everything, with
 * the reason (meson's TAP runner counts exit status 77 as an error, so the
 * skip is said in TAP and the exit status is 0).
 */
static inline bool userns_tests_can_run(void)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return false;
	}
	pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("1..0 # SKIP user namespaces are not available\n");
		return false;
	}
	return true;
}
