// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard invoke NAME[:VERSION] [--payload FILE|-] [--async] [-v]
 *
 * The response goes to stdout byte for byte, so that `fnguard invoke f > out.png` is the
 * function's output and nothing else; what people need to know about the invocation goes to
 * stderr. The exit status is the outcome (0 ok, 1 anything else), so scripts need not parse.
 * The payload is read and measured before connecting: an oversized one is the caller's
 * mistake (2), not something to find out after a round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "telemetry.h"

static void usage_invoke(FILE *f)
{
	fprintf(
	    f,
	    "Usage: fnguard invoke [--payload FILE|-] [--async] [-v] [--socket PATH]\n"
	    "                      NAME[:VERSION]\n"
	    "\n"
	    "Invokes a registered function (without VERSION: the latest registered) and writes\n"
	    "its response, the handler's standard output, to standard output exactly as it was\n"
	    "received. The payload is the handler's standard input: the contents of FILE, or\n"
	    "standard input with '-'; without --payload it is empty. Payloads are at most 6 MiB.\n"
	    "\n"
	    "Options:\n"
	    "  -p, --payload FILE|-   the payload: a file, or '-' for standard input\n"
	    "  --async                do not wait for the result: print the invocation id and\n"
	    "                         exit 0 once the daemon has accepted the invocation\n"
	    "  -v, --verbose          also write the invocation record to standard error, as one\n"
	    "                         JSON line like the 'invocation' events of 'fnguard events'\n"
	    "                         (duration, cold start, memory, CPU, outcome, denials)\n"
	    "  --socket PATH          the daemon's socket (else $FNGUARD_SOCKET, else\n"
	    "                         " FNGUARD_SOCKET_DEFAULT ")\n"
	    "  -h, --help             show this help\n"
	    "\n"
	    "Exit status: 0 the function succeeded (outcome ok; with --async: accepted),\n"
	    "1 it did not (outcome error, timeout, oom or crash: the response is still written)\n"
	    "or the daemon refused the invocation, 2 usage (including a payload that cannot be\n"
	    "read or is over 6 MiB), 3 the daemon is unreachable.\n"
	    "\n"
	    "Examples:\n"
	    "  fnguard invoke thumbnailer --payload photo.jpg > thumb.jpg\n"
	    "  echo '{\"n\": 3}' | fnguard invoke -v calc:2 --payload -\n"
	    "  id=$(fnguard invoke --async reindex)\n");
}

