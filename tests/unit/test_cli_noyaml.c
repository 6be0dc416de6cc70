/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl built without libyaml (meson -Dyaml=disabled): --format yaml is
 * refused as unsupported, the other formats work. This binary compiles
 * api/cli/yaml_out.c with HAVE_LIBYAML=0 whatever the build found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "api/cli/output.h"

static void test_output_without_libyaml(void **state)
{
	json_t *j = json_pack("{s:s}", "a", "b");

	(void)state;
	assert_false(output_yaml_available());
	assert_int_equal(output_format_from_string("yaml"), -EOPNOTSUPP);
	assert_int_equal(output_format_from_string("json"), FORMAT_JSON);
	assert_int_equal(output_format_from_string("table"), FORMAT_TABLE);
	assert_int_equal(output_format_from_string("xml"), -EINVAL);
	assert_int_equal(output_yaml(stdout, j), -EOPNOTSUPP);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_without_libyaml),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
