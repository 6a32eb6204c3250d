// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "wire.h"

/* What one wire_decoder_read() asks read(2) for. */
#define WIRE_READ_CHUNK (64u << 10)

size_t wire_varint_encode(uint64_t v, uint8_t out[WIRE_VARINT_MAX])
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

/*
 * Parses the length prefix at the start of @p (@n bytes available). 1 with the body length in
 * *len and the prefix length in *hlen, 0 when the prefix is not complete yet, -EBADMSG or
 * -EMSGSIZE (then *len holds what was decoded and *hlen the bytes looked at). The limit is
 * checked on every byte: the bits decoded only ever add up, so a prefix already over @max is
 * refused before the rest of it arrives.
 */
static int parse_prefix(const uint8_t *p, size_t n, size_t max, uint64_t *len, size_t *hlen)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n && i < WIRE_VARINT_MAX; i++) {
		*len = v;
		*hlen = i + 1;
		/* The 10th byte holds bit 63 alone and must end the varint. */
		if (i == WIRE_VARINT_MAX - 1 && p[i] > 1)
			return -EBADMSG;
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		*len = v;
		if (v > max)
			return -EMSGSIZE;
		if (!(p[i] & 0x80))
			return 1;
	}
	return 0;
}

/* Says in words what parse_prefix() refused. */
static void prefix_error(char *buf, size_t size, int err, const uint8_t *p, size_t hlen,
			 uint64_t len, size_t max)
{
	if (err == -EMSGSIZE)
		snprintf(buf, size, "frame of %s%llu bytes is over the limit of %zu bytes",
			 p[hlen - 1] & 0x80 ? "at least " : "", (unsigned long long)len, max);
	else if (p[hlen - 1] & 0x80)
		snprintf(buf, size, "frame length prefix is longer than %d bytes", WIRE_VARINT_MAX);
	else
		snprintf(buf, size, "frame length prefix does not fit in 64 bits");
}

int wire_frame_pack(const ProtobufCMessage *msg, size_t max, uint8_t **out, size_t *len)
{
	uint8_t prefix[WIRE_VARINT_MAX];
	size_t body = protobuf_c_message_get_packed_size(msg), n;
	uint8_t *buf;

	if (!max)
		max = WIRE_FRAME_MAX_DEFAULT;
	if (body > max)
		return -EMSGSIZE;
	n = wire_varint_encode(body, prefix);
	buf = malloc(n + body);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, prefix, n);
	if (protobuf_c_message_pack(msg, buf + n) != body) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = n + body;
	return 0;
}

void wire_decoder_init(struct wire_decoder *d, size_t max_frame)
{
	memset(d, 0, sizeof(*d));
	d->max_frame = max_frame ? max_frame : WIRE_FRAME_MAX_DEFAULT;
}

void wire_decoder_free(struct wire_decoder *d)
{
	free(d->buf);
	wire_decoder_init(d, d->max_frame);
}

/* Room for @need more bytes after end: frames already returned are dropped first. */
static int decoder_reserve(struct wire_decoder *d, size_t need)
{
	size_t cap;
	uint8_t *buf;

	if (d->start == d->end)
		d->start = d->end = 0;
	if (d->cap - d->end >= need)
		return 0;
	if (d->start) {
		memmove(d->buf, d->buf + d->start, d->end - d->start);
		d->end -= d->start;
		d->start = 0;
		if (d->cap - d->end >= need)
			return 0;
	}
	if (need > SIZE_MAX / 2 - d->end)
		return -ENOMEM;
	/* Grows with the bytes that arrived, whatever length the peer announced. */
	cap = d->cap ? d->cap : 4096;
	while (cap - d->end < need)
		cap *= 2;
	buf = realloc(d->buf, cap);
	if (!buf)
		return -ENOMEM;
	d->buf = buf;
	d->cap = cap;
	return 0;
}

/*
 * Parses the prefix of the next frame: as wire_decoder_next() when it is there, and as soon as
 * its bytes arrive, so that an oversized or malformed one is refused before its body is kept.
 */
static int decoder_prefix(struct wire_decoder *d, uint64_t *len, size_t *hlen)
{
	const uint8_t *p = d->buf + d->start;
	int r;

	if (d->err)
		return d->err;
	if (d->start == d->end)
		return 0;
	r = parse_prefix(p, d->end - d->start, d->max_frame, len, hlen);
	if (r < 0) {
		d->err = r;
		prefix_error(d->errmsg, sizeof(d->errmsg), r, p, *hlen, *len, d->max_frame);
	}
	return r;
}

static int decoder_check(struct wire_decoder *d)
{
	uint64_t len = 0;
	size_t hlen = 0;
	int r = decoder_prefix(d, &len, &hlen);

	return r < 0 ? r : 0;
}

int wire_decoder_feed(struct wire_decoder *d, const void *data, size_t len)
{
	int err;

	if (d->err)
		return d->err;
	if (!len)
		return 0;
	err = decoder_reserve(d, len);
	if (err)
		return err;
	memcpy(d->buf + d->end, data, len);
	d->end += len;
	return decoder_check(d);
}

