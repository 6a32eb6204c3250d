/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Invocations (invocations.c): each function's bounded queue, the retries of an async
 * invocation, and the record, event and answer of each attempt. The environments that run
 * them are pool.c's.
 */
#ifndef FNGUARD_INVOCATIONS_H
#define FNGUARD_INVOCATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fnguardd.h"

/* How often an async invocation is tried: once, then retried twice (issue contract). */
#define INV_ATTEMPTS 3

/* Queues an invocation of @fn (at most cfg.queue_max wait: -ENOSPC) and names it in @id_out.
 * The caller then gets it an environment (env_dispatch). */
int inv_submit(struct fn *fn, const uint8_t *payload, size_t len, bool async,
	       struct client *c, uint64_t req_id, char *id_out, size_t id_len);
/* The oldest invocation waiting for an environment of @fn, or NULL. */
struct inv *fn_queue_pop(struct fn *fn);
/* Every invocation waiting for @fn fails now, with @reason, and is not retried. */
void fn_queue_fail(struct fn *fn, Fnguard__V1__Outcome outcome, const char *reason);
/* The record, the event, the answer to whoever waits (d->invoke_done); an async failure
 * goes back to the front of the queue until INV_ATTEMPTS. @e: where it ran, or NULL. */
void inv_complete(struct env *e, struct inv *inv, Fnguard__V1__Outcome outcome,
		  int exit_status, const Fnguard__V1__AgentResult *res, const char *error);
/* What a result of the agent in @e means. */
Fnguard__V1__Outcome outcome_of(const struct env *e, const Fnguard__V1__AgentResult *r);
/* @c is gone: nobody waits for its invocations' results any more. */
void inv_client_gone(struct fnguardd *d, struct client *c);
void inv_free(struct inv *inv);

#endif
