// SPDX-License-Identifier: Apache-2.0
/*
 * The agent channel's bounds (daemon/channel.c): a frame larger than the socket buffer is
 * written in parts as the peer reads, EPOLLOUT asked for only while something waits; the queue
 * is bounded; the last word never goes behind half a frame; the log and denial token buckets
 * (burst, then rate), the states in which relayed denials are published, and the loss events
 * of what was dropped; and the check of every agent message (agent_message_check: out of place,
 * of another invocation, malformed, oversized). The loop's functions are stubs here, with a
 * clock the tests move.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "emit.h"
#include "channel.h"
#include "fnguardd.h"

/* ------------------------------------------------------------------ the loop, stubbed */

static int64_t now_ns = 1000000000;
static uint32_t last_mod = 0;
static unsigned n_mods;
static struct telemetry_event scratch;
static struct fnguardd daemon_ctx; /* the context the loss events must name */
static struct {
	uint64_t lost;
	char where[96];
} losses[8];
static unsigned n_losses;

int64_t mono_ns(void)
{
	return now_ns;
}

int loop_mod(struct watch *w, uint32_t events)
{
	(void)w;
	last_mod = events;
	n_mods++;
	return 0;
}

struct telemetry_event *ev_scratch(struct fnguardd *d)
{
	assert_ptr_equal(d, &daemon_ctx);
	return &scratch;
}

void emit(struct fnguardd *d, struct telemetry_event *t, const struct fn *fn,
	  const struct env *env, const struct inv *inv)
{
	(void)fn, (void)env, (void)inv;
	assert_ptr_equal(d, &daemon_ctx);
	assert_int_equal(t->ev.body_case, FNGUARD__V1__EVENT__BODY_LOSS);
	assert_true(n_losses < 8);
	losses[n_losses].lost = t->ev.loss->events_lost;
	snprintf(losses[n_losses].where, sizeof(losses[0].where), "%s", t->ev.loss->where);
	n_losses++;
}

static unsigned n_published;

/* env_agent_denial() is 1 for a denial the daemon publishes (pool.c then calls env_denial). */
static int agent_denial(struct env *e, const struct fng_event *ev, char *why, size_t whylen)
{
	int r = env_agent_denial(e, ev, why, whylen);

	if (r == 1) {
		n_published++;
		return 0;
	}
	return r;
}

static int setup(void **state)
{
	(void)state;
	now_ns = 1000000000;
	last_mod = n_mods = n_losses = n_published = 0;
	return 0;
}

/* ------------------------------------------------------------------ daemon -> agent */

/* An environment whose control channel is one end of a socketpair with a small buffer. */
static void env_pair(struct env *e, int *peer)
{
	int sv[2], small = 16384;

	memset(e, 0, sizeof(*e));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	e->ctl.fd = sv[0];
	*peer = sv[1];
}

static uint8_t *pattern(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
	return p;
}

/* Reads what the peer has, then lets the queue write more: until @want bytes came. */
static void drain(struct env *e, int peer, uint8_t *got, size_t want)
{
	size_t have = 0;

	for (int rounds = 0; have < want; rounds++) {
		ssize_t n = read(peer, got + have, want - have);

		assert_true(rounds < 100000);
		if (n > 0)
			have += (size_t)n;
		assert_int_equal(env_out_flush(e), 0);
	}
}

static void test_big_frame_in_parts(void **state)
{
	size_t len = FNGUARD_PAYLOAD_MAX + 100;
	uint8_t *frame = pattern(len, 7), *copy = malloc(len), *got = malloc(len);
	struct env e;
	int peer;

	(void)state;
	memcpy(copy, frame, len);
	env_pair(&e, &peer);
	/* Written in part at once, the rest waits for EPOLLOUT. */
	assert_int_equal(env_out_queue(&e, frame, len), 0);
	assert_true(e.out_len - e.out_off > 0);
	assert_true(e.out_wait);
	assert_int_equal(last_mod, EPOLLIN | EPOLLOUT);
	drain(&e, peer, got, len);
	assert_memory_equal(got, copy, len);
	/* All written: EPOLLIN alone again, and the buffer is gone. */
	assert_false(e.out_wait);
	assert_int_equal(last_mod, EPOLLIN);
	assert_null(e.out);
	close(peer);
	close(e.ctl.fd);
	free(copy);
	free(got);
}

