// SPDX-License-Identifier: Apache-2.0
/*
 * Subcommands of the fnguard CLI. Each one is a function that gets its own argv (argv[0] is
 * the subcommand's name) and returns the exit status. Add a command: write cmd_NAME.c with
 * an int cmd_NAME(int argc, char **argv), declare it here and add a row to main.c's table.
 */
#ifndef FNGUARD_CMD_H
#define FNGUARD_CMD_H

#include <stdio.h>

/* Exit statuses shared by the subcommands (docs/cli.md). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3 /* the daemon: no socket, refused, not allowed */

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/*
 * Looks argv[1] up in cmds: --help/-h/help print usage to stdout (0), a missing or unknown
 * name prints it to stderr (2), else the command runs with argv + 1. prefix is the parent
 * command's words after "fnguard" ("policy"; "" at the top), for messages.
 */
int cmd_dispatch(const char *prefix, const struct cmd *cmds, size_t n, int argc, char **argv,
		 void (*usage)(FILE *f));
/* True for "-h" and "--help". */
int cmd_is_help(const char *arg);

int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_function(int argc, char **argv);
int cmd_invoke(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_envs(int argc, char **argv);
int cmd_runtime(int argc, char **argv);

#endif
