/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Framing of protobuf messages on a byte stream: each message is preceded by its length as a
 * varint, the "delimited" format every protobuf library reads and writes
 * (parseDelimitedFrom/writeDelimitedTo, protodelim, ...). The daemon API and the telemetry
 * stream use it on Unix sockets, virtio-serial ports and files.
 *
 * The length is untrusted: a frame longer than the reader's limit is refused as soon as its
 * length prefix is read, and memory only grows with the bytes that actually arrived, never
 * with the length a peer claims. A framing error is sticky: the stream cannot be resynchronised
 * and the connection must be closed.
 */
#ifndef FNGUARD_WIRE_H
#define FNGUARD_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

/* A varint holds 64 bits in at most 10 bytes. */
#define WIRE_VARINT_MAX 10
/*
 * Default frame limit: an Invoke carries up to 6 MiB of payload, an InvokeResult up to 6 MiB
 * of response, a RegisterFunction up to 1 MiB of policy (docs/policy.md), plus a few fields.
 */
#define WIRE_FRAME_MAX_DEFAULT (16u << 20)

/* Writes @v as a varint into @out; returns the number of bytes (1-10). */
size_t wire_varint_encode(uint64_t v, uint8_t out[WIRE_VARINT_MAX]);

/*
 * Packs @msg, length prefix first, into a new buffer (*out, free() it) of *len bytes.
 * 0, -EMSGSIZE when the message is longer than @max (0: WIRE_FRAME_MAX_DEFAULT), -ENOMEM.
 */
int wire_frame_pack(const ProtobufCMessage *msg, size_t max, uint8_t **out, size_t *len);

/*
 * Incremental decoder, for non-blocking sockets: feed it what arrives, then take the complete
 * frames with wire_decoder_next() until it returns 0 before feeding more (it keeps whatever it
 * is given: memory is bounded by one frame plus one feed only when it is drained).
 */
struct wire_decoder {
	size_t max_frame;
	uint8_t *buf;
	size_t cap;
	size_t start; /* first byte not yet returned as part of a frame */
	size_t end;   /* one past the last byte received */
	int err;      /* sticky: 0, -EBADMSG, -EMSGSIZE */
	char errmsg[96];
};

/* @max_frame: longest frame body accepted; 0: WIRE_FRAME_MAX_DEFAULT. */
void wire_decoder_init(struct wire_decoder *d, size_t max_frame);
void wire_decoder_free(struct wire_decoder *d);

/*
 * Appends @len bytes received from the peer. 0, -ENOMEM, or the sticky framing error
 * (checked on the bytes received so far, so an oversized or malformed length prefix is
 * reported here, before its body is buffered). Invalidates frames returned before.
 */
int wire_decoder_feed(struct wire_decoder *d, const void *data, size_t len);

/*
 * Reads what @fd has (one read(2) of up to 64 KiB) straight into the decoder: the number of
 * bytes read (> 0), 0 at end of file, -EAGAIN when a non-blocking @fd has nothing, -ENOMEM,
 * the sticky framing error, or the read's -errno. Invalidates frames returned before.
 */
long wire_decoder_read(struct wire_decoder *d, int fd);

/*
 * Takes the next complete frame: 1 with *frame and *len set (the body, without its prefix, valid
 * until the next feed/read/free), 0 when more bytes are needed, or the sticky framing error:
 *   -EBADMSG   the length prefix is longer than 10 bytes or does not fit in 64 bits
 *   -EMSGSIZE  the frame is longer than max_frame
 * wire_decoder_error() says which in words.
 */
int wire_decoder_next(struct wire_decoder *d, const uint8_t **frame, size_t *len);

/* After end of file: 0 when the stream ended between frames, else -EPROTO (truncated). */
int wire_decoder_finish(const struct wire_decoder *d);

/* Bytes received and not yet returned as frames. */
size_t wire_decoder_pending(const struct wire_decoder *d);

/*
 * The next frame before it is complete, for a reader that limits frames by what they are: 1
 * with its announced body length in *len (already checked against max_frame) and the body
 * bytes received so far in *body and *avail (at most *len of them; valid until the next
 * feed/read/next/free), 0 when its length prefix is not complete, or the sticky framing error.
 */
int wire_decoder_peek(const struct wire_decoder *d, uint64_t *len, const uint8_t **body,
		      size_t *avail);

/*
 * Gives memory back after a large frame: when the buffer holds more than @keep bytes of room,
 * it shrinks to what the bytes not yet returned need (none: freed). Frames returned before are
 * invalid afterwards.
 */
void wire_decoder_shrink(struct wire_decoder *d, size_t keep);

/* What went wrong, for "fnguard: <what failed>: <why>" messages; "" when nothing did. */
const char *wire_decoder_error(const struct wire_decoder *d);

/*
 * Blocking helpers (the fd must be blocking). Interrupted calls are restarted, short writes
 * continued; writing to a socket whose peer is gone is -EPIPE, not SIGPIPE.
 */
int wire_write_all(int fd, const void *buf, size_t len);
/* Packs @msg as one frame and writes it: 0, -EMSGSIZE (over @max; 0: default), -errno. */
int wire_write_message(int fd, const ProtobufCMessage *msg, size_t max);
/*
 * Reads one frame: 1 with the body in *out (free() it; NULL for an empty frame) and its length
 * in *len, 0 at end of file before the frame began, -EPROTO at end of file inside it, -EBADMSG,
 * -EMSGSIZE (over @max; 0: default), -ENOMEM, or the read's -errno.
 */
int wire_read_frame(int fd, size_t max, uint8_t **out, size_t *len);
/*
 * Reads one frame and unpacks it as a @desc message (*out, free it with
 * protobuf_c_message_free_unpacked()): 1, 0 at end of file, -EBADMSG when the frame is not a
 * valid @desc, or the errors of wire_read_frame().
 */
int wire_read_message(int fd, const ProtobufCMessageDescriptor *desc, size_t max,
		      ProtobufCMessage **out);

/* A negative errno of this file in words: the framing errors their own way, else strerror(). */
const char *wire_strerror(int err);

#endif
