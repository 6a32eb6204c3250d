// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard events [--follow] [--json] [--type TYPE]...: the daemon's telemetry stream
 * (docs/telemetry.md), as JSON lines for log pipelines or as one readable line per event.
 *
 * It is meant to sit at the head of a pipeline (| grep, | head, | jq): a reader that goes
 * away ends it quietly with status 0, and so does Ctrl-C while following, which is how
 * following normally ends.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "telemetry.h"

/* Set by the signal handler, which also shuts the socket down to wake the blocked read. */
static volatile sig_atomic_t stop_requested;
static int stop_fd = -1;

static void usage_events(FILE *f)
{
	fprintf(
	    f, "Usage: fnguard events [--follow] [--json] [--type TYPE]... [--socket PATH]\n"
	       "\n"
	       "Prints the daemon's telemetry events: those it holds, then, with --follow, new\n"
	       "ones as they happen until interrupted. One line per event:\n"
	       "  TIME TYPE FUNCTION:VERSION ENV DETAILS\n"
	       "TIME in UTC, '-' for what does not apply, e.g.\n"
	       "  2026-11-03T09:15:02.123Z denial     thumbnailer:3 env-7 blocked file open "
	       "/etc/shadow (rule files.default) pid 42 comm python3\n"
	       "\n"
	       "Options:\n"
	       "  -f, --follow      keep printing new events until interrupted (Ctrl-C: exit 0)\n"
	       "  --json            JSON lines instead, one event per line, with the field names\n"
	       "                    of docs/telemetry.md ('type', 'time', 'seq', 'host', ...)\n"
	       "  -t, --type TYPE   only events of this type; repeat it or separate types with\n"
	       "                    commas. Types: " TELEMETRY_TYPES "\n"
	       "  --socket PATH     the daemon's socket (else $FNGUARD_SOCKET, else\n"
	       "                    " FNGUARD_SOCKET_DEFAULT ")\n"
	       "  -h, --help        show this help\n"
	       "\n"
	       "Exit status: 0 (also when the reader of the output goes away), 1 the daemon ended\n"
	       "the stream with an error, 2 usage, 3 the daemon is unreachable.\n"
	       "\n"
	       "Examples:\n"
	       "  fnguard events --type denial\n"
	       "  fnguard events --follow --json --type denial,loss | jq -c .\n"
	       "  fnguard events -f -t invocation -t log\n");
}

static void on_stop(int sig)
{
	stop_requested = 1;
	if (stop_fd >= 0)
		shutdown(stop_fd, SHUT_RDWR); /* async-signal-safe */
}

/* ------------------------------------------------------------------ one line per event */

static void put_text(const char *s)
{
	client_text_print(stdout, s);
}

static void print_denial(const Fnguard__V1__Denial *d)
{
	printf("%s %s ", telemetry_verdict_name(d->verdict), telemetry_class_name(d->class_));
	put_text(d->op);
	if (d->target && *d->target) {
		putchar(' ');
		put_text(d->target);
	}
	if (d->rule && *d->rule) {
		printf(" (rule ");
		put_text(d->rule);
		putchar(')');
	}
	printf(" pid %u comm ", d->pid);
	put_text(d->comm);
	if (d->syscall && *d->syscall && strcmp(d->syscall, d->op)) {
		printf(" syscall ");
		put_text(d->syscall);
	}
}

static void print_invocation(const Fnguard__V1__Event *e)
{
	const Fnguard__V1__Invocation *v = e->invocation_record;
	char a[32], b[32];

	client_duration_format(v->duration_ns, a, sizeof(a));
	printf("%s exit %d in %s", telemetry_outcome_name(v->outcome), v->exit_status, a);
	if (v->cold_start) {
		client_duration_format(v->init_ns, a, sizeof(a));
		printf(" (cold start, init %s", a);
		if (v->runtime_init_ns) {
			client_duration_format(v->runtime_init_ns, a, sizeof(a));
			printf(", runtime init %s", a);
		}
		printf(")");
	}
	client_size_format(v->memory_peak_bytes, a, sizeof(a));
	printf(" memory %s", a);
	client_duration_format(v->cpu_user_ns, a, sizeof(a));
	client_duration_format(v->cpu_system_ns, b, sizeof(b));
	printf(" cpu %s user %s system denials %llu", a, b, (unsigned long long)v->denials);
	if (v->events_lost)
		printf(" events lost %llu", (unsigned long long)v->events_lost);
	if (v->error_type && *v->error_type)
		printf(" error %s: %s", v->error_type, v->error_message ? v->error_message : "");
	if (e->invocation && *e->invocation) {
		printf(" invocation ");
		put_text(e->invocation);
	}
}

