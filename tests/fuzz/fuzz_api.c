// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: what a client (or a daemon) can send. The input is a byte stream fed to
 * the incremental frame decoder in pieces whose sizes come from the first byte; every frame
 * must be unpacked as a fnguard.v1.Request (or refused) without a crash, leak or hang, and a
 * Request that unpacks must pack again to something that unpacks. Each frame is also read as
 * a fnguard.v1.Response, and a subscription's Event is rendered as a JSON line, which must
 * be one line. The decoder must keep its promises: frames no longer than the limit, errors
 * sticky, and buffered bytes accounted for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry.h"
#include "wire.h"
#include "fnguard/v1/agent.pb-c.h"
#include "fnguard/v1/api.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__,         \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A small limit, so that inputs of libFuzzer's sizes reach "too big" too. */
#define FUZZ_MAX_FRAME (64u << 10)

static void check_request(const uint8_t *frame, size_t len)
{
	Fnguard__V1__Request *r, *again;
	uint8_t *buf;
	size_t n;

	r = fnguard__v1__request__unpack(NULL, len, frame);
	if (!r)
		return;
	/* Touch what a daemon would read. */
	if (r->method_case == FNGUARD__V1__REQUEST__METHOD_SUBSCRIBE) {
		uint32_t mask = 0;

		for (n = 0; n < r->subscribe->n_types; n++)
			(void)telemetry_filter_add(&mask, r->subscribe->types[n]);
	}
	/*
	 * protobuf-c keeps unknown fields and packs them again, including a field number 0 it
	 * accepted in a non-minimal tag encoding but refuses when packed minimally: compare
	 * only what has no unknown fields (a Request nests one level).
	 */
	if (r->base.n_unknown_fields ||
	    (r->method_case && ((ProtobufCMessage *)r->invoke)->n_unknown_fields)) {
		fnguard__v1__request__free_unpacked(r, NULL);
		return;
	}
	n = fnguard__v1__request__get_packed_size(r);
	buf = malloc(n + 1);
	CHECK(buf);
	CHECK(fnguard__v1__request__pack(r, buf) == n);
	again = fnguard__v1__request__unpack(NULL, n, buf);
	CHECK(again);
	CHECK(again->id == r->id && again->method_case == r->method_case);
	fnguard__v1__request__free_unpacked(again, NULL);
	free(buf);
	fnguard__v1__request__free_unpacked(r, NULL);
}

/* The agent channel: what a hostile agent could send the daemon, and the daemon the agent. */
static void check_agent(const uint8_t *frame, size_t len)
{
	Fnguard__V1__AgentMessage *m = fnguard__v1__agent_message__unpack(NULL, len, frame);
	Fnguard__V1__AgentRequest *q = fnguard__v1__agent_request__unpack(NULL, len, frame);

	if (m) {
		/* The fields channel.c reads before any check of its own. */
		if (m->msg_case == FNGUARD__V1__AGENT_MESSAGE__MSG_RESULT)
			CHECK(m->result->invocation && m->result->error);
		if (m->msg_case == FNGUARD__V1__AGENT_MESSAGE__MSG_LOG)
			CHECK(m->log->invocation && (m->log->line.data || !m->log->line.len));
		if (m->msg_case == FNGUARD__V1__AGENT_MESSAGE__MSG_FAILURE)
			CHECK(m->failure->step && m->failure->error);
		fnguard__v1__agent_message__free_unpacked(m, NULL);
	}
	if (q)
		fnguard__v1__agent_request__free_unpacked(q, NULL);
}

static void check_response(const uint8_t *frame, size_t len)
{
	Fnguard__V1__Response *r = fnguard__v1__response__unpack(NULL, len, frame);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	if (!r)
		return;
	if (r->result_case == FNGUARD__V1__RESPONSE__RESULT_EVENT) {
		f = open_memstream(&out, &outlen);
		CHECK(f);
		CHECK(telemetry_json_write(f, r->event) == 0);
		fclose(f);
		/* One event, one line, whatever its strings hold. */
		CHECK(outlen > 0 && strchr(out, '\n') == out + outlen - 1);
		(void)telemetry_filter_match(1u << 3, r->event);
		free(out);
	}
	fnguard__v1__response__free_unpacked(r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_decoder d;
	const uint8_t *frame;
	size_t chunk, off = 0, len, taken = 0;
	int r = 0;

	if (!size)
		return 0;
	/* 0: everything at once; else pieces of 1-255 bytes. */
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	wire_decoder_init(&d, FUZZ_MAX_FRAME);
	while (off < size && r >= 0) {
		len = size - off < chunk ? size - off : chunk;
		r = wire_decoder_feed(&d, data + off, len);
		off += len;
		while (r >= 0 && (r = wire_decoder_next(&d, &frame, &len)) == 1) {
			CHECK(len <= FUZZ_MAX_FRAME);
			CHECK(frame >= d.buf && frame + len <= d.buf + d.end);
			taken += len;
			check_request(frame, len);
			check_response(frame, len);
			check_agent(frame, len);
		}
	}
	if (r < 0) {
		CHECK(r == -EBADMSG || r == -EMSGSIZE);
		CHECK(wire_decoder_error(&d)[0]);
		CHECK(wire_decoder_feed(&d, "", 1) == r &&
		      wire_decoder_next(&d, &frame, &len) == r);
	} else {
		CHECK(taken + wire_decoder_pending(&d) <= size);
		CHECK(wire_decoder_finish(&d) == (wire_decoder_pending(&d) ? -EPROTO : 0));
	}
	wire_decoder_free(&d);
	return 0;
}
