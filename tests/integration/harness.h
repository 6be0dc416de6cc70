/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/macro.h"

/*
 * Integration-test harness: a mkdtemp runtime directory, the real daemon from
 * $INTERCEPTD_BIN started on sockets inside it, readiness by polling GET /1.0,
 * libcurl requests over the unix socket, and teardown that kills, reaps and
 * (on failure) prints the daemon log.
 */
struct harness {
	char dir[256];
	char api_socket[320], lxc_socket[320], oci_socket[320], state_dir[320], log_path[320];
	pid_t pid;       /* 0 when not running */
	int exit_status; /* wait status of the last daemon that exited */
	/* when set, the next daemon gets pass_fd as fd 3 the way systemd passes a stored fd
	 * (LISTEN_PID, LISTEN_FDS=1, LISTEN_FDNAMES=pass_fd_name) */
	const char *pass_fd_name;
	int pass_fd;
	/* when set, called in the child just before exec (after the log is set up and
	 * pass_fd placed): what a supervisor does to the environment and the fds */
	void (*before_exec)(void *userdata);
	void *before_exec_data;
};

struct http_reply {
	long status;
	char *data; /* NUL-terminated body */
	size_t len;
	json_t *body; /* parsed when the body is JSON, else NULL */
	char *etag, *location, *allow, *content_type;
	char *warnings; /* every Warning header value, one per line; NULL when none */
};

void http_reply_free(struct http_reply *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct http_reply *, http_reply_free)

/* Make the runtime directory and the paths. Returns 0 or a negative errno. */
int harness_init(struct harness *h);

/* Start the daemon with the standard paths plus @extra_args (NULL-terminated, may be NULL). */
int harness_spawn(struct harness *h, const char *const *extra_args);

/*
 * Wait until GET /1.0 answers 200 or @timeout_ms passes. Returns 0, -ECHILD if
 * the daemon exited (its status in h->exit_status) or -ETIMEDOUT.
 */
int harness_wait_ready(struct harness *h, int timeout_ms);

/* spawn + wait_ready; on failure prints the log and kills the daemon. */
int harness_start(struct harness *h, const char *const *extra_args);

/* Wait up to @timeout_ms for the daemon to exit by itself. Returns 0 or -ETIMEDOUT. */
int harness_wait_exit(struct harness *h, int timeout_ms);

/* Send @sig, reap. Returns the wait status (or -ECHILD when not running). */
int harness_stop(struct harness *h, int sig);

/* Print the daemon log to stderr. */
void harness_dump_log(const struct harness *h);

/* Stop the daemon if running and remove the runtime directory. */
void harness_cleanup(struct harness *h);

/*
 * One HTTP request over @socket_path; with @socket_path NULL, @path is a
 * whole URL ("http://127.0.0.1:9464/healthz"). @headers is NULL-terminated ("Name: value").
 * Returns 0 when an HTTP reply arrived (any status), else a negative errno.
 */
int http_request(const char *socket_path, const char *method, const char *path,
		 const char *body, size_t body_len, const char *const *headers,
		 struct http_reply **ret);

/* The same against the harness's API socket, with a NUL-terminated body. */
int harness_request(struct harness *h, const char *method, const char *path, const char *body,
		    struct http_reply **ret);

/* With extra headers. */
int harness_request_h(struct harness *h, const char *method, const char *path, const char *body,
		      const char *const *headers, struct http_reply **ret);

/* Read a file from $FIXTURES_DIR (malloc'd, NUL-terminated) or NULL. */
char *harness_fixture(const char *name);

/* Read a whole file, malloc'd, NUL-terminated; *ret_len if not NULL. NULL on error. */
char *harness_read_file(const char *path, size_t *ret_len);

/* Shortcuts for assertions on envelopes. */
const char *reply_str(const struct http_reply *r, const char *key);
json_t *reply_meta(const struct http_reply *r);

/* true if @r is an error envelope with HTTP @status and all seven keys and
 * its "error" contains @needle (NULL: any). Prints what differs. */
bool reply_is_error(const struct http_reply *r, long status, const char *needle);

/* true if @r is a sync envelope with HTTP @status and all seven keys. */
bool reply_is_sync(const struct http_reply *r, long status);

/* Count the containers the daemon lists; -1 on failure. */
int harness_count_containers(struct harness *h);

/* Test-program boilerplate: a shared daemon per test binary. */
int harness_main_setup(struct harness *h, const char *const *extra_args);
/* Stop with SIGTERM, check a clean exit (0), print the log if @n_failed. Returns the exit code. */
int harness_main_teardown(struct harness *h, int n_failed);
