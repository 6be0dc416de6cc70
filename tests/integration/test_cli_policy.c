/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl policy against the real daemon: --lxc and --oci print what
 * the API serves; --oci --merge-into rewrites a bundle's config.json with
 * the daemon's merge, keeping everything else in it and the file's owner and
 * mode, and leaves the file untouched (byte for byte, no temporary file beside
 * it) when anything fails; --trap-denied asks the merge to trap the calls the
 * base denies too. The same for a profile (interceptctl profile policy).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "harness.h"

static struct harness H;

#define SOCK "--socket", H.api_socket

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static struct http_reply *api(const char *method, const char *path, const char *body)
{
	struct http_reply *r = NULL;

	assert_int_equal(harness_request(&H, method, path, body, &r), 0);
	if (r->status >= 300)
		fail_msg("%s %s: %ld %s", method, path, r->status, r->data);
	return r;
}

static int setup(void **state)
{
	_cleanup_(http_reply_freep) struct http_reply *r =
		api("POST", "/1.0/containers",
		    "{\"name\":\"pol\",\"config\":{\"security.syscalls.intercept.mknod\":\"true\","
		    "\"security.syscalls.intercept.sysinfo\":\"true\"}}");
	_cleanup_(http_reply_freep) struct http_reply *m =
		api("POST", "/1.0/containers",
		    "{\"name\":\"mnt\",\"config\":{\"security.syscalls.intercept.mount\":\"true\"}}");
	_cleanup_(http_reply_freep) struct http_reply *p =
		api("POST", "/1.0/profiles",
		    "{\"name\":\"pmnt\",\"config\":{\"security.syscalls.intercept.mount\":\"true\"}}");

	(void)state;
	return 0;
}

static void test_cli_policy_prints_what_the_api_serves(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	_cleanup_(http_reply_freep) struct http_reply *lxc =
		api("GET", "/1.0/containers/pol/seccomp?format=lxc", NULL);
	_cleanup_(http_reply_freep) struct http_reply *oci =
		api("GET", "/1.0/containers/pol/seccomp?format=oci", NULL);
	json_auto_t *printed = NULL;

	(void)state;
	CLI(&r, SOCK, "policy", "pol", "--lxc");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, lxc->data);
	cli_result_clear(&r);
	CLI(&r, SOCK, "policy", "pol", "--oci");
	assert_int_equal(r.status, 0);
	printed = json_loads(r.out, 0, NULL);
	assert_non_null(printed);
	assert_true(json_equal(printed, reply_meta(oci)));
	cli_result_clear(&r);
	CLI(&r, SOCK, "policy", "nosuch", "--lxc");
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: container 'nosuch' not found");
	cli_result_clear(&r);
	CLI(&r, SOCK, "policy", "nosuch", "--oci");
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: container 'nosuch' not found");
}

/* A bundle directory with config.json holding @seccomp (NULL: no linux.seccomp), mode 0640. */
static void make_bundle(char *dir, size_t size, char *config, const char *seccomp)
{
	FILE *f;

	snprintf(dir, size, "%s/bundle.XXXXXX", H.dir);
	assert_non_null(mkdtemp(dir));
	sprintf(config, "%s/config.json", dir);
	f = fopen(config, "we");
	assert_non_null(f);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/sh\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]%s%s}}\n",
		seccomp ? ",\"seccomp\":" : "", seccomp ? seccomp : "");
	fclose(f);
	assert_int_equal(chmod(config, 0640), 0);
}

/* Only config.json is in @dir: no temporary file was left behind. */
static void assert_only_config(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "config.json") != 0)
			fail_msg("left in the bundle: %s", e->d_name);
	closedir(d);
}

