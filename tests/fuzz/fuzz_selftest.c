/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Not a parser's target: the libFuzzer binary tests/fuzz/test_run.sh runs
 * through run.sh to check its verdict on timeouts. An input "stall N" (N
 * seconds, 1 to 60) takes N seconds on the clock without using the CPU, as a
 * unit does while the host keeps its process waiting; "spin" never returns;
 * anything else returns at once.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile unsigned long spins;
	char *text = fuzz_strndup(data, size), *end;
	unsigned long seconds;

	if (strncmp(text, "stall ", 6) == 0) {
		seconds = strtoul(text + 6, &end, 10);
		/* sleep() returns early on libFuzzer's alarm; the clock decides */
		for (unsigned left = *end || seconds > 60 ? 0 : (unsigned)seconds; left > 0;)
			left = sleep(left);
	}
	while (strcmp(text, "spin") == 0)
		spins++;
	free(text);
	return 0;
}