static void print_human(const Fnguard__V1__Event *e)
{
	const char *type = telemetry_type_name(e);
	char when[64];

	/* milliseconds are what a person compares; --json keeps the nanoseconds */
	telemetry_time_format(e->time_unix_nano, when, sizeof(when));
	printf("%.23sZ %-10s ", when, type ? type : "unknown");
	if (e->function && *e->function) {
		put_text(e->function);
		if (e->version && *e->version) {
			putchar(':');
			put_text(e->version);
		}
	} else {
		putchar('-');
	}
	putchar(' ');
	put_text(e->env && *e->env ? e->env : "-");
	putchar(' ');
	switch (type ? e->body_case : FNGUARD__V1__EVENT__BODY__NOT_SET) {
	case FNGUARD__V1__EVENT__BODY_DENIAL:
		print_denial(e->denial);
		break;
	case FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD:
		print_invocation(e);
		break;
	case FNGUARD__V1__EVENT__BODY_ENV_STATE:
		printf("%s %s", telemetry_env_phase_name(e->env_state->state),
		       telemetry_env_kind_name(e->env_state->kind));
		if (e->env_state->reason && *e->env_state->reason) {
			printf(" (");
			put_text(e->env_state->reason);
			putchar(')');
		}
		break;
	case FNGUARD__V1__EVENT__BODY_LOG:
		put_text(e->log->stream);
		printf(": ");
		put_text(e->log->line);
		break;
	case FNGUARD__V1__EVENT__BODY_API_CALL:
		put_text(e->api_call->method);
		if (e->api_call->target && *e->api_call->target) {
			putchar(' ');
			put_text(e->api_call->target);
		}
		printf(": ");
		put_text(e->api_call->result);
		printf(" (uid %u gid %u pid %u)", e->api_call->uid, e->api_call->gid,
		       e->api_call->pid);
		break;
	case FNGUARD__V1__EVENT__BODY_LOSS:
		printf("%llu events lost (", (unsigned long long)e->loss->events_lost);
		put_text(e->loss->where);
		putchar(')');
		break;
	default:
		printf("(an event type this version of fnguard does not know)");
		break;
	}
	putchar('\n');
}

/* ------------------------------------------------------------------ options */

struct type_list {
	uint32_t mask;
	size_t n;
	char *names[32]; /* distinct types: 6 in v1, room for what later versions add */
};

/* Adds the types of one --type argument. 0, or -EINVAL after a message. */
static int types_add(struct type_list *t, const char *arg)
{
	const char *p = arg, *end;

	for (;;) {
		uint32_t one = 0;
		char *name;

		end = strchrnul(p, ',');
		name = strndup(p, (size_t)(end - p));
		if (!name) {
			log_warnx("events: %s", strerror(ENOMEM));
			return -ENOMEM;
		}
		if (telemetry_filter_add(&one, name)) {
			log_warnx(
			    "events: %s event type%s%s%s (the types are: " TELEMETRY_TYPES ")",
			    *name ? "unknown" : "empty", *name ? " '" : "", name, *name ? "'" : "");
			free(name);
			return -EINVAL;
		}
		if ((t->mask & one) || t->n == sizeof(t->names) / sizeof(t->names[0]))
			free(name); /* already asked for */
		else
			t->names[t->n++] = name;
		t->mask |= one;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static void types_free(struct type_list *t)
{
	while (t->n)
		free(t->names[--t->n]);
}

/* ------------------------------------------------------------------ the stream */

static int stream(struct client *c, const struct type_list *t, bool follow, bool json)
{
	Fnguard__V1__Subscribe sub = FNGUARD__V1__SUBSCRIBE__INIT;
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Response *r;
	bool more;

	sub.types = (char **)t->names;
	sub.n_types = t->n;
	sub.follow = follow;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE;
	req.subscribe = &sub;
	if (client_send(c, "events", &req))
		return EXIT_FAIL;
	/* messages are printed here: an interrupted read is the end asked for, not a failure */
	c->quiet = true;
	do {
		if (client_recv(c, "events", &r)) {
			if (stop_requested)
				return EXIT_OK;
			log_warnx("%s", c->err);
			return EXIT_FAIL;
		}
		if (r->error) {
			client_error_print("events", r->error);
			client_response_free(r);
			return EXIT_FAIL;
		}
		/* the daemon filters; this only keeps a daemon that does not from flooding */
		if (r->result_case == FNGUARD__V1__RESPONSE__RESULT_EVENT &&
		    telemetry_filter_match(t->mask, r->event)) {
			if (json)
				telemetry_json_write(stdout, r->event);
			else
				print_human(r->event);
			if (follow || ferror(stdout))
				fflush(stdout);
		}
		more = r->more;
		client_response_free(r);
		if (ferror(stdout))
			return client_stdout_finish("events");
	} while (more && !stop_requested);
	return client_stdout_finish("events");
}

int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},	    {"json", no_argument, NULL, 'j'},
	    {"type", required_argument, NULL, 't'}, {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	struct type_list types = {0};
	struct client c = {.fd = -1};
	bool follow = false, json = false;
	const char *socket = NULL;
	struct sigaction sa = {0};
	int ch, status;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":ft:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		case 't':
			if (types_add(&types, optarg)) {
				types_free(&types);
				return EXIT_USAGE;
			}
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			types_free(&types);
			usage_events(stdout);
			return EXIT_OK;
		default:
			types_free(&types);
			return client_option_error("events", ch, argv);
		}
	}
	if (optind < argc) {
		log_warnx("events: unexpected argument '%s' (see 'fnguard events --help')",
			  argv[optind]);
		types_free(&types);
		return EXIT_USAGE;
	}
	if (client_open(&c, socket)) {
		types_free(&types);
		return EXIT_UNREACHABLE;
	}
	client_stdout_prepare();
	stop_fd = c.fd;
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	status = stream(&c, &types, follow, json);
	stop_fd = -1;
	client_close(&c);
	types_free(&types);
	return status;
}
