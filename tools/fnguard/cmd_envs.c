// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard envs [--json]: the daemon's execution environments (microVMs or confined process
 * trees), one per row, so that an operator can see what is warm, what is busy and what has
 * been running for too long.
 */
#include <getopt.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "json.h"
#include "log.h"
#include "telemetry.h"

static void usage_envs(FILE *f)
{
	fprintf(
	    f,
	    "Usage: fnguard envs [--json] [--socket PATH]\n"
	    "\n"
	    "Lists the daemon's execution environments as a table:\n"
	    "  ID FUNCTION VERSION KIND STATE AGE INVOCATIONS\n"
	    "KIND is microvm or process; STATE is starting, ready (warm, idle), busy, recycled\n"
	    "or failed; AGE is the time since it started starting (3.2s, 5m10s, 2h05m, 3d04h).\n"
	    "\n"
	    "Options:\n"
	    "  --json          JSON lines instead: one object per environment and line, with the\n"
	    "                  keys id, function, version, kind, state, age_ns and invocations\n"
	    "  --socket PATH   the daemon's socket (else $FNGUARD_SOCKET, else\n"
	    "                  " FNGUARD_SOCKET_DEFAULT ")\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Exit status: 0 listed, 1 failed, 2 usage, 3 the daemon is unreachable.\n"
	    "\n"
	    "Examples:\n"
	    "  fnguard envs\n"
	    "  fnguard envs --json | jq -r 'select(.state == \"busy\") | .id'\n");
}

static void envs_json(const Fnguard__V1__EnvList *l)
{
	size_t i;

	for (i = 0; i < l->n_envs; i++) {
		const Fnguard__V1__Env *e = l->envs[i];
		struct json_writer w;

		json_writer_init(&w, stdout, 0);
		json_object_begin(&w);
		json_key(&w, "id");
		json_string(&w, e->id);
		json_key(&w, "function");
		json_string(&w, e->function);
		json_key(&w, "version");
		json_string(&w, e->version);
		json_key(&w, "kind");
		json_string(&w, telemetry_env_kind_name(e->kind));
		json_key(&w, "state");
		json_string(&w, telemetry_env_phase_name(e->state));
		json_key(&w, "age_ns");
		json_uint(&w, e->age_ns);
		json_key(&w, "invocations");
		json_uint(&w, e->invocations);
		json_object_end(&w);
		json_writer_finish(&w);
		putchar('\n');
	}
}

static int width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void envs_table(const Fnguard__V1__EnvList *l)
{
	int wi = 2, wf = 8, wv = 7, wk = 4, ws = 5, wa = 3;
	char age[32];
	size_t i;

	for (i = 0; i < l->n_envs; i++) {
		wi = width(wi, l->envs[i]->id);
		wf = width(wf, l->envs[i]->function);
		wv = width(wv, l->envs[i]->version);
		wk = width(wk, telemetry_env_kind_name(l->envs[i]->kind));
		ws = width(ws, telemetry_env_phase_name(l->envs[i]->state));
		client_duration_format(l->envs[i]->age_ns, age, sizeof(age));
		wa = width(wa, age);
	}
	/* AGE right-aligned: "3.2s" over "5m10s" reads as a number column */
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %*s  %s\n", wi, "ID", wf, "FUNCTION", wv, "VERSION",
	       wk, "KIND", ws, "STATE", wa, "AGE", "INVOCATIONS");
	for (i = 0; i < l->n_envs; i++) {
		const Fnguard__V1__Env *e = l->envs[i];

		client_duration_format(e->age_ns, age, sizeof(age));
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %*s  %llu\n", wi, e->id, wf, e->function, wv,
		       e->version, wk, telemetry_env_kind_name(e->kind), ws,
		       telemetry_env_phase_name(e->state), wa, age,
		       (unsigned long long)e->invocations);
	}
}

int cmd_envs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	Fnguard__V1__ListEnvs list = FNGUARD__V1__LIST_ENVS__INIT;
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Response *resp;
	struct client c = {.fd = -1};
	const char *socket = NULL;
	bool json = false;
	int ch, status;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			usage_envs(stdout);
			return EXIT_OK;
		default:
			return client_option_error("envs", ch, argv);
		}
	}
	if (optind < argc) {
		log_warnx("envs: unexpected argument '%s' (see 'fnguard envs --help')",
			  argv[optind]);
		return EXIT_USAGE;
	}
	if (client_open(&c, socket))
		return EXIT_UNREACHABLE;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_LIST_ENVS;
	req.list_envs = &list;
	status = client_call(&c, "envs", &req, FNGUARD__V1__RESPONSE__RESULT_ENVS, &resp);
	client_close(&c);
	if (status)
		return EXIT_FAIL;
	client_stdout_prepare();
	if (json)
		envs_json(resp->envs);
	else
		envs_table(resp->envs);
	client_response_free(resp);
	return client_stdout_finish("envs");
}
