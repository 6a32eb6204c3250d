// SPDX-License-Identifier: Apache-2.0
/*
 * Telemetry events as `fnguard events --json` prints them: every event type, with its keys and
 * values written out by hand from docs/telemetry.md; the time as RFC 3339; the type filter;
 * strings made valid UTF-8; and the same line for an event that went through the wire.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "telemetry.h"
#include "policy.h"

/* 1700000000 s after the epoch is 2023-11-14T22:13:20Z. */
#define T0 1700000000000000000LL

static const struct telemetry_origin origin = {
    .host = "worker-1",
    .function = "thumbnailer",
    .version = "3",
    .env = "env-7",
    .invocation = "inv-9",
};
static const struct telemetry_origin host_only = {.host = "worker-1"};

static const char policy_yaml[] = "apiVersion: fnguard/v1\n"
				  "files:\n"
				  "  rules:\n"
				  "    - path: /var/task\n"
				  "      access: [read]\n";

/* The JSON line of @e, in a buffer the caller frees. */
static char *json_of(const Fnguard__V1__Event *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(telemetry_json_write(f, e), 0);
	fclose(f);
	return buf;
}

static void assert_json(const Fnguard__V1__Event *e, const char *want)
{
	char *got = json_of(e);

	assert_string_equal(got, want);
	free(got);
}

/* Packs and unpacks @e: what a subscriber gets must print the same. */
static void assert_wire_json(const Fnguard__V1__Event *e, const char *want)
{
	size_t len = fnguard__v1__event__get_packed_size(e);
	uint8_t *buf = malloc(len + 1);
	Fnguard__V1__Event *back;

	assert_non_null(buf);
	assert_int_equal(fnguard__v1__event__pack(e, buf), len);
	back = fnguard__v1__event__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_json(back, want);
	fnguard__v1__event__free_unpacked(back, NULL);
	free(buf);
}

static void test_denial_file(void **state)
{
	struct fng_event k = {.ts_ns = 5,
			      .pid = 42,
			      .class = FNG_CLASS_FILE,
			      .op = FNG_OP_OPEN,
			      .syscall_nr = SYS_openat,
			      .verdict = FNG_EVENT_BLOCKED,
			      .rule_kind = FNG_RULE_ENTRY,
			      .rule_index = 0,
			      .target_kind = FNG_TARGET_PATH};
	struct telemetry_event t;
	struct fng_policy *p = NULL;
	const char *want = "{\"type\":\"denial\",\"time\":\"2023-11-14T22:13:20.000000005Z\","
			   "\"seq\":12,\"host\":\"worker-1\",\"function\":\"thumbnailer\","
			   "\"version\":\"3\",\"env\":\"env-7\",\"invocation\":\"inv-9\","
			   "\"pid\":42,\"comm\":\"python3\",\"class\":\"file\",\"op\":\"open\","
			   "\"syscall\":\"openat\",\"target\":\"/var/task/data\","
			   "\"verdict\":\"blocked\",\"rule\":\"files.rules[0] (/var/task)\"}\n";

	assert_int_equal(
	    policy_load_buffer("p.yaml", policy_yaml, sizeof(policy_yaml) - 1, "/", &p, NULL), 0);
	strcpy(k.comm, "python3");
	strcpy(k.target.path, "/var/task/data");
	telemetry_denial(&t, &k, p, T0);
	telemetry_stamp(&t, &origin, 12);
	assert_int_equal(t.ev.time_unix_nano, T0 + 5); /* the kernel's time is kept */
	assert_int_equal(t.ev.denial->class_, FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_FILE);
	assert_json(&t.ev, want);
	assert_wire_json(&t.ev, want);
	policy_free(p);
}

static void test_denial_network_audited(void **state)
{
	struct fng_event k = {.pid = 7,
			      .class = FNG_CLASS_NETWORK,
			      .op = FNG_OP_CONNECT,
			      .syscall_nr = SYS_connect,
			      .verdict = FNG_EVENT_AUDITED,
			      .rule_kind = FNG_RULE_DEFAULT,
			      .target_kind = FNG_TARGET_ADDR};
	struct telemetry_event t;

	strcpy(k.comm, "curl");
	k.target.addr.family = AF_INET;
	k.target.addr.protocol = 6;
	k.target.addr.port = 443;
	inet_pton(AF_INET, "192.0.2.7", k.target.addr.addr);
	telemetry_denial(&t, &k, NULL, T0);
	telemetry_stamp(&t, &host_only, 1);
	assert_json(&t.ev, "{\"type\":\"denial\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":1,\"host\":\"worker-1\",\"pid\":7,\"comm\":\"curl\","
			   "\"class\":\"network\",\"op\":\"connect\",\"syscall\":\"connect\","
			   "\"target\":\"192.0.2.7:443/tcp\",\"verdict\":\"audited\","
			   "\"rule\":\"network.egress.default\"}\n");
}