static void test_queue_bounded(void **state)
{
	size_t len = FNGUARD_PAYLOAD_MAX + 100;
	struct env e;
	int peer;

	(void)state;
	env_pair(&e, &peer);
	assert_int_equal(env_out_queue(&e, pattern(len, 1), len), 0);
	/* A small frame behind it fits; a second invoke does not: the agent does not read. */
	assert_int_equal(env_out_queue(&e, pattern(64, 2), 64), 0);
	assert_int_equal(env_out_queue(&e, pattern(len, 3), len), -ENOBUFS);
	/* The last word is not put behind half a frame. */
	{
		size_t pending = e.out_len - e.out_off;
		uint8_t buf[64];

		env_out_last(&e, pattern(16, 4), 16);
		assert_int_equal(e.out_len - e.out_off, pending);
		env_out_free(&e);
		/* Nothing waits: it is written at once. */
		while (read(peer, buf, sizeof(buf)) > 0)
			;
		env_out_last(&e, pattern(16, 5), 16);
		assert_int_equal(read(peer, buf, sizeof(buf)), 16);
	}
	close(peer);
	close(e.ctl.fd);
}

static void test_queue_order(void **state)
{
	size_t len = 200000;
	uint8_t *a = pattern(len, 9), *b = pattern(100, 10), *want = malloc(len + 100),
		*got = malloc(len + 100);
	struct env e;
	int peer;

	(void)state;
	memcpy(want, a, len);
	memcpy(want + len, b, 100);
	env_pair(&e, &peer);
	assert_int_equal(env_out_queue(&e, a, len), 0);
	assert_int_equal(env_out_queue(&e, b, 100), 0);
	drain(&e, peer, got, len + 100);
	assert_memory_equal(got, want, len + 100);
	close(peer);
	close(e.ctl.fd);
	free(want);
	free(got);
}

/* ------------------------------------------------------------------ agent -> daemon */

static void test_log_budget(void **state)
{
	struct inv inv = {0};
	unsigned passed = 0;

	(void)state;
	inv_log_budget_init(&inv);
	for (int i = 0; i < 5000; i++)
		passed += inv_log_take(&inv, 0);
	assert_int_equal(passed, ENV_LOG_BURST_LINES);
	assert_int_equal(inv.log_dropped, 5000 - ENV_LOG_BURST_LINES);
	/* A second later: the rate's worth more. */
	now_ns += 1000000000;
	passed = 0;
	for (int i = 0; i < 5000; i++)
		passed += inv_log_take(&inv, 0);
	assert_int_equal(passed, ENV_LOG_RATE_LINES);
	/* An hour later: the burst again, never more. */
	now_ns += 3600ll * 1000000000;
	passed = 0;
	for (int i = 0; i < 5000; i++)
		passed += inv_log_take(&inv, 0);
	assert_int_equal(passed, ENV_LOG_BURST_LINES);
	/* The bytes: 16 KiB lines, 1 MiB of them, then 64 KiB a second. */
	inv_log_budget_init(&inv);
	passed = 0;
	for (int i = 0; i < 500; i++)
		passed += inv_log_take(&inv, 16384);
	assert_int_equal(passed, ENV_LOG_BURST_BYTES / 16384);
	now_ns += 1000000000;
	passed = 0;
	for (int i = 0; i < 500; i++)
		passed += inv_log_take(&inv, 16384);
	assert_int_equal(passed, ENV_LOG_RATE_BYTES / 16384);
	/* A line over the whole byte budget never passes. */
	now_ns += 3600ll * 1000000000;
	assert_false(inv_log_take(&inv, ENV_LOG_BURST_BYTES + 1));
}

static void test_denial_bucket(void **state)
{
	struct env e = {0};
	unsigned passed = 0;

	(void)state;
	for (int i = 0; i < 3000; i++)
		passed += env_denial_take(&e);
	assert_int_equal(passed, ENV_DENIAL_BURST);
	now_ns += 500000000;
	passed = 0;
	for (int i = 0; i < 3000; i++)
		passed += env_denial_take(&e);
	assert_int_equal(passed, ENV_DENIAL_RATE / 2);
}

static void test_loss_events(void **state)
{
	struct inv inv = {0};
	struct env e = {.d = &daemon_ctx};

	(void)state;
	/* Nothing dropped: no event. */
	assert_int_equal(inv_report_drops(&daemon_ctx, &e, &inv), 0);
	env_report_refused(&e);
	assert_int_equal(n_losses, 0);
	inv.log_dropped = 5;
	inv.denials_dropped = 7;
	assert_int_equal(inv_report_drops(&daemon_ctx, &e, &inv), 12);
	assert_int_equal(n_losses, 2);
	assert_int_equal(losses[0].lost, 5);
	assert_string_equal(losses[0].where, "function log (rate limit)");
	assert_int_equal(losses[1].lost, 7);
	assert_string_equal(losses[1].where, "agent denials (rate limit)");
	/* Refused messages: each told once, as the difference since the last report. */
	e.refused = 3;
	env_report_refused(&e);
	env_report_refused(&e);
	e.refused = 10;
	env_report_refused(&e);
	assert_int_equal(n_losses, 4);
	assert_int_equal(losses[2].lost, 3);
	assert_int_equal(losses[3].lost, 7);
}

