// SPDX-License-Identifier: Apache-2.0
/*
 * Varint-delimited framing: the encoding (bytes worked out by hand from the protobuf encoding
 * rules), the incremental decoder fed whole, byte by byte and with many frames at once, its
 * refusals (truncated, oversized, overlong prefix) and the blocking fd helpers.
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
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "wire.h"
#include "fnguard/v1/api.pb-c.h"

/* Event{seq: 1, loss: {events_lost: 5, where: "ab"}}, by hand:
 *   10 01            field 2 (seq), varint 1
 *   aa 01 06         field 21 (loss), length-delimited: tag (21 << 3 | 2) = 170, 6 bytes
 *     08 05          field 1 (events_lost), varint 5
 *     12 02 61 62    field 2 (where), 2 bytes "ab"
 * and the frame is its length (11) then those bytes. */
static const uint8_t loss_frame[] = {0x0b, 0x10, 0x01, 0xaa, 0x01, 0x06,
				     0x08, 0x05, 0x12, 0x02, 0x61, 0x62};

static void test_varint(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t bytes[WIRE_VARINT_MAX];
	} cases[] = {
	    {0, 1, {0x00}},
	    {1, 1, {0x01}},
	    {127, 1, {0x7f}},
	    {128, 2, {0x80, 0x01}},
	    {300, 2, {0xac, 0x02}},
	    {16384, 3, {0x80, 0x80, 0x01}},
	    {16u << 20, 4, {0x80, 0x80, 0x80, 0x08}},
	    {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	};
	uint8_t out[WIRE_VARINT_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(wire_varint_encode(cases[i].v, out), cases[i].n);
		assert_memory_equal(out, cases[i].bytes, cases[i].n);
	}
}

static void loss_event(Fnguard__V1__Event *e, Fnguard__V1__Loss *l)
{
	fnguard__v1__event__init(e);
	fnguard__v1__loss__init(l);
	l->events_lost = 5;
	l->where = "ab";
	e->seq = 1;
	e->body_case = FNGUARD__V1__EVENT__BODY_LOSS;
	e->loss = l;
}

static void test_pack_bytes(void **state)
{
	Fnguard__V1__Event e;
	Fnguard__V1__Loss l;
	uint8_t *buf;
	size_t len;

	loss_event(&e, &l);
	assert_int_equal(wire_frame_pack(&e.base, 0, &buf, &len), 0);
	assert_int_equal(len, sizeof(loss_frame));
	assert_memory_equal(buf, loss_frame, sizeof(loss_frame));
	free(buf);
	/* 11 bytes do not fit under a limit of 10. */
	assert_int_equal(wire_frame_pack(&e.base, 10, &buf, &len), -EMSGSIZE);
}

static void test_round_trip(void **state)
{
	Fnguard__V1__Event *e;
	struct wire_decoder d;
	const uint8_t *frame;
	size_t len;

	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, loss_frame, sizeof(loss_frame)), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(len, 11);
	e = fnguard__v1__event__unpack(NULL, len, frame);
	assert_non_null(e);
	assert_int_equal(e->seq, 1);
	assert_int_equal(e->body_case, FNGUARD__V1__EVENT__BODY_LOSS);
	assert_int_equal(e->loss->events_lost, 5);
	assert_string_equal(e->loss->where, "ab");
	fnguard__v1__event__free_unpacked(e, NULL);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
}

/* Frame i of the "many frames" stream: i bytes of value i (prefixes of 1, 2 and 3 bytes). */
static size_t frame_len(size_t i)
{
	return i < 10 ? i : i * 97 % 20000;
}

static uint8_t *many_frames(size_t n, size_t *total)
{
	uint8_t *buf = NULL, prefix[WIRE_VARINT_MAX];
	size_t i, len = 0, pl, fl;

	for (i = 0; i < n; i++) {
		fl = frame_len(i);
		pl = wire_varint_encode(fl, prefix);
		buf = realloc(buf, len + pl + fl);
		assert_non_null(buf);
		memcpy(buf + len, prefix, pl);
		memset(buf + len + pl, (int)(i & 0xff), fl);
		len += pl + fl;
	}
	*total = len;
	return buf;
}

static void check_frame(size_t i, const uint8_t *frame, size_t len)
{
	size_t k;

	assert_int_equal(len, frame_len(i));
	for (k = 0; k < len; k++)
		assert_int_equal(frame[k], i & 0xff);
}

static void test_many_frames_one_buffer(void **state)
{
	struct wire_decoder d;
	const uint8_t *frame;
	size_t total, len, n = 0;
	uint8_t *buf = many_frames(300, &total);

	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, buf, total), 0);
	while (wire_decoder_next(&d, &frame, &len) == 1)
		check_frame(n++, frame, len);
	assert_int_equal(n, 300);
	assert_int_equal(wire_decoder_pending(&d), 0);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
	free(buf);
}