static void test_denial_syscall(void **state)
{
	struct fng_event k = {.pid = 9,
			      .class = FNG_CLASS_SYSCALL,
			      .op = FNG_OP_SYSCALL,
			      .syscall_nr = SYS_ptrace,
			      .verdict = FNG_EVENT_BLOCKED,
			      .rule_kind = FNG_RULE_ENTRY,
			      .target_kind = FNG_TARGET_TEXT};
	struct telemetry_event t;
	char *got;

	strcpy(k.comm, "sh");
	strcpy(k.target.path, "ptrace(0x10, 0x1, 0x0, 0x0, 0x0, 0x0)");
	telemetry_denial(&t, &k, NULL, T0);
	telemetry_stamp(&t, &host_only, 2);
	got = json_of(&t.ev);
	/* The operation of a denied syscall is the syscall. */
	assert_non_null(strstr(got, ",\"pid\":9,\"comm\":\"sh\",\"class\":\"syscall\","
				    "\"op\":\"ptrace\",\"syscall\":\"ptrace\","
				    "\"target\":\"ptrace(0x10, 0x1, 0x0, 0x0, 0x0, 0x0)\","
				    "\"verdict\":\"blocked\",\"rule\":\"syscalls.deny\"}\n"));
	free(got);

	/* A number libseccomp has no name for is kept as text; no syscall at all is null. */
	k.syscall_nr = 9999;
	k.class = FNG_CLASS_FILE;
	k.op = FNG_OP_UNLINK;
	telemetry_denial(&t, &k, NULL, T0);
	telemetry_stamp(&t, &host_only, 3);
	got = json_of(&t.ev);
	assert_non_null(strstr(got, "\"op\":\"unlink\",\"syscall\":\"9999\","));
	free(got);
	k.syscall_nr = -1;
	telemetry_denial(&t, &k, NULL, T0);
	telemetry_stamp(&t, &host_only, 4);
	got = json_of(&t.ev);
	assert_non_null(strstr(got, "\"op\":\"unlink\",\"syscall\":null,"));
	free(got);
}

static void test_denial_not_utf8(void **state)
{
	struct fng_event k = {.class = FNG_CLASS_FILE,
			      .op = FNG_OP_OPEN,
			      .syscall_nr = -1,
			      .target_kind = FNG_TARGET_PATH};
	struct telemetry_event t;

	/* A 16-byte comm has no NUL; file names are bytes, not text. */
	memcpy(k.comm, "0123456789abcde\xff", 16);
	strcpy(k.target.path, "/tmp/a\xff\xc3(b\xe2\x82\xac");
	telemetry_denial(&t, &k, NULL, 0);
	assert_string_equal(t.ev.denial->comm, "0123456789abcde\xef\xbf\xbd");
	/* \xff and a truncated \xc3 each become U+FFFD; the euro sign stays. */
	assert_string_equal(t.ev.denial->target, "/tmp/a\xef\xbf\xbd\xef\xbf\xbd(b\xe2\x82\xac");
	/* Unknown kernel values: class unknown, anything not audited is blocked. */
	k.class = 77;
	k.verdict = 0;
	telemetry_denial(&t, &k, NULL, 0);
	assert_int_equal(t.ev.denial->class_, 0);
	assert_int_equal(t.ev.denial->verdict, FNGUARD__V1__VERDICT__VERDICT_BLOCKED);
}

static void test_invocation(void **state)
{
	struct telemetry_event t;
	Fnguard__V1__Invocation *v = telemetry_invocation(&t);
	const char *cold =
	    "{\"type\":\"invocation\",\"time\":\"2023-11-14T22:13:20.000000001Z\","
	    "\"seq\":3,\"host\":\"worker-1\",\"function\":\"thumbnailer\","
	    "\"version\":\"3\",\"env\":\"env-7\",\"invocation\":\"inv-9\","
	    "\"cold_start\":true,\"init_ns\":5000000,\"duration_ns\":1200,"
	    "\"memory_peak_bytes\":4096,\"cpu_user_ns\":300,\"cpu_system_ns\":200,"
	    "\"outcome\":\"ok\",\"exit_status\":0,\"denials\":2,\"events_lost\":1}\n";

	v->cold_start = 1;
	v->init_ns = 5000000;
	v->duration_ns = 1200;
	v->memory_peak_bytes = 4096;
	v->cpu_user_ns = 300;
	v->cpu_system_ns = 200;
	v->outcome = FNGUARD__V1__OUTCOME__OUTCOME_OK;
	v->denials = 2;
	v->events_lost = 1;
	t.ev.time_unix_nano = T0 + 1;
	telemetry_stamp(&t, &origin, 3);
	assert_json(&t.ev, cold);
	assert_wire_json(&t.ev, cold);

	/* Warm: no init_ns. */
	v = telemetry_invocation(&t);
	v->outcome = FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT;
	v->exit_status = 137;
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &host_only, 4);
	assert_json(&t.ev, "{\"type\":\"invocation\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":4,\"host\":\"worker-1\",\"cold_start\":false,"
			   "\"duration_ns\":0,\"memory_peak_bytes\":0,\"cpu_user_ns\":0,"
			   "\"cpu_system_ns\":0,\"outcome\":\"timeout\",\"exit_status\":137,"
			   "\"denials\":0,\"events_lost\":0}\n");
}

