// SPDX-License-Identifier: Apache-2.0
/*
 * Sample frames of every Event type and of the daemon API, for tests/host/proto.sh, which
 * decodes them with Google's protoc. On its own this test packs every sample, reads the
 * stream back through the decoder and checks that each frame unpacks and packs again to the
 * same bytes. With FNGUARD_FRAMES_OUT=DIR it also writes DIR/events.bin, DIR/requests.bin and
 * DIR/responses.bin (delimited streams); with FNGUARD_FRAMES_IN=FILE it reads the delimited
 * Events in FILE (written by protoc --encode) and prints them as JSON lines to FILE.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "telemetry.h"
#include "wire.h"
#include "fnguard/v1/api.pb-c.h"

#define T0 1700000000000000000LL

static const struct telemetry_origin origin = {
    .host = "worker-1",
    .function = "thumbnailer",
    .version = "3",
    .env = "env-7",
    .invocation = "inv-9",
};

static const char log_line[] = "said \"hi\"\tto caf\xc3\xa9";

struct stream {
	uint8_t *buf;
	size_t len;
	size_t frames;
};

static void stream_add(struct stream *s, const ProtobufCMessage *m)
{
	uint8_t *frame;
	size_t len;

	assert_int_equal(wire_frame_pack(m, 0, &frame, &len), 0);
	s->buf = realloc(s->buf, s->len + len);
	assert_non_null(s->buf);
	memcpy(s->buf + s->len, frame, len);
	s->len += len;
	s->frames++;
	free(frame);
}

static void events(struct stream *s)
{
	struct fng_event k = {.ts_ns = 5,
			      .pid = 42,
			      .class = FNG_CLASS_FILE,
			      .op = FNG_OP_OPEN,
			      .syscall_nr = SYS_openat,
			      .verdict = FNG_EVENT_BLOCKED,
			      .rule_kind = FNG_RULE_DEFAULT,
			      .target_kind = FNG_TARGET_PATH};
	static struct telemetry_event t; /* static: large */
	Fnguard__V1__Event empty = FNGUARD__V1__EVENT__INIT;
	Fnguard__V1__Invocation *v;
	char line[TELEMETRY_LINE_MAX];

	strcpy(k.comm, "python3");
	/* Not UTF-8: must still make a message Google's parser accepts. */
	strcpy(k.target.path, "/etc/pass\xffwd");
	telemetry_denial(&t, &k, NULL, T0);
	telemetry_stamp(&t, &origin, 1);
	stream_add(s, &t.ev.base);

	v = telemetry_invocation(&t);
	v->cold_start = 1;
	v->init_ns = 5000000;
	v->duration_ns = 1200;
	v->memory_peak_bytes = 4096;
	v->cpu_user_ns = 300;
	v->cpu_system_ns = 200;
	v->outcome = FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT;
	v->exit_status = 137;
	v->denials = 2;
	v->events_lost = 1;
	t.ev.time_unix_nano = T0 + 1;
	telemetry_stamp(&t, &origin, 2);
	stream_add(s, &t.ev.base);

	telemetry_env_state(&t, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED,
			    FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM, "max_invocations reached");
	t.ev.time_unix_nano = T0 + 2;
	telemetry_stamp(&t, &(struct telemetry_origin){.host = "worker-1", .env = "env-7"}, 3);
	stream_add(s, &t.ev.base);

	telemetry_log(&t, "stderr", log_line, strlen(log_line));
	t.ev.time_unix_nano = T0 + 3;
	telemetry_stamp(&t, &origin, 4);
	stream_add(s, &t.ev.base);

	telemetry_api_call(&t, 1000, 998, 4242, "invoke", "thumbnailer:3", "ok");
	t.ev.time_unix_nano = T0 + 4;
	telemetry_stamp(&t, &(struct telemetry_origin){.host = "worker-1"}, 5);
	stream_add(s, &t.ev.base);

	telemetry_loss(&t, 17, "kernel ring buffer");
	t.ev.time_unix_nano = T0 + 5;
	telemetry_stamp(&t, &(struct telemetry_origin){.host = "worker-1"}, 6);
	stream_add(s, &t.ev.base);

	/* A frame of length zero. */
	stream_add(s, &empty.base);

	/* A long line: a 3-byte length prefix. */
	memset(line, 'x', sizeof(line));
	telemetry_log(&t, "stderr", line, sizeof(line));
	t.ev.time_unix_nano = T0 + 6;
	telemetry_stamp(&t, &(struct telemetry_origin){.host = "worker-1"}, 7);
	stream_add(s, &t.ev.base);
}

