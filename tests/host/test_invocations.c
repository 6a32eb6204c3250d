// SPDX-License-Identifier: Apache-2.0
/*
 * Invocations (daemon/invocations.c) without a daemon: the per-function queue is bounded by
 * queue_max and first in, first out; an async invocation that fails goes back to the front
 * until INV_ATTEMPTS, a synchronous one is answered at once; each attempt makes a record; a
 * client that went away is answered no more; what an agent's result means. The telemetry
 * functions are stubs that count what would be published.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emit.h"
#include "fnguardd.h"
#include "invocations.h"

/* ------------------------------------------------------------------ the daemon, stubbed */

static struct fnguardd daemon_ctx;
static struct telemetry_event scratch;
static unsigned n_records, n_logs, n_answers;
static Fnguard__V1__Outcome last_outcome, answered_outcome;
static uint64_t answered_req;
static struct client *answered_client;

int64_t mono_ns(void)
{
	return 1000000000;
}

int loop_mod(struct watch *w, uint32_t events)
{
	(void)w, (void)events;
	return 0;
}

struct telemetry_event *ev_scratch(struct fnguardd *d)
{
	assert_ptr_equal(d, &daemon_ctx);
	return &scratch;
}

uint64_t kernel_lost_total(struct fnguardd *d)
{
	assert_ptr_equal(d, &daemon_ctx);
	return 0;
}

void emit(struct fnguardd *d, struct telemetry_event *t, const struct fn *fn,
	  const struct env *env, const struct inv *inv)
{
	(void)fn, (void)env;
	assert_ptr_equal(d, &daemon_ctx);
	assert_non_null(inv);
	if (t->ev.body_case == FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD) {
		n_records++;
		last_outcome = t->ev.invocation_record->outcome;
	} else if (t->ev.body_case == FNGUARD__V1__EVENT__BODY_LOG) {
		n_logs++;
	}
}

static void invoke_done(struct client *c, uint64_t req_id, const struct inv *inv,
			Fnguard__V1__InvokeResult *res)
{
	assert_non_null(inv);
	assert_string_equal(res->invocation, inv->id);
	n_answers++;
	answered_client = c;
	answered_req = req_id;
	answered_outcome = res->outcome;
}

static struct fng_policy policy = {.function = {.name = "f", .version = "1"},
				   .environment.kind = FNG_ENV_PROCESS};
static struct fn fn;
static struct client *const client_a = (struct client *)0x1000, *const client_b =
							  (struct client *)0x2000;

static int setup(void **state)
{
	(void)state;
	memset(&daemon_ctx, 0, sizeof(daemon_ctx));
	daemon_ctx.cfg.queue_max = 3;
	daemon_ctx.invoke_done = invoke_done;
	memset(&fn, 0, sizeof(fn));
	fn.d = &daemon_ctx;
	fn.policy = &policy;
	daemon_ctx.fns = &fn;
	n_records = n_logs = n_answers = 0;
	answered_client = NULL;
	return 0;
}

static int teardown(void **state)
{
	struct inv *inv;

	(void)state;
	while ((inv = fn_queue_pop(&fn)))
		inv_free(inv);
	return 0;
}

static struct inv *submit(bool async, struct client *c, uint64_t req, const char *payload)
{
	char id[64];

	assert_int_equal(inv_submit(&fn, (const uint8_t *)payload, strlen(payload), async, c, req,
				    id, sizeof(id)),
			 0);
	assert_non_null(fn.queue_tail);
	assert_string_equal(fn.queue_tail->id, id);
	return fn.queue_tail;
}

/* As pool.c does when an environment takes it. */
static struct inv *take(void)
{
	struct inv *inv = fn_queue_pop(&fn);

	assert_non_null(inv);
	inv->attempts++;
	return inv;
}

/* ------------------------------------------------------------------ the queue */

