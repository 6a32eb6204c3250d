// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <seccomp.h>

#include "event_json.h"
#include "json.h"
#include "telemetry.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The oneof members and their JSON "type"; the index is the type's bit in a filter mask. */
static const struct {
	Fnguard__V1__Event__BodyCase body;
	const char *name;
} types[] = {
    {FNGUARD__V1__EVENT__BODY_DENIAL, "denial"},
    {FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD, "invocation"},
    {FNGUARD__V1__EVENT__BODY_ENV_STATE, "env"},
    {FNGUARD__V1__EVENT__BODY_LOG, "log"},
    {FNGUARD__V1__EVENT__BODY_API_CALL, "api_call"},
    {FNGUARD__V1__EVENT__BODY_LOSS, "loss"},
};

/* ------------------------------------------------------------------ text */

/*
 * Length of the well-formed UTF-8 sequence at @s (at most @len bytes), 0 if there is none: the
 * JSON writer's rule (RFC 3629), and no NUL (a C string cannot hold it). The same bytes are
 * valid here and in the JSON writer.
 */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	uint32_t cp;

	if (s[0] >= 0x01 && s[0] <= 0x7f)
		return 1;
	return json_utf8_sequence(s, len, &cp);
}

/*
 * Copies @len bytes of @src into @t's text as valid UTF-8 of at most @max bytes (each byte
 * that is not part of a well-formed sequence becomes U+FFFD; a sequence that does not fit is
 * left out whole). *@consumed, when not NULL, is how many bytes of @src were taken.
 */
