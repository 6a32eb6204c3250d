// SPDX-License-Identifier: Apache-2.0
/*
 * Invocations (invocations.h). An invocation waits in its function's bounded queue until an
 * environment is ready (pool.c takes it with fn_queue_pop()); an async one that fails is tried
 * again, up to INV_ATTEMPTS; each attempt's end is a record, and the caller of a synchronous
 * one gets its result.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "emit.h"
#include "fnguardd.h"
#include "invocations.h"
#include "log.h"

void inv_free(struct inv *inv)
{
	if (!inv)
		return;
	free(inv->payload);
	free(inv);
}

struct inv *fn_queue_pop(struct fn *fn)
{
	struct inv *inv = fn->queue;

	if (!inv)
		return NULL;
	fn->queue = inv->next;
	if (!fn->queue)
		fn->queue_tail = NULL;
	fn->queued--;
	inv->next = NULL;
	return inv;
}

void fn_queue_fail(struct fn *fn, Fnguard__V1__Outcome outcome, const char *reason)
{
	struct inv *inv;

	while ((inv = fn_queue_pop(fn))) {
		inv->attempts = INV_ATTEMPTS;
		inv_complete(NULL, inv, outcome, -1, NULL, reason);
	}
}

void inv_complete(struct env *e, struct inv *inv, Fnguard__V1__Outcome outcome,
		  int exit_status, const Fnguard__V1__AgentResult *res, const char *error)
{
	struct fnguardd *d = inv->fn->d; /* @e may be NULL: it never started */
	struct telemetry_event *t = ev_scratch(d);
	Fnguard__V1__Invocation *rec;
	Fnguard__V1__Invocation copy;
	Fnguard__V1__InvokeResult ir = FNGUARD__V1__INVOKE_RESULT__INIT;
	uint64_t lost = kernel_lost_total(d) - inv->lost_at_start;

	/* Its own loss events come before the record that counts them (the same scratch event
	 * is built again below). */
	lost += inv_report_drops(d, e, inv);
	rec = telemetry_invocation(t);
	rec->cold_start = inv->cold;
	rec->init_ns = inv->cold && e ? e->init_ns : 0;
	rec->runtime_init_ns = inv->cold && e ? e->runtime_init_ns : 0;
	if (res && res->error_type && *res->error_type) {
		rec->error_type = res->error_type;
		rec->error_message = res->error_message;
	} else if (!res && error && outcome == FNGUARD__V1__OUTCOME__OUTCOME_ERROR) {
		/* A runtime that failed to start (pool.c): Lambda's name for it, and why. */
		rec->error_type = "Runtime.InitError";
		rec->error_message = (char *)error;
	}
	rec->duration_ns = inv->start_mono ? (uint64_t)(mono_ns() - inv->start_mono) : 0;
	if (res && res->duration_ns && res->duration_ns < rec->duration_ns)
		rec->duration_ns = res->duration_ns;
	/* A guest's memory is the VMM's to the host: its agent measures the environment. */
	if (e && env_is_microvm(e))
		rec->memory_peak_bytes = res ? res->memory_peak_bytes : 0;
	else
		rec->memory_peak_bytes = e ? cgroup_env_memory_peak(&e->cg) : 0;
	rec->cpu_user_ns = res ? res->cpu_user_ns : 0;
	rec->cpu_system_ns = res ? res->cpu_system_ns : 0;
	rec->outcome = outcome;
	rec->exit_status = exit_status;
	rec->denials = inv->denials;
	rec->events_lost = lost;
	copy = *rec;
	emit(d, t, inv->fn, e, inv);
	if (error && *error) {
		t = ev_scratch(d);
		telemetry_log(t, "stderr", error, strlen(error));
		emit(d, t, inv->fn, e, inv);
	}
	if (inv->async && outcome != FNGUARD__V1__OUTCOME__OUTCOME_OK &&
	    inv->attempts < INV_ATTEMPTS && !d->stopping && !inv->fn->removed) {
		log_info("invocation %s of %s:%s failed (%s), retrying (attempt %u of %u)", inv->id,
			 inv->fn->policy->function.name, inv->fn->policy->function.version,
			 telemetry_outcome_name(outcome), inv->attempts + 1, INV_ATTEMPTS);
		inv->env = NULL;
		inv->next = inv->fn->queue;
		inv->fn->queue = inv;
		if (!inv->fn->queue_tail)
			inv->fn->queue_tail = inv;
		inv->fn->queued++;
		return;
	}
	if (inv->async && outcome != FNGUARD__V1__OUTCOME__OUTCOME_OK)
		log_warnx("invocation %s of %s:%s failed after %u attempt(s): %s", inv->id,
			  inv->fn->policy->function.name, inv->fn->policy->function.version,
			  inv->attempts, telemetry_outcome_name(outcome));
	if (inv->client) {
		ir.invocation = inv->id;
		if (res && outcome != FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT) {
			ir.response.data = res->response.data;
			ir.response.len = res->response.len;
		}
		ir.exit_status = exit_status;
		ir.outcome = outcome;
		ir.record = &copy;
		d->invoke_done(inv->client, inv->req_id, inv, &ir);
	}
	inv_free(inv);
}

Fnguard__V1__Outcome outcome_of(const struct env *e, const Fnguard__V1__AgentResult *r)
{
	if (r->error && *r->error)
		return FNGUARD__V1__OUTCOME__OUTCOME_ERROR;
	if (cgroup_env_oom_kills(&e->cg) > e->oom_kills || (env_is_microvm(e) && r->oom))
		return FNGUARD__V1__OUTCOME__OUTCOME_OOM;
	if (r->signaled)
		return FNGUARD__V1__OUTCOME__OUTCOME_CRASH;
	if (r->exit_status || r->response_too_large)
		return FNGUARD__V1__OUTCOME__OUTCOME_ERROR;
	return FNGUARD__V1__OUTCOME__OUTCOME_OK;
}

int inv_submit(struct fn *fn, const uint8_t *payload, size_t len, bool async, struct client *c,
	       uint64_t req_id, char *id_out, size_t id_len)
{
	struct fnguardd *d = fn->d;
	struct inv *inv;

	if (fn->queued >= d->cfg.queue_max)
		return -ENOSPC;
	inv = calloc(1, sizeof(*inv));
	if (!inv)
		return -ENOMEM;
	inv->payload = malloc(len ? len : 1);
	if (!inv->payload) {
		free(inv);
		return -ENOMEM;
	}
	memcpy(inv->payload, payload, len);
	inv->payload_len = len;
	inv->fn = fn;
	inv->async = async;
	inv->client = async ? NULL : c;
	inv->req_id = req_id;
	inv->queued_mono = mono_ns();
	snprintf(inv->id, sizeof(inv->id), "inv-%" PRIu64 "-%d", ++d->next_inv, (int)getpid());
	snprintf(id_out, id_len, "%s", inv->id);
	if (fn->queue_tail)
		fn->queue_tail->next = inv;
	else
		fn->queue = inv;
	fn->queue_tail = inv;
	fn->queued++;
	return 0;
}

void inv_client_gone(struct fnguardd *d, struct client *c)
{
	for (struct fn *fn = d->fns; fn; fn = fn->next)
		for (struct inv *inv = fn->queue; inv; inv = inv->next)
			if (inv->client == c)
				inv->client = NULL;
	for (struct env *e = d->envs; e; e = e->next)
		if (e->cur && e->cur->client == c)
			e->cur->client = NULL;
}
