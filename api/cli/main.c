/* SPDX-License-Identifier: Apache-2.0 */
/*
 * interceptctl entry point: options, the command table, the checks of a
 * command line against its command (arity, options, KEY=VALUE words), and
 * exit statuses: 0 success, 1 the command failed (the reason is on stderr),
 * 2 the command line is wrong.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/cli/cli.h"
#include "api/cli/keys.h"
#include "api/cli/output.h"
#include "version.h"

#define EXIT_USAGE 2

/* Options beyond --socket and --format, and the commands that take them. */
enum {
	OPT_LXC = 1 << 0,
	OPT_OCI = 1 << 1,
	OPT_MERGE_INTO = 1 << 2,
	OPT_TYPE = 1 << 3,
	OPT_CONTAINER = 1 << 4,
	OPT_TRAP_DENIED = 1 << 5,
};

struct command {
	const char *name;
	size_t min_args, max_args;
	unsigned options;
	bool has_name;	      /* the first word, when given, is a container's name */
	bool has_assignments; /* the words after NAME are KEY=VALUE */
	int (*run)(const struct cli *c);
};

/* The commands that "interceptctl" and "interceptctl profile" share, one collection each. */
#define COLLECTION_COMMANDS                                        \
	{ "list", 0, 0, 0, false, false, cmd_list },               \
	{ "show", 1, 1, 0, true, false, cmd_show },                \
	{ "create", 1, SIZE_MAX, 0, true, true, cmd_create },      \
	{ "set", 2, SIZE_MAX, 0, true, true, cmd_set },            \
	{ "unset", 2, SIZE_MAX, 0, true, false, cmd_unset },       \
	{ "delete", 1, 1, 0, true, false, cmd_delete }

static const struct command commands[] = {
	COLLECTION_COMMANDS,
	{ "state", 1, 1, 0, true, false, cmd_state },
	{ "policy", 1, 1, OPT_LXC | OPT_OCI | OPT_MERGE_INTO | OPT_TRAP_DENIED, true, false,
	  cmd_policy },
	{ "metrics", 0, 1, 0, true, false, cmd_metrics },
	{ "monitor", 0, 0, OPT_TYPE | OPT_CONTAINER, false, false, cmd_monitor },
	{ "info", 0, 0, 0, false, false, cmd_info },
	{ "__complete", 1, 1, 0, false, false, cmd_complete },
};

/* "interceptctl profile COMMAND": the same commands on /1.0/profiles, and assign. */
static const struct command profile_commands[] = {
	COLLECTION_COMMANDS,
	{ "policy", 1, 1, OPT_LXC | OPT_OCI | OPT_MERGE_INTO | OPT_TRAP_DENIED, true, false,
	  cmd_policy },
	{ "assign", 1, SIZE_MAX, 0, true, false, cmd_profile_assign },
};

static void help(void)
{
	printf("Usage: interceptctl [--socket PATH] [--format table|json|yaml] COMMAND [ARGS]\n\n"
	       "Drive interceptd, the seccomp user-notification supervisor, over its API socket.\n\n"
	       "Commands:\n"
	       "  list                          the registered containers\n"
	       "  show NAME                     a container: config, creation time, ETag\n"
	       "  create NAME [KEY=VALUE...]    register a container\n"
	       "  set NAME KEY=VALUE...         set keys (an empty VALUE removes the key)\n"
	       "  unset NAME KEY...             remove keys\n"
	       "  delete NAME                   unregister a container\n"
	       "  state NAME                    listeners, answers, keys that need a restart\n"
	       "  policy NAME --lxc             the LXC config lines\n"
	       "  policy NAME --oci             the OCI linux.seccomp object\n"
	       "  policy NAME --oci --merge-into CONFIG [--trap-denied]\n"
	       "                                merge the rules into a bundle's config.json;\n"
	       "                                --trap-denied traps calls its profile denies too\n"
	       "  metrics [NAME]                answers and latencies by container and syscall\n"
	       "  monitor [--type TYPE] [--container NAME]\n"
	       "                                print the daemon's events as they happen\n"
	       "  info                          the daemon: version, kernel features, sockets\n"
	       "  profile list|show|create|set|unset|delete|policy ...\n"
	       "                                the same for profiles (shared sets of keys)\n"
	       "  profile assign NAME [PROFILE...]\n"
	       "                                the profiles container NAME applies, in order\n\n"
	       "Options:\n"
	       "  --socket PATH    API socket [$INTERCEPTD_SOCKET, else " CLI_DEFAULT_SOCKET "]\n"
	       "  --format FORMAT  table, json or yaml%s [table]\n"
	       "  --help           show this help\n"
	       "  --version        show the version\n\n"
	       "A key may be short: mknod stands for " KEY_PREFIX "mknod.\n"
	       "Exit status: 0 done, 1 the command failed, 2 the command line is wrong.\n",
	       output_yaml_available() ? "" : " (yaml: not built in)");
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (interceptctl --help)\n", stderr);
	return -EINVAL;
}

