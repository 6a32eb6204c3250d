/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent channel (pool.c uses it): every message of the agent is checked here, without
 * touching anything but the environment's and its invocation's counters, so the checks run
 * without a daemon (tests/host/test_channel.c). Its bounds (issue 13):
 *  - what the daemon sends: the control fd is non-blocking and one loop serves every
 *    environment, so frames go through a bounded per-environment queue that is written as the
 *    agent reads (EPOLLOUT), never with a blocking write;
 *  - what the agent sends: log lines and relayed denials are rate-limited (token buckets),
 *    and whatever is dropped is counted and reported in loss events and in the events_lost of
 *    the invocation it belongs to.
 */
#ifndef FNGUARD_CHANNEL_H
#define FNGUARD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "fnguard/v1/agent.pb-c.h"

struct env;
struct fnguardd;
struct fng_event;
struct inv;

/* Bytes queued for the agent at most: one invoke (6 MiB of payload and its few strings) and
 * the small control frames that may follow it. More means the agent does not read. */
#define ENV_OUT_MAX (FNGUARD_PAYLOAD_MAX + (256u << 10))

/* Reads of up to 64 KiB the loop makes for one environment before it serves the others. */
#define ENV_READS_PER_EVENT 16

/* Log events of one invocation: a burst of this many lines or bytes, then this many a second
 * (README, "The daemon"). */
#define ENV_LOG_BURST_LINES 1000
#define ENV_LOG_RATE_LINES 100
#define ENV_LOG_BURST_BYTES (1u << 20)
#define ENV_LOG_RATE_BYTES (64u << 10)

/* Denials an agent relays, per environment: a burst, then a rate. */
#define ENV_DENIAL_BURST 1000
#define ENV_DENIAL_RATE 200
/* Past these the environment is stopped as misbehaving (counted since its last invocation
 * started): denials over the rate, and agent messages that are out of place (a denial or a
 * log line when no invocation runs). */
#define ENV_DENIAL_FLOOD_MAX 100000
#define ENV_REFUSED_IDLE_MAX 1000

/* Queue a packed frame (@frame: malloc'd, taken over) and write what fits now: 0, -ENOBUFS
 * when the queue would pass ENV_OUT_MAX, or the -errno of the write or of epoll. */
int env_out_queue(struct env *e, uint8_t *frame, size_t len);
/* Write what is queued (the ctl fd is writable): 0 or -errno. */
int env_out_flush(struct env *e);
/* Best effort, never blocks: @frame is written only if nothing is queued before it, and as
 * much of it as the socket takes now. Frees @frame. */
void env_out_last(struct env *e, uint8_t *frame, size_t len);
/* The queue's memory, when the environment goes away. */
void env_out_free(struct env *e);

/* An invocation's log budget starts afresh (at each attempt). */
void inv_log_budget_init(struct inv *inv);
/* Whether a log line of @len bytes of @inv may be published; when not, it is counted. */
bool inv_log_take(struct inv *inv, size_t len);
/* Whether one more relayed denial of @e may be published now (its token bucket). */
bool env_denial_take(struct env *e);
/* An agent message out of place (@what: "denials", "log lines"): dropped and counted; past
 * ENV_REFUSED_IDLE_MAX, -EPROTO with @why set. */
int env_refuse_idle(struct env *e, const char *what, char *why, size_t whylen);
/* A denial the agent relays, checked well-formed: 1 when it is in place and within the rate
 * (the caller publishes it: env_denial()), else dropped and counted (0);
 * -EPROTO with @why set past the bounds. */
int env_agent_denial(struct env *e, const struct fng_event *ev, char *why, size_t whylen);
/* What pool.c does with one message of the agent. */
enum agent_verdict {
	AGENT_REFUSE = -1, /* out of the channel's contract: @why says why; the env is stopped */
	AGENT_DROP,	   /* dropped and counted (out of place, over a rate): nothing to do */
	AGENT_BOOTED,	   /* the first ready: put the environment under its policy, run */
	AGENT_RESET_DONE,  /* ready again after a reset (isolate_invocations): run the next */
	AGENT_LOG,	   /* a log line of the running invocation, within its budget */
	AGENT_DENIAL,	   /* a denial in place and within the rate: publish @ev (env_denial) */
	AGENT_RESULT,	   /* the result of the running invocation, within the bounds */
};

/*
 * Checks message @m of @e's agent against @e's state and its running invocation (e->cur):
 * what is out of place, of another invocation, malformed or oversized is refused, and what is
 * dropped is counted in @e or e->cur. Nothing else is touched: no event is emitted. @ev: the
 * denial of AGENT_DENIAL, checked well-formed.
 */
enum agent_verdict agent_message_check(struct env *e, const Fnguard__V1__AgentMessage *m,
				       struct fng_event *ev, char *why, size_t whylen);

/* Emit the loss events of @inv's drops (before its record): the count, for events_lost. */
uint64_t inv_report_drops(struct fnguardd *d, struct env *e, struct inv *inv);
/* Emit a loss event for the agent messages of @e refused since the last one. */
void env_report_refused(struct env *e);

#endif