static void test_denial_states(void **state)
{
	struct fng_event ev = {0};
	struct inv inv = {0};
	struct env e = {0};
	char why[128] = "";
	int r = 0;

	(void)state;
	/* Starting and ready: refused, counted, published never; past the bound, -EPROTO. */
	e.state = ENV_STARTING;
	for (int i = 0; i < 500; i++)
		assert_int_equal(agent_denial(&e, &ev, why, sizeof(why)), 0);
	e.state = ENV_READY;
	for (int i = 0; i < ENV_REFUSED_IDLE_MAX - 500 && !r; i++)
		r = agent_denial(&e, &ev, why, sizeof(why));
	assert_int_equal(r, 0);
	assert_int_equal(n_published, 0);
	assert_int_equal(e.refused, ENV_REFUSED_IDLE_MAX);
	assert_int_equal(agent_denial(&e, &ev, why, sizeof(why)), -EPROTO);
	assert_string_equal(why, "agent: over 1000 denials while no invocation runs");
	/* Busy: the burst is published, the rest is the invocation's loss, until the bound. */
	e = (struct env){.state = ENV_BUSY, .cur = &inv};
	for (int i = 0; i < ENV_DENIAL_BURST + ENV_DENIAL_FLOOD_MAX; i++)
		assert_int_equal(agent_denial(&e, &ev, why, sizeof(why)), 0);
	assert_int_equal(n_published, ENV_DENIAL_BURST);
	assert_int_equal(inv.denials_dropped, ENV_DENIAL_FLOOD_MAX);
	assert_int_equal(e.refused, 0);
	assert_int_equal(agent_denial(&e, &ev, why, sizeof(why)), -EPROTO);
	/* Resetting: in place, but of no invocation: over the rate, the environment's count. */
	e = (struct env){.state = ENV_RESETTING};
	for (int i = 0; i < ENV_DENIAL_BURST + 10; i++)
		assert_int_equal(agent_denial(&e, &ev, why, sizeof(why)), 0);
	assert_int_equal(e.refused, 10);
}

/* ------------------------------------------------------------------ agent messages */

static struct fng_policy process_policy = {.environment.kind = FNG_ENV_PROCESS};
static struct fng_policy microvm_policy = {.environment.kind = FNG_ENV_MICROVM};
static struct fn process_fn = {.policy = &process_policy};
static struct fn microvm_fn = {.policy = &microvm_policy};

/* A process environment in @state, running @inv (NULL: none). */
static void env_in(struct env *e, enum env_state state, struct inv *inv)
{
	memset(e, 0, sizeof(*e));
	e->fn = &process_fn;
	e->state = state;
	e->cur = inv;
}

static enum agent_verdict check(struct env *e, const Fnguard__V1__AgentMessage *m, char *why,
				size_t whylen)
{
	struct fng_event ev;

	why[0] = 0;
	return agent_message_check(e, m, &ev, why, whylen);
}

static void test_message_ready(void **state)
{
	/* Ready after the start or a reset; at any other time, out of the contract. */
	static const struct {
		enum env_state state;
		enum agent_verdict verdict;
		const char *why;
	} cases[] = {
	    {ENV_STARTING, AGENT_BOOTED, ""},
	    {ENV_RESETTING, AGENT_RESET_DONE, ""},
	    {ENV_BUSY, AGENT_REFUSE, "agent: ready while busy"},
	    {ENV_READY, AGENT_REFUSE, "agent: ready while ready"},
	};
	Fnguard__V1__AgentReady rd = FNGUARD__V1__AGENT_READY__INIT;
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	struct inv running = {.id = "inv-1"};

	(void)state;
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_READY;
	m.ready = &rd;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[128];
		struct env e;

		env_in(&e, cases[i].state, cases[i].state == ENV_BUSY ? &running : NULL);
		assert_int_equal(check(&e, &m, why, sizeof(why)), cases[i].verdict);
		assert_string_equal(why, cases[i].why);
	}
}

