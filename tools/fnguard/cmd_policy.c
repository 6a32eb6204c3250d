// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard policy check FILE...   validate; "FILE: OK" on stdout per valid file, every problem
 *                                on stderr as FILE:LINE:COLUMN: message; exit 0, 1 or 2
 * fnguard policy show FILE       the normalized policy as JSON; exit 0 or 1
 * FILE may be "-" for standard input (then function.code is relative to the current directory).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "policy.h"

static void usage_policy(FILE *f)
{
	fprintf(f,
		"Usage: fnguard policy check FILE...\n"
		"       fnguard policy show FILE\n"
		"\n"
		"Commands:\n"
		"  check      validate policy files; exit 0 when all are valid, 1 when one is not\n"
		"  show       print a policy, normalized and with every default, as JSON\n"
		"\n"
		"Examples:\n"
		"  fnguard policy check policy.yaml\n"
		"  fnguard policy check examples/policies/*.yaml\n"
		"  fnguard policy show policy.yaml | jq .network\n"
		"\n"
		"The policy format is described in docs/policy.md.\n");
}

static void usage_check(FILE *f)
{
	fprintf(f,
		"Usage: fnguard policy check [--quiet] FILE...\n"
		"\n"
		"Validates each policy file. A valid file is confirmed on standard output as\n"
		"'FILE: OK'; every problem of an invalid one is printed on standard error as\n"
		"'FILE:LINE:COLUMN: message'. FILE '-' reads standard input.\n"
		"\n"
		"Options:\n"
		"  -q, --quiet   print nothing for valid files\n"
		"  -h, --help    show this help\n"
		"\n"
		"Exit status: 0 every file is valid, 1 a file is invalid or unreadable, 2 usage.\n"
		"\n"
		"Examples:\n"
		"  fnguard policy check policy.yaml\n"
		"  fnguard policy check -q examples/policies/*.yaml && echo all valid\n"
		"  generate-policy | fnguard policy check -\n");
}

static void usage_show(FILE *f)
{
	fprintf(f,
		"Usage: fnguard policy show FILE\n"
		"\n"
		"Prints the policy as the backends see it, as JSON on standard output: defaults\n"
		"filled in, sizes in bytes, durations in nanoseconds, addresses normalized, the\n"
		"syscall deny list expanded (built-in baseline + deny - allow) with numbers.\n"
		"Problems are printed on standard error as in 'fnguard policy check'.\n"
		"\n"
		"Options:\n"
		"  -h, --help    show this help\n"
		"\n"
		"Exit status: 0 shown, 1 the file is invalid or unreadable, 2 usage.\n"
		"\n"
		"Examples:\n"
		"  fnguard policy show policy.yaml\n"
		"  fnguard policy show policy.yaml | jq '.syscalls.deny[].name'\n");
}

/* Loads one file ("-": standard input); problems go to stderr. */
static int load(const char *file, struct fng_policy **p)
{
	struct policy_diags d;
	int r;

	policy_diags_init(&d);
	if (!strcmp(file, "-"))
		r = policy_load_fd(STDIN_FILENO, "<stdin>", NULL, p, &d);
	else
		r = policy_load_file(file, p, &d);
	if (r && d.n == 0)
		log_warnx("%s: %s", file, strerror(-r));
	policy_diags_print(&d, stderr);
	policy_diags_free(&d);
	return r;
}

/*
 * Options may come before or after the operands (until "--"). Moves the operands to
 * argv[1..n] and returns n, or -1 after printing a usage error. quiet is NULL when the
 * command has no -q.
 */
static int parse_opts(const char *cmd, int argc, char **argv, bool *help, bool *quiet)
{
	bool opts = true;
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (opts && !strcmp(a, "--")) {
			opts = false;
		} else if (!opts || a[0] != '-' || !strcmp(a, "-")) {
			argv[++n] = a;
		} else if (cmd_is_help(a)) {
			*help = true;
		} else if (quiet && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
			*quiet = true;
		} else {
			log_warnx("policy %s: unknown option '%s' (see 'fnguard policy %s --help')",
				  cmd, a, cmd);
			return -1;
		}
	}
	return n;
}

static int cmd_policy_check(int argc, char **argv)
{
	bool help = false, quiet = false;
	int n, i, status = EXIT_OK;

	n = parse_opts("check", argc, argv, &help, &quiet);
	if (n < 0)
		return EXIT_USAGE;
	if (help) {
		usage_check(stdout);
		return EXIT_OK;
	}
	if (n == 0) {
		log_warnx("policy check: no FILE given (see 'fnguard policy check --help')");
		return EXIT_USAGE;
	}
	for (i = 1; i <= n; i++) {
		struct fng_policy *p;

		if (load(argv[i], &p)) {
			status = EXIT_FAIL;
			continue;
		}
		if (!quiet)
			printf("%s: OK\n", strcmp(argv[i], "-") ? argv[i] : "<stdin>");
		policy_free(p);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("policy check: cannot write to standard output");
		return EXIT_FAIL;
	}
	return status;
}

static int cmd_policy_show(int argc, char **argv)
{
	struct fng_policy *p;
	bool help = false;
	int n, r;

	n = parse_opts("show", argc, argv, &help, NULL);
	if (n < 0)
		return EXIT_USAGE;
	if (help) {
		usage_show(stdout);
		return EXIT_OK;
	}
	if (n != 1) {
		log_warnx("policy show: %s (see 'fnguard policy show --help')",
			  n == 0 ? "no FILE given" : "exactly one FILE, please");
		return EXIT_USAGE;
	}
	if (load(argv[1], &p))
		return EXIT_FAIL;
	r = policy_to_json(p, stdout);
	policy_free(p);
	if (r) {
		log_warnx("policy show: cannot write the policy: %s", strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const struct cmd policy_cmds[] = {
    {"check", cmd_policy_check, "validate policy files"},
    {"show", cmd_policy_show, "print a normalized policy as JSON"},
};

int cmd_policy(int argc, char **argv)
{
	return cmd_dispatch("policy", policy_cmds, sizeof(policy_cmds) / sizeof(policy_cmds[0]),
			    argc, argv, usage_policy);
}
