/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a kept Kubernetes labels file, STATE_DIR/k8s-labels/
 * NAME.json (daemon/store/k8s_labels.c), which a restart reads back for each
 * ephemeral container whose listener systemd handed back. The daemon wrote
 * it, but anything with write access to the state directory may have
 * replaced it, so it is read as hostile input. The input is the file's
 * content: it goes through k8s_labels_load() from a scratch directory on
 * tmpfs, as the restart reads it, and through k8s_labels_parse() from an
 * exact-size copy (ASan sees any read past its end).
 *
 * Beyond "no crash, no leak": the two agree; a refusal is -EINVAL with a
 * message that renders; accepted labels are NUL-terminated within their
 * fields, hold only [A-Za-z0-9._-], have a pod, and are what
 * k8s_labels_format() writes back: saved and loaded again, they are the
 * same.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/store/k8s_labels.h"
#include "tests/fuzz/fuzz.h"

static int dir_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_scratch_dir(NULL);
	return 0;
}

/* One field of accepted labels: terminated within @size, valid characters only. */
static void check_field(const char *what, const char *value, size_t size)
{
	size_t len = strnlen(value, size);

	FUZZ_CHECK(len < size, "accepted '%s' fills its %zu bytes unterminated", what, size);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(container_k8s_char_valid(value[i]), "accepted '%s' holds byte 0x%02x",
			   what, (unsigned char)value[i]);
}

static bool k8s_equal(const struct container_k8s *a, const struct container_k8s *b)
{
	return strcmp(a->namespace, b->namespace) == 0 && strcmp(a->pod, b->pod) == 0 &&
	       strcmp(a->container, b->container) == 0;
}

/* Accepted labels: valid, and the same once written back and read again. */
static void check_accepted(const struct container_k8s *k8s)
{
	struct container_k8s again;
	struct icd_error err = { 0 };
	char *text = NULL;

	check_field("namespace", k8s->namespace, sizeof(k8s->namespace));
	check_field("pod", k8s->pod, sizeof(k8s->pod));
	check_field("container", k8s->container, sizeof(k8s->container));
	FUZZ_CHECK(k8s->pod[0], "accepted labels without a pod");
	FUZZ_CHECK(k8s_labels_format(k8s, &text) == 0, "accepted labels cannot be written");
	FUZZ_CHECK(k8s_labels_parse(text, strlen(text), &again, &err) == 0 &&
		   k8s_equal(k8s, &again), "'%s', written back, does not parse the same: %s",
		   text, err.msg);
	free(text);
	FUZZ_CHECK(k8s_labels_save(dir_fd, "saved", k8s) == 0, "accepted labels cannot be saved");
	FUZZ_CHECK(k8s_labels_load(dir_fd, "saved", &again, &err) == 0 && k8s_equal(k8s, &again),
		   "saved labels do not load the same: %s", err.msg);
	FUZZ_CHECK(k8s_labels_remove(dir_fd, "saved") == 0, "saved labels cannot be removed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct container_k8s loaded = { .pod = "untouched" }, parsed = { .pod = "untouched" };
	struct icd_error load_err = { 0 }, parse_err = { 0 };
	char *copy = fuzz_memdup(data, size);
	int r_load, r_parse;

	fuzz_write_file(dir_fd, "c1.json", data, size);
	r_load = k8s_labels_load(dir_fd, "c1", &loaded, &load_err);
	r_parse = k8s_labels_parse(copy, size, &parsed, &parse_err);
	free(copy);
	FUZZ_CHECK(r_load == r_parse, "the file loads with %d, its text parses with %d ('%s', '%s')",
		   r_load, r_parse, load_err.msg, parse_err.msg);
	if (r_parse < 0) {
		FUZZ_CHECK(r_parse == -EINVAL, "refused with %d, not -EINVAL", r_parse);
		fuzz_check_refusal(r_load, &load_err);
		fuzz_check_refusal(r_parse, &parse_err);
		FUZZ_CHECK(strcmp(loaded.pod, "untouched") == 0 && strcmp(parsed.pod, "untouched") == 0,
			   "a refusal wrote its output");
	} else {
		FUZZ_CHECK(r_parse == 0 && k8s_equal(&loaded, &parsed),
			   "the file and its text give different labels");
		check_accepted(&parsed);
	}
	FUZZ_CHECK(k8s_labels_remove(dir_fd, "c1") == 0, "the input file cannot be removed");
	return 0;
}