static char *text_put_len(struct telemetry_event *t, const char *src, size_t len, size_t max,
			  size_t *consumed)
{
	const unsigned char *s = (const unsigned char *)src;
	char *dst = t->text + t->used;
	size_t room = sizeof(t->text) - t->used, i = 0, o = 0, n;

	if (!room)
		return (char *)protobuf_c_empty_string;
	if (max > room - 1)
		max = room - 1;
	while (i < len) {
		n = utf8_sequence(s + i, len - i);
		if (n ? o + n > max : o + 3 > max)
			break;
		if (n) {
			memcpy(dst + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	dst[o] = 0;
	t->used += o + 1;
	if (consumed)
		*consumed = i;
	return dst;
}

static char *text_put(struct telemetry_event *t, const char *s)
{
	if (!s || !*s)
		return (char *)protobuf_c_empty_string;
	return text_put_len(t, s, strlen(s), TELEMETRY_TEXT_MAX, NULL);
}

/* -------------------------------------------------------------- building */

static void event_begin(struct telemetry_event *t, Fnguard__V1__Event__BodyCase body)
{
	fnguard__v1__event__init(&t->ev);
	t->used = 0;
	t->ev.body_case = body;
	switch (body) {
	case FNGUARD__V1__EVENT__BODY_DENIAL:
		fnguard__v1__denial__init(&t->body.denial);
		t->ev.denial = &t->body.denial;
		break;
	case FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD:
		fnguard__v1__invocation__init(&t->body.invocation);
		t->ev.invocation_record = &t->body.invocation;
		break;
	case FNGUARD__V1__EVENT__BODY_ENV_STATE:
		fnguard__v1__env_state__init(&t->body.env);
		t->ev.env_state = &t->body.env;
		break;
	case FNGUARD__V1__EVENT__BODY_LOG:
		fnguard__v1__log__init(&t->body.log);
		t->ev.log = &t->body.log;
		break;
	case FNGUARD__V1__EVENT__BODY_API_CALL:
		fnguard__v1__api_call__init(&t->body.api_call);
		t->ev.api_call = &t->body.api_call;
		break;
	case FNGUARD__V1__EVENT__BODY_LOSS:
		fnguard__v1__loss__init(&t->body.loss);
		t->ev.loss = &t->body.loss;
		break;
	default:
		t->ev.body_case = FNGUARD__V1__EVENT__BODY__NOT_SET;
	}
}

void telemetry_denial(struct telemetry_event *t, const struct fng_event *e,
		      const struct fng_policy *p, int64_t boot_to_real_ns)
{
	Fnguard__V1__Denial *d = &t->body.denial;
	char text[TELEMETRY_TEXT_MAX], nr[16];
	char *sc = NULL;

	event_begin(t, FNGUARD__V1__EVENT__BODY_DENIAL);
	t->ev.time_unix_nano = (int64_t)e->ts_ns + boot_to_real_ns;
	d->pid = e->pid;
	d->comm =
	    text_put_len(t, e->comm, strnlen(e->comm, sizeof(e->comm)), TELEMETRY_TEXT_MAX, NULL);
	/* The kernel's class numbers are the proto's (telemetry.proto says so). */
	d->class_ = e->class >= FNG_CLASS_FILE && e->class <= FNG_CLASS_SYSCALL
			? (Fnguard__V1__DenialClass)e->class
			: FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_UNSPECIFIED;
	if (e->syscall_nr >= 0)
		sc = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, e->syscall_nr);
	/* A denied syscall's operation is the syscall itself. */
	d->op = text_put(t, e->class == FNG_CLASS_SYSCALL && sc ? sc : event_op_name(e->op));
	if (sc) {
		d->syscall = text_put(t, sc);
	} else if (e->syscall_nr >= 0) {
		/* libseccomp does not know it (newer than the library): its number, as text. */
		snprintf(nr, sizeof(nr), "%d", e->syscall_nr);
		d->syscall = text_put(t, nr);
	}
	free(sc);
	event_target_text(e, text, sizeof(text));
	d->target = text_put(t, text);
	/* Anything the kernel did not mark as audited was refused. */
	d->verdict = e->verdict == FNG_EVENT_AUDITED ? FNGUARD__V1__VERDICT__VERDICT_AUDITED
						     : FNGUARD__V1__VERDICT__VERDICT_BLOCKED;
	event_rule_name(p, e, text, sizeof(text));
	d->rule = text_put(t, text);
}

Fnguard__V1__Invocation *telemetry_invocation(struct telemetry_event *t)
{
	event_begin(t, FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD);
	return &t->body.invocation;
}

void telemetry_env_state(struct telemetry_event *t, Fnguard__V1__EnvPhase state,
			 Fnguard__V1__EnvKind kind, const char *reason)
{
	event_begin(t, FNGUARD__V1__EVENT__BODY_ENV_STATE);
	t->body.env.state = state;
	t->body.env.kind = kind;
	t->body.env.reason = text_put(t, reason);
}

size_t telemetry_log(struct telemetry_event *t, const char *stream, const char *line, size_t len)
{
	size_t consumed = 0;

	event_begin(t, FNGUARD__V1__EVENT__BODY_LOG);
	t->body.log.stream = text_put(t, stream);
	t->body.log.line = text_put_len(t, line, len, TELEMETRY_LINE_MAX, &consumed);
	return consumed;
}

void telemetry_api_call(struct telemetry_event *t, uint32_t uid, uint32_t gid, uint32_t pid,
			const char *method, const char *target, const char *result)
{
	Fnguard__V1__ApiCall *a = &t->body.api_call;

	event_begin(t, FNGUARD__V1__EVENT__BODY_API_CALL);
	a->uid = uid;
	a->gid = gid;
	a->pid = pid;
	a->method = text_put(t, method);
	a->target = text_put(t, target);
	a->result = text_put(t, result);
}

void telemetry_loss(struct telemetry_event *t, uint64_t events_lost, const char *where)
{
	event_begin(t, FNGUARD__V1__EVENT__BODY_LOSS);
	t->body.loss.events_lost = events_lost;
	t->body.loss.where = text_put(t, where);
}

void telemetry_stamp(struct telemetry_event *t, const struct telemetry_origin *o, uint64_t seq)
{
	struct timespec ts;

	if (!t->ev.time_unix_nano) {
		clock_gettime(CLOCK_REALTIME, &ts);
		t->ev.time_unix_nano = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	t->ev.seq = seq;
	t->ev.host = text_put(t, o->host);
	t->ev.function = text_put(t, o->function);
	t->ev.version = text_put(t, o->version);
	t->ev.env = text_put(t, o->env);
	t->ev.invocation = text_put(t, o->invocation);
}

/* ----------------------------------------------------------------- names */

static const char *enum_name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] ? names[v] : "unknown";
}

const char *telemetry_verdict_name(Fnguard__V1__Verdict v)
{
	static const char *const names[] = {
	    [FNGUARD__V1__VERDICT__VERDICT_BLOCKED] = "blocked",
	    [FNGUARD__V1__VERDICT__VERDICT_AUDITED] = "audited",
	};

	return enum_name(names, ARRAY_SIZE(names), v);
}

const char *telemetry_class_name(Fnguard__V1__DenialClass c)
{
	static const char *const names[] = {
	    [FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_FILE] = "file",
	    [FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_EXEC] = "exec",
	    [FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_NETWORK] = "network",
	    [FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_SYSCALL] = "syscall",
	};

	return enum_name(names, ARRAY_SIZE(names), c);
}

const char *telemetry_outcome_name(Fnguard__V1__Outcome o)
{
	static const char *const names[] = {
	    [FNGUARD__V1__OUTCOME__OUTCOME_OK] = "ok",
	    [FNGUARD__V1__OUTCOME__OUTCOME_ERROR] = "error",
	    [FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT] = "timeout",
	    [FNGUARD__V1__OUTCOME__OUTCOME_OOM] = "oom",
	    [FNGUARD__V1__OUTCOME__OUTCOME_CRASH] = "crash",
	};

	return enum_name(names, ARRAY_SIZE(names), o);
}

const char *telemetry_env_phase_name(Fnguard__V1__EnvPhase s)
{
	static const char *const names[] = {
	    [FNGUARD__V1__ENV_PHASE__ENV_PHASE_STARTING] = "starting",
	    [FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY] = "ready",
	    [FNGUARD__V1__ENV_PHASE__ENV_PHASE_BUSY] = "busy",
	    [FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED] = "recycled",
	    [FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED] = "failed",
	};

	return enum_name(names, ARRAY_SIZE(names), s);
}

const char *telemetry_env_kind_name(Fnguard__V1__EnvKind k)
{
	static const char *const names[] = {
	    [FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM] = "microvm",
	    [FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS] = "process",
	};

	return enum_name(names, ARRAY_SIZE(names), k);
}

/* Index of @e's type in types[], -1 when not set or not known. */
static int type_index(const Fnguard__V1__Event *e)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (e->body_case == types[i].body)
			/* a set oneof member is never NULL after unpacking; be sure anyway */
			return e->denial ? (int)i : -1;
	return -1;
}