static void test_queue_bound(void **state)
{
	char id[64] = "";

	(void)state;
	for (int i = 0; i < 3; i++)
		submit(false, client_a, (uint64_t)i, "x");
	assert_int_equal(fn.queued, 3);
	/* queue_max wait: the next is refused, nothing queued, no id given. */
	assert_int_equal(inv_submit(&fn, (const uint8_t *)"x", 1, false, client_a, 9, id,
				    sizeof(id)),
			 -ENOSPC);
	assert_int_equal(fn.queued, 3);
	assert_string_equal(id, "");
	/* One taken: room for one more. */
	inv_free(take());
	submit(true, NULL, 0, "y");
	assert_int_equal(fn.queued, 3);
}

static void test_queue_fifo(void **state)
{
	const char *payloads[3] = {"first", "second", "third"};
	char ids[3][40];

	(void)state;
	for (int i = 0; i < 3; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", submit(true, NULL, 0, payloads[i])->id);
	assert_string_not_equal(ids[0], ids[1]);
	for (int i = 0; i < 3; i++) {
		struct inv *inv = fn_queue_pop(&fn);

		assert_non_null(inv);
		assert_string_equal(inv->id, ids[i]);
		assert_int_equal(inv->payload_len, strlen(payloads[i]));
		assert_memory_equal(inv->payload, payloads[i], inv->payload_len);
		assert_null(inv->next);
		assert_int_equal(fn.queued, 2 - i);
		inv_free(inv);
	}
	assert_null(fn_queue_pop(&fn));
	assert_null(fn.queue_tail);
	/* An empty payload is one too. */
	assert_int_equal(submit(true, NULL, 0, "")->payload_len, 0);
}

/* ------------------------------------------------------------------ attempts */

static void test_async_retried(void **state)
{
	struct inv *inv;

	(void)state;
	submit(true, client_a, 7, "p");
	submit(true, NULL, 0, "behind");
	/* Each failure: a record, then the front of the queue again, until INV_ATTEMPTS. */
	for (unsigned a = 1; a < INV_ATTEMPTS; a++) {
		inv = take();
		assert_int_equal(inv->attempts, a);
		inv_complete(NULL, inv, FNGUARD__V1__OUTCOME__OUTCOME_CRASH, -1, NULL, "");
		assert_int_equal(n_records, a);
		assert_int_equal(last_outcome, FNGUARD__V1__OUTCOME__OUTCOME_CRASH);
		assert_ptr_equal(fn.queue, inv);
		assert_int_equal(fn.queued, 2);
	}
	inv = take();
	inv_complete(NULL, inv, FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT, 137, NULL, "timed out");
	/* The last attempt: recorded (and its error logged), not queued again, nobody answered
	 * (an async caller has its id already). */
	assert_int_equal(n_records, INV_ATTEMPTS);
	assert_int_equal(n_logs, 1);
	assert_int_equal(fn.queued, 1);
	assert_int_equal(fn.queue->payload_len, 6);
	assert_memory_equal(fn.queue->payload, "behind", 6);
	assert_int_equal(n_answers, 0);
}

static void test_async_ok_once(void **state)
{
	struct inv *inv;

	(void)state;
	submit(true, NULL, 0, "p");
	inv = take();
	inv_complete(NULL, inv, FNGUARD__V1__OUTCOME__OUTCOME_OK, 0, NULL, NULL);
	assert_int_equal(n_records, 1);
	assert_int_equal(fn.queued, 0);
}

static void test_not_retried(void **state)
{
	struct inv *inv;

	(void)state;
	/* Synchronous: the caller gets the failure at once. */
	submit(false, client_a, 42, "p");
	inv = take();
	inv_complete(NULL, inv, FNGUARD__V1__OUTCOME__OUTCOME_ERROR, 1, NULL, "");
	assert_int_equal(n_answers, 1);
	assert_ptr_equal(answered_client, client_a);
	assert_int_equal(answered_req, 42);
	assert_int_equal(answered_outcome, FNGUARD__V1__OUTCOME__OUTCOME_ERROR);
	assert_int_equal(fn.queued, 0);
	/* Async, but the function is removed, or the daemon stops. */
	fn.removed = true;
	submit(true, NULL, 0, "p");
	inv_complete(NULL, take(), FNGUARD__V1__OUTCOME__OUTCOME_CRASH, -1, NULL, "");
	assert_int_equal(fn.queued, 0);
	fn.removed = false;
	daemon_ctx.stopping = true;
	submit(true, NULL, 0, "p");
	inv_complete(NULL, take(), FNGUARD__V1__OUTCOME__OUTCOME_CRASH, -1, NULL, "");
	assert_int_equal(fn.queued, 0);
	assert_int_equal(n_records, 3);
}

static void test_queue_fail(void **state)
{
	(void)state;
	submit(false, client_a, 1, "a");
	submit(true, NULL, 0, "b");
	submit(false, client_b, 2, "c");
	/* Every one fails now, none is retried; the synchronous callers are answered. */
	fn_queue_fail(&fn, FNGUARD__V1__OUTCOME__OUTCOME_CRASH, "function removed");
	assert_int_equal(fn.queued, 0);
	assert_null(fn.queue);
	assert_int_equal(n_records, 3);
	assert_int_equal(n_logs, 3);
	assert_int_equal(n_answers, 2);
	assert_ptr_equal(answered_client, client_b);
	assert_int_equal(answered_outcome, FNGUARD__V1__OUTCOME__OUTCOME_CRASH);
}

static void test_client_gone(void **state)
{
	struct inv *running, *queued, *other;
	struct env e = {.fn = &fn};

	(void)state;
	submit(false, client_a, 1, "running");
	submit(false, client_a, 2, "queued");
	submit(false, client_b, 3, "other");
	running = take();
	e.cur = running;
	daemon_ctx.envs = &e;
	queued = fn.queue;
	other = fn.queue->next;
	inv_client_gone(&daemon_ctx, client_a);
	assert_null(running->client);
	assert_null(queued->client);
	assert_ptr_equal(other->client, client_b);
	/* Its invocations still run and are recorded, but answer nobody. */
	e.cur = NULL;
	daemon_ctx.envs = NULL;
	inv_complete(NULL, running, FNGUARD__V1__OUTCOME__OUTCOME_OK, 0, NULL, NULL);
	inv_complete(NULL, take(), FNGUARD__V1__OUTCOME__OUTCOME_OK, 0, NULL, NULL);
	assert_int_equal(n_records, 2);
	assert_int_equal(n_answers, 0);
	inv_complete(NULL, take(), FNGUARD__V1__OUTCOME__OUTCOME_OK, 0, NULL, NULL);
	assert_int_equal(n_answers, 1);
	assert_ptr_equal(answered_client, client_b);
}

/* ------------------------------------------------------------------ results */

static void test_outcome_of(void **state)
{
	struct fng_policy vm = {.environment.kind = FNG_ENV_MICROVM};
	struct fn vmfn = {.policy = &vm};
	struct env e = {.fn = &fn, .cg.fd = -1};
	Fnguard__V1__AgentResult r = FNGUARD__V1__AGENT_RESULT__INIT;

	(void)state;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_OK);
	r.exit_status = 3;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_ERROR);
	r.exit_status = 0;
	r.response_too_large = 1;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_ERROR);
	r.response_too_large = 0;
	r.signaled = 1;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_CRASH);
	/* A guest's OOM is its agent's word; a process environment's, its cgroup's count. */
	r.oom = 1;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_CRASH);
	e.fn = &vmfn;
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_OOM);
	/* The handler could not start: an error, whatever else it says. */
	r.error = "no such file";
	assert_int_equal(outcome_of(&e, &r), FNGUARD__V1__OUTCOME__OUTCOME_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_fifo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_ok_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outcome_of, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
