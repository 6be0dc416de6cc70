/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "harness.h"

struct CMUnitTest;

/*
 * Requests to the daemon of the running test program, for cmocka tests: H is
 * that program's harness (it defines it). Each request must get an HTTP reply
 * (a cmocka assertion); what the reply says is the caller's to check.
 */
extern struct harness H;

/* @method @path with @body (NULL: none); the reply, for the caller to free. */
struct http_reply *req(const char *method, const char *path, const char *body);
/* The same with @headers (NULL-terminated "Name: value"). */
struct http_reply *req_h(const char *method, const char *path, const char *body,
			 const char *const *headers);
/* The same with the body read from the fixture file @fixture. */
struct http_reply *req_fixture(const char *method, const char *path, const char *fixture);
/* DELETE every entry the collection at @list_path lists; each must answer 200. */
void req_delete_all(const char *list_path);

/*
 * One request that must answer @status; prints the reply when it does not.
 * (Named api, not req_*: the engine tests have called it that from the start.)
 */
void api(const char *method, const char *path, const char *body, long status);

/*
 * main() of a test program with one daemon in H: started with @daemon_args
 * (NULL-terminated, may be NULL), @tests run as one TAP group with
 * @group_setup (may be NULL), then the daemon stopped and checked. Returns the
 * exit status: 77 when $INTERCEPTD_BIN is not set.
 */
int req_run_group(const struct CMUnitTest *tests, size_t n_tests,
		  const char *const *daemon_args, int (*group_setup)(void **state));
