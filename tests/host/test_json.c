// SPDX-License-Identifier: Apache-2.0
/*
 * The JSON writer: layout (compact and pretty), numbers, string escaping including control
 * characters and invalid UTF-8, and the sticky errors for misuse and failed writes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer w;
};

static void out_open(struct out *o, unsigned flags)
{
	o->buf = NULL;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	json_writer_init(&o->w, o->f, flags);
}

/* Finishes the writer, checks its result, returns the text (caller frees). */
static char *out_close(struct out *o, int expect)
{
	assert_int_equal(json_writer_finish(&o->w), expect);
	fclose(o->f);
	return o->buf;
}

static void test_compact(void **state)
{
	struct out o;
	char *s;

	out_open(&o, 0);
	json_object_begin(&o.w);
	json_key(&o.w, "a");
	json_int(&o.w, 1);
	json_key(&o.w, "b");
	json_array_begin(&o.w);
	json_bool(&o.w, true);
	json_bool(&o.w, false);
	json_null(&o.w);
	json_array_end(&o.w);
	json_key(&o.w, "c");
	json_string(&o.w, "x");
	json_key(&o.w, "d");
	json_object_begin(&o.w);
	json_object_end(&o.w);
	json_key(&o.w, "e");
	json_array_begin(&o.w);
	json_array_end(&o.w);
	json_object_end(&o.w);
	s = out_close(&o, 0);
	assert_string_equal(s, "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\",\"d\":{},\"e\":[]}");
	free(s);
}

static void test_pretty(void **state)
{
	struct out o;
	char *s;

	out_open(&o, JSON_PRETTY);
	json_object_begin(&o.w);
	json_key(&o.w, "a");
	json_uint(&o.w, 1);
	json_key(&o.w, "b");
	json_array_begin(&o.w);
	json_bool(&o.w, true);
	json_object_begin(&o.w);
	json_key(&o.w, "k");
	json_null(&o.w);
	json_object_end(&o.w);
	json_array_end(&o.w);
	json_key(&o.w, "c");
	json_object_begin(&o.w);
	json_object_end(&o.w);
	json_key(&o.w, "d");
	json_array_begin(&o.w);
	json_array_end(&o.w);
	json_object_end(&o.w);
	s = out_close(&o, 0);
	assert_string_equal(s, "{\n"
			       "  \"a\": 1,\n"
			       "  \"b\": [\n"
			       "    true,\n"
			       "    {\n"
			       "      \"k\": null\n"
			       "    }\n"
			       "  ],\n"
			       "  \"c\": {},\n"
			       "  \"d\": []\n"
			       "}");
	free(s);
}

static void test_numbers(void **state)
{
	struct out o;
	char *s;

	out_open(&o, 0);
	json_array_begin(&o.w);
	json_int(&o.w, INT64_MIN);
	json_int(&o.w, INT64_MAX);
	json_int(&o.w, -1);
	json_uint(&o.w, UINT64_MAX);
	json_uint(&o.w, 0);
	json_array_end(&o.w);
	s = out_close(&o, 0);
	assert_string_equal(s, "[-9223372036854775808,9223372036854775807,-1,"
			       "18446744073709551615,0]");
	free(s);
}

/* A top-level scalar is a complete value too. */
static void test_scalar_document(void **state)
{
	struct out o;
	char *s;

	out_open(&o, JSON_PRETTY);
	json_string(&o.w, "x");
	s = out_close(&o, 0);
	assert_string_equal(s, "\"x\"");
	free(s);
}

static char *escaped(const char *in, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(json_write_string(f, in, len), 0);
	fclose(f);
	return buf;
}

#define ESC(in, out)                                                                               \
	do {                                                                                       \
		char *s_ = escaped(in, sizeof(in) - 1);                                            \
		assert_string_equal(s_, out);                                                      \
		free(s_);                                                                          \
	} while (0)

