// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard function register FILE        a policy file and the code it names, with the daemon
 * fnguard function list [--json]        what is registered
 * fnguard function remove NAME[:VERSION]
 *
 * register reads the policy here, with the user's rights, and sends its contents: the daemon
 * (often root) must not be talked into reading files the user could not. The policy is checked
 * here first, as `fnguard policy check` does, so that mistakes are shown with their line and
 * column before anything is sent, and so that the name and version are known for the answer
 * (the daemon's answer to register carries no result).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "telemetry.h"

static void usage_function(FILE *f)
{
	fprintf(
	    f, "Usage: fnguard function register [--socket PATH] FILE\n"
	       "       fnguard function list [--json] [--socket PATH]\n"
	       "       fnguard function remove [--socket PATH] NAME[:VERSION]\n"
	       "\n"
	       "Commands:\n"
	       "  register   register a function: its policy file and the code directory it names\n"
	       "  list       list the registered functions\n"
	       "  remove     remove a function, one version or every version\n"
	       "\n"
	       "Examples:\n"
	       "  fnguard function register thumbnailer/policy.yaml\n"
	       "  fnguard function list\n"
	       "  fnguard function remove thumbnailer:3\n"
	       "\n"
	       "The daemon's socket is --socket PATH, else $FNGUARD_SOCKET, "
	       "else\n" FNGUARD_SOCKET_DEFAULT ".\n"
	       "Exit status: 0 done, 1 failed, 2 usage, 3 the daemon is unreachable.\n");
}

static void usage_register(FILE *f)
{
	fprintf(
	    f,
	    "Usage: fnguard function register [--socket PATH] FILE\n"
	    "\n"
	    "Registers the function a policy file describes (its function: section names it,\n"
	    "its version, its code directory and its handler) with the daemon. The file is read\n"
	    "and checked here, with your rights, as 'fnguard policy check' does, then its "
	    "contents\n"
	    "are sent; a relative function.code is resolved against the directory the file is in\n"
	    "(after following symbolic links). On success prints 'registered NAME:VERSION'.\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH   the daemon's socket (else $FNGUARD_SOCKET, else\n"
	    "                  " FNGUARD_SOCKET_DEFAULT ")\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Exit status: 0 registered, 1 the policy is invalid or the daemon refused it,\n"
	    "2 usage, 3 the daemon is unreachable.\n"
	    "\n"
	    "Examples:\n"
	    "  fnguard function register thumbnailer/policy.yaml\n"
	    "  fnguard function register --socket /tmp/fnguard.sock policy.yaml\n");
}

static void usage_list(FILE *f)
{
	fprintf(f,
		"Usage: fnguard function list [--json] [--socket PATH]\n"
		"\n"
		"Lists the registered functions as a table: NAME VERSION KIND HANDLER REGISTERED\n"
		"(REGISTERED in UTC).\n"
		"\n"
		"Options:\n"
		"  --json          JSON lines instead: one object per function and line, with the\n"
		"                  keys name, version, kind, handler, code_dir and registered\n"
		"                  (RFC 3339, UTC, nanoseconds); nothing when none is registered\n"
		"  --socket PATH   the daemon's socket (else $FNGUARD_SOCKET, else\n"
		"                  " FNGUARD_SOCKET_DEFAULT ")\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 listed, 1 failed, 2 usage, 3 the daemon is unreachable.\n"
		"\n"
		"Examples:\n"
		"  fnguard function list\n"
		"  fnguard function list --json | jq -r 'select(.kind == \"microvm\") | .name'\n");
}

static void usage_remove(FILE *f)
{
	fprintf(f,
		"Usage: fnguard function remove [--socket PATH] NAME[:VERSION]\n"
		"\n"
		"Removes one version of a function, or every version when VERSION is not given.\n"
		"On success prints 'removed NAME:VERSION' (or 'removed NAME (every version)').\n"
		"\n"
		"Options:\n"
		"  --socket PATH   the daemon's socket (else $FNGUARD_SOCKET, else\n"
		"                  " FNGUARD_SOCKET_DEFAULT ")\n"
		"  -h, --help      show this help\n"
		"\n"
		"Exit status: 0 removed, 1 failed (e.g. no such function), 2 usage,\n"
		"3 the daemon is unreachable.\n"
		"\n"
		"Examples:\n"
		"  fnguard function remove thumbnailer:3\n"
		"  fnguard function remove thumbnailer\n");
}

/* Options of every subcommand: --socket, --help, and --json where @json is not NULL. */
static int parse_opts(const char *cmd, int argc, char **argv, void (*usage)(FILE *f),
		      const char **socket, bool *json, int *operands)
{
	static const struct option with_json[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	static const struct option without_json[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*operands = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", json ? with_json : without_json, NULL)) != -1) {
		switch (c) {
		case 's':
			*socket = optarg;
			break;
		case 'j':
			*json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return client_option_error(cmd, c, argv);
		}
	}
	*operands = argc - optind;
	return EXIT_OK;
}

/* code_dir: the directory of the policy file itself, wherever a symlink to it points from. */
static int policy_dir(const char *file, char **dir)
{
	char *real = realpath(file, NULL);

	*dir = NULL;
	if (!real)
		return -errno;
	*dir = strdup(dirname(real));
	free(real);
	return *dir ? 0 : -ENOMEM;
}

static int cmd_function_register(int argc, char **argv)
{
	const char *socket = NULL, *file;
	char what[PATH_MAX + 32], *yaml = NULL, *dir = NULL;
	Fnguard__V1__RegisterFunction reg = FNGUARD__V1__REGISTER_FUNCTION__INIT;
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Response *resp;
	struct fng_policy *p = NULL;
	struct policy_diags diags;
	struct client c = {.fd = -1};
	int status, n, fd, err;
	size_t len;

	status = parse_opts("function register", argc, argv, usage_register, &socket, NULL, &n);
	if (status != EXIT_OK || n < 0)
		return status;
	if (n != 1) {
		log_warnx("function register: %s (see 'fnguard function register --help')",
			  n ? "exactly one FILE, please" : "no FILE given");
		return EXIT_USAGE;
	}
	file = argv[optind];
	snprintf(what, sizeof(what), "function register %s", file);

	/* 1. the file, read with the user's rights */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("%s: cannot open", what);
		return EXIT_FAIL;
	}
	err = client_read_all(fd, FNG_POLICY_MAX_SIZE, &yaml, &len);
	close(fd);
	if (err == -EFBIG) {
		log_warnx("%s: the file is over 1 MiB (policy files are at most 1 MiB)", what);
		return EXIT_FAIL;
	}
	if (err) {
		log_warnx("%s: cannot read: %s", what, strerror(-err));
		return EXIT_FAIL;
	}
	/* 2. where its relative function.code points: the file's own directory */
	err = policy_dir(file, &dir);
	if (err) {
		log_warnx("%s: cannot resolve the file's directory: %s", what, strerror(-err));
		status = EXIT_FAIL;
		goto out;
	}
	/* 3. checked here, for line and column in every message and for NAME:VERSION */
	policy_diags_init(&diags);
	err = policy_load_buffer(file, yaml, len, dir, &p, &diags);
	if (err && diags.n == 0)
		log_warnx("%s: %s", what, strerror(-err));
	policy_diags_print(&diags, stderr);
	policy_diags_free(&diags);
	if (err) {
		status = EXIT_FAIL;
		goto out;
	}
	if (!p->function.present) {
		log_warnx("%s: the policy has no function: section (name, version, code, handler "
			  "are needed to register)",
			  what);
		status = EXIT_FAIL;
		goto out;
	}
	/* 4. sent */
	if (client_open(&c, socket)) {
		status = EXIT_UNREACHABLE;
		goto out;
	}
	reg.policy_case = FNGUARD__V1__REGISTER_FUNCTION__POLICY_POLICY_YAML;
	reg.policy_yaml.data = (uint8_t *)yaml;
	reg.policy_yaml.len = len;
	reg.policy_name = (char *)file;
	reg.code_dir = dir;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION;
	req.register_function = &reg;
	if (client_call(&c, what, &req, FNGUARD__V1__RESPONSE__RESULT__NOT_SET, &resp)) {
		status = EXIT_FAIL;
		goto out;
	}
	client_response_free(resp);
	printf("registered %s:%s\n", p->function.name, p->function.version);
	status = client_stdout_finish("function register");
out:
	client_close(&c);
	policy_free(p);
	free(dir);
	free(yaml);
	return status;
}

static void list_json(const Fnguard__V1__FunctionList *l)
{
	char when[64];
	size_t i;

	for (i = 0; i < l->n_functions; i++) {
		const Fnguard__V1__Function *fn = l->functions[i];
		struct json_writer w;

		json_writer_init(&w, stdout, 0);
		json_object_begin(&w);
		json_key(&w, "name");
		json_string(&w, fn->name);
		json_key(&w, "version");
		json_string(&w, fn->version);
		json_key(&w, "kind");
		json_string(&w, telemetry_env_kind_name(fn->kind));
		json_key(&w, "handler");
		json_string(&w, fn->handler);
		json_key(&w, "code_dir");
		json_string(&w, fn->code_dir);
		telemetry_time_format(fn->registered_unix_nano, when, sizeof(when));
		json_key(&w, "registered");
		json_string(&w, when);
		json_object_end(&w);
		json_writer_finish(&w);
		putchar('\n');
	}
}

/* "2026-11-03T09:15:02Z": seconds are enough to tell registrations apart by eye. */
static void registered_format(int64_t unix_nano, char *buf, size_t len)
{
	char full[64];

	telemetry_time_format(unix_nano, full, sizeof(full));
	snprintf(buf, len, "%.19sZ", full);
}

static int width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void list_table(const Fnguard__V1__FunctionList *l)
{
	int wn = 4, wv = 7, wk = 4, wh = 7;
	char when[64];
	size_t i;

	for (i = 0; i < l->n_functions; i++) {
		wn = width(wn, l->functions[i]->name);
		wv = width(wv, l->functions[i]->version);
		wk = width(wk, telemetry_env_kind_name(l->functions[i]->kind));
		wh = width(wh, l->functions[i]->handler);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wn, "NAME", wv, "VERSION", wk, "KIND", wh, "HANDLER",
	       "REGISTERED");
	for (i = 0; i < l->n_functions; i++) {
		const Fnguard__V1__Function *fn = l->functions[i];

		registered_format(fn->registered_unix_nano, when, sizeof(when));
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wn, fn->name, wv, fn->version, wk,
		       telemetry_env_kind_name(fn->kind), wh, fn->handler, when);
	}
}