static void test_message_log(void **state)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentLog lg = FNGUARD__V1__AGENT_LOG__INIT;
	struct inv inv = {.id = "inv-1"};
	enum agent_verdict v = AGENT_DROP;
	char why[128];
	struct env e;

	(void)state;
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_LOG;
	m.log = &lg;
	lg.line.data = (uint8_t *)"hello";
	lg.line.len = 5;
	inv_log_budget_init(&inv);
	/* Of the running invocation: published, within its budget. */
	env_in(&e, ENV_BUSY, &inv);
	lg.invocation = "inv-1";
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_LOG);
	/* Of another invocation: dropped and counted as the environment's, never published. */
	lg.invocation = "inv-2";
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_DROP);
	assert_int_equal(e.refused, 1);
	assert_int_equal(e.refused_idle, 1);
	assert_int_equal(inv.log_dropped, 0);
	/* With no invocation running: the same, until there are too many of them. */
	env_in(&e, ENV_READY, NULL);
	lg.invocation = "inv-1";
	for (int i = 0; i < ENV_REFUSED_IDLE_MAX && v == AGENT_DROP; i++)
		v = check(&e, &m, why, sizeof(why));
	assert_int_equal(v, AGENT_DROP);
	assert_int_equal(e.refused, ENV_REFUSED_IDLE_MAX);
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: over 1000 log lines while no invocation runs");
	/* Over the invocation's budget: dropped, counted as its loss. */
	env_in(&e, ENV_BUSY, &inv);
	inv_log_budget_init(&inv);
	for (int i = 0; i < ENV_LOG_BURST_LINES; i++)
		assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_LOG);
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_DROP);
	assert_int_equal(inv.log_dropped, 1);
	assert_int_equal(e.refused, 0);
}

static void test_message_result(void **state)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentResult res = FNGUARD__V1__AGENT_RESULT__INIT;
	struct inv inv = {.id = "inv-1"};
	char why[128];
	struct env e;

	(void)state;
	env_in(&e, ENV_BUSY, &inv);
	res.invocation = "inv-1";
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_RESULT;
	m.result = &res;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_RESULT);
	/* Of another invocation, or when none runs. */
	res.invocation = "inv-2";
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: result for an invocation that is not running");
	res.invocation = "inv-1";
	env_in(&e, ENV_READY, NULL);
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	env_in(&e, ENV_RESETTING, &inv);
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	/* A response over the API's limit. */
	env_in(&e, ENV_BUSY, &inv);
	res.response.len = FNGUARD_PAYLOAD_MAX + 1;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: response over 6 MiB");
	res.response.len = FNGUARD_PAYLOAD_MAX;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_RESULT);
}

static void test_message_denial(void **state)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentDenial dn = FNGUARD__V1__AGENT_DENIAL__INIT;
	struct fng_event sent, got;
	struct inv inv = {.id = "inv-1"};
	char why[128];
	struct env e;

	(void)state;
	memset(&sent, 'A', sizeof(sent));
	sent.class = FNG_CLASS_SYSCALL;
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_DENIAL;
	m.denial = &dn;
	dn.event.data = (uint8_t *)&sent;
	dn.event.len = sizeof(sent);
	/* In place: published, its strings ended. */
	env_in(&e, ENV_BUSY, &inv);
	assert_int_equal(agent_message_check(&e, &m, &got, why, sizeof(why)), AGENT_DENIAL);
	assert_int_equal(got.class, FNG_CLASS_SYSCALL);
	assert_int_equal(got.comm[sizeof(got.comm) - 1], 0);
	assert_int_equal(got.target.path[sizeof(got.target.path) - 1], 0);
	/* Out of place: dropped and counted. */
	env_in(&e, ENV_READY, NULL);
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_DROP);
	assert_int_equal(e.refused, 1);
	/* Of another size than a struct fng_event: malformed. */
	env_in(&e, ENV_BUSY, &inv);
	dn.event.len = sizeof(sent) + 1;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: malformed denial");
	dn.event.len = sizeof(sent) - 1;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	/* A file denial: only a guest's kernel makes those, never a process's agent. */
	dn.event.len = sizeof(sent);
	sent.class = FNG_CLASS_FILE;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	e.fn = &microvm_fn;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_DENIAL);
	sent.class = 99;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
}

static void test_message_failure(void **state)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentFailure fl = FNGUARD__V1__AGENT_FAILURE__INIT;
	char why[128];
	struct env e;

	(void)state;
	env_in(&e, ENV_STARTING, NULL);
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_FAILURE;
	m.failure = &fl;
	fl.step = "mount";
	fl.error = "no such device";
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: mount: no such device");
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG__NOT_SET;
	assert_int_equal(check(&e, &m, why, sizeof(why)), AGENT_REFUSE);
	assert_string_equal(why, "agent: unknown message");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_big_frame_in_parts, setup),
	    cmocka_unit_test_setup(test_queue_bounded, setup),
	    cmocka_unit_test_setup(test_queue_order, setup),
	    cmocka_unit_test_setup(test_log_budget, setup),
	    cmocka_unit_test_setup(test_denial_bucket, setup),
	    cmocka_unit_test_setup(test_loss_events, setup),
	    cmocka_unit_test_setup(test_denial_states, setup),
	    cmocka_unit_test_setup(test_message_ready, setup),
	    cmocka_unit_test_setup(test_message_log, setup),
	    cmocka_unit_test_setup(test_message_result, setup),
	    cmocka_unit_test_setup(test_message_denial, setup),
	    cmocka_unit_test_setup(test_message_failure, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
