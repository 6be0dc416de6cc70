/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/store/config.h"
#include "daemon/error.h"

/*
 * Helpers shared by the libFuzzer targets of tests/fuzz (one process, one
 * thread each). A broken invariant aborts, which libFuzzer records as a crash
 * with the input that caused it; "no crash, no leak" is checked by ASan,
 * UBSan and LeakSanitizer themselves.
 */

/* libFuzzer's entry points; declared here for -Werror=missing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Print "invariant broken: <message>" with the location and abort. */
void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define FUZZ_CHECK(cond, ...)                                      \
	do {                                                       \
		if (!(cond))                                       \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* A NUL-terminated malloc'd copy of the input (an embedded NUL ends the string early). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* An exact-size malloc'd copy, so ASan sees any read past @size. */
void *fuzz_memdup(const void *data, size_t size);

/*
 * A refused input: @r is a negative errno, @err names what is wrong, and the
 * API can render the message as an error envelope.
 */
void fuzz_check_refusal(int r, const struct icd_error *err);

/* The API's error envelope for @status and @msg renders as JSON text. */
void fuzz_check_error_envelope(unsigned status, const char *msg);

/*
 * @cfg is normalized: building a snapshot from its own values succeeds and
 * gives the same values, switches and lists.
 */
void fuzz_check_config_normalized(const struct config *cfg);

/* Do two snapshots hold the same values? */
bool fuzz_config_equal(const struct config *a, const struct config *b);

/*
 * A scratch directory for targets that parse files, under $TMPDIR (run.sh
 * points it at tmpfs) or /dev/shm, removed at exit. Returns an O_DIRECTORY fd;
 * *ret_path (if not NULL) is its path, valid until exit.
 */
int fuzz_scratch_dir(const char **ret_path);

/* Replace @dir_fd/@name with exactly @size bytes of @data. */
void fuzz_write_file(int dir_fd, const char *name, const void *data, size_t size);

/* Read @dir_fd/@name into a malloc'd buffer; NULL when it does not exist. */
char *fuzz_read_file(int dir_fd, const char *name, size_t *ret_size);

/* Remove every entry (not recursively) of @dir_fd; returns how many there were. */
size_t fuzz_empty_dir(int dir_fd);

/* Open a subdirectory of @dir_fd, creating it first. */
int fuzz_subdir(int dir_fd, const char *name);