static void test_outcome_names(void **state)
{
	assert_string_equal(telemetry_outcome_name(FNGUARD__V1__OUTCOME__OUTCOME_OK), "ok");
	assert_string_equal(telemetry_outcome_name(FNGUARD__V1__OUTCOME__OUTCOME_ERROR), "error");
	assert_string_equal(telemetry_outcome_name(FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT),
			    "timeout");
	assert_string_equal(telemetry_outcome_name(FNGUARD__V1__OUTCOME__OUTCOME_OOM), "oom");
	assert_string_equal(telemetry_outcome_name(FNGUARD__V1__OUTCOME__OUTCOME_CRASH), "crash");
	assert_string_equal(telemetry_outcome_name(0), "unknown");
	assert_string_equal(telemetry_outcome_name(6), "unknown");
	assert_string_equal(telemetry_verdict_name(FNGUARD__V1__VERDICT__VERDICT_BLOCKED),
			    "blocked");
	assert_string_equal(telemetry_verdict_name(FNGUARD__V1__VERDICT__VERDICT_AUDITED),
			    "audited");
	assert_string_equal(telemetry_class_name(FNGUARD__V1__DENIAL_CLASS__DENIAL_CLASS_EXEC),
			    "exec");
	assert_string_equal(telemetry_class_name(-1), "unknown");
}

static void test_env(void **state)
{
	static const struct {
		Fnguard__V1__EnvPhase phase;
		const char *name;
	} phases[] = {
	    {FNGUARD__V1__ENV_PHASE__ENV_PHASE_STARTING, "starting"},
	    {FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY, "ready"},
	    {FNGUARD__V1__ENV_PHASE__ENV_PHASE_BUSY, "busy"},
	    {FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED, "recycled"},
	    {FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED, "failed"},
	    {42, "unknown"},
	};
	struct telemetry_event t;
	char want[512];
	size_t i;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		telemetry_env_state(&t, phases[i].phase, FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM,
				    "max_invocations reached");
		t.ev.time_unix_nano = T0;
		telemetry_stamp(&t, &(struct telemetry_origin){.host = "h", .env = "env-7"}, i);
		snprintf(want, sizeof(want),
			 "{\"type\":\"env\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			 "\"seq\":%zu,\"host\":\"h\",\"env\":\"env-7\",\"state\":\"%s\","
			 "\"kind\":\"microvm\",\"reason\":\"max_invocations reached\"}\n",
			 i, phases[i].name);
		assert_json(&t.ev, want);
	}
	telemetry_env_state(&t, FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY,
			    FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS, NULL);
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &host_only, 9);
	assert_json(&t.ev, "{\"type\":\"env\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":9,\"host\":\"worker-1\",\"state\":\"ready\","
			   "\"kind\":\"process\",\"reason\":\"\"}\n");
}

static void test_log(void **state)
{
	struct telemetry_event t;
	const char *want = "{\"type\":\"log\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":5,\"host\":\"worker-1\",\"function\":\"thumbnailer\","
			   "\"version\":\"3\",\"env\":\"env-7\",\"invocation\":\"inv-9\","
			   "\"stream\":\"stderr\",\"line\":\"resized \\\"a.png\\\"\\tin 3 ms\"}\n";

	assert_int_equal(telemetry_log(&t, "stderr", "resized \"a.png\"\tin 3 ms", 23), 23);
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &origin, 5);
	assert_json(&t.ev, want);
	assert_wire_json(&t.ev, want);

	/* NUL and invalid bytes in a line become U+FFFD. */
	assert_int_equal(telemetry_log(&t, "stderr", "a\0b\x80", 4), 4);
	assert_string_equal(t.ev.log->line, "a\xef\xbf\xbd"
					    "b\xef\xbf\xbd");
}

static void test_log_long_line(void **state)
{
	size_t len = TELEMETRY_LINE_MAX + 100, got, total = 0;
	struct telemetry_event t;
	char *line = malloc(len);
	int events = 0;

	assert_non_null(line);
	memset(line, 'x', len);
	/* A 3-byte character straddling the limit is not cut in half. */
	memcpy(line + TELEMETRY_LINE_MAX - 1, "\xe2\x82\xac", 3);
	while (total < len) {
		got = telemetry_log(&t, "stderr", line + total, len - total);
		assert_true(got > 0);
		assert_true(strlen(t.ev.log->line) <= TELEMETRY_LINE_MAX);
		total += got;
		events++;
	}
	assert_int_equal(events, 2);
	telemetry_log(&t, "stderr", line, len);
	assert_int_equal(strlen(t.ev.log->line), TELEMETRY_LINE_MAX - 1);
	free(line);
}