static int parse_format(struct cli *c, const char *arg)
{
	int f = output_format_from_string(arg);

	if (f == -EOPNOTSUPP)
		return usage_error("this interceptctl was built without YAML support, not '%s'",
				   arg);
	if (f < 0)
		return usage_error("--format takes table, json or yaml, not '%s'", arg);
	c->format = f;
	return 0;
}

/* Returns 1 to run a command, 0 after --help or --version, < 0 on a usage error. */
static int parse_argv(int argc, char **argv, struct cli *c, unsigned *ret_options)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "lxc", no_argument, NULL, 'L' },
		{ "oci", no_argument, NULL, 'O' },
		{ "merge-into", required_argument, NULL, 'M' },
		{ "trap-denied", no_argument, NULL, 'D' },
		{ "type", required_argument, NULL, 'T' },
		{ "container", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	unsigned seen = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (opt) {
		case 's': c->socket = optarg; break;
		case 'f':
			if (parse_format(c, optarg) < 0)
				return -EINVAL;
			break;
		case 'L': c->want_lxc = true; seen |= OPT_LXC; break;
		case 'O': c->want_oci = true; seen |= OPT_OCI; break;
		case 'M': c->merge_into = optarg; seen |= OPT_MERGE_INTO; break;
		case 'D': c->trap_denied = true; seen |= OPT_TRAP_DENIED; break;
		case 'T': c->event_type = optarg; seen |= OPT_TYPE; break;
		case 'C': c->event_container = optarg; seen |= OPT_CONTAINER; break;
		case 'h': help(); return 0;
		case 'V': printf("interceptctl %s\n", INTERCEPTD_VERSION); return 0;
		default: return -EINVAL; /* getopt printed why */
		}
	}
	*ret_options = seen;
	return 1;
}

static const struct command *find_in(const struct command *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* The command at argv[optind] ("profile" and its subcommand take two words). */
static const struct command *find_command(struct cli *c, int argc, char **argv)
{
	if (strcmp(argv[optind], "profile") != 0)
		return find_in(commands, ARRAY_SIZE(commands), argv[optind]);
	c->collection = "profiles";
	if (++optind >= argc)
		return NULL;
	return find_in(profile_commands, ARRAY_SIZE(profile_commands), argv[optind]);
}

static int check_policy(const struct cli *c)
{
	if (c->want_lxc == c->want_oci && !(c->merge_into && !c->want_lxc))
		return usage_error("policy takes one of --lxc and --oci");
	if (c->merge_into && c->want_lxc)
		return usage_error("--merge-into merges into an OCI config.json: use --oci");
	if (c->trap_denied && !c->merge_into)
		return usage_error("--trap-denied applies to a merge: use it with --merge-into");
	return 0;
}

/* The command line against the command: arity, options, KEY=VALUE words. */
static int check_command(const struct command *cmd, const struct cli *c, unsigned options)
{
	if (c->n_args < cmd->min_args)
		return usage_error("'%s' needs more arguments", cmd->name);
	if (c->n_args > cmd->max_args)
		return usage_error("too many arguments for '%s'", cmd->name);
	if (options & ~cmd->options)
		return usage_error("an option given does not apply to '%s'", cmd->name);
	/* the server decodes %2F before routing: a '/' would reach another route */
	if (cmd->has_name && c->n_args > 0 && strchr(c->args[0], '/'))
		return usage_error("a container name cannot contain '/': '%s'", c->args[0]);
	for (size_t i = 1; cmd->has_assignments && i < c->n_args; i++) {
		_cleanup_free_ char *key = NULL;
		const char *value;
		int r = keys_parse_assignment(c->args[i], &key, &value);

		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return usage_error("'%s' is not KEY=VALUE", c->args[i]);
	}
	return strcmp(cmd->name, "policy") == 0 ? check_policy(c) : 0;
}

int main(int argc, char **argv)
{
	struct cli c = { .socket = getenv("INTERCEPTD_SOCKET"), .format = FORMAT_TABLE,
			 .collection = "containers" };
	const struct command *cmd;
	unsigned options = 0;
	int r;

	r = parse_argv(argc, argv, &c, &options);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : 0;
	if (!c.socket || !*c.socket)
		c.socket = CLI_DEFAULT_SOCKET;
	if (optind >= argc) {
		usage_error("no command given");
		return EXIT_USAGE;
	}
	cmd = find_command(&c, argc, argv);
	if (!cmd) {
		usage_error("unknown command '%s'", optind < argc ? argv[optind] : "profile");
		return EXIT_USAGE;
	}
	c.args = argv + optind + 1;
	c.n_args = (size_t)(argc - optind - 1);
	r = check_command(cmd, &c, options);
	if (r < 0)
		return r == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "Error: cannot initialize libcurl\n");
		return EXIT_FAILURE;
	}
	r = cmd->run(&c);
	curl_global_cleanup();
	if (r == -ENOMEM)
		fprintf(stderr, "Error: out of memory\n");
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
