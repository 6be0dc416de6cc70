/* SPDX-License-Identifier: Apache-2.0 */
/* The helpers of stuck_peers.h. Test threads only. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "stuck_peers.h"

void hostile_start(struct hostile *h, const char *name)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\"}}", name);
	api("POST", "/1.0/containers", body, 201);
	child_start(&h->c);
	h->sock = oci_handoff_child(&h->c, name);
}

void hostile_block(struct hostile *h)
{
	assert_int_equal(write(h->c.ctl, "u", 1), 1);
}

void hostile_stop(struct hostile *h, const char *name)
{
	char path[128];

	child_stop(&h->c); /* its death releases the stuck read */
	close(h->sock);
	snprintf(path, sizeof(path), "/1.0/containers/%s", name);
	api("DELETE", path, NULL, 200);
}

bool log_has(const char *needle, long ms)
{
	for (long waited = 0; waited <= ms; waited += 50) {
		char *text = harness_read_file(H.log_path, NULL);
		bool found = text && strstr(text, needle);

		free(text);
		if (found)
			return true;
		sleep_ms(50);
	}
	return false;
}

int stuck_daemon_up(const char *workers)
{
	const char *args[] = { "--workers", workers, NULL };

	if (harness_init(&H) < 0 || harness_start(&H, args) < 0) {
		harness_cleanup(&H);
		return -1;
	}
	return 0;
}

int stuck_daemon_down(void)
{
	int status = H.pid > 0 ? harness_stop(&H, SIGTERM) : H.exit_status, r = 0;

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "# daemon did not exit cleanly on SIGTERM (wait status %#x)\n", status);
		harness_dump_log(&H);
		r = -1;
	}
	harness_cleanup(&H);
	return r;
}

int stuck_run(const struct CMUnitTest *tests, size_t n_tests)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP the engine tests need root (seccomp listeners, userfaultfd)\n");
		return 0;
	}
	if (!getenv("INTERCEPTD_BIN")) {
		printf("1..0 # SKIP INTERCEPTD_BIN is not set\n");
		return 0;
	}
	cmocka_set_message_output(CM_OUTPUT_TAP);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return _cmocka_run_group_tests("tests", tests, n_tests, NULL, NULL) ? 1 : 0;
}
