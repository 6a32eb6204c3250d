// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard status: which enforcement backends work on this kernel and, for each one that does
 * not, why. Every answer comes from really loading a probe program
 * (lib/enforce/kernel_support.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "kernel_support.h"
#include "client.h"
#include "json.h"

int cmd_status(int argc, char **argv);

static void status_usage(FILE *f)
{
	fprintf(f, "usage: fnguard status [--json] [--socket PATH]\n"
		   "\n"
		   "Which enforcement backends work on this kernel, and why not where they do not.\n"
		   "Each answer comes from loading a probe program, not from version numbers.\n"
		   "Then the daemon's state, when fnguardd answers on the socket (--socket PATH,\n"
		   "else $" FNGUARD_SOCKET_ENV ", else " FNGUARD_SOCKET_DEFAULT ").\n"
		   "\n"
		   "Examples:\n"
		   "  fnguard status\n"
		   "  fnguard status --json | jq .backends\n");
}

struct status_row {
	const char *name;
	const char *enforces;
	const struct backend_support *s;
};

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct backend_status *st;
	struct utsname u;
	const char *socket = NULL;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fnguard: status: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	st = backend_status_get();
	uname(&u);
	const struct status_row rows[] = {
		{"bpf-lsm", "file, exec and socket-family rules", &st->bpf_lsm},
		{"kmod", "file, exec and socket-family rules (fallback)", &st->kmod},
		{"cgroup-net", "egress, loopback and bind rules", &st->cgroup_net},
		{"seccomp", "the syscall deny list", &st->seccomp},
	};
	const char *active = st->bpf_lsm.ok ? "bpf-lsm" : st->kmod.ok ? "kmod" : NULL;

	if (json) {
		struct json_writer w;

		json_writer_init(&w, stdout, JSON_PRETTY);
		json_object_begin(&w);
		json_key(&w, "kernel");
		json_string(&w, u.release);
		json_key(&w, "lsm");
		json_string(&w, st->lsm_list);
		json_key(&w, "cgroup2");
		json_string(&w, st->cgroup2);
		json_key(&w, "active_backend");
		if (active)
			json_string(&w, active);
		else
			json_null(&w);
		json_key(&w, "backends");
		json_array_begin(&w);
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			json_object_begin(&w);
			json_key(&w, "name");
			json_string(&w, rows[i].name);
			json_key(&w, "enforces");
			json_string(&w, rows[i].enforces);
			json_key(&w, "available");
			json_bool(&w, rows[i].s->ok);
			json_key(&w, rows[i].s->ok ? "checked" : "reason");
			json_string(&w, rows[i].s->ok ? rows[i].s->info : rows[i].s->why);
			json_object_end(&w);
		}
		json_array_end(&w);
		json_key(&w, "daemon");
		status_daemon_json(&w, socket);
		json_object_end(&w);
		json_writer_finish(&w);
		putchar('\n');
		return 0;
	}
	printf("kernel:   %s\n", u.release);
	printf("LSMs:     %s\n", st->lsm_list[0] ? st->lsm_list : "(unreadable)");
	printf("cgroup2:  %s\n", st->cgroup2[0] ? st->cgroup2 : "(not mounted)");
	printf("file/exec enforcement: %s\n",
	       active ? active : "NONE: file, exec and socket-family rules cannot be enforced");
	printf("\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%-11s %-13s %s\n            %s\n", rows[i].name,
		       rows[i].s->ok ? "available" : "unavailable", rows[i].enforces,
		       rows[i].s->ok ? rows[i].s->info : rows[i].s->why);
	printf("\n");
	status_daemon_print(stdout, false, socket);
	return 0;
}