static void test_byte_by_byte(void **state)
{
	struct wire_decoder d;
	const uint8_t *frame;
	size_t total, len, i, n = 0, end = 0;
	uint8_t *buf = many_frames(40, &total), prefix[WIRE_VARINT_MAX];

	wire_decoder_init(&d, 0);
	for (i = 0; i < total; i++) {
		assert_int_equal(wire_decoder_feed(&d, buf + i, 1), 0);
		/* A frame comes out exactly when its last byte arrives, not before. */
		if (i + 1 == end + wire_varint_encode(frame_len(n), prefix) + frame_len(n)) {
			assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
			check_frame(n, frame, len);
			end = i + 1;
			n++;
		}
		assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	}
	assert_int_equal(n, 40);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
	free(buf);
}

static void test_zero_length_frame(void **state)
{
	/* An empty message packs to no bytes: the frame is its prefix alone. Then the same
	 * length as a 10-byte (non-minimal, still valid) varint. */
	static const uint8_t in[] = {0x00, 0x80, 0x80, 0x80, 0x80, 0x80,
				     0x80, 0x80, 0x80, 0x80, 0x00};
	Fnguard__V1__Request r = FNGUARD__V1__REQUEST__INIT, *back;
	struct wire_decoder d;
	const uint8_t *frame;
	uint8_t *buf;
	size_t len;

	assert_int_equal(wire_frame_pack(&r.base, 0, &buf, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(buf[0], 0);
	free(buf);

	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, in, sizeof(in)), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(len, 0);
	back = fnguard__v1__request__unpack(NULL, len, frame);
	assert_non_null(back);
	assert_int_equal(back->id, 0);
	assert_int_equal(back->method_case, FNGUARD__V1__REQUEST__METHOD__NOT_SET);
	fnguard__v1__request__free_unpacked(back, NULL);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
}

static void test_truncated(void **state)
{
	struct wire_decoder d;
	const uint8_t *frame;
	size_t len;

	/* Inside the body. */
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, loss_frame, sizeof(loss_frame) - 1), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	assert_int_equal(wire_decoder_pending(&d), sizeof(loss_frame) - 1);
	assert_int_equal(wire_decoder_finish(&d), -EPROTO);
	/* The last byte completes it. */
	assert_int_equal(wire_decoder_feed(&d, loss_frame + sizeof(loss_frame) - 1, 1), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);

	/* Inside the prefix. */
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, "\x80", 1), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	assert_int_equal(wire_decoder_finish(&d), -EPROTO);
	wire_decoder_free(&d);
}

static void test_oversized(void **state)
{
	struct wire_decoder d;
	const uint8_t *frame;
	uint8_t prefix[WIRE_VARINT_MAX], body[100] = {0};
	size_t len, n;

	/* Exactly the limit is accepted. */
	wire_decoder_init(&d, 100);
	assert_int_equal(wire_decoder_feed(&d, "\x64", 1), 0);
	assert_int_equal(wire_decoder_feed(&d, body, 100), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(len, 100);
	/* One more is refused as soon as the prefix arrives, and for good. */
	assert_int_equal(wire_decoder_feed(&d, "\x65", 1), -EMSGSIZE);
	assert_string_equal(wire_decoder_error(&d),
			    "frame of 101 bytes is over the limit of 100 bytes");
	assert_int_equal(wire_decoder_next(&d, &frame, &len), -EMSGSIZE);
	assert_int_equal(wire_decoder_feed(&d, body, 1), -EMSGSIZE);
	wire_decoder_free(&d);

	/* An unfinished prefix already past the limit: 0xff 0xff is at least 16383. */
	wire_decoder_init(&d, 1000);
	assert_int_equal(wire_decoder_feed(&d, "\xff\xff", 2), -EMSGSIZE);
	assert_string_equal(wire_decoder_error(&d),
			    "frame of at least 16383 bytes is over the limit of 1000 bytes");
	wire_decoder_free(&d);

	/* A plausible claim (15 MiB under the 16 MiB default) allocates nothing for it yet. */
	wire_decoder_init(&d, 0);
	n = wire_varint_encode(15u << 20, prefix);
	assert_int_equal(wire_decoder_feed(&d, prefix, n), 0);
	assert_int_equal(wire_decoder_feed(&d, body, 10), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 0);
	assert_true(d.cap <= 4096);
	wire_decoder_free(&d);
}

static void test_overlong_varint(void **state)
{
	/* Eleven bytes: the 10th still says "more". */
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					 0x80, 0x80, 0x80, 0x80, 0x00};
	/* Ten bytes whose last one carries more than bit 63. */
	static const uint8_t wide[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
	struct wire_decoder d;
	const uint8_t *frame;
	size_t len;

	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, eleven, sizeof(eleven)), -EBADMSG);
	assert_string_equal(wire_decoder_error(&d), "frame length prefix is longer than 10 bytes");
	assert_int_equal(wire_decoder_next(&d, &frame, &len), -EBADMSG);
	wire_decoder_free(&d);

	wire_decoder_init(&d, SIZE_MAX);
	assert_int_equal(wire_decoder_feed(&d, wide, sizeof(wide)), -EBADMSG);
	assert_string_equal(wire_decoder_error(&d), "frame length prefix does not fit in 64 bits");
	wire_decoder_free(&d);

	/* Found by next(), not feed(), when frames before it are still buffered. */
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, loss_frame, sizeof(loss_frame)), 0);
	assert_int_equal(wire_decoder_feed(&d, eleven, sizeof(eleven)), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(wire_decoder_next(&d, &frame, &len), -EBADMSG);
	assert_string_equal(wire_strerror(-EBADMSG),
			    "malformed frame (bad length prefix or message)");
	wire_decoder_free(&d);
}

