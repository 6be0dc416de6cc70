/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the kept Kubernetes labels of ephemeral containers: the file
 * format round trip, what a hostile or broken file is refused for, the files
 * themselves (atomic, unchanged when the same, never followed or blocked on)
 * and the sweep of leftovers.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fileio.h"
#include "daemon/store/k8s_labels.h"

#include "tmpdir_fixture.h"

static const struct container_k8s shop = { .namespace = "shop", .pod = "web-7d4b9",
					   .container = "nginx" };

static void test_k8s_labels_format_parse_round_trip(void **state)
{
	struct container_k8s long_pod = { .namespace = "kube-system" }, back;
	char *text = NULL;

	(void)state;
	assert_int_equal(k8s_labels_format(&shop, &text), 0);
	assert_string_equal(text,
			    "{\"container\":\"nginx\",\"namespace\":\"shop\",\"pod\":\"web-7d4b9\"}");
	assert_int_equal(k8s_labels_parse(text, strlen(text), &back, NULL), 0);
	assert_memory_equal(&back, &shop, sizeof(shop));
	free(text);
	/* a pod name may have 253 characters; namespace and container may be unknown */
	memset(long_pod.pod, 'p', 253);
	assert_int_equal(k8s_labels_format(&long_pod, &text), 0);
	assert_int_equal(k8s_labels_parse(text, strlen(text), &back, NULL), 0);
	assert_memory_equal(&back, &long_pod, sizeof(long_pod));
	free(text);
	/* nothing to keep without a pod */
	assert_int_equal(k8s_labels_format(&(struct container_k8s){ .namespace = "x" }, &text),
			 -EINVAL);
}

/* @text is refused with -EINVAL, a message containing @why, and *ret untouched. */
static void refused(const char *text, size_t len, const char *why)
{
	struct container_k8s untouched = { .pod = "before" };
	struct icd_error err = { 0 };

	assert_int_equal(k8s_labels_parse(text, len, &untouched, &err), -EINVAL);
	assert_string_equal(untouched.pod, "before");
	if (!strstr(err.msg, why))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, why);
}

#define REFUSED(text, why) refused(text, strlen(text), why)

static void test_k8s_labels_parse_refuses_hostile_files(void **state)
{
	char too_long[400], big[K8S_LABELS_FILE_MAX + 2];

	(void)state;
	REFUSED("", "not JSON");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"c\"", "not JSON");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"c\"} x", "not JSON");
	REFUSED("[\"a\",\"b\",\"c\"]", "not an object");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\"}", "not an object");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"c\",\"x\":\"d\"}", "not an object");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"pod\":\"c\"}", "not JSON"); /* duplicate key */
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"team\":\"c\"}", "'container' is missing");
	REFUSED("{\"namespace\":1,\"pod\":\"b\",\"container\":\"c\"}", "'namespace' is missing or not");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"\",\"container\":\"c\"}", "'pod' is empty");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b/../c\",\"container\":\"c\"}", "'pod' holds a character");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\\\"} x\",\"container\":\"c\"}", "'pod' holds");
	REFUSED("{\"namespace\":\"a\\u0000b\",\"pod\":\"b\",\"container\":\"c\"}", "not JSON");
	REFUSED("{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"\xc3\xa9\"}", "'container' holds");
	snprintf(too_long, sizeof(too_long),
		 "{\"namespace\":\"a\",\"pod\":\"%0254d\",\"container\":\"c\"}", 0);
	REFUSED(too_long, "'pod' is longer than 253");
	snprintf(too_long, sizeof(too_long),
		 "{\"namespace\":\"%064d\",\"pod\":\"b\",\"container\":\"c\"}", 0);
	REFUSED(too_long, "'namespace' is longer than 63");
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"namespace\":\"a\",\"pod\":\"b\",\"container\":\"c\"}", 44);
	refused(big, sizeof(big), "larger than 4096 bytes");
}

