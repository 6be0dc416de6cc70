/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing the OCI "container process state" that runc and crun send to
 * listenerPath. runc 1.1 never closes the connection and crun pretty-prints,
 * so a message is complete as soon as one JSON object parses, not at EOF.
 * Called by the intake thread; pure.
 */
#include <string.h>

#include "daemon/oci_intake.h"

static void copy_name(char *dst, const char *src)
{
	dst[0] = '\0';
	if (src && container_name_valid(src))
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
	return 0;
}

int oci_state_parse(const char *buf, size_t len, struct oci_state *ret)
{
	json_error_t err;
	json_t *root;
	size_t start = 0;
	int r;

	while (start < len && strchr(" \t\r\n", buf[start]))
		start++;
	if (start == len)
		return 0;
	if (buf[start] != '{')
		return -EBADMSG;
	/* stop after one complete value: the runtime may keep the connection open */
	root = json_loadb(buf + start, len - start, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES,
			  &err);
	if (!root)
		return json_error_code(&err) == json_error_premature_end_of_input ? 0 : -EBADMSG;
	r = extract(root, ret);
	json_decref(root);
	return r < 0 ? r : 1;
}