static void test_fd_helpers(void **state)
{
	Fnguard__V1__Event e, *back = NULL;
	Fnguard__V1__Loss l;
	struct wire_decoder d;
	const uint8_t *frame;
	uint8_t *buf;
	size_t len;
	int sv[2];

	loss_event(&e, &l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(wire_write_message(sv[0], &e.base, 0), 0);
	assert_int_equal(wire_write_all(sv[0], loss_frame, 5), 0); /* half a frame */
	assert_int_equal(wire_read_message(sv[1], &fnguard__v1__event__descriptor, 0,
					   (ProtobufCMessage **)&back),
			 1);
	assert_int_equal(back->loss->events_lost, 5);
	fnguard__v1__event__free_unpacked(back, NULL);
	close(sv[0]);
	/* End of file inside a frame, then at a frame boundary. */
	assert_int_equal(wire_read_frame(sv[1], 0, &buf, &len), -EPROTO);
	assert_int_equal(wire_read_frame(sv[1], 0, &buf, &len), 0);
	close(sv[1]);

	/* Non-blocking: nothing yet, then a frame, then end of file. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_read(&d, sv[1]), -EAGAIN);
	assert_int_equal(wire_write_all(sv[0], loss_frame, sizeof(loss_frame)), 0);
	assert_int_equal(wire_decoder_read(&d, sv[1]), sizeof(loss_frame));
	assert_int_equal(wire_decoder_next(&d, &frame, &len), 1);
	assert_int_equal(len, sizeof(loss_frame) - 1);
	close(sv[0]);
	assert_int_equal(wire_decoder_read(&d, sv[1]), 0);
	assert_int_equal(wire_decoder_finish(&d), 0);
	wire_decoder_free(&d);
	close(sv[1]);

	/* A peer that went away: -EPIPE, and no SIGPIPE kills us. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(wire_write_message(sv[0], &e.base, 0), -EPIPE);
	close(sv[0]);
}

/* A 13 MiB payload (more than a 6 MiB payload and a 6 MiB response) through a pipe. */
static void test_large_frame(void **state)
{
	Fnguard__V1__Request r = FNGUARD__V1__REQUEST__INIT, *back = NULL;
	Fnguard__V1__Invoke inv = FNGUARD__V1__INVOKE__INIT;
	size_t size = 13u << 20, i;
	uint8_t *payload = malloc(size);
	int p[2], status;
	pid_t pid;

	assert_non_null(payload);
	for (i = 0; i < size; i++)
		payload[i] = (uint8_t)(i * 7);
	inv.name = "thumbnailer";
	inv.payload.data = payload;
	inv.payload.len = size;
	r.id = 77;
	r.method_case = FNGUARD__V1__REQUEST__METHOD_INVOKE;
	r.invoke = &inv;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(wire_write_message(p[1], &r.base, 0) ? 1 : 0);
	}
	close(p[1]);
	/* Over a 1 MiB limit it is refused; the default limit takes it. */
	assert_int_equal(wire_read_message(p[0], &fnguard__v1__request__descriptor, 1u << 20,
					   (ProtobufCMessage **)&back),
			 -EMSGSIZE);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		_exit(wire_write_message(p[1], &r.base, 0) ? 1 : 0);
	}
	close(p[1]);
	assert_int_equal(wire_read_message(p[0], &fnguard__v1__request__descriptor, 0,
					   (ProtobufCMessage **)&back),
			 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	assert_int_equal(back->id, 77);
	assert_int_equal(back->method_case, FNGUARD__V1__REQUEST__METHOD_INVOKE);
	assert_string_equal(back->invoke->name, "thumbnailer");
	assert_int_equal(back->invoke->payload.len, size);
	assert_memory_equal(back->invoke->payload.data, payload, size);
	fnguard__v1__request__free_unpacked(back, NULL);
	free(payload);
}

/* A frame seen before it is complete: its announced length and the body bytes so far. */
static void test_peek(void **state)
{
	static const uint8_t two[] = {0x03, 0x08, 0x01, 0xaa, 0x02, 0x08, 0x02};
	struct wire_decoder d;
	const uint8_t *body, *frame;
	uint64_t len = 0;
	size_t avail = 0, flen;
	uint8_t big[3];

	wire_decoder_init(&d, 1u << 20);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), 0);
	/* 300 bytes announced as 0xac 0x02: the first byte alone is not a prefix. */
	big[0] = 0xac;
	assert_int_equal(wire_decoder_feed(&d, big, 1), 0);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), 0);
	big[0] = 0x02;
	big[1] = 0x08;
	big[2] = 0x07;
	assert_int_equal(wire_decoder_feed(&d, big, 3), 0);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), 1);
	assert_int_equal(len, 300);
	assert_int_equal(avail, 2);
	assert_memory_equal(body, "\x08\x07", 2);
	assert_int_equal(wire_decoder_next(&d, &frame, &flen), 0);
	wire_decoder_free(&d);

	/* Two frames: peek sees the first one only, then the second. */
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, two, sizeof(two)), 0);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), 1);
	assert_int_equal(len, 3);
	assert_int_equal(avail, 3);
	assert_ptr_equal(body, d.buf + 1);
	assert_int_equal(wire_decoder_next(&d, &frame, &flen), 1);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), 1);
	assert_int_equal(len, 2);
	assert_int_equal(avail, 2);
	assert_memory_equal(body, "\x08\x02", 2);
	wire_decoder_free(&d);

	/* An oversized prefix is the sticky error. */
	wire_decoder_init(&d, 100);
	assert_int_equal(wire_decoder_feed(&d, "\xc8\x01", 2), -EMSGSIZE);
	assert_int_equal(wire_decoder_peek(&d, &len, &body, &avail), -EMSGSIZE);
	wire_decoder_free(&d);
}

