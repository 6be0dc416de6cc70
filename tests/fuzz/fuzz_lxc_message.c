/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what an LXC monitor hands the daemon (daemon/engine/intake_lxc.c).
 * Each input is tried as a seccomp proxy datagram (lxc_message_parse(), with
 * this kernel's notification sizes) and as a monitor's /proc/PID/cmdline
 * (lxc_monitor_name(), with a name buffer of the real size and a tiny one).
 *
 * Beyond "no crash, no leak": an accepted datagram has exactly the length its
 * header announces, its pointers stay inside it, and the reply built from it
 * is exactly header + seccomp_notif + seccomp_notif_resp bytes (what LXC
 * insists on); a name taken from a title fits its buffer and is the title's
 * last word.
 */
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/store/container.h"
#include "daemon/engine/intake_lxc.h"
#include "tests/fuzz/fuzz.h"

static const struct seccomp_notif_sizes kernel = {
	.seccomp_notif = sizeof(struct seccomp_notif),
	.seccomp_notif_resp = sizeof(struct seccomp_notif_resp),
	.seccomp_data = sizeof(struct seccomp_data),
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Touch what the worker reads of an accepted message, and name it as identify() does. */
static void check_message(const char *buf, size_t size, const struct lxc_message *m)
{
	size_t base = LXC_HEADER_SIZE + m->header.sizes.seccomp_notif +
		      m->header.sizes.seccomp_notif_resp;
	char name[CONTAINER_NAME_MAX + 1] = "";
	volatile uint64_t sink = 0;

	FUZZ_CHECK((const char *)m->req == buf + LXC_HEADER_SIZE && m->cookie == buf + base &&
			   base + m->cookie_len == size && m->cookie_len <= LXC_COOKIE_MAX,
		   "message of %zu bytes accepted with cookie_len %zu", size, m->cookie_len);
	FUZZ_CHECK(base == LXC_HEADER_SIZE + kernel.seccomp_notif + kernel.seccomp_notif_resp,
		   "reply of %zu bytes", base);
	sink += m->req->id + m->req->pid + (uint64_t)m->req->data.nr + m->req->data.arch;
	for (size_t i = 0; i < 6; i++)
		sink += m->req->data.args[i];
	if (m->cookie_len > 0 && m->cookie_len <= CONTAINER_NAME_MAX) {
		memcpy(name, m->cookie, m->cookie_len);
		name[m->cookie_len] = '\0';
		sink += container_name_valid(name);
	}
	(void)sink;
}

static void check_monitor_name(const char *cmdline, size_t size, size_t name_size)
{
	char *name = malloc(name_size);
	size_t n;

	FUZZ_CHECK(name, "out of memory");
	if (lxc_monitor_name(cmdline, size, name, name_size) == 0) {
		n = strlen(name);
		FUZZ_CHECK(n > 0 && n < name_size, "name of %zu bytes for a buffer of %zu", n,
			   name_size);
		FUZZ_CHECK(!strchr(name, ' ') && memmem(cmdline, size, name, n),
			   "name '%s' is not a word of the title", name);
		FUZZ_CHECK(size > strlen("[lxc monitor]") &&
				   memcmp(cmdline, "[lxc monitor]", strlen("[lxc monitor]")) == 0,
			   "name '%s' taken from a process that is no LXC monitor", name);
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_memdup(data, size); /* malloc-aligned like the receive buffer */
	struct lxc_message m;

	if (lxc_message_parse(buf, size, &kernel, &m) == 0)
		check_message(buf, size, &m);
	check_monitor_name(buf, size, CONTAINER_NAME_MAX + 1);
	check_monitor_name(buf, size, 4);
	free(buf);
	return 0;
}