/* The payload, read whole before connecting. EXIT_OK or EXIT_USAGE after a message. */
static int payload_read(const char *file, char **buf, size_t *len)
{
	bool is_stdin = !strcmp(file, "-");
	int fd, err;

	fd = is_stdin ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("invoke: cannot open the payload %s", file);
		return EXIT_USAGE;
	}
	err = client_read_all(fd, FNGUARD_PAYLOAD_MAX, buf, len);
	if (!is_stdin)
		close(fd);
	if (err == -EFBIG) {
		log_warnx("invoke: the payload %s is over 6 MiB (%u bytes at most)",
			  is_stdin ? "on standard input" : file, FNGUARD_PAYLOAD_MAX);
		return EXIT_USAGE;
	}
	if (err) {
		log_warnx("invoke: cannot read the payload %s: %s",
			  is_stdin ? "on standard input" : file, strerror(-err));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The record as an "invocation" event on stderr: the JSON people already read in events. */
static void record_print(const struct client_ref *ref, const Fnguard__V1__InvokeResult *res)
{
	Fnguard__V1__Invocation fallback = FNGUARD__V1__INVOCATION__INIT;
	Fnguard__V1__Event ev = FNGUARD__V1__EVENT__INIT;
	char host[HOST_NAME_MAX + 1] = "";
	struct timespec now;

	if (!res->record) {
		/* an older daemon, or one that lost the record: what the result repeats of it */
		fallback.outcome = res->outcome;
		fallback.exit_status = res->exit_status;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	/* the daemon is on this host: a Unix socket does not cross machines */
	gethostname(host, sizeof(host) - 1);
	ev.time_unix_nano = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	ev.host = host;
	ev.function = (char *)ref->name;
	ev.version = (char *)ref->version;
	ev.invocation = res->invocation;
	ev.body_case = FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD;
	ev.invocation_record = res->record ? res->record : &fallback;
	telemetry_json_write(stderr, &ev);
}

/* Why an invocation did not succeed, in words, for stderr. */
static const char *outcome_words(Fnguard__V1__Outcome o)
{
	switch (o) {
	case FNGUARD__V1__OUTCOME__OUTCOME_ERROR:
		return "the handler exited with an error";
	case FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT:
		return "killed at the policy's time limit (limits.timeout)";
	case FNGUARD__V1__OUTCOME__OUTCOME_OOM:
		return "killed for lack of memory (limits.memory)";
	case FNGUARD__V1__OUTCOME__OUTCOME_CRASH:
		return "killed by a signal, or its environment died";
	default:
		return "the daemon reported no outcome this version knows";
	}
}

int cmd_invoke(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"payload", required_argument, NULL, 'p'}, {"async", no_argument, NULL, 'a'},
	    {"verbose", no_argument, NULL, 'v'},       {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Invoke inv = FNGUARD__V1__INVOKE__INIT;
	const char *socket = NULL, *payload_file = NULL;
	char refs[CLIENT_REF_LEN], what[CLIENT_REF_LEN + 16], *payload = NULL;
	const Fnguard__V1__InvokeResult *res;
	Fnguard__V1__Response *resp = NULL;
	Fnguard__V1__Outcome outcome;
	struct client c = {.fd = -1};
	bool async = false, verbose = false;
	struct client_ref ref;
	size_t payload_len = 0;
	int ch, status;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":p:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			payload_file = optarg;
			break;
		case 'a':
			async = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 's':
			socket = optarg;
			break;
		case 'h':
			usage_invoke(stdout);
			return EXIT_OK;
		default:
			return client_option_error("invoke", ch, argv);
		}
	}
	if (argc - optind != 1) {
		log_warnx("invoke: %s (see 'fnguard invoke --help')",
			  optind == argc ? "no NAME given" : "exactly one NAME[:VERSION], please");
		return EXIT_USAGE;
	}
	if (client_ref_parse("invoke", argv[optind], &ref))
		return EXIT_USAGE;
	client_ref_format(&ref, refs);
	snprintf(what, sizeof(what), "invoke %s", refs);
	if (payload_file) {
		status = payload_read(payload_file, &payload, &payload_len);
		if (status != EXIT_OK)
			return status;
	}

	if (client_open(&c, socket)) {
		free(payload);
		return EXIT_UNREACHABLE;
	}
	inv.name = ref.name;
	inv.version = ref.version;
	inv.payload.data = (uint8_t *)payload;
	inv.payload.len = payload_len;
	inv.async = async;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_INVOKE;
	req.invoke = &inv;
	status = client_call(&c, what, &req, FNGUARD__V1__RESPONSE__RESULT_INVOKE, &resp);
	client_close(&c);
	free(payload);
	if (status)
		return EXIT_FAIL;
	res = resp->invoke;

	client_stdout_prepare();
	if (async) {
		printf("%s\n", res->invocation);
		client_response_free(resp);
		return client_stdout_finish("invoke");
	}
	if (res->response.len)
		fwrite(res->response.data, 1, res->response.len, stdout);
	/* a reader that went away had what it wanted; the outcome still decides the status */
	status = client_stdout_finish("invoke");
	if (verbose)
		record_print(&ref, res);
	outcome = res->outcome;
	if (outcome == FNGUARD__V1__OUTCOME__OUTCOME_UNSPECIFIED && res->record)
		outcome = res->record->outcome;
	if (outcome != FNGUARD__V1__OUTCOME__OUTCOME_OK && res->record && res->record->error_type &&
	    *res->record->error_type) {
		/* A runtime's error: its own type and message say more than the outcome. */
		log_warnx("%s: %s: %s: %s (invocation %s)", what, telemetry_outcome_name(outcome),
			  res->record->error_type,
			  res->record->error_message ? res->record->error_message : "",
			  res->invocation);
		status = EXIT_FAIL;
	} else if (outcome != FNGUARD__V1__OUTCOME__OUTCOME_OK) {
		log_warnx("%s: %s: %s (exit status %d%s%s)", what, telemetry_outcome_name(outcome),
			  outcome_words(outcome), res->exit_status,
			  res->invocation[0] ? ", invocation " : "", res->invocation);
		status = EXIT_FAIL;
	}
	client_response_free(resp);
	return status;
}