static void test_cli_policy_merge_into_rewrites_config(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	_cleanup_free_ char *base = harness_fixture("seccomp_base.json");
	_cleanup_(http_reply_freep) struct http_reply *merged = NULL;
	char dir[400], config[450];
	json_auto_t *j = NULL;
	struct stat st;

	(void)state;
	assert_non_null(base);
	merged = api("POST", "/1.0/containers/pol/seccomp?format=oci", base);
	make_bundle(dir, sizeof(dir), config, base);
	/* a bundle that root prepares for a user keeps its owner */
	if (geteuid() == 0)
		assert_int_equal(chown(config, 65534, 65534), 0);
	CLI(&r, SOCK, "policy", "pol", "--oci", "--merge-into", config);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	/* what the merge dropped is said, as the API's Warning headers say it */
	assert_contains(r.err, "Warning: dropped 'flags'");
	j = json_load_file(config, 0, NULL);
	assert_non_null(j);
	assert_true(json_equal(json_object_get(json_object_get(j, "linux"), "seccomp"),
			       reply_meta(merged)));
	assert_string_equal(json_string_value(json_object_get(j, "ociVersion")), "1.0.2");
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "linux"), "namespaces")),
			 1);
	assert_non_null(json_object_get(json_object_get(j, "process"), "args"));
	assert_int_equal(stat(config, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 65534);
	assert_only_config(dir);
}

static void test_cli_policy_merge_into_config_without_seccomp(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	_cleanup_(http_reply_freep) struct http_reply *own =
		api("GET", "/1.0/containers/pol/seccomp?format=oci", NULL);
	char dir[400], config[450], link[460];
	json_auto_t *j = NULL;

	(void)state;
	make_bundle(dir, sizeof(dir), config, NULL);
	/* through a symlink: the file it names is replaced, the link stays */
	snprintf(link, sizeof(link), "%s/link.json", H.dir);
	assert_int_equal(symlink(config, link), 0);
	CLI(&r, SOCK, "policy", "pol", "--merge-into", link);
	assert_int_equal(r.status, 0);
	assert_contains(r.err, "has no linux.seccomp");
	j = json_load_file(config, 0, NULL);
	assert_non_null(j);
	assert_true(json_equal(json_object_get(json_object_get(j, "linux"), "seccomp"),
			       reply_meta(own)));
	assert_only_config(dir);
	assert_int_equal(unlink(link), 0);
}

/* Write @text over @config, without the CLI. */
static void write_config(const char *config, const char *text)
{
	FILE *f = fopen(config, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Merging @name into @config fails with @message on stderr, and @config still
 * holds what it held, byte for byte, with nothing added beside it.
 */
static void assert_merge_refused(const char *dir, const char *config, const char *name,
				 const char *message)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	_cleanup_free_ char *before = harness_read_file(config, NULL), *after = NULL;

	CLI(&r, SOCK, "policy", name, "--oci", "--merge-into", config);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "Error: ");
	assert_contains(r.err, message);
	after = harness_read_file(config, NULL);
	assert_non_null(after);
	assert_string_equal(after, before);
	assert_only_config(dir);
}

static void test_cli_policy_merge_into_failures_leave_the_file(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };
	char dir[400], config[450], missing[460];

	(void)state;
	/* a base the daemon refuses: it already has a listener (NOTIFY rules) */
	make_bundle(dir, sizeof(dir), config,
		    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mknod\"],"
		    "\"action\":\"SCMP_ACT_NOTIFY\"}]}");
	assert_merge_refused(dir, config, "pol", "NOTIFY");
	assert_merge_refused(dir, config, "nosuch", "container 'nosuch' not found");
	/* not JSON, not an object: refused before the daemon is asked */
	write_config(config, "{\"linux\": [");
	assert_merge_refused(dir, config, "pol", "is not JSON");
	write_config(config, "{\"linux\": [1]}");
	assert_merge_refused(dir, config, "pol", "is not an OCI config.json");
	snprintf(missing, sizeof(missing), "%s/none.json", dir);
	CLI(&r, SOCK, "policy", "pol", "--oci", "--merge-into", missing);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "No such file or directory");
	cli_result_clear(&r);
	CLI(&r, SOCK, "policy", "pol", "--oci", "--merge-into", dir);
	assert_int_equal(r.status, 1);
	assert_contains(r.err, "is not a regular file");
}