static int cmd_function_list(int argc, char **argv)
{
	Fnguard__V1__ListFunctions list = FNGUARD__V1__LIST_FUNCTIONS__INIT;
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Response *resp;
	struct client c = {.fd = -1};
	const char *socket = NULL;
	bool json = false;
	int status, n;

	status = parse_opts("function list", argc, argv, usage_list, &socket, &json, &n);
	if (status != EXIT_OK || n < 0)
		return status;
	if (n) {
		log_warnx("function list: unexpected argument '%s' (see 'fnguard function list "
			  "--help')",
			  argv[optind]);
		return EXIT_USAGE;
	}
	if (client_open(&c, socket))
		return EXIT_UNREACHABLE;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_LIST_FUNCTIONS;
	req.list_functions = &list;
	status =
	    client_call(&c, "function list", &req, FNGUARD__V1__RESPONSE__RESULT_FUNCTIONS, &resp);
	client_close(&c);
	if (status)
		return EXIT_FAIL;
	client_stdout_prepare();
	if (json)
		list_json(resp->functions);
	else
		list_table(resp->functions);
	client_response_free(resp);
	return client_stdout_finish("function list");
}

static int cmd_function_remove(int argc, char **argv)
{
	Fnguard__V1__RemoveFunction rm = FNGUARD__V1__REMOVE_FUNCTION__INIT;
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	char what[CLIENT_REF_LEN + 32], refs[CLIENT_REF_LEN];
	Fnguard__V1__Response *resp;
	struct client c = {.fd = -1};
	struct client_ref ref;
	const char *socket = NULL;
	int status, n;

	status = parse_opts("function remove", argc, argv, usage_remove, &socket, NULL, &n);
	if (status != EXIT_OK || n < 0)
		return status;
	if (n != 1) {
		log_warnx("function remove: %s (see 'fnguard function remove --help')",
			  n ? "exactly one NAME[:VERSION], please" : "no NAME given");
		return EXIT_USAGE;
	}
	if (client_ref_parse("function remove", argv[optind], &ref))
		return EXIT_USAGE;
	client_ref_format(&ref, refs);
	snprintf(what, sizeof(what), "function remove %s", refs);
	if (client_open(&c, socket))
		return EXIT_UNREACHABLE;
	rm.name = ref.name;
	rm.version = ref.version;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_REMOVE_FUNCTION;
	req.remove_function = &rm;
	status = client_call(&c, what, &req, FNGUARD__V1__RESPONSE__RESULT__NOT_SET, &resp);
	client_close(&c);
	if (status)
		return EXIT_FAIL;
	client_response_free(resp);
	printf("removed %s%s\n", refs, ref.version[0] ? "" : " (every version)");
	return client_stdout_finish("function remove");
}

static const struct cmd function_cmds[] = {
    {"register", cmd_function_register, "register a function"},
    {"list", cmd_function_list, "list the registered functions"},
    {"remove", cmd_function_remove, "remove a function"},
};

int cmd_function(int argc, char **argv)
{
	return cmd_dispatch("function", function_cmds,
			    sizeof(function_cmds) / sizeof(function_cmds[0]), argc, argv,
			    usage_function);
}
