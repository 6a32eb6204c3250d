// SPDX-License-Identifier: Apache-2.0
/*
 * The agent channel (channel.h): the queue of what the daemon sends, the checks and rate
 * limits of what the agent sends, and the loss events of what was dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "emit.h"
#include "channel.h"
#include "fnguardd.h"

/* ------------------------------------------------------------------ daemon -> agent */

int env_out_flush(struct env *e)
{
	bool want;

	while (e->out_off < e->out_len) {
		ssize_t n = send(e->ctl.fd, e->out + e->out_off, e->out_len - e->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		e->out_off += (size_t)n;
	}
	if (e->out_off == e->out_len)
		env_out_free(e);
	/* EPOLLOUT only while something waits: a socket is writable nearly always. */
	want = e->out_len > 0;
	if (want != e->out_wait) {
		int err = loop_mod(&e->ctl, EPOLLIN | (want ? EPOLLOUT : 0));

		if (err)
			return err;
		e->out_wait = want;
	}
	return 0;
}

int env_out_queue(struct env *e, uint8_t *frame, size_t len)
{
	size_t pending = e->out_len - e->out_off;
	uint8_t *p;

	if (pending + len > ENV_OUT_MAX) {
		free(frame);
		return -ENOBUFS;
	}
	if (!pending) {
		/* The usual case: nothing waits, the frame is the queue (no copy of 6 MiB). */
		env_out_free(e);
		e->out = frame;
		e->out_len = len;
		return env_out_flush(e);
	}
	/* Behind a frame the agent has not read yet: a reset after a result, at most. */
	memmove(e->out, e->out + e->out_off, pending);
	p = realloc(e->out, pending + len);
	if (!p) {
		free(frame);
		return -ENOMEM;
	}
	memcpy(p + pending, frame, len);
	free(frame);
	e->out = p;
	e->out_off = 0;
	e->out_len = pending + len;
	return env_out_flush(e);
}

void env_out_last(struct env *e, uint8_t *frame, size_t len)
{
	/* A frame behind half a frame would be garbage to the agent; it is told by the end of
	 * file anyway. A partial frame is the same end of file, inside a frame. */
	if (e->out_off == e->out_len)
		(void)!send(e->ctl.fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(frame);
}

void env_out_free(struct env *e)
{
	free(e->out);
	e->out = NULL;
	e->out_len = e->out_off = 0;
}

/* ------------------------------------------------------------------ agent -> daemon */

/* Adds what @dt_ns earned at @rate a second, up to @burst. */
static void bucket_refill(double *tokens, double rate, double burst, int64_t dt_ns)
{
	if (dt_ns > 0)
		*tokens += rate * (double)dt_ns / 1e9;
	if (*tokens > burst)
		*tokens = burst;
}

void inv_log_budget_init(struct inv *inv)
{
	inv->log_tokens = ENV_LOG_BURST_LINES;
	inv->log_byte_tokens = ENV_LOG_BURST_BYTES;
	inv->log_mono = mono_ns();
	inv->log_dropped = inv->denials_dropped = 0;
}

bool inv_log_take(struct inv *inv, size_t len)
{
	int64_t now = mono_ns();

	bucket_refill(&inv->log_tokens, ENV_LOG_RATE_LINES, ENV_LOG_BURST_LINES,
		      now - inv->log_mono);
	bucket_refill(&inv->log_byte_tokens, ENV_LOG_RATE_BYTES, ENV_LOG_BURST_BYTES,
		      now - inv->log_mono);
	inv->log_mono = now;
	if (inv->log_tokens < 1 || inv->log_byte_tokens < (double)len) {
		inv->log_dropped++;
		return false;
	}
	inv->log_tokens -= 1;
	inv->log_byte_tokens -= (double)len;
	return true;
}

bool env_denial_take(struct env *e)
{
	int64_t now = mono_ns();

	if (!e->denial_mono)
		e->denial_tokens = ENV_DENIAL_BURST;
	else
		bucket_refill(&e->denial_tokens, ENV_DENIAL_RATE, ENV_DENIAL_BURST,
			      now - e->denial_mono);
	e->denial_mono = now;
	if (e->denial_tokens < 1)
		return false;
	e->denial_tokens -= 1;
	return true;
}

/* A message out of place that is dropped and counted, until there are too many of them. */
int env_refuse_idle(struct env *e, const char *what, char *why, size_t whylen)
{
	e->refused++;
	if (++e->refused_idle <= ENV_REFUSED_IDLE_MAX)
		return 0;
	snprintf(why, whylen, "agent: over %u %s while no invocation runs", ENV_REFUSED_IDLE_MAX,
		 what);
	return -EPROTO;
}

/*
 * A denial the agent relays (a process environment's seccomp notifications, a guest kernel's
 * denials) is published only while the function's code runs: during an invocation, or the
 * reset that kills what it left. Before the first invocation nothing of the function has run,
 * and between invocations what it left behind is out of the channel's contract: such messages,
 * and those over the rate, are dropped and counted; a flood past the bounds stops the
 * environment, since every message costs the loop that serves all the others.
 */
int env_agent_denial(struct env *e, const struct fng_event *ev, char *why, size_t whylen)
{
	if (e->state != ENV_BUSY && e->state != ENV_RESETTING)
		return env_refuse_idle(e, "denials", why, whylen);
	if (env_denial_take(e))
		return 1; /* the caller publishes it (env_denial) */
	if (e->cur)
		e->cur->denials_dropped++;
	else
		e->refused++;
	if (++e->denial_flood <= ENV_DENIAL_FLOOD_MAX)
		return 0;
	snprintf(why, whylen, "agent: over %u denials past the rate limit", ENV_DENIAL_FLOOD_MAX);
	return -EPROTO;
}

/* Checks a seccomp denial the agent sends: it must look like what seccomp_notify makes. */
static int denial_check(const struct env *e, const ProtobufCBinaryData *b, struct fng_event *ev)
{
	if (b->len != sizeof(*ev))
		return -EBADMSG;
	memcpy(ev, b->data, sizeof(*ev));
	/* A guest's agent also relays what its own kernel denied: files and exec too. */
	if (ev->class != FNG_CLASS_SYSCALL && ev->class != FNG_CLASS_NETWORK &&
	    !(env_is_microvm(e) && (ev->class == FNG_CLASS_FILE || ev->class == FNG_CLASS_EXEC)))
		return -EBADMSG;
	ev->comm[sizeof(ev->comm) - 1] = 0;
	ev->target.path[sizeof(ev->target.path) - 1] = 0;
	return 0;
}

/* AGENT_DROP, or AGENT_REFUSE for @r < 0 (env_refuse_idle(), env_agent_denial()). */
static enum agent_verdict dropped(int r)
{
	return r < 0 ? AGENT_REFUSE : AGENT_DROP;
}

enum agent_verdict agent_message_check(struct env *e, const Fnguard__V1__AgentMessage *m,
				       struct fng_event *ev, char *why, size_t whylen)
{
	int r;

	switch (m->msg_case) {
	case FNGUARD__V1__AGENT_MESSAGE__MSG_READY:
		if (e->state == ENV_STARTING)
			return AGENT_BOOTED;
		if (e->state == ENV_RESETTING)
			return AGENT_RESET_DONE;
		snprintf(why, whylen, "agent: ready while %s", e->state == ENV_BUSY ? "busy" : "ready");
		return AGENT_REFUSE;
	case FNGUARD__V1__AGENT_MESSAGE__MSG_LOG:
		/* The agent sends every line before the result: none can come late. */
		if (!e->cur || strcmp(m->log->invocation, e->cur->id))
			return dropped(env_refuse_idle(e, "log lines", why, whylen));
		/* Over the budget: counted, the invocation's loss. */
		return inv_log_take(e->cur, m->log->line.len) ? AGENT_LOG : AGENT_DROP;
	case FNGUARD__V1__AGENT_MESSAGE__MSG_DENIAL:
		if (denial_check(e, &m->denial->event, ev)) {
			snprintf(why, whylen, "agent: malformed denial");
			return AGENT_REFUSE;
		}
		r = env_agent_denial(e, ev, why, whylen);
		return r == 1 ? AGENT_DENIAL : dropped(r);
	case FNGUARD__V1__AGENT_MESSAGE__MSG_RESULT:
		if (e->state != ENV_BUSY || !e->cur || strcmp(m->result->invocation, e->cur->id)) {
			snprintf(why, whylen, "agent: result for an invocation that is not running");
			return AGENT_REFUSE;
		}
		if (m->result->response.len > FNGUARD_PAYLOAD_MAX) {
			snprintf(why, whylen, "agent: response over 6 MiB");
			return AGENT_REFUSE;
		}
		return AGENT_RESULT;
	case FNGUARD__V1__AGENT_MESSAGE__MSG_FAILURE:
		snprintf(why, whylen, "agent: %s: %s", m->failure->step, m->failure->error);
		return AGENT_REFUSE;
	default:
		snprintf(why, whylen, "agent: unknown message");
		return AGENT_REFUSE;
	}
}

static void loss_emit(struct fnguardd *d, uint64_t n, const char *where, const struct fn *fn,
		      const struct env *e, const struct inv *inv)
{
	struct telemetry_event *t = ev_scratch(d);

	telemetry_loss(t, n, where);
	emit(d, t, fn, e, inv);
}

uint64_t inv_report_drops(struct fnguardd *d, struct env *e, struct inv *inv)
{
	if (inv->log_dropped)
		loss_emit(d, inv->log_dropped, "function log (rate limit)", inv->fn, e, inv);
	if (inv->denials_dropped)
		loss_emit(d, inv->denials_dropped, "agent denials (rate limit)", inv->fn, e, inv);
	return inv->log_dropped + inv->denials_dropped;
}

void env_report_refused(struct env *e)
{
	if (e->refused == e->refused_reported)
		return;
	loss_emit(e->d, e->refused - e->refused_reported,
		  "agent messages refused (no invocation running, or over the rate)", e->fn, e,
		  NULL);
	e->refused_reported = e->refused;
}