static void requests(struct stream *s)
{
	static const char yaml[] = "apiVersion: fnguard/v1\n";
	static uint8_t payload[] = {0x00, 0xff, '{', '}'};
	static char *types[] = {"denial", "loss"};
	Fnguard__V1__Request r = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__RegisterFunction reg = FNGUARD__V1__REGISTER_FUNCTION__INIT;
	Fnguard__V1__Invoke inv = FNGUARD__V1__INVOKE__INIT;
	Fnguard__V1__Subscribe sub = FNGUARD__V1__SUBSCRIBE__INIT;
	Fnguard__V1__RemoveFunction rm = FNGUARD__V1__REMOVE_FUNCTION__INIT;
	Fnguard__V1__ListEnvs envs = FNGUARD__V1__LIST_ENVS__INIT;

	reg.policy_case = FNGUARD__V1__REGISTER_FUNCTION__POLICY_POLICY_YAML;
	reg.policy_yaml.data = (uint8_t *)yaml;
	reg.policy_yaml.len = sizeof(yaml) - 1;
	reg.policy_name = "thumbnailer.yaml";
	reg.code_dir = "/srv/functions";
	r.id = 1;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION;
	r.register_function = &reg;
	stream_add(s, &r.base);

	inv.name = "thumbnailer";
	inv.version = "3";
	inv.payload.data = payload;
	inv.payload.len = sizeof(payload);
	inv.async = 1;
	r.id = 2;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_INVOKE;
	r.invoke = &inv;
	stream_add(s, &r.base);

	sub.n_types = 2;
	sub.types = types;
	sub.follow = 1;
	r.id = 3;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE;
	r.subscribe = &sub;
	stream_add(s, &r.base);

	rm.name = "thumbnailer";
	r.id = 4;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_REMOVE_FUNCTION;
	r.remove_function = &rm;
	stream_add(s, &r.base);

	/* An empty method message is still present on the wire: "list_envs {}". */
	r.id = 5;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_LIST_ENVS;
	r.list_envs = &envs;
	stream_add(s, &r.base);
}

static void responses(struct stream *s)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__Error err = FNGUARD__V1__ERROR__INIT;
	Fnguard__V1__InvokeResult res = FNGUARD__V1__INVOKE_RESULT__INIT;
	Fnguard__V1__Invocation rec = FNGUARD__V1__INVOCATION__INIT;
	Fnguard__V1__EnvList list = FNGUARD__V1__ENV_LIST__INIT;
	Fnguard__V1__Env env = FNGUARD__V1__ENV__INIT, *envp = &env;
	Fnguard__V1__StatusResult st = FNGUARD__V1__STATUS_RESULT__INIT;
	Fnguard__V1__Backend be[2] = {FNGUARD__V1__BACKEND__INIT, FNGUARD__V1__BACKEND__INIT};
	Fnguard__V1__Backend *bep[2] = {&be[0], &be[1]};
	static struct telemetry_event t;

	err.code = FNGUARD__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND;
	err.message = "remove thumbnailer: no such function";
	r.id = 4;
	r.error = &err;
	stream_add(s, &r.base);
	r.error = NULL;

	rec.duration_ns = 1200;
	rec.outcome = FNGUARD__V1__OUTCOME__OUTCOME_OK;
	res.invocation = "inv-9";
	res.response.data = (uint8_t *)"{\"ok\":true}";
	res.response.len = 11;
	res.outcome = FNGUARD__V1__OUTCOME__OUTCOME_OK;
	res.record = &rec;
	r.id = 2;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_INVOKE;
	r.invoke = &res;
	stream_add(s, &r.base);

	env.id = "env-7";
	env.function = "thumbnailer";
	env.version = "3";
	env.kind = FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS;
	env.state = FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY;
	env.age_ns = 60000000000ULL;
	env.invocations = 12;
	list.n_envs = 1;
	list.envs = &envp;
	r.id = 5;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_ENVS;
	r.envs = &list;
	stream_add(s, &r.base);

	be[0].name = "bpf-lsm";
	be[0].available = 1;
	be[1].name = "kmod";
	be[1].reason = "the kernel has no module support";
	st.n_backends = 2;
	st.backends = bep;
	r.id = 6;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_STATUS;
	r.status = &st;
	stream_add(s, &r.base);

	telemetry_loss(&t, 3, "subscriber");
	t.ev.time_unix_nano = T0;
	telemetry_stamp(&t, &(struct telemetry_origin){.host = "worker-1"}, 9);
	r.id = 3;
	r.more = 1;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_EVENT;
	r.event = &t.ev;
	stream_add(s, &r.base);
}