static void test_escaping(void **state)
{
	ESC("plain text", "\"plain text\"");
	ESC("", "\"\"");
	ESC("say \"hi\"", "\"say \\\"hi\\\"\"");
	ESC("back\\slash", "\"back\\\\slash\"");
	ESC("/path", "\"/path\"");
	ESC("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	ESC("\x01\x1f\x1b[31m", "\"\\u0001\\u001f\\u001b[31m\"");
	ESC("\x7f", "\"\\u007f\"");
	ESC("a\0b", "\"a\\u0000b\"");
	/* well-formed UTF-8 passes through */
	ESC("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	ESC("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	ESC("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	ESC("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
	ESC("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	/* C1 controls and the JavaScript line separators are escaped */
	ESC("\xc2\x85", "\"\\u0085\"");
	ESC("\xc2\x9b", "\"\\u009b\"");
	ESC("\xc2\xa0", "\"\xc2\xa0\"");
	ESC("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
}

static void test_invalid_utf8(void **state)
{
	ESC("\x80", "\"\\ufffd\"");
	ESC("\xbf", "\"\\ufffd\"");
	ESC("\xff", "\"\\ufffd\"");
	ESC("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* overlong forms */
	ESC("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	ESC("\xc1\xbf", "\"\\ufffd\\ufffd\"");
	ESC("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	ESC("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* UTF-16 surrogates, and above U+10FFFF */
	ESC("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	ESC("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");
	ESC("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* truncated sequences, at the end and in the middle */
	ESC("\xe2\x82", "\"\\ufffd\\ufffd\"");
	ESC("a\xe2\x82"
	    "b",
	    "\"a\\ufffd\\ufffdb\"");
	ESC("\xc3\x28", "\"\\ufffd(\"");
	ESC("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
}

static void test_key_escaping(void **state)
{
	struct out o;
	char *s;

	out_open(&o, 0);
	json_object_begin(&o.w);
	json_key(&o.w, "a\"b\n");
	json_string_len(&o.w, "x\0y", 3);
	json_object_end(&o.w);
	s = out_close(&o, 0);
	assert_string_equal(s, "{\"a\\\"b\\n\":\"x\\u0000y\"}");
	free(s);
}

static void test_misuse(void **state)
{
	struct out o;
	char *s;
	int i;

	/* a value in an object without a key */
	out_open(&o, 0);
	json_object_begin(&o.w);
	json_int(&o.w, 1);
	json_object_end(&o.w);
	free(out_close(&o, -EINVAL));

	/* a key in an array */
	out_open(&o, 0);
	json_array_begin(&o.w);
	json_key(&o.w, "k");
	json_array_end(&o.w);
	free(out_close(&o, -EINVAL));

	/* a key without its value */
	out_open(&o, 0);
	json_object_begin(&o.w);
	json_key(&o.w, "k");
	json_object_end(&o.w);
	free(out_close(&o, -EINVAL));

	/* two keys in a row */
	out_open(&o, 0);
	json_object_begin(&o.w);
	json_key(&o.w, "k");
	json_key(&o.w, "l");
	free(out_close(&o, -EINVAL));

	/* mismatched and extra ends */
	out_open(&o, 0);
	json_object_begin(&o.w);
	json_array_end(&o.w);
	free(out_close(&o, -EINVAL));
	out_open(&o, 0);
	json_array_end(&o.w);
	free(out_close(&o, -EINVAL));

	/* unfinished, empty, and two top-level values */
	out_open(&o, 0);
	json_array_begin(&o.w);
	free(out_close(&o, -EINVAL));
	out_open(&o, 0);
	free(out_close(&o, -EINVAL));
	out_open(&o, 0);
	json_int(&o.w, 1);
	json_int(&o.w, 2);
	s = out_close(&o, -EINVAL);
	/* nothing is written after the first error */
	assert_string_equal(s, "1");
	free(s);

	/* JSON_MAX_DEPTH levels are fine, one more is not */
	out_open(&o, 0);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&o.w);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_end(&o.w);
	free(out_close(&o, 0));
	out_open(&o, 0);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_array_begin(&o.w);
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		json_array_end(&o.w);
	free(out_close(&o, -E2BIG));
}

static void test_write_error(void **state)
{
	struct json_writer w;
	FILE *f = fopen("/dev/full", "w");

	assert_non_null(f);
	json_writer_init(&w, f, 0);
	json_object_begin(&w);
	json_key(&w, "k");
	json_string(&w, "v");
	json_object_end(&w);
	assert_int_equal(json_writer_finish(&w), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compact),	 cmocka_unit_test(test_pretty),
	    cmocka_unit_test(test_numbers),	 cmocka_unit_test(test_scalar_document),
	    cmocka_unit_test(test_escaping),	 cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_key_escaping), cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