const char *telemetry_type_name(const Fnguard__V1__Event *e)
{
	int i = type_index(e);

	return i < 0 ? NULL : types[i].name;
}

int telemetry_filter_add(uint32_t *mask, const char *list)
{
	uint32_t m = 0;
	const char *p = list, *end;
	size_t i, n;

	for (;;) {
		end = strchrnul(p, ',');
		n = (size_t)(end - p);
		for (i = 0; i < ARRAY_SIZE(types); i++)
			if (strlen(types[i].name) == n && !strncmp(p, types[i].name, n))
				break;
		if (i == ARRAY_SIZE(types))
			return -EINVAL;
		m |= 1u << i;
		if (!*end)
			break;
		p = end + 1;
	}
	*mask |= m;
	return 0;
}

bool telemetry_filter_match(uint32_t mask, const Fnguard__V1__Event *e)
{
	int i;

	if (!mask)
		return true;
	i = type_index(e);
	return i >= 0 && (mask & (1u << i));
}

/* ------------------------------------------------------------------ JSON */

void telemetry_time_format(int64_t unix_nano, char *buf, size_t len)
{
	/* Floor division: 1969 times have a negative second count and positive nanoseconds. */
	int64_t secs = unix_nano / 1000000000, nsec = unix_nano % 1000000000;
	time_t tsecs;
	struct tm tm;

	if (nsec < 0) {
		nsec += 1000000000;
		secs--;
	}
	tsecs = (time_t)secs;
	gmtime_r(&tsecs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)nsec);
}

static void put_str(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s ? s : "");
}

/* A common field that "applies" only when set. */
static void put_opt(struct json_writer *w, const char *key, const char *s)
{
	if (s && *s)
		put_str(w, key, s);
}

