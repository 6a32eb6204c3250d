/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Telemetry events (docs/telemetry.md, proto/fnguard/v1/telemetry.proto): building them from
 * kernel events and from what the daemon sees, rendering any of them as one JSON line, and
 * the event type filter of `fnguard events --type` and Subscribe.types.
 *
 * A struct telemetry_event holds an Event and every string it points to, so building one
 * allocates nothing and the event is self-contained until it is built again. Every string is
 * copied as valid UTF-8 (each byte that is not part of a well-formed sequence becomes U+FFFD),
 * so that every protobuf library accepts the packed event. Usage:
 *
 *	struct telemetry_event t;
 *
 *	telemetry_loss(&t, lost, "kernel ring buffer");		(one body builder)
 *	telemetry_stamp(&t, &origin, ++seq);			(then the common fields)
 *	wire_write_message(fd, &t.ev.base, 0);			(or telemetry_json_write(f, &t.ev))
 */
#ifndef FNGUARD_TELEMETRY_H
#define FNGUARD_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "fnguard/v1/telemetry.pb-c.h"
#include "fnguard_abi.h"

struct fng_policy;

/* Longest log line one event carries (bytes of UTF-8); the rest goes in the next event. */
#define TELEMETRY_LINE_MAX 16384
/* Longest other string (longer ones are cut, at a character boundary). */
#define TELEMETRY_TEXT_MAX 1024
/* The event types, as in JSON "type", for messages. */
#define TELEMETRY_TYPES "denial, invocation, env, log, api_call, loss"

struct telemetry_event {
	Fnguard__V1__Event ev;
	union {
		Fnguard__V1__Denial denial;
		Fnguard__V1__Invocation invocation;
		Fnguard__V1__EnvState env;
		Fnguard__V1__Log log;
		Fnguard__V1__ApiCall api_call;
		Fnguard__V1__Loss loss;
	} body;
	size_t used;
	/* Room for the common strings, a body's strings and one log line. */
	char text[TELEMETRY_LINE_MAX + 12 * (TELEMETRY_TEXT_MAX + 1)];
};

/* The common fields of the events of one source; NULL or "" where one does not apply. */
struct telemetry_origin {
	const char *host;
	const char *function;
	const char *version;
	const char *env;	/* environment id */
	const char *invocation; /* invocation id */
};

/*
 * Body builders: each one starts @t afresh as an event of its type. The time is the
 * kernel's for a denial, else set by telemetry_stamp().
 */
/* @p (may be NULL) names the rule that decided; @boot_to_real_ns: REALTIME - BOOTTIME. */
void telemetry_denial(struct telemetry_event *t, const struct fng_event *e,
		      const struct fng_policy *p, int64_t boot_to_real_ns);
/* An invocation record, all zero: the caller fills it in. */
Fnguard__V1__Invocation *telemetry_invocation(struct telemetry_event *t);
void telemetry_env_state(struct telemetry_event *t, Fnguard__V1__EnvPhase state,
			 Fnguard__V1__EnvKind kind, const char *reason);
/*
 * One log line of @len bytes (without its newline). Returns how many bytes of it the event
 * holds: less than @len when the line is longer than TELEMETRY_LINE_MAX, and then the caller
 * sends the rest as further events.
 */
size_t telemetry_log(struct telemetry_event *t, const char *stream, const char *line, size_t len);
void telemetry_api_call(struct telemetry_event *t, uint32_t uid, uint32_t gid, uint32_t pid,
			const char *method, const char *target, const char *result);
void telemetry_loss(struct telemetry_event *t, uint64_t events_lost, const char *where);

/* Sets the common fields: @o's strings (copied), @seq, and the time now unless set. */
void telemetry_stamp(struct telemetry_event *t, const struct telemetry_origin *o, uint64_t seq);

/*
 * Any Event (built here or unpacked from the wire) as one JSON line, with the keys of
 * docs/telemetry.md: "type", "time" (RFC 3339, UTC, nanoseconds), "seq", "host", then
 * "function", "version", "env", "invocation" when not empty, then every field of the body in
 * the order of the .proto, enums as the spec's words ("unknown" for a value this version does
 * not know). Two exceptions: "init_ns" only for a cold start, "syscall" is null when empty.
 * An event of a type this version does not know has "type": "unknown" and the common fields.
 * Flushes @f. 0 or -EIO.
 */
int telemetry_json_write(FILE *f, const Fnguard__V1__Event *e);

/* "2026-11-03T09:15:02.000000042Z"; @len >= 40. */
void telemetry_time_format(int64_t unix_nano, char *buf, size_t len);

/* JSON "type" of an event: "denial", ...; NULL when the body is not set or not known. */
const char *telemetry_type_name(const Fnguard__V1__Event *e);

/* The spec's words for the enums; "unknown" for values outside them. */
const char *telemetry_verdict_name(Fnguard__V1__Verdict v);
const char *telemetry_class_name(Fnguard__V1__DenialClass c);
const char *telemetry_outcome_name(Fnguard__V1__Outcome o);
const char *telemetry_env_phase_name(Fnguard__V1__EnvPhase s);
const char *telemetry_env_kind_name(Fnguard__V1__EnvKind k);

/*
 * Type filter: a set of event types, as a bit mask; 0 matches every event.
 * telemetry_filter_add() adds the types named in @types, one or several separated by commas
 * ("denial" or "denial,loss"): 0, or -EINVAL for an unknown or empty name (@mask unchanged).
 */
int telemetry_filter_add(uint32_t *mask, const char *types);
bool telemetry_filter_match(uint32_t mask, const Fnguard__V1__Event *e);

#endif