/* The action of the first rule naming @syscall in @config's linux.seccomp, or NULL. */
static const char *merged_action(const json_t *config, const char *syscall)
{
	json_t *sec = json_object_get(json_object_get(config, "linux"), "seccomp"), *rule, *n;
	size_t i, k;

	json_array_foreach(json_object_get(sec, "syscalls"), i, rule)
		json_array_foreach(json_object_get(rule, "names"), k, n)
			if (strcmp(json_string_value(n), syscall) == 0)
				return json_string_value(json_object_get(rule, "action"));
	return NULL;
}

/* The fixture's base denies mount: the merge keeps it denied unless --trap-denied. */
static void test_cli_policy_merge_into_trap_denied(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result kept = { 0 }, trapped = { 0 }, prof = { 0 },
						      usage = { 0 };
	_cleanup_free_ char *base = harness_fixture("seccomp_base.json");
	char dir[400], config[450];
	json_auto_t *j = NULL, *jt = NULL, *jp = NULL;

	(void)state;
	assert_non_null(base);
	make_bundle(dir, sizeof(dir), config, base);
	CLI(&kept, SOCK, "policy", "mnt", "--oci", "--merge-into", config);
	assert_int_equal(kept.status, 0);
	assert_contains(kept.err, "Warning: not trapped, the base profile denies them: 'mount';");
	assert_contains(kept.err, "--trap-denied");
	j = json_load_file(config, 0, NULL);
	assert_null(merged_action(j, "mount"));
	make_bundle(dir, sizeof(dir), config, base);
	CLI(&trapped, SOCK, "policy", "mnt", "--oci", "--merge-into", config, "--trap-denied");
	assert_int_equal(trapped.status, 0);
	assert_contains(trapped.err, "Warning: the base profile denies some calls to 'mount'");
	jt = json_load_file(config, 0, NULL);
	assert_string_equal(merged_action(jt, "mount"), "SCMP_ACT_NOTIFY");
	make_bundle(dir, sizeof(dir), config, base);
	CLI(&prof, SOCK, "profile", "policy", "pmnt", "--merge-into", config, "--trap-denied");
	assert_int_equal(prof.status, 0);
	jp = json_load_file(config, 0, NULL);
	assert_string_equal(merged_action(jp, "mount"), "SCMP_ACT_NOTIFY");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(jp, "linux"), "seccomp"),
				    "listenerMetadata")),
			    "profile=pmnt");
	CLI(&usage, SOCK, "policy", "mnt", "--oci", "--trap-denied");
	assert_int_equal(usage.status, 2);
	assert_contains(usage.err, "--trap-denied applies to a merge");
}

static void test_cli_policy_yaml(void **state)
{
	_cleanup_(cli_result_clear) struct cli_result r = { 0 };

	(void)state;
	CLI(&r, SOCK, "--format", "yaml", "policy", "pol", "--oci");
	if (r.status == 2 && strstr(r.err, "without YAML support"))
		skip();
	assert_int_equal(r.status, 0);
	assert_contains(r.out, "defaultAction: SCMP_ACT_ALLOW\n");
	assert_contains(r.out, "listenerMetadata: pol\n");
	assert_contains(r.out, "action: SCMP_ACT_NOTIFY\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_policy_prints_what_the_api_serves),
		cmocka_unit_test(test_cli_policy_merge_into_rewrites_config),
		cmocka_unit_test(test_cli_policy_merge_into_config_without_seccomp),
		cmocka_unit_test(test_cli_policy_merge_into_failures_leave_the_file),
		cmocka_unit_test(test_cli_policy_merge_into_trap_denied),
		cmocka_unit_test(test_cli_policy_yaml),
	};
	int failed;

	cmocka_set_message_output(CM_OUTPUT_TAP);
	if (harness_main_setup(&H, NULL) != 0)
		return 1;
	failed = cmocka_run_group_tests(tests, setup, NULL);
	return harness_main_teardown(&H, failed);
}
