/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the container-process state JSON that runc and crun write
 * to listenerPath (daemon/engine/oci_state.c, oci_state_parse()). The intake thread
 * parses whatever has arrived after every read, so a state is seen cut at
 * arbitrary points: a read returns at most 16 KiB, and a stream socket may
 * split a write anywhere.
 *
 * Beyond "no crash, no leak": what a complete state yields is sane (names are
 * valid or empty, pids are not negative), and every prefix of a complete state
 * is "incomplete" or the same state, never a refusal: a refusal drops the
 * connection and with it the container's listener.
 *
 * A complete state then goes where a container that registers itself goes
 * (daemon/engine/ephemeral.c): its listenerMetadata is parsed as
 * profile=NAME[,key=value...] and a container name is made of its CRI
 * annotations and id. The metadata and annotations are the container
 * author's: the profile must be a valid name, the Kubernetes labels only
 * [A-Za-z0-9._-], and the name valid, the same for the same input.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/engine/ephemeral.h"
#include "daemon/engine/oci_state.h"
#include "tests/fuzz/fuzz.h"

/* Inputs up to this size are checked at every cut; longer ones at about this many cuts. */
#define ALL_CUTS_MAX 512

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static bool name_ok(const char *name)
{
	return name[0] == '\0' || container_name_valid(name);
}

static bool same_state(const struct oci_state *a, const struct oci_state *b)
{
	return a->seccomp_fd_index == b->seccomp_fd_index && a->pid == b->pid &&
	       a->init_pid == b->init_pid && strcmp(a->metadata, b->metadata) == 0 &&
	       strcmp(a->id, b->id) == 0 && strcmp(a->raw_metadata, b->raw_metadata) == 0 &&
	       strcmp(a->raw_id, b->raw_id) == 0 && memcmp(&a->k8s, &b->k8s, sizeof(a->k8s)) == 0;
}

static bool label_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789._-") == n;
}

/* What an ephemeral container would be made of this state. */
static void check_ephemeral(const struct oci_state *st)
{
	char profile[CONTAINER_NAME_MAX + 1] = "", name[CONTAINER_NAME_MAX + 1],
	     again[CONTAINER_NAME_MAX + 1];
	int r = ephemeral_parse_metadata(st->raw_metadata, profile);

	FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL, "ephemeral_parse_metadata() returned %d", r);
	FUZZ_CHECK(r != 1 || container_name_valid(profile), "profile '%s' accepted", profile);
	FUZZ_CHECK(label_ok(st->k8s.namespace, sizeof(st->k8s.namespace)) &&
			   label_ok(st->k8s.pod, sizeof(st->k8s.pod)) &&
			   label_ok(st->k8s.container, sizeof(st->k8s.container)),
		   "Kubernetes labels '%s' '%s' '%s'", st->k8s.namespace, st->k8s.pod,
		   st->k8s.container);
	r = ephemeral_name(&st->k8s, st->raw_id, name);
	FUZZ_CHECK(r == 0 || r == -EINVAL, "ephemeral_name() returned %d", r);
	if (r < 0)
		return;
	FUZZ_CHECK(container_name_valid(name), "ephemeral name '%s'", name);
	FUZZ_CHECK(ephemeral_name(&st->k8s, st->raw_id, again) == 0 && strcmp(name, again) == 0,
		   "ephemeral name '%s' then '%s'", name, again);
}

/* Parse exactly @len bytes of @data, in a buffer of that size so ASan sees over-reads. */
static int parse_prefix(const uint8_t *data, size_t len, struct oci_state *ret)
{
	char *buf = fuzz_memdup(data, len);
	int r = oci_state_parse(buf, len, ret);

	free(buf);
	return r;
}

/* Returns true once the cut holds the whole state: longer cuts hold the same bytes of it. */
static bool check_cut(const uint8_t *data, size_t size, size_t cut, const struct oci_state *whole)
{
	struct oci_state part;
	int r = parse_prefix(data, cut, &part);

	FUZZ_CHECK(r == 0 || (r == 1 && same_state(&part, whole)),
		   "a complete state of %zu bytes cut after %zu bytes gives %d", size, cut, r);
	return r == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_state whole;
	size_t step;
	int r = parse_prefix(data, size, &whole);

	FUZZ_CHECK(r == 0 || r == 1 || r == -EBADMSG, "oci_state_parse() returned %d", r);
	if (r != 1)
		return 0;
	FUZZ_CHECK(whole.seccomp_fd_index >= 0 && whole.pid >= 0 && whole.init_pid >= 0,
		   "fd index %d, pid %d, init pid %d", whole.seccomp_fd_index, (int)whole.pid,
		   (int)whole.init_pid);
	FUZZ_CHECK(name_ok(whole.metadata) && name_ok(whole.id), "metadata '%s', id '%s'",
		   whole.metadata, whole.id);
	check_ephemeral(&whole);
	step = size <= ALL_CUTS_MAX ? 1 : size / ALL_CUTS_MAX;
	for (size_t cut = 0; cut < size; cut += step)
		if (check_cut(data, size, cut, &whole))
			break;
	return 0;
}