/* After a large frame the buffer shrinks to what is still pending, frames intact. */
static void test_shrink(void **state)
{
	size_t size = 1u << 20, flen;
	uint8_t *buf = calloc(1, size + 16), prefix[WIRE_VARINT_MAX];
	struct wire_decoder d;
	const uint8_t *frame;
	size_t n;

	assert_non_null(buf);
	n = wire_varint_encode(size, prefix);
	wire_decoder_init(&d, 0);
	assert_int_equal(wire_decoder_feed(&d, prefix, n), 0);
	assert_int_equal(wire_decoder_feed(&d, buf, size), 0);
	/* Then the first 2 bytes of the next frame {0x08, 0x05}. */
	assert_int_equal(wire_decoder_feed(&d, "\x02\x08", 2), 0);
	assert_true(d.cap > size);
	wire_decoder_shrink(&d, 65536); /* nothing returned yet: it all stays */
	assert_int_equal(wire_decoder_pending(&d), n + size + 2);
	assert_int_equal(wire_decoder_next(&d, &frame, &flen), 1);
	assert_int_equal(flen, size);
	wire_decoder_shrink(&d, 65536);
	assert_int_equal(d.cap, 4096);
	assert_int_equal(wire_decoder_pending(&d), 2);
	assert_int_equal(wire_decoder_feed(&d, "\x05", 1), 0);
	assert_int_equal(wire_decoder_next(&d, &frame, &flen), 1);
	assert_int_equal(flen, 2);
	assert_memory_equal(frame, "\x08\x05", 2);
	wire_decoder_shrink(&d, 65536); /* small already: kept */
	assert_int_equal(d.cap, 4096);
	wire_decoder_shrink(&d, 0); /* empty: freed */
	assert_null(d.buf);
	assert_int_equal(d.cap, 0);
	assert_int_equal(wire_decoder_feed(&d, "\x01\x08", 2), 0);
	assert_int_equal(wire_decoder_pending(&d), 2);
	wire_decoder_free(&d);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_varint),	    cmocka_unit_test(test_pack_bytes),
	    cmocka_unit_test(test_round_trip),	    cmocka_unit_test(test_many_frames_one_buffer),
	    cmocka_unit_test(test_byte_by_byte),    cmocka_unit_test(test_zero_length_frame),
	    cmocka_unit_test(test_truncated),	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_overlong_varint), cmocka_unit_test(test_fd_helpers),
	    cmocka_unit_test(test_large_frame),	    cmocka_unit_test(test_peek),
	    cmocka_unit_test(test_shrink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
