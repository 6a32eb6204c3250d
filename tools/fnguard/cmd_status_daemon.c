// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon part of `fnguard status`: what fnguardd answers to Status, or why it cannot be
 * asked. A file of its own because it is the one place that talks to the daemon while the
 * rest of status looks at the kernel; `fnguard status` always exits 0, so nothing here is an
 * error message: an unreachable daemon is a state to report ("not running").
 */
#include <errno.h>
#include <string.h>

#include "client.h"
#include "json.h"

/* Long enough for a daemon that is busy, short enough for a person waiting on status. */
#define STATUS_TIMEOUT_MS 5000

struct daemon_state {
	const char *socket;
	bool running;
	char why[512];		     /* when the state could not be had */
	Fnguard__V1__Response *resp; /* when it could */
};

static void daemon_query(struct daemon_state *d, const char *socket)
{
	Fnguard__V1__Request req = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Status st = FNGUARD__V1__STATUS__INIT;
	struct client c = {.fd = -1, .quiet = true};
	int err;

	memset(d, 0, sizeof(*d));
	d->socket = client_socket_path(socket);
	err = client_connect(&c, d->socket);
	if (err) {
		/* "not running" covers no socket, a stale one and one we may not open */
		snprintf(d->why, sizeof(d->why), "%s", strerror(-err));
		return;
	}
	d->running = true;
	req.method_case = FNGUARD__V1__REQUEST__METHOD_STATUS;
	req.status = &st;
	if (client_set_timeout(&c, STATUS_TIMEOUT_MS) ||
	    client_call(&c, "status", &req, FNGUARD__V1__RESPONSE__RESULT_STATUS, &d->resp)) {
		/* c.err reads "status: <why>", and the line that shows it already says status */
		const char *why = c.err[0] ? c.err : strerror(errno);

		if (!strncmp(why, "status: ", 8))
			why += 8;
		snprintf(d->why, sizeof(d->why), "%s", why);
	}
	client_close(&c);
}

void status_daemon_json(struct json_writer *w, const char *socket)
{
	const Fnguard__V1__StatusResult *s;
	struct daemon_state d;
	size_t i;

	daemon_query(&d, socket);
	json_object_begin(w);
	json_key(w, "socket");
	json_string(w, d.socket);
	json_key(w, "running");
	json_bool(w, d.running);
	if (!d.resp) {
		json_key(w, "error");
		json_string(w, d.why);
		json_object_end(w);
		return;
	}
	s = d.resp->status;
	json_key(w, "version");
	json_string(w, s->version);
	json_key(w, "uptime_ns");
	json_uint(w, s->uptime_ns);
	json_key(w, "functions");
	json_uint(w, s->functions);
	json_key(w, "envs");
	json_uint(w, s->envs);
	json_key(w, "backends");
	json_array_begin(w);
	for (i = 0; i < s->n_backends; i++) {
		json_object_begin(w);
		json_key(w, "name");
		json_string(w, s->backends[i]->name);
		json_key(w, "available");
		json_bool(w, s->backends[i]->available);
		json_key(w, "reason");
		json_string(w, s->backends[i]->reason);
		json_object_end(w);
	}
	json_array_end(w);
	json_object_end(w);
	client_response_free(d.resp);
}

void status_daemon_print(FILE *f, bool json, const char *socket)
{
	const Fnguard__V1__StatusResult *s;
	struct daemon_state d;
	char up[32];
	size_t i;

	if (json) {
		struct json_writer w;

		json_writer_init(&w, f, 0);
		status_daemon_json(&w, socket);
		json_writer_finish(&w);
		return;
	}
	daemon_query(&d, socket);
	if (!d.running) {
		fprintf(f, "daemon:   not running (%s: %s)\n", d.socket, d.why);
		return;
	}
	if (!d.resp) {
		fprintf(f, "daemon:   running at %s, but the status query failed: %s\n", d.socket,
			d.why);
		return;
	}
	s = d.resp->status;
	client_duration_format(s->uptime_ns, up, sizeof(up));
	fprintf(f, "daemon:   running at %s, version %s, up %s\n", d.socket,
		s->version[0] ? s->version : "(unknown)", up);
	fprintf(f, "          %u function%s registered, %u environment%s\n", s->functions,
		s->functions == 1 ? "" : "s", s->envs, s->envs == 1 ? "" : "s");
	for (i = 0; i < s->n_backends; i++) {
		const Fnguard__V1__Backend *b = s->backends[i];

		fprintf(f, "          %-11s %s%s%s\n", b->name,
			b->available ? "available" : "unavailable",
			!b->available && b->reason[0] ? ": " : "", b->available ? "" : b->reason);
	}
	client_response_free(d.resp);
}
