// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void json_writer_init(struct json_writer *w, FILE *f, unsigned flags)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->flags = flags;
}

int json_writer_finish(struct json_writer *w)
{
	if (!w->err && (w->depth || !w->done || w->want_value))
		w->err = -EINVAL;
	if (!w->err && (fflush(w->f) == EOF || ferror(w->f)))
		w->err = -EIO;
	return w->err;
}

static void json_put(struct json_writer *w, const char *s, size_t len)
{
	if (w->err)
		return;
	if (len && fwrite(s, 1, len, w->f) != len)
		w->err = -EIO;
}

static void json_puts(struct json_writer *w, const char *s)
{
	json_put(w, s, strlen(s));
}

static void json_newline(struct json_writer *w)
{
	unsigned i;

	if (!(w->flags & JSON_PRETTY))
		return;
	json_put(w, "\n", 1);
	for (i = 0; i < w->depth; i++)
		json_put(w, "  ", 2);
}

/* Everything that precedes a value: a comma, indentation, and the checks of where we are. */
static void json_value_start(struct json_writer *w)
{
	if (w->err)
		return;
	if (w->depth == 0) {
		if (w->done)
			w->err = -EINVAL;
		return;
	}
	if (w->is_object[w->depth]) {
		if (!w->want_value)
			w->err = -EINVAL;
		w->want_value = false;
		return;
	}
	if (w->has_items[w->depth])
		json_put(w, ",", 1);
	w->has_items[w->depth] = true;
	json_newline(w);
}

static void json_value_end(struct json_writer *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void json_open(struct json_writer *w, bool object)
{
	json_value_start(w);
	if (w->err)
		return;
	if (w->depth >= JSON_MAX_DEPTH) {
		w->err = -E2BIG;
		return;
	}
	json_put(w, object ? "{" : "[", 1);
	w->depth++;
	w->is_object[w->depth] = object;
	w->has_items[w->depth] = false;
}

static void json_close(struct json_writer *w, bool object)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->is_object[w->depth] != object || w->want_value) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
	if (w->has_items[w->depth + 1])
		json_newline(w);
	json_put(w, object ? "}" : "]", 1);
	json_value_end(w);
}

void json_object_begin(struct json_writer *w)
{
	json_open(w, true);
}

void json_object_end(struct json_writer *w)
{
	json_close(w, true);
}

void json_array_begin(struct json_writer *w)
{
	json_open(w, false);
}

void json_array_end(struct json_writer *w)
{
	json_close(w, false);
}

void json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return;
	if (w->depth == 0 || !w->is_object[w->depth] || w->want_value) {
		w->err = -EINVAL;
		return;
	}
	if (w->has_items[w->depth])
		json_put(w, ",", 1);
	w->has_items[w->depth] = true;
	json_newline(w);
	if (!w->err && json_write_string(w->f, key, strlen(key)))
		w->err = -EIO;
	json_puts(w, (w->flags & JSON_PRETTY) ? ": " : ":");
	w->want_value = true;
}

size_t json_utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int json_write_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, n;
	uint32_t cp;
	int r = 0;

	/* Bytes that need no escaping are written in runs; "run" is the start of the current one.
	 */
#define FLUSH()                                                                                    \
	do {                                                                                       \
		if (i > run && fwrite(s + run, 1, i - run, f) != i - run)                          \
			r = -EIO;                                                                  \
	} while (0)

	if (fputc('"', f) == EOF)
		return -EIO;
	while (i < len) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char buf[8];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		n = 1;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		default:
			if (c < 0x80) {
				snprintf(buf, sizeof(buf), "\\u%04x", c);
				esc = buf;
				break;
			}
			n = json_utf8_sequence(s + i, len - i, &cp);
			if (n == 0) {
				n = 1;
				esc = "\\ufffd";
			} else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
				snprintf(buf, sizeof(buf), "\\u%04x", (unsigned)cp);
				esc = buf;
			}
			break;
		}
		if (!esc) {
			/* well-formed, printable UTF-8: part of the run */
			i += n;
			continue;
		}
		FLUSH();
		if (fputs(esc, f) == EOF)
			r = -EIO;
		i += n;
		run = i;
	}
	FLUSH();
#undef FLUSH
	if (fputc('"', f) == EOF)
		r = -EIO;
	return r;
}

void json_string_len(struct json_writer *w, const char *s, size_t len)
{
	json_value_start(w);
	if (w->err)
		return;
	if (json_write_string(w->f, s, len))
		w->err = -EIO;
	json_value_end(w);
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_len(w, s, strlen(s));
}

static void json_raw_value(struct json_writer *w, const char *text)
{
	json_value_start(w);
	json_puts(w, text);
	json_value_end(w);
}

void json_int(struct json_writer *w, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_raw_value(w, buf);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	json_raw_value(w, buf);
}

void json_bool(struct json_writer *w, bool v)
{
	json_raw_value(w, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
	json_raw_value(w, "null");
}
