/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client half of the daemon API (proto/fnguard/v1/api.proto), shared by the commands that
 * talk to fnguardd: function, invoke, events, envs and the daemon part of status. It exists so
 * that every one of them finds the socket the same way (--socket, else $FNGUARD_SOCKET, else
 * the default), says "cannot reach the daemon" in the same words (exit status 3), and reads
 * only the Responses that answer its own request.
 *
 * Every function here that fails has already said why on stderr, once, as
 * "fnguard: <what failed>: <why>"; callers only choose the exit status.
 */
#ifndef FNGUARD_CLIENT_H
#define FNGUARD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fnguard/v1/api.pb-c.h"
#include "fnguard_api.h" /* the socket's default and variable, the payload limit */

struct json_writer;

/* Longest NAME and VERSION of NAME[:VERSION] (docs/policy.md), without the NUL. */
#define CLIENT_NAME_MAX 63
#define CLIENT_VERSION_MAX 64

struct client {
	int fd;
	const char *path; /* the socket, for messages */
	uint64_t id;	  /* of the request in flight */
	bool quiet;	  /* keep messages in err only (fnguard status reports them its own way) */
	char err[512];	  /* the last failure, "<what failed>: <why>" without "fnguard: " */
};

/* The socket: @opt (from --socket) when set, else $FNGUARD_SOCKET when set, else the default. */
const char *client_socket_path(const char *opt);
/* Connects to @path: 0 or -errno (with c->err set; nothing printed). */
int client_connect(struct client *c, const char *path);
/*
 * client_connect() to client_socket_path(@opt); on failure prints
 * "fnguard: cannot reach the daemon at PATH: <why> (is fnguardd running?)" and returns the
 * -errno, for which callers exit with EXIT_UNREACHABLE.
 */
int client_open(struct client *c, const char *opt);
/* Send and receive time out after @ms milliseconds (0: never). 0 or -errno. */
int client_set_timeout(struct client *c, unsigned ms);
void client_close(struct client *c);

/* Sends @req under a new id. 0 or -errno. @what names the request in messages. */
int client_send(struct client *c, const char *what, Fnguard__V1__Request *req);
/*
 * The next Response to the request in flight (Responses to other ids are skipped): 0 with
 * *out set (free it with client_response_free(); it may carry an Error), or -errno. The
 * connection ending first is -ECONNRESET.
 */
int client_recv(struct client *c, const char *what, Fnguard__V1__Response **out);
/*
 * One request, one answer: client_send(), client_recv(), then the answer must succeed and
 * carry the result @expect (FNGUARD__V1__RESPONSE__RESULT__NOT_SET: none). 0 with *out set,
 * -EREMOTEIO when the daemon answered with an Error, -EPROTO for an answer of another kind,
 * or the errors of client_send() and client_recv().
 */
int client_call(struct client *c, const char *what, Fnguard__V1__Request *req,
		Fnguard__V1__Response__ResultCase expect, Fnguard__V1__Response **out);
void client_response_free(Fnguard__V1__Response *r);
/* "not found", "permission denied", ...; "unknown error" for codes this version does not know. */
const char *client_error_code_name(Fnguard__V1__ErrorCode code);
/* Prints the daemon's error: its message ("<what failed>: <why>"), else @what and the code. */
void client_error_print(const char *what, const Fnguard__V1__Error *e);

/* ------------------------------------------------------------------ command-line helpers */

/* getopt_long() returned '?' or ':' (opterr = 0): says so for @cmd. Returns EXIT_USAGE. */
int client_option_error(const char *cmd, int c, char **argv);

/* A function as the commands name it: NAME or NAME:VERSION. */
struct client_ref {
	char name[CLIENT_NAME_MAX + 1];
	char version[CLIENT_VERSION_MAX + 1]; /* "": every version (remove), the latest (invoke) */
};
/* Parses and checks @s as the policy format does. 0, or -EINVAL after a message for @cmd. */
int client_ref_parse(const char *cmd, const char *s, struct client_ref *ref);
/* "thumbnailer:3", or "thumbnailer" without a version. */
#define CLIENT_REF_LEN (CLIENT_NAME_MAX + 1 + CLIENT_VERSION_MAX + 1)
void client_ref_format(const struct client_ref *ref, char buf[CLIENT_REF_LEN]);

/*
 * Reads all of @fd into *buf (free() it; never NULL on success) and its length into *len:
 * 0, -EFBIG when there is more than @max bytes (found out without reading much past @max),
 * -EISDIR, -ENOMEM or the read's -errno.
 */
int client_read_all(int fd, size_t max, char **buf, size_t *len);

/* A duration for people: "850ns", "12.3us", "4.1ms", "3.2s", "5m10s", "2h05m", "3d04h". */
void client_duration_format(uint64_t ns, char *buf, size_t len);
/* A size for people: "512B", "12.5KiB", "3.0MiB", "1.2GiB". */
void client_size_format(uint64_t bytes, char *buf, size_t len);
/* Writes @s, with each control character (C0, DEL, C1) as \xNN: daemon strings on a terminal. */
void client_text_print(FILE *f, const char *s);
/*
 * Ignores SIGPIPE, so that a reader that went away (fnguard envs | head) is a write error
 * client_stdout_finish() can tell apart from the others.
 */
void client_stdout_prepare(void);
/*
 * Flushes stdout: EXIT_OK, also when the reader went away (EPIPE: it had what it wanted), else
 * EXIT_FAIL after "fnguard: <what>: cannot write to standard output: <why>".
 */
int client_stdout_finish(const char *what);

/* ------------------------------------------------------------------ status */

/*
 * The daemon as `fnguard status` shows it: what fnguardd at client_socket_path(@socket)
 * answers to Status (version, uptime, functions, environments, backends as the daemon sees
 * them), or that it is not running and why. The query times out after a few seconds: a wedged
 * daemon must not hang `fnguard status`.
 * Human (@json false): lines starting "daemon:   ", aligned with the rest of fnguard status.
 * JSON (@json true): one compact object, no newline, as status_daemon_json() writes it.
 */
void status_daemon_print(FILE *f, bool json, const char *socket);
/*
 * The same as a JSON object written at @w's current position (after json_key(w, "daemon")):
 *   {"socket": PATH, "running": true, "version": "...", "uptime_ns": N, "functions": N,
 *    "envs": N, "backends": [{"name": "...", "available": B, "reason": "..."}]}
 *   {"socket": PATH, "running": false, "error": "No such file or directory"}
 *   {"socket": PATH, "running": true, "error": "..."}   (reachable, but the query failed)
 */
void status_daemon_json(struct json_writer *w, const char *socket);

#endif
