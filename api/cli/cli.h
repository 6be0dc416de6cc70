/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

/*
 * interceptctl: the command-line client of the interceptd API. One process,
 * one thread; each command makes a few HTTP requests over the API's unix
 * socket (client.h) and prints the answer as a table, JSON or YAML (output.h).
 */

/* The API socket when neither --socket nor $INTERCEPTD_SOCKET names one. */
#define CLI_DEFAULT_SOCKET "/run/interceptd/api.sock"

enum output_format {
	FORMAT_TABLE,
	FORMAT_JSON,
	FORMAT_YAML,
};

/* What the command line asked for; every command reads it. */
struct cli {
	const char *socket;
	const char *collection; /* "containers", or "profiles" for the profile commands */
	enum output_format format;
	/* policy */
	bool want_lxc, want_oci;
	const char *merge_into;
	bool trap_denied; /* --trap-denied: the merge traps calls the base denies too */
	/* monitor */
	const char *event_type, *event_container;
	/* the words after the command */
	char **args;
	size_t n_args;
};

/* "containers" unless a profile command set c->collection. */
static inline const char *cli_collection(const struct cli *c)
{
	return c->collection ? c->collection : "containers";
}

/*
 * GET @path and print its metadata: as a JSON or YAML document, or, in the
 * table format, through @print_table (NULL: as a JSON document then too).
 * Returns 0 or a negative errno after printing what went wrong.
 */
int cli_show(const struct cli *c, const char *path, int (*print_table)(const json_t *meta));

/* cli_show() of the command's collection path + the first argument + @suffix. */
int cli_show_container(const struct cli *c, const char *suffix,
		       int (*print_table)(const json_t *meta));

/*
 * The commands. Each returns 0 on success or a negative errno after printing
 * what went wrong to stderr (main turns that into exit status 1). The command
 * line has been checked against the command's arity and options already.
 */
int cmd_list(const struct cli *c);
int cmd_show(const struct cli *c);
int cmd_create(const struct cli *c);
int cmd_set(const struct cli *c);
int cmd_unset(const struct cli *c);
int cmd_delete(const struct cli *c);
int cmd_state(const struct cli *c);
int cmd_policy(const struct cli *c);
int cmd_metrics(const struct cli *c);
int cmd_monitor(const struct cli *c);
int cmd_info(const struct cli *c);
/* profile assign CONTAINER [PROFILE...]: the container's profile list, in order. */
int cmd_profile_assign(const struct cli *c);
/* The words bash completion offers (hidden command "__complete WHAT"). */
int cmd_complete(const struct cli *c);
