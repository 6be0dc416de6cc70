/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the names of the fds systemd hands back at startup
 * (LISTEN_FDNAMES), parsed by fdstore_oci_parse() (daemon/fdstore.c). A name
 * is ours only if we could have written it.
 *
 * Beyond "no crash, no leak": an accepted name is exactly what
 * fdstore_oci_format() writes for the parsed fields (no leading zeros, no
 * second spelling of one listener), and names a valid container.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/fdstore.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_strndup(data, size), again[FDSTORE_NAME_MAX + 1] = "";
	struct fdstore_oci o;

	if (fdstore_oci_parse(name, &o) == 0) {
		FUZZ_CHECK(o.pid >= 0 && o.init_pid >= 0 && container_name_valid(o.name),
			   "'%s' gives pid %d, init pid %d, name '%s'", name, (int)o.pid,
			   (int)o.init_pid, o.name);
		FUZZ_CHECK(fdstore_oci_format(&o, again) == 0 && strcmp(again, name) == 0,
			   "'%s' is accepted but written as '%s'", name, again);
	}
	free(name);
	return 0;
}
