/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Naming and metadata of ephemeral containers (ephemeral.h). Pure; called by
 * the intake thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon/engine/ephemeral.h"

#define HASH_SUFFIX_LEN 9 /* "-" and 8 hex digits */
#define PART_MAX 16       /* namespace and container names, when the pod name needs room */

/* One "key=value" of @len bytes at @p: 1 and the profile if it is profile=, 0 if another key. */
static int parse_pair(const char *p, size_t len, char profile[static CONTAINER_NAME_MAX + 1])
{
	const char *eq = memchr(p, '=', len);
	size_t klen = eq ? (size_t)(eq - p) : 0, vlen = eq ? len - klen - 1 : 0;

	if (!eq || klen == 0 || memchr(eq + 1, '=', vlen))
		return -EINVAL;
	if (klen != strlen("profile") || strncmp(p, "profile", klen) != 0)
		return 0;
	if (vlen == 0 || vlen > CONTAINER_NAME_MAX)
		return -EINVAL;
	memcpy(profile, eq + 1, vlen);
	profile[vlen] = '\0';
	return container_name_valid(profile) ? 1 : -EINVAL;
}

int ephemeral_parse_metadata(const char *metadata, char ret_profile[static CONTAINER_NAME_MAX + 1])
{
	char profile[CONTAINER_NAME_MAX + 1] = "";
	size_t n_profiles = 0;
	const char *p = metadata;

	if (!metadata || !strchr(metadata, '='))
		return 0;
	if (strlen(metadata) > EPHEMERAL_METADATA_MAX)
		return -EINVAL;
	for (;;) {
		size_t len = strcspn(p, ",");
		int r = parse_pair(p, len, profile);

		if (r < 0)
			return r;
		n_profiles += (size_t)r;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n_profiles != 1)
		return -EINVAL;
	strcpy(ret_profile, profile);
	return 1;
}

/* Copy @src into @dst (@size bytes), [A-Za-z0-9._-] kept, anything else '_'. */
static void copy_label(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < size; i++)
		dst[i] = container_k8s_char_valid(src[i]) ? src[i] : '_';
	dst[i] = '\0';
}

/* The string value of the first of @keys that @annotations holds, or NULL. */
static const char *first_of(json_t *annotations, const char *const keys[2])
{
	for (size_t i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(annotations, keys[i]));

		if (v)
			return v;
	}
	return NULL;
}

void ephemeral_k8s_from_annotations(json_t *annotations, struct container_k8s *ret)
{
	static const char *const ns_keys[2] = { "io.kubernetes.cri.sandbox-namespace",
						"io.kubernetes.pod.namespace" };
	static const char *const pod_keys[2] = { "io.kubernetes.cri.sandbox-name",
						 "io.kubernetes.pod.name" };
	static const char *const ctr_keys[2] = { "io.kubernetes.cri.container-name",
						 "io.kubernetes.container.name" };

	*ret = (struct container_k8s){ 0 };
	if (!json_is_object(annotations))
		return;
	copy_label(ret->namespace, sizeof(ret->namespace), first_of(annotations, ns_keys));
	copy_label(ret->pod, sizeof(ret->pod), first_of(annotations, pod_keys));
	copy_label(ret->container, sizeof(ret->container), first_of(annotations, ctr_keys));
}

/* Append up to @max bytes of @src to @dst (at *@len) as name characters: [a-z0-9.-]. */
static void append_part(char *dst, size_t *len, const char *src, size_t max)
{
	for (size_t i = 0; src[i] && i < max; i++) {
		char ch = src[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.'))
			ch = '-';
		dst[(*len)++] = ch;
	}
	dst[*len] = '\0';
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* NAMESPACE.POD.CONTAINER within @budget bytes, the pod name getting what the others leave. */
static void k8s_base(const struct container_k8s *k8s, char *buf, size_t budget)
{
	size_t ns = min_size(strlen(k8s->namespace), PART_MAX);
	size_t ctr = min_size(strlen(k8s->container), PART_MAX);
	size_t len = 0, pod = budget - ns - ctr - (ns ? 1 : 0) - (ctr ? 1 : 0);

	append_part(buf, &len, k8s->namespace, ns);
	if (ns)
		buf[len++] = '.';
	append_part(buf, &len, k8s->pod, pod);
	if (ctr)
		buf[len++] = '.';
	append_part(buf, &len, k8s->container, ctr);
}

int ephemeral_name(const struct container_k8s *k8s, const char *oci_id,
		   char ret[static CONTAINER_NAME_MAX + 1])
{
	const size_t budget = CONTAINER_NAME_MAX - HASH_SUFFIX_LEN;
	char base[CONTAINER_NAME_MAX + 1] = "";
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t len = 0;

	if ((!k8s || !k8s->pod[0]) && (!oci_id || !oci_id[0]))
		return -EINVAL;
	/* FNV-1a of the id: the id is what is unique, the readable part may not be */
	for (const char *p = oci_id ? oci_id : ""; *p; p++) {
		h ^= (unsigned char)*p;
		h *= UINT64_C(0x100000001b3);
	}
	if (k8s && k8s->pod[0])
		k8s_base(k8s, base, budget);
	else
		append_part(base, &len, oci_id, budget);
	/* a name starts with [a-z0-9] */
	if (!((base[0] >= 'a' && base[0] <= 'z') || (base[0] >= '0' && base[0] <= '9')))
		base[0] = 'x';
	(void)snprintf(ret, CONTAINER_NAME_MAX + 1, "%s-%08" PRIx32, base, (uint32_t)(h ^ (h >> 32)));
	return container_name_valid(ret) ? 0 : -EINVAL;
}
