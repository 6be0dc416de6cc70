/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer targets: the state files read at startup (daemon/store/state.c), through
 * state_load() on a scratch state directory on tmpfs. Built twice:
 *   fuzz_state_file    the input is containers/c1.json, one container's file;
 *   fuzz_state_legacy  the input is the old single-file state.json, which a
 *                      successful load converts to one file per container.
 *
 * Beyond "no crash, no leak": a refused state names the file and leaves it
 * untouched (and converts nothing); an accepted one survives a round trip:
 * what the daemon then writes loads again into the same registry (names,
 * creation times, revisions, ETags, configurations, profile lists).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/store/state.h"
#include "daemon/strv.h"
#include "tests/fuzz/fuzz.h"

#if FUZZ_STATE_LEGACY
#define INPUT_NAME STATE_LEGACY_FILE
#else
#define INPUT_NAME "c1.json"
#endif

static int state_fd, containers_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	state_fd = fuzz_scratch_dir(NULL);
	containers_fd = fuzz_subdir(state_fd, STATE_CONTAINERS_DIR);
	return 0;
}

static int input_dir_fd(void)
{
	return FUZZ_STATE_LEGACY ? state_fd : containers_fd;
}

static bool same_container(struct container *a, struct container *b)
{
	struct config *ca = container_config_get(a), *cb = container_config_get(b);
	bool same = a->created_at == b->created_at && a->revision == b->revision &&
		    strcmp(a->etag, b->etag) == 0 && fuzz_config_equal(ca, cb) &&
		    strv_equal(a->profiles, b->profiles);

	config_unref(ca);
	config_unref(cb);
	return same;
}

static void check_same_registry(struct registry *a, struct registry *b)
{
	struct container **list = NULL;
	size_t n = 0;

	FUZZ_CHECK(registry_list(a, &list, &n) == 0, "out of memory");
	FUZZ_CHECK(registry_count(b) == n, "%zu containers reloaded as %zu", n, registry_count(b));
	for (size_t i = 0; i < n; i++) {
		struct container *c = registry_get(b, list[i]->name);

		FUZZ_CHECK(c && same_container(list[i], c), "container '%s' changed on reload",
			   list[i]->name);
		container_unref(c);
	}
	registry_list_free(list, n);
}

/* What the daemon wrote after an accepted load must load again into the same registry. */
static void check_round_trip(struct registry *reg)
{
	struct icd_error err = { 0 };
	struct registry *again = registry_new();
	struct container *c1 = registry_get(reg, "c1");

	FUZZ_CHECK(again, "out of memory");
	if (FUZZ_STATE_LEGACY) {
		FUZZ_CHECK(faccessat(state_fd, STATE_LEGACY_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0,
			   "state.json left behind after its conversion");
	} else {
		FUZZ_CHECK(registry_count(reg) == (c1 ? 1 : 0), "c1.json gave %zu containers",
			   registry_count(reg));
		if (c1)
			FUZZ_CHECK(state_save_container(state_fd, c1) == 0, "cannot save 'c1'");
	}
	FUZZ_CHECK(state_load(state_fd, again, &err) == 0, "what was loaded does not load again: %s",
		   err.msg);
	check_same_registry(reg, again);
	check_same_registry(again, reg);
	container_unref(c1);
	registry_free(again);
}

static void check_refused(int r, const struct icd_error *err, const uint8_t *data, size_t size)
{
	size_t len = 0;
	char *text = fuzz_read_file(input_dir_fd(), INPUT_NAME, &len);

	FUZZ_CHECK(r < 0 && err->code == r && strstr(err->msg, INPUT_NAME),
		   "refused with %d without naming the file: '%s'", r, err->msg);
	FUZZ_CHECK(text && len == size && memcmp(text, data, size) == 0,
		   "a refused %s was changed", INPUT_NAME);
	free(text);
	if (FUZZ_STATE_LEGACY)
		FUZZ_CHECK(fuzz_empty_dir(containers_fd) == 0,
			   "a refused state.json left container files behind");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icd_error err = { 0 };
	struct registry *reg = registry_new();
	int r;

	FUZZ_CHECK(reg, "out of memory");
	fuzz_empty_dir(containers_fd);
	(void)unlinkat(state_fd, STATE_LEGACY_FILE, 0);
	fuzz_write_file(input_dir_fd(), INPUT_NAME, data, size);
	r = state_load(state_fd, reg, &err);
	if (r < 0)
		check_refused(r, &err, data, size);
	else
		check_round_trip(reg);
	registry_free(reg);
	return 0;
}
