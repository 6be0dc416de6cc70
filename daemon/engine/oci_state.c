/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI intake's wire format: the "container process state" that runc and
 * crun send to listenerPath. runc 1.1 never closes the connection and crun
 * pretty-prints, so a message is complete as soon as one JSON object parses,
 * not at EOF. Called by the intake thread (intake_oci.c); pure.
 */
#include <string.h>

#include "daemon/engine/oci_state.h"

static void copy_name(char *dst, const char *src)
{
	dst[0] = '\0';
	if (src && container_name_valid(src))
		strcpy(dst, src);
}

/* Copy @src when it fits in @size bytes; else "". */
static void copy_bounded(char *dst, size_t size, const char *src)
{
	dst[0] = '\0';
	if (src && strlen(src) < size)
		strcpy(dst, src);
}

static int seccomp_fd_index(json_t *fds)
{
	size_t i;
	json_t *v;
	int found = -1;

	if (!json_is_array(fds))
		return -EBADMSG;
	json_array_foreach(fds, i, v) {
		if (!json_is_string(v))
			return -EBADMSG;
		if (strcmp(json_string_value(v), "seccompFd") == 0) {
			if (found >= 0)
				return -EBADMSG; /* two listeners in one message: refuse both */
			found = (int)i;
		}
	}
	return found >= 0 ? found : -EBADMSG;
}

static int extract(json_t *root, struct oci_state *ret)
{
	json_t *state = json_object_get(root, "state");
	json_t *pid = json_object_get(root, "pid"), *init = json_object_get(state, "pid");
	int index;

	if (!json_is_object(root) || !json_is_object(state))
		return -EBADMSG;
	index = seccomp_fd_index(json_object_get(root, "fds"));
	if (index < 0)
		return index;
	*ret = (struct oci_state){ .seccomp_fd_index = index };
	if (json_is_integer(pid) && json_integer_value(pid) > 0 &&
	    json_integer_value(pid) <= INT32_MAX)
		ret->pid = (pid_t)json_integer_value(pid);
	if (json_is_integer(init) && json_integer_value(init) > 0 &&
	    json_integer_value(init) <= INT32_MAX)
		ret->init_pid = (pid_t)json_integer_value(init);
	copy_name(ret->metadata, json_string_value(json_object_get(root, "metadata")));
	copy_name(ret->id, json_string_value(json_object_get(state, "id")));
	copy_bounded(ret->raw_metadata, sizeof(ret->raw_metadata),
		     json_string_value(json_object_get(root, "metadata")));
	copy_bounded(ret->raw_id, sizeof(ret->raw_id),
		     json_string_value(json_object_get(state, "id")));
	ephemeral_k8s_from_annotations(json_object_get(state, "annotations"), &ret->k8s);
	return 0;
}

/*
 * The length of the JSON object that @buf starts with ('{'), or 0 while its
 * closing brace has not arrived. A read may cut the state anywhere, also
 * inside a literal, an escape or a UTF-8 sequence, where jansson reports an
 * error instead of a premature end; so only strings and brackets are followed
 * here and jansson judges the object once it is whole.
 */
static size_t object_length(const char *buf, size_t len)
{
	bool in_string = false, is_escaped = false;
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_string) {
			if (is_escaped)
				is_escaped = false;
			else if (ch == '\\')
				is_escaped = true;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if ((ch == '}' || ch == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

int oci_state_parse(const char *buf, size_t len, struct oci_state *ret)
{
	json_t *root;
	size_t start = 0, n;
	int r;

	while (start < len && strchr(" \t\r\n", buf[start]))
		start++;
	if (start == len)
		return 0;
	if (buf[start] != '{')
		return -EBADMSG;
	/* one complete object is the message: the runtime may keep the connection open */
	n = object_length(buf + start, len - start);
	if (n == 0)
		return 0;
	root = json_loadb(buf + start, n, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return -EBADMSG;
	r = extract(root, ret);
	json_decref(root);
	return r < 0 ? r : 1;
}
