/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: /proc/PID/status and uid_map/gid_map as the handlers read
 * them (handlers/target.c). The input is parsed whole by target_status_parse()
 * and, written to a scratch file, streamed through target_status_read()'s
 * fixed line buffer; the same file is read as uid_map and gid_map by
 * target_ids_mapped().
 *
 * Beyond "no crash, no leak": the streaming reader agrees with the whole-text
 * parser on every input without NUL bytes whose lines fit its buffer; what
 * it accepts has the required fields and at most TARGET_GROUPS_MAX groups.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handlers/target.h"
#include "tests/fuzz/fuzz.h"

/* target.c reads lines through a 4096-byte buffer: 4094 bytes, newline, NUL */
#define STREAM_LINE_MAX 4094

static int proc_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	proc_fd = fuzz_scratch_dir(NULL);
	FUZZ_CHECK(symlinkat("status", proc_fd, "uid_map") == 0 &&
			   symlinkat("status", proc_fd, "gid_map") == 0,
		   "cannot link the map files");
	return 0;
}

static bool same_status(const struct target_status *a, const struct target_status *b)
{
	return a->seen == b->seen && a->tgid == b->tgid && a->uid == b->uid && a->euid == b->euid &&
	       a->suid == b->suid && a->fsuid == b->fsuid && a->gid == b->gid &&
	       a->egid == b->egid && a->sgid == b->sgid && a->fsgid == b->fsgid &&
	       a->cap_eff == b->cap_eff && a->umask == b->umask &&
	       a->groups_overflow == b->groups_overflow && a->n_groups == b->n_groups &&
	       memcmp(a->groups, b->groups, a->n_groups * sizeof(gid_t)) == 0 &&
	       a->n_nspid == b->n_nspid &&
	       memcmp(a->nspid, b->nspid, a->n_nspid * sizeof(pid_t)) == 0;
}

/* Would the streaming reader see every line of @data whole? */
static bool streams_whole(const uint8_t *data, size_t size)
{
	size_t line = 0;

	if (memchr(data, '\0', size))
		return false;
	for (size_t i = 0; i < size; i++) {
		line = data[i] == '\n' ? 0 : line + 1;
		if (line > STREAM_LINE_MAX)
			return false;
	}
	return true;
}

/* What target_status_read() must answer, given what the whole-text parser found. */
static int expected_read(int parsed, struct target_status *st)
{
	if (parsed < 0)
		return parsed;
	if ((st->seen & TARGET_HAS_REQUIRED) != TARGET_HAS_REQUIRED)
		return -EIO;
	if (!(st->seen & TARGET_HAS_GROUPS)) {
		st->groups_overflow = true;
		st->n_groups = 0;
	}
	return 0;
}

static void check_status(const uint8_t *data, size_t size)
{
	struct target_status whole = { 0 }, streamed = { 0 };
	char *text = fuzz_strndup(data, size);
	int parsed = target_status_parse(&whole, text), r;

	free(text);
	FUZZ_CHECK(whole.n_groups <= TARGET_GROUPS_MAX && whole.n_nspid <= TARGET_NSPID_MAX,
		   "%zu groups, %zu pids", whole.n_groups, whole.n_nspid);
	r = target_status_read(proc_fd, &streamed);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EIO, "target_status_read() returned %d", r);
	if (r == 0)
		FUZZ_CHECK((streamed.seen & TARGET_HAS_REQUIRED) == TARGET_HAS_REQUIRED &&
				   streamed.n_groups <= TARGET_GROUPS_MAX &&
				   streamed.n_nspid <= TARGET_NSPID_MAX,
			   "accepted without the required fields");
	if (!streams_whole(data, size))
		return;
	FUZZ_CHECK(r == expected_read(parsed, &whole), "streamed %d, parsed whole %d", r, parsed);
	FUZZ_CHECK(r < 0 || same_status(&whole, &streamed),
		   "the streaming reader and the whole-text parser disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t = TARGET_INIT;
	int r;

	fuzz_write_file(proc_fd, "status", data, size);
	check_status(data, size);
	t.proc_dfd = proc_fd;
	r = target_ids_mapped(&t, 100000, 100000);
	FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL, "target_ids_mapped() returned %d", r);
	return 0;
}
