/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a file of a --config-dir (daemon/store/configdir_read.c,
 * configdir_yaml.c), which a ConfigMap fills and the daemon reads as root.
 * The input is the file's name, a newline, then its content: the name goes
 * through configdir_file_kind(), the content through configdir_parse() as YAML
 * when the name says so (or, for a name that declares nothing, when the
 * content's first byte is odd) and as JSON otherwise.
 *
 * Beyond "no crash, no leak": a declared name is a valid profile name that
 * the file name spells as profile.NAME.EXT, a skipped one a dotfile, and a
 * refusal is an escaped message the API can render; an accepted file is a
 * normalized configuration that, written back as the JSON file a profile
 * would be, parses again to the same values.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/routes_common.h"
#include "daemon/log.h"
#include "daemon/store/configdir.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

/* A refusal's message quotes the file's bytes escaped: never a control character. */
static void check_refusal(int r, const struct icd_error *err)
{
	fuzz_check_refusal(r, err);
	for (const char *p = err->msg; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
			   "control character 0x%02x in '%s'", (unsigned char)*p, err->msg);
}

static void check_kind(const char *file, int r, const char *name, const struct icd_error *err)
{
	char expect[NAME_MAX + 1];

	if (r < 0) {
		check_refusal(r, err);
		return;
	}
	if (r == 0) {
		FUZZ_CHECK(file[0] == '.', "'%s' skipped, but it is no dotfile", file);
		return;
	}
	FUZZ_CHECK(container_name_valid(name), "'%s' declares invalid name '%s'", file, name);
	(void)snprintf(expect, sizeof(expect), "profile.%s.", name);
	FUZZ_CHECK(strncmp(file, expect, strlen(expect)) == 0, "'%s' declares '%s'", file, name);
}

/* An accepted file: normalized, and the same once written back as a JSON profile file. */
static void check_accepted(struct config *cfg)
{
	json_t *file = json_pack("{s:o}", "config", routes_config_json(cfg));
	struct config *again = NULL;
	struct icd_error err = { 0 };
	char *text;

	fuzz_check_config_normalized(cfg);
	text = file ? json_dumps(file, JSON_COMPACT) : NULL;
	FUZZ_CHECK(text, "an accepted configuration does not render");
	FUZZ_CHECK(configdir_parse("profile.p.json", text, strlen(text), false, &again, &err) == 0,
		   "written back as '%s', it is refused: %s", text, err.msg);
	FUZZ_CHECK(fuzz_config_equal(cfg, again), "'%s' parses to other values", text);
	config_unref(again);
	free(text);
	json_decref(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t name_len = nl ? (size_t)(nl - data) : size;
	size_t len = nl ? size - name_len - 1 : 0;
	char *file = fuzz_strndup(data, name_len);
	char *content = fuzz_memdup(nl ? nl + 1 : data, len);
	char name[CONTAINER_NAME_MAX + 1] = "";
	struct icd_error err = { 0 };
	struct config *cfg = NULL;
	bool is_yaml = false;
	int r;

	r = configdir_file_kind(file, name, &is_yaml, &err);
	check_kind(file, r, name, &err);
	if (r <= 0)
		is_yaml = len > 0 && (content[0] & 1);
	err = (struct icd_error){ 0 };
	r = configdir_parse("profile.p.yaml", content, len, is_yaml, &cfg, &err);
	if (r < 0) {
		FUZZ_CHECK(!cfg, "a snapshot was returned with error %d", r);
		if (r != -EOPNOTSUPP) /* built without libyaml */
			check_refusal(r, &err);
	} else {
		check_accepted(cfg);
	}
	config_unref(cfg);
	free(content);
	free(file);
	return 0;
}
