/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: what the mount handler parses (handlers/mount_rules.c,
 * handlers/idmap.c, handlers/cgroup_join.c). The container writes the data
 * page of its mount(2) call, and names its mount points and user namespace
 * maps. Each input is tried as mount data (split into options, then given
 * hugetlbfs ids and turned into a FUSE binary's -o argument), as a uid_map
 * text and as a mountinfo line.
 *
 * Beyond "no crash, no leak": accepted options have keys of 1 to 255
 * characters, values of at most 255, never a refused key, at most 64 of them;
 * hugetlbfs ids are decimal host ids inside the map; a translated id maps back.
 */
#include <stdlib.h>
#include <string.h>

#include "handlers/cgroup_join.h"
#include "handlers/idmap.h"
#include "handlers/mount.h"
#include "tests/fuzz/fuzz.h"

static const struct idmap map = { .n = 1, .e = { { 0, 100000, 65536 } } };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_opts(const struct mount_opts *o)
{
	static const char *const refused[] = { "source", "journal_path", "journal_dev", "logdev",
					       "rtdev", "device" };

	FUZZ_CHECK(o->n <= MOUNT_OPTS_MAX, "%zu options", o->n);
	for (size_t i = 0; i < o->n; i++) {
		size_t k = strlen(o->opt[i].key);

		FUZZ_CHECK(k > 0 && k <= MOUNT_PARAM_MAX, "key of %zu characters", k);
		FUZZ_CHECK(!o->opt[i].value || strlen(o->opt[i].value) <= MOUNT_PARAM_MAX,
			   "value of %zu characters", strlen(o->opt[i].value));
		FUZZ_CHECK(!strchr(o->opt[i].key, ',') && !strchr(o->opt[i].key, '='),
			   "key '%s' was not split", o->opt[i].key);
		for (size_t r = 0; r < sizeof(refused) / sizeof(refused[0]); r++)
			FUZZ_CHECK(strcmp(o->opt[i].key, refused[r]) != 0, "'%s' accepted",
				   refused[r]);
		FUZZ_CHECK(strcmp(o->opt[i].key, "errors") != 0 || !o->opt[i].value ||
				   strcmp(o->opt[i].value, "panic") != 0,
			   "errors=panic accepted");
	}
}

static void check_host_id(const struct mount_opts *o, const char *key)
{
	uint32_t ns;
	char *end;
	unsigned long v;

	for (size_t i = 0; i < o->n; i++) {
		if (strcmp(o->opt[i].key, key) != 0)
			continue;
		v = strtoul(o->opt[i].value, &end, 10);
		FUZZ_CHECK(*end == '\0' && o->opt[i].value[0], "%s='%s' is not decimal", key,
			   o->opt[i].value);
		FUZZ_CHECK(idmap_to_ns(&map, (uint32_t)v, &ns) == 0, "%s=%lu is no host id of the map",
			   key, v);
	}
}

static void check_data(const char *text)
{
	char *data = strdup(text), fuse[MOUNT_DATA_MAX + 64];
	struct mount_id_text ids;
	struct mount_opts o;

	if (mount_data_parse(data, &o) == 0) {
		check_opts(&o);
		if (mount_hugetlbfs_ids(&o, &map, &map, 100000, 100000, &ids) == 0) {
			check_host_id(&o, "uid");
			check_host_id(&o, "gid");
		}
	}
	(void)mount_fuse_options(~0ULL, text, fuse, sizeof(fuse));
	free(data);
}

static void check_map(const char *text)
{
	struct idmap m;
	uint32_t host, back;

	if (idmap_parse(text, &m) < 0)
		return;
	FUZZ_CHECK(m.n <= IDMAP_EXTENTS_MAX, "%zu extents", m.n);
	for (size_t i = 0; i < m.n; i++) {
		FUZZ_CHECK(idmap_to_host(&m, m.e[i].first, &host) == 0, "extent %zu unmapped", i);
		FUZZ_CHECK(idmap_to_ns(&m, host, &back) == 0, "host id %u unmapped", host);
	}
}

static void check_mountinfo(const char *text)
{
	struct cgroup_join_mount mnt;

	if (cgroup_join_parse_mount(text, &mnt) == 1) {
		FUZZ_CHECK(strnlen(mnt.path, sizeof(mnt.path)) < sizeof(mnt.path), "path unterminated");
		FUZZ_CHECK(strnlen(mnt.options, sizeof(mnt.options)) < sizeof(mnt.options),
			   "options unterminated");
		(void)cgroup_join_matches(mnt.options, "devices");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size < MOUNT_DATA_MAX ? size : MOUNT_DATA_MAX - 1);

	check_data(text);
	check_map(text);
	check_mountinfo(text);
	free(text);
	return 0;
}
