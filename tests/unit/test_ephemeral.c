/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for ephemeral containers' metadata and names
 * (daemon/engine/ephemeral.c): profile=NAME parsing, CRI annotations from
 * containerd and CRI-O, names within the rules whatever the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/engine/ephemeral.h"

static void test_ephemeral_parse_metadata_forms(void **state)
{
	char profile[CONTAINER_NAME_MAX + 1] = "untouched";

	(void)state;
	assert_int_equal(ephemeral_parse_metadata("web", profile), 0); /* a container name */
	assert_int_equal(ephemeral_parse_metadata("", profile), 0);
	assert_int_equal(ephemeral_parse_metadata(NULL, profile), 0);
	assert_string_equal(profile, "untouched");
	assert_int_equal(ephemeral_parse_metadata("profile=base", profile), 1);
	assert_string_equal(profile, "base");
	assert_int_equal(ephemeral_parse_metadata("team=blue,profile=k8s.default,x=", profile), 1);
	assert_string_equal(profile, "k8s.default");
}

static void test_ephemeral_parse_metadata_refuses_broken(void **state)
{
	static const char *const bad[] = {
		"profile=",          "profile=a,profile=b", "team=blue",      "profile=Bad",
		"profile=a,,x=y",    "profile=a,=y",        "profile=a=b",    "profile=../etc",
		"profile=a,novalue", "profile=a b",         "profile=\xff",
	};
	char profile[CONTAINER_NAME_MAX + 1] = "untouched";
	char longest[EPHEMERAL_METADATA_MAX + 16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ephemeral_parse_metadata(bad[i], profile), -EINVAL);
	snprintf(longest, sizeof(longest), "profile=a,x=%0*d", EPHEMERAL_METADATA_MAX, 0);
	assert_int_equal(ephemeral_parse_metadata(longest, profile), -EINVAL);
	memset(longest, 'a', CONTAINER_NAME_MAX + 1);
	memcpy(longest, "profile=", 8);
	longest[CONTAINER_NAME_MAX + 9] = '\0';
	assert_int_equal(ephemeral_parse_metadata(longest, profile), -EINVAL);
	assert_string_equal(profile, "untouched");
}

static void k8s_of(const char *json, struct container_k8s *ret)
{
	json_t *a = json_loads(json, 0, NULL);

	ephemeral_k8s_from_annotations(a, ret);
	json_decref(a);
}

static void test_ephemeral_k8s_from_containerd_and_crio(void **state)
{
	struct container_k8s k;

	(void)state;
	k8s_of("{\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	       "\"io.kubernetes.cri.sandbox-name\":\"web-1\","
	       "\"io.kubernetes.cri.container-name\":\"nginx\"}", &k);
	assert_string_equal(k.namespace, "shop");
	assert_string_equal(k.pod, "web-1");
	assert_string_equal(k.container, "nginx");
	k8s_of("{\"io.kubernetes.pod.namespace\":\"kube-system\",\"io.kubernetes.pod.name\":\"dns\","
	       "\"io.kubernetes.container.name\":\"coredns\"}", &k);
	assert_string_equal(k.namespace, "kube-system");
	assert_string_equal(k.pod, "dns");
	assert_string_equal(k.container, "coredns");
	k8s_of("{\"io.kubernetes.pod.name\":7}", &k);
	assert_string_equal(k.pod, "");
	k8s_of("[]", &k);
	assert_string_equal(k.pod, "");
}

/* Hostile annotations: quotes, newlines, slashes and oversize values come out tame and bounded. */
static void test_ephemeral_k8s_sanitized(void **state)
{
	char json[2048], pod[600];
	struct container_k8s k;

	(void)state;
	memset(pod, 'p', sizeof(pod) - 1);
	pod[sizeof(pod) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"io.kubernetes.cri.sandbox-namespace\":\"a\\\"b\\nc/../d\","
		 "\"io.kubernetes.cri.sandbox-name\":\"%s\"}", pod);
	k8s_of(json, &k);
	assert_string_equal(k.namespace, "a_b_c_.._d");
	assert_int_equal(strlen(k.pod), sizeof(k.pod) - 1);
	assert_string_equal(k.container, "");
}

static void test_ephemeral_name_from_pod(void **state)
{
	struct container_k8s k = { .namespace = "shop", .pod = "web-7d4b9", .container = "nginx" };
	char a[CONTAINER_NAME_MAX + 1], b[CONTAINER_NAME_MAX + 1], again[CONTAINER_NAME_MAX + 1];

	(void)state;
	assert_int_equal(ephemeral_name(&k, "id-one", a), 0);
	assert_int_equal(ephemeral_name(&k, "id-two", b), 0);
	assert_int_equal(ephemeral_name(&k, "id-one", again), 0);
	assert_int_equal(strncmp(a, "shop.web-7d4b9.nginx-", 21), 0);
	assert_int_equal(strlen(a), 21 + 8);
	assert_string_not_equal(a, b);   /* unique: the id's hash */
	assert_string_equal(a, again);   /* stable */
}

/* Long and odd names still make a valid name that holds a good part of the pod name. */
static void test_ephemeral_name_bounded_and_valid(void **state)
{
	struct container_k8s k = { 0 };
	char name[CONTAINER_NAME_MAX + 1];

	(void)state;
	memset(k.namespace, 'n', sizeof(k.namespace) - 1);
	memset(k.pod, 'P', sizeof(k.pod) - 1);
	memset(k.container, '_', sizeof(k.container) - 1);
	assert_int_equal(ephemeral_name(&k, "x", name), 0);
	assert_true(container_name_valid(name));
	assert_non_null(strstr(name, "pppppppppppppppppppp")); /* 20: the pod's share at least */
	assert_int_equal(ephemeral_name(NULL, "-Weird_ID/..", name), 0);
	assert_true(container_name_valid(name));
	assert_int_equal(strncmp(name, "xweird-id-..-", 13), 0);
	assert_int_equal(ephemeral_name(NULL, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", name), 0);
	assert_int_equal(strlen(name), CONTAINER_NAME_MAX);
	assert_int_equal(ephemeral_name(NULL, "", name), -EINVAL);
	assert_int_equal(ephemeral_name(&(struct container_k8s){ 0 }, NULL, name), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ephemeral_parse_metadata_forms),
		cmocka_unit_test(test_ephemeral_parse_metadata_refuses_broken),
		cmocka_unit_test(test_ephemeral_k8s_from_containerd_and_crio),
		cmocka_unit_test(test_ephemeral_k8s_sanitized),
		cmocka_unit_test(test_ephemeral_name_from_pod),
		cmocka_unit_test(test_ephemeral_name_bounded_and_valid),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