/* Every frame of @s unpacks as @desc and packs again to the same bytes. */
static void check_stream(const struct stream *s, const ProtobufCMessageDescriptor *desc)
{
	struct wire_decoder d;
	const uint8_t *frame;
	ProtobufCMessage *m;
	uint8_t *again;
	size_t len, n = 0;

	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, s->buf, s->len), 0);
	while (wire_decoder_next(&d, &frame, &len) == 1) {
		m = protobuf_c_message_unpack(desc, NULL, len, frame);
		assert_non_null(m);
		assert_int_equal(protobuf_c_message_get_packed_size(m), len);
		again = malloc(len + 1);
		assert_non_null(again);
		assert_int_equal(protobuf_c_message_pack(m, again), len);
		assert_memory_equal(again, frame, len);
		free(again);
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
	}
	assert_int_equal(n, s->frames);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
}

static void write_stream(const char *dir, const char *name, const struct stream *s)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(wire_write_all(fd, s->buf, s->len), 0);
	close(fd);
}

static void test_frames(void **state)
{
	struct stream ev = {0}, req = {0}, resp = {0};
	const char *out = getenv("FNGUARD_FRAMES_OUT");

	events(&ev);
	requests(&req);
	responses(&resp);
	check_stream(&ev, &fnguard__v1__event__descriptor);
	check_stream(&req, &fnguard__v1__request__descriptor);
	check_stream(&resp, &fnguard__v1__response__descriptor);
	if (out) {
		write_stream(out, "events.bin", &ev);
		write_stream(out, "requests.bin", &req);
		write_stream(out, "responses.bin", &resp);
	}
	free(ev.buf);
	free(req.buf);
	free(resp.buf);
}

/* Events someone else encoded, as JSON lines. */
static void test_frames_in(void **state)
{
	const char *in = getenv("FNGUARD_FRAMES_IN");
	ProtobufCMessage *m;
	char path[4096];
	FILE *f;
	int fd, r;

	snprintf(path, sizeof(path), "%s.json", in);
	fd = open(in, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	f = fopen(path, "w");
	assert_non_null(f);
	while ((r = wire_read_message(fd, &fnguard__v1__event__descriptor, 0, &m)) == 1) {
		assert_int_equal(telemetry_json_write(f, (Fnguard__V1__Event *)m), 0);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	assert_int_equal(r, 0);
	fclose(f);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frames),
	};
	const struct CMUnitTest tests_in[] = {
	    cmocka_unit_test(test_frames),
	    cmocka_unit_test(test_frames_in),
	};

	/* Reading frames is what proto.sh asks for, not a test of its own. */
	if (getenv("FNGUARD_FRAMES_IN"))
		return cmocka_run_group_tests(tests_in, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
