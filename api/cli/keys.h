/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Configuration keys on the command line: "mknod" is short for
 * "security.syscalls.intercept.mknod", "mount.allowed" for
 * "security.syscalls.intercept.mount.allowed". Which keys exist is the
 * daemon's to say (it refuses an unknown key with a message naming it), so
 * nothing here lists them. Pure functions.
 */

#define KEY_PREFIX "security.syscalls.intercept."

/* @key in full: a key that does not start with "security." gets KEY_PREFIX. malloc'd or NULL. */
char *keys_expand(const char *key);

/* The short form of @key for display: @key without KEY_PREFIX (or @key itself). */
const char *keys_shorten(const char *key);

/*
 * Split a "KEY=VALUE" argument: *ret_key gets the key expanded (malloc'd),
 * *ret_value points into @arg after the first '='. -EINVAL when there is no
 * '=' or the key is empty, -ENOMEM.
 */
int keys_parse_assignment(const char *arg, char **ret_key, const char **ret_value);