static void test_api_call(void **state)
{
	struct telemetry_event t;
	const char *want = "{\"type\":\"api_call\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":6,\"host\":\"worker-1\",\"uid\":1000,\"gid\":998,"
			   "\"pid\":4242,\"method\":\"invoke\",\"target\":\"thumbnailer:3\","
			   "\"result\":\"ok\"}\n";

	telemetry_api_call(&t, 1000, 998, 4242, "invoke", "thumbnailer:3", "ok");
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &host_only, 6);
	assert_json(&t.ev, want);
	assert_wire_json(&t.ev, want);
}

static void test_loss(void **state)
{
	struct telemetry_event t;
	const char *want = "{\"type\":\"loss\",\"time\":\"2023-11-14T22:13:20.000000000Z\","
			   "\"seq\":7,\"host\":\"worker-1\",\"events_lost\":17,"
			   "\"where\":\"kernel ring buffer\"}\n";

	telemetry_loss(&t, 17, "kernel ring buffer");
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &host_only, 7);
	assert_json(&t.ev, want);
	assert_wire_json(&t.ev, want);
}

static void test_stamp_time_now(void **state)
{
	struct telemetry_event t;

	telemetry_loss(&t, 1, "subscriber");
	telemetry_stamp(&t, &host_only, 1);
	/* After 2023-11-14 and before 2100. */
	assert_true(t.ev.time_unix_nano > T0);
	assert_true(t.ev.time_unix_nano < 4102444800000000000LL);
}

static void test_unknown_type(void **state)
{
	Fnguard__V1__Event e = FNGUARD__V1__EVENT__INIT;

	/* As an older reader sees a type added later: no body it knows, the common fields. */
	e.seq = 8;
	e.host = "h";
	assert_null(telemetry_type_name(&e));
	assert_json(&e, "{\"type\":\"unknown\",\"time\":\"1970-01-01T00:00:00.000000000Z\","
			"\"seq\":8,\"host\":\"h\"}\n");
}

static void test_time_format(void **state)
{
	char buf[64];

	telemetry_time_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	telemetry_time_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
	telemetry_time_format(951782400123456789LL, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.123456789Z");
	telemetry_time_format(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "2262-04-11T23:47:16.854775807Z");
}

static void test_filter(void **state)
{
	struct telemetry_event t;
	uint32_t mask = 0;

	telemetry_loss(&t, 1, "daemon queue");
	assert_true(telemetry_filter_match(0, &t.ev));
	assert_int_equal(telemetry_filter_add(&mask, "denial"), 0);
	assert_false(telemetry_filter_match(mask, &t.ev));
	assert_int_equal(telemetry_filter_add(&mask, "env,loss"), 0);
	assert_true(telemetry_filter_match(mask, &t.ev));
	telemetry_env_state(&t, FNGUARD__V1__ENV_PHASE__ENV_PHASE_BUSY,
			    FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM, "");
	assert_true(telemetry_filter_match(mask, &t.ev));
	telemetry_api_call(&t, 0, 0, 1, "status", "", "ok");
	assert_false(telemetry_filter_match(mask, &t.ev));

	mask = 0;
	assert_int_equal(telemetry_filter_add(&mask, "invocation,log,api_call"), 0);
	assert_true(telemetry_filter_match(mask, &t.ev));
	telemetry_invocation(&t);
	assert_true(telemetry_filter_match(mask, &t.ev));
	assert_string_equal(telemetry_type_name(&t.ev), "invocation");

	/* Unknown and empty names are refused and leave the mask alone. */
	mask = 0;
	assert_int_equal(telemetry_filter_add(&mask, "denials"), -EINVAL);
	assert_int_equal(telemetry_filter_add(&mask, ""), -EINVAL);
	assert_int_equal(telemetry_filter_add(&mask, "denial,"), -EINVAL);
	assert_int_equal(telemetry_filter_add(&mask, "loss,invocation_record"), -EINVAL);
	assert_int_equal(mask, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_denial_file),
	    cmocka_unit_test(test_denial_network_audited),
	    cmocka_unit_test(test_denial_syscall),
	    cmocka_unit_test(test_denial_not_utf8),
	    cmocka_unit_test(test_invocation),
	    cmocka_unit_test(test_outcome_names),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_log_long_line),
	    cmocka_unit_test(test_api_call),
	    cmocka_unit_test(test_loss),
	    cmocka_unit_test(test_stamp_time_now),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
