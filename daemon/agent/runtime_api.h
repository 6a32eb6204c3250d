/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Lambda Runtime API (runtime_api.c, docs/runtime.md), served by the agent inside each
 * environment on 127.0.0.1:9001, version 2018-06-01, as AWS documents it: a runtime asks for
 * its next invocation, posts its response or error, or its init error.
 *
 * The server is part of the agent's single-threaded poll loop: rapi_fd() is one fd to poll
 * for POLLIN (an epoll fd holding the listener and the connections), rapi_run() does what is
 * ready, without blocking. Requests are parsed with Debian's http-parser (chunked bodies and
 * keep-alive included); at most RAPI_MAX_CONNS connections, RAPI_URL_MAX bytes of URL, and
 * bodies of FNGUARD_PAYLOAD_MAX bytes (past that: 413, and the invocation fails).
 *
 * At most one invocation is current at a time: rapi_invoke() assigns it, the waiting (or
 * next) GET .../next gets it, and its first response or error ends it; any other id is
 * answered 400. The callbacks' buffers are the server's, valid during the call only.
 */
#ifndef FNGUARD_AGENT_RUNTIME_API_H
#define FNGUARD_AGENT_RUNTIME_API_H

#include <stddef.h>
#include <stdint.h>

#define RAPI_MAX_CONNS 16
#define RAPI_URL_MAX 2048
#define RAPI_ID_MAX 128

struct rapi;

struct rapi_invocation {
	const char *id; /* Lambda-Runtime-Aws-Request-Id: at most RAPI_ID_MAX - 1 bytes */
	const void *payload;
	size_t len;
	int64_t deadline_ms; /* Unix ms */
	const char *function_arn;
	const char *trace_id;	      /* "" or NULL: one is made from the id */
	const char *client_context;   /* NULL: no header */
	const char *cognito_identity; /* NULL: no header */
};

struct rapi_ops {
	/* invocation/{id}/response of the current invocation (@len <= FNGUARD_PAYLOAD_MAX) */
	void (*response)(void *ctx, const char *id, const void *body, size_t len);
	/* invocation/{id}/error: @error_type from Lambda-Runtime-Function-Error-Type, or NULL */
	void (*error)(void *ctx, const char *id, const char *error_type, const void *body,
		      size_t len);
	/* init/error */
	void (*init_error)(void *ctx, const char *error_type, const void *body, size_t len);
	/* a response or error body over FNGUARD_PAYLOAD_MAX for the current invocation: 413 */
	void (*too_large)(void *ctx, const char *id);
	/* a GET .../next arrived (the first one: the runtime's init is done) */
	void (*next)(void *ctx);
};

/* Listen on @ip:@port (0: an ephemeral port, see rapi_port()). -errno, @why set. */
int rapi_start(struct rapi **out, const char *ip, uint16_t port, const struct rapi_ops *ops,
	       void *ctx, char *why, size_t whylen);
int rapi_fd(const struct rapi *r);
uint16_t rapi_port(const struct rapi *r);
/* Milliseconds until rapi_run() has work without an event (idle connections): -1 none. */
int rapi_timeout_ms(const struct rapi *r);
void rapi_run(struct rapi *r);
/* Make @inv current; handed to the waiting GET .../next now, else to the next one.
 * -EBUSY while another is current, -EINVAL for a bad id or payload. */
int rapi_invoke(struct rapi *r, const struct rapi_invocation *inv);
/* Forget the current invocation (its deadline passed, the runtime died): its id is unknown. */
void rapi_finish(struct rapi *r);
/* A new runtime process: the current invocation is forgotten and every connection of the old
 * one is closed (its killed process's close may not have been read yet: a GET .../next of
 * the dead process would otherwise still be waiting, and the new one's refused). */
void rapi_reset(struct rapi *r);
void rapi_stop(struct rapi *r);

#endif