long wire_decoder_read(struct wire_decoder *d, int fd)
{
	ssize_t n;
	int err;

	if (d->err)
		return d->err;
	err = decoder_reserve(d, WIRE_READ_CHUNK);
	if (err)
		return err;
	do
		n = read(fd, d->buf + d->end, WIRE_READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	d->end += (size_t)n;
	err = decoder_check(d);
	return err ? err : n;
}

int wire_decoder_next(struct wire_decoder *d, const uint8_t **frame, size_t *len)
{
	uint64_t body = 0;
	size_t hlen = 0;
	int r = decoder_prefix(d, &body, &hlen);

	if (r <= 0 || d->end - d->start - hlen < body)
		return r < 0 ? r : 0;
	*frame = d->buf + d->start + hlen;
	*len = (size_t)body;
	d->start += hlen + (size_t)body;
	return 1;
}

int wire_decoder_finish(const struct wire_decoder *d)
{
	if (d->err)
		return d->err;
	return d->start == d->end ? 0 : -EPROTO;
}

size_t wire_decoder_pending(const struct wire_decoder *d)
{
	return d->end - d->start;
}

int wire_decoder_peek(const struct wire_decoder *d, uint64_t *len, const uint8_t **body,
		      size_t *avail)
{
	uint64_t v = 0;
	size_t hlen = 0, n = d->end - d->start;
	int r;

	if (d->err)
		return d->err;
	if (!n)
		return 0;
	r = parse_prefix(d->buf + d->start, n, d->max_frame, &v, &hlen);
	if (r <= 0)
		return r;
	*len = v;
	*body = d->buf + d->start + hlen;
	*avail = n - hlen < v ? n - hlen : (size_t)v;
	return 1;
}

void wire_decoder_shrink(struct wire_decoder *d, size_t keep)
{
	size_t n = d->end - d->start, cap = 4096;
	uint8_t *buf;

	if (d->cap <= keep)
		return;
	if (!n) {
		free(d->buf);
		d->buf = NULL;
		d->cap = d->start = d->end = 0;
		return;
	}
	memmove(d->buf, d->buf + d->start, n);
	d->start = 0;
	d->end = n;
	while (cap < n)
		cap *= 2;
	if (cap >= d->cap)
		return;
	buf = realloc(d->buf, cap);
	if (buf) { /* else the larger buffer stays: still correct */
		d->buf = buf;
		d->cap = cap;
	}
}

const char *wire_decoder_error(const struct wire_decoder *d)
{
	return d->err ? d->errmsg : "";
}

int wire_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int is_socket = 1;
	ssize_t n;

	while (len) {
		if (is_socket) {
			/* MSG_NOSIGNAL: a client that went away is an error, not a SIGPIPE. */
			n = send(fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK) {
				is_socket = 0;
				continue;
			}
		} else {
			n = write(fd, p, len);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int wire_write_message(int fd, const ProtobufCMessage *msg, size_t max)
{
	uint8_t *buf;
	size_t len;
	int err;

	err = wire_frame_pack(msg, max, &buf, &len);
	if (err)
		return err;
	err = wire_write_all(fd, buf, len);
	free(buf);
	return err;
}

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int wire_read_frame(int fd, size_t max, uint8_t **out, size_t *len)
{
	uint8_t prefix[WIRE_VARINT_MAX], *buf = NULL, *nbuf;
	size_t n = 0, hlen, got = 0, cap = 0;
	uint64_t body = 0;
	ssize_t r;
	int err;

	if (!max)
		max = WIRE_FRAME_MAX_DEFAULT;
	/*
	 * The prefix is read one byte at a time: reading ahead would take bytes of the next
	 * frame, and this helper keeps no buffer between calls.
	 */
	do {
		r = read_retry(fd, &prefix[n], 1);
		if (r <= 0)
			return r < 0 ? (int)r : n ? -EPROTO : 0;
		n++;
		err = parse_prefix(prefix, n, max, &body, &hlen);
		if (err < 0)
			return err;
	} while (!err);
	/* The body buffer doubles as bytes arrive: a claimed length is not yet a plausible one. */
	while (got < body) {
		if (got == cap) {
			cap = cap ? cap * 2 : WIRE_READ_CHUNK;
			if (cap > body)
				cap = (size_t)body;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		r = read_retry(fd, buf + got, cap - got);
		if (r <= 0) {
			free(buf);
			return r < 0 ? (int)r : -EPROTO;
		}
		got += (size_t)r;
	}
	*out = buf;
	*len = got;
	return 1;
}

int wire_read_message(int fd, const ProtobufCMessageDescriptor *desc, size_t max,
		      ProtobufCMessage **out)
{
	static const uint8_t empty[1];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = wire_read_frame(fd, max, &buf, &len);
	if (r <= 0)
		return r;
	*out = protobuf_c_message_unpack(desc, NULL, len, buf ? buf : empty);
	free(buf);
	return *out ? 1 : -EBADMSG;
}

const char *wire_strerror(int err)
{
	switch (err) {
	case -EBADMSG:
		return "malformed frame (bad length prefix or message)";
	case -EMSGSIZE:
		return "frame over the size limit";
	case -EPROTO:
		return "stream ended inside a frame";
	default:
		return strerror(-err);
	}
}
