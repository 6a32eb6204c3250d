// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard: the command line. The commands are rows of a table; everything they print on
 * failure goes to stderr as "fnguard: <what failed>: <why>".
 */
#include <string.h>

#include "cmd.h"
#include "log.h"

static const struct cmd commands[] = {
    {"policy", cmd_policy, "check policy files, show them normalized as JSON"},
    {"run", cmd_run, "run a command confined by a policy, no daemon needed"},
    {"status", cmd_status, "which enforcement backends work on this kernel, and why not"},
    {"function", cmd_function, "register, list and remove functions with the daemon"},
    {"invoke", cmd_invoke, "invoke a function and print its response"},
    {"events", cmd_events, "the daemon's telemetry stream: denials, invocations, logs, ..."},
    {"envs", cmd_envs, "the daemon's execution environments"},
    {"runtime", cmd_runtime, "build and list the runtimes' root images (python3, nodejs, provided)"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: fnguard COMMAND [ARG...]\n\nCommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nExamples:\n"
		   "  fnguard policy check policy.yaml\n"
		   "  fnguard policy show policy.yaml\n"
		   "  fnguard function register thumbnailer/policy.yaml\n"
		   "  echo '{}' | fnguard invoke thumbnailer --payload -\n"
		   "  fnguard events --follow --type denial\n"
		   "\nRun 'fnguard COMMAND --help' for a command's options and examples.\n");
}

int cmd_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int cmd_dispatch(const char *prefix, const struct cmd *cmds, size_t n, int argc, char **argv,
		 void (*print_usage)(FILE *f))
{
	size_t i;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (cmd_is_help(argv[1]) || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	log_warnx("%s%s%s: no such command (see 'fnguard%s%s --help')", prefix, *prefix ? " " : "",
		  argv[1], *prefix ? " " : "", prefix);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	log_init("fnguard", 0);
	return cmd_dispatch("", commands, N_COMMANDS, argc, argv, usage);
}