static void put_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

static void write_denial(struct json_writer *w, const Fnguard__V1__Denial *d)
{
	put_uint(w, "pid", d->pid);
	put_str(w, "comm", d->comm);
	put_str(w, "class", telemetry_class_name(d->class_));
	put_str(w, "op", d->op);
	json_key(w, "syscall");
	if (d->syscall && *d->syscall)
		json_string(w, d->syscall);
	else
		json_null(w);
	put_str(w, "target", d->target);
	put_str(w, "verdict", telemetry_verdict_name(d->verdict));
	put_str(w, "rule", d->rule);
}

static void write_invocation(struct json_writer *w, const Fnguard__V1__Invocation *v)
{
	json_key(w, "cold_start");
	json_bool(w, v->cold_start);
	if (v->cold_start)
		put_uint(w, "init_ns", v->init_ns);
	if (v->cold_start && v->runtime_init_ns)
		put_uint(w, "runtime_init_ns", v->runtime_init_ns);
	put_uint(w, "duration_ns", v->duration_ns);
	put_uint(w, "memory_peak_bytes", v->memory_peak_bytes);
	put_uint(w, "cpu_user_ns", v->cpu_user_ns);
	put_uint(w, "cpu_system_ns", v->cpu_system_ns);
	put_str(w, "outcome", telemetry_outcome_name(v->outcome));
	json_key(w, "exit_status");
	json_int(w, v->exit_status);
	put_uint(w, "denials", v->denials);
	put_uint(w, "events_lost", v->events_lost);
	if (v->error_type && *v->error_type)
		put_str(w, "error_type", v->error_type);
	if (v->error_message && *v->error_message)
		put_str(w, "error_message", v->error_message);
}

static void write_body(struct json_writer *w, const Fnguard__V1__Event *e)
{
	switch (e->body_case) {
	case FNGUARD__V1__EVENT__BODY_DENIAL:
		write_denial(w, e->denial);
		break;
	case FNGUARD__V1__EVENT__BODY_INVOCATION_RECORD:
		write_invocation(w, e->invocation_record);
		break;
	case FNGUARD__V1__EVENT__BODY_ENV_STATE:
		put_str(w, "state", telemetry_env_phase_name(e->env_state->state));
		put_str(w, "kind", telemetry_env_kind_name(e->env_state->kind));
		put_str(w, "reason", e->env_state->reason);
		break;
	case FNGUARD__V1__EVENT__BODY_LOG:
		put_str(w, "stream", e->log->stream);
		put_str(w, "line", e->log->line);
		break;
	case FNGUARD__V1__EVENT__BODY_API_CALL:
		put_uint(w, "uid", e->api_call->uid);
		put_uint(w, "gid", e->api_call->gid);
		put_uint(w, "pid", e->api_call->pid);
		put_str(w, "method", e->api_call->method);
		put_str(w, "target", e->api_call->target);
		put_str(w, "result", e->api_call->result);
		break;
	case FNGUARD__V1__EVENT__BODY_LOSS:
		put_uint(w, "events_lost", e->loss->events_lost);
		put_str(w, "where", e->loss->where);
		break;
	default:
		break;
	}
}

int telemetry_json_write(FILE *f, const Fnguard__V1__Event *e)
{
	const char *type = telemetry_type_name(e);
	struct json_writer w;
	char when[64];
	int err;

	json_writer_init(&w, f, 0);
	json_object_begin(&w);
	put_str(&w, "type", type ? type : "unknown");
	telemetry_time_format(e->time_unix_nano, when, sizeof(when));
	put_str(&w, "time", when);
	put_uint(&w, "seq", e->seq);
	put_str(&w, "host", e->host);
	put_opt(&w, "function", e->function);
	put_opt(&w, "version", e->version);
	put_opt(&w, "env", e->env);
	put_opt(&w, "invocation", e->invocation);
	if (type)
		write_body(&w, e);
	json_object_end(&w);
	err = json_writer_finish(&w);
	if (!err && (fputc('\n', f) == EOF || fflush(f)))
		err = -EIO;
	return err;
}
