// SPDX-License-Identifier: Apache-2.0
/*
 * A small streaming JSON writer (policy show, telemetry JSON lines).
 *
 * Strings are written as valid JSON whatever the input: quotes, backslashes and control
 * characters (C0, DEL, C1) are escaped, U+2028/U+2029 are escaped for JavaScript consumers,
 * and every byte that is not part of a well-formed UTF-8 sequence becomes U+FFFD.
 *
 * Errors are sticky: after the first one every call does nothing, and json_writer_finish()
 * returns it (-EINVAL misuse, -E2BIG nesting deeper than JSON_MAX_DEPTH, -EIO write error).
 */
#ifndef FNGUARD_JSON_H
#define FNGUARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

/* Flags for json_writer_init(). */
#define JSON_PRETTY 1u /* newlines and two-space indentation; default is one compact line */

struct json_writer {
	FILE *f;
	unsigned flags;
	int err;
	unsigned depth;
	bool done;	 /* a complete top-level value was written */
	bool want_value; /* json_key() was called, its value comes next */
	bool is_object[JSON_MAX_DEPTH + 1];
	bool has_items[JSON_MAX_DEPTH + 1];
};

void json_writer_init(struct json_writer *w, FILE *f, unsigned flags);
/* 0 when one complete value was written without error, else the first error. */
int json_writer_finish(struct json_writer *w);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
/* Inside an object: the key of the next value. */
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s);
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/*
 * Length of the well-formed multi-byte UTF-8 sequence at s (at most len bytes), with its code
 * point in *cp; 0 if there is none (also for ASCII, which callers handle first). Rejects
 * overlong forms, surrogates and code points above U+10FFFF (RFC 3629).
 */
size_t json_utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp);

/* Writes s[0..len) as a quoted JSON string literal. 0 or -EIO. */
int json_write_string(FILE *f, const char *s, size_t len);

#endif