static ino_t inode_of(struct fixture *f, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(f->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

static void test_k8s_labels_save_load_remove(void **state)
{
	struct fixture *f = *state;
	struct container_k8s back, other = shop;
	ino_t first;

	assert_int_equal(k8s_labels_load(f->dir_fd, "web", &back, NULL), -ENOENT);
	assert_int_equal(k8s_labels_save(f->dir_fd, "web", &shop), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "web", &back, NULL), 0);
	assert_memory_equal(&back, &shop, sizeof(shop));
	/* registered again after a restart: the same file, not a new one */
	first = inode_of(f, "web.json");
	assert_int_equal(k8s_labels_save(f->dir_fd, "web", &shop), 0);
	assert_int_equal(inode_of(f, "web.json"), first);
	strcpy(other.pod, "web-other");
	assert_int_equal(k8s_labels_save(f->dir_fd, "web", &other), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "web", &back, NULL), 0);
	assert_string_equal(back.pod, "web-other");
	/* a name that is not a container's is never a path */
	assert_int_equal(k8s_labels_save(f->dir_fd, "../web", &shop), -EINVAL);
	assert_int_equal(k8s_labels_load(f->dir_fd, "../web", &back, NULL), -EINVAL);
	assert_int_equal(k8s_labels_remove(f->dir_fd, "web"), 0);
	assert_int_equal(k8s_labels_remove(f->dir_fd, "web"), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "web", &back, NULL), -ENOENT);
}

/* A file planted in place of one: not followed, not waited on, not read past the cap. */
static void test_k8s_labels_load_refuses_odd_files(void **state)
{
	struct fixture *f = *state;
	static char big[K8S_LABELS_FILE_MAX * 2];
	struct icd_error err = { 0 };
	struct container_k8s back;

	assert_int_equal(k8s_labels_save(f->dir_fd, "real", &shop), 0);
	assert_int_equal(symlinkat("real.json", f->dir_fd, "link.json"), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "link", &back, &err), -EINVAL);
	assert_string_equal(err.msg, "a symbolic link");
	assert_int_equal(mkfifoat(f->dir_fd, "fifo.json", 0600), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "fifo", &back, &err), -EINVAL);
	assert_string_equal(err.msg, "not a regular file");
	assert_int_equal(mkdirat(f->dir_fd, "dir.json", 0700), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "dir", &back, &err), -EINVAL);
	memset(big, ' ', sizeof(big));
	assert_int_equal(write_file_atomic(f->dir_fd, "big.json", big, sizeof(big), 0600, 0), 0);
	assert_int_equal(k8s_labels_load(f->dir_fd, "big", &back, &err), -EINVAL);
	assert_string_equal(err.msg, "larger than 4096 bytes");
}

static bool keep_a_and_b(const char *name, void *userdata)
{
	(*(int *)userdata)++;
	return strcmp(name, "a") == 0 || strcmp(name, "b") == 0;
}

static bool exists(struct fixture *f, const char *name)
{
	struct stat st;

	return fstatat(f->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void test_k8s_labels_sweep_keeps_only_named(void **state)
{
	struct fixture *f = *state;
	int n_asked = 0;

	assert_int_equal(k8s_labels_save(f->dir_fd, "a", &shop), 0);
	assert_int_equal(k8s_labels_save(f->dir_fd, "b", &shop), 0);
	assert_int_equal(k8s_labels_save(f->dir_fd, "gone", &shop), 0);
	assert_int_equal(write_file_atomic(f->dir_fd, ".tmp.a.json.1", "x", 1, 0600, 0), 0);
	assert_int_equal(write_file_atomic(f->dir_fd, "Bad!.json", "x", 1, 0600, 0), 0);
	assert_int_equal(write_file_atomic(f->dir_fd, "a", "x", 1, 0600, 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", f->dir_fd, "link.json"), 0);
	assert_int_equal(mkdirat(f->dir_fd, "sub.json", 0700), 0);
	/* gone, the temporary file, the bad name, "a" without suffix and the link (not its target) */
	assert_int_equal(k8s_labels_sweep(f->dir_fd, keep_a_and_b, &n_asked), 5);
	assert_true(exists(f, "a.json") && exists(f, "b.json"));
	assert_false(exists(f, "gone.json") || exists(f, ".tmp.a.json.1") || exists(f, "Bad!.json"));
	assert_false(exists(f, "a") || exists(f, "link.json"));
	assert_true(exists(f, "sub.json")); /* a directory is not removed */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	assert_int_equal(n_asked, 5); /* a, b, gone, link, sub: only valid NAME.json entries */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_k8s_labels_format_parse_round_trip),
		cmocka_unit_test(test_k8s_labels_parse_refuses_hostile_files),
		cmocka_unit_test_setup_teardown(test_k8s_labels_save_load_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k8s_labels_load_refuses_odd_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_k8s_labels_sweep_keeps_only_named, setup,
						teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
