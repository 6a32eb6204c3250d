// SPDX-License-Identifier: Apache-2.0
/*
 * Helpers shared by the policy unit tests: load a YAML string and compare every
 * diagnostic, as "LINE:COLUMN: message" lines ("-: message" for the file as a whole, "note: "
 * before a note's message),
 * with the expected text written by hand from docs/policy.md.
 */
#ifndef FNGUARD_TEST_POLICY_UTIL_H
#define FNGUARD_TEST_POLICY_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define API "apiVersion: fnguard/v1\n"

/* Every diagnostic of loading buf[0..len) as "p.yaml", base directory "/base". */
static inline char *policy_diags_of_len(const char *buf, size_t len, int *ret)
{
	struct policy_diags d;
	struct fng_policy *p = (struct fng_policy *)1;
	char *text = NULL;
	size_t tlen = 0, i;
	FILE *f;

	policy_diags_init(&d);
	*ret = policy_load_buffer("p.yaml", buf, len, "/base", &p, &d);
	f = open_memstream(&text, &tlen);
	assert_non_null(f);
	for (i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, "p.yaml");
		const char *label = d.v[i].severity == POLICY_DIAG_NOTE ? "note: " : "";

		if (d.v[i].line)
			fprintf(f, "%u:%u: %s%s\n", d.v[i].line, d.v[i].col, label, d.v[i].msg);
		else
			fprintf(f, "-: %s%s\n", label, d.v[i].msg);
	}
	fclose(f);
	if (*ret == 0)
		assert_non_null(p);
	else
		assert_null(p);
	policy_free(*ret == 0 ? p : NULL);
	policy_diags_free(&d);
	return text;
}

static inline char *policy_diags_of(const char *yaml, int *ret)
{
	return policy_diags_of_len(yaml, strlen(yaml), ret);
}

/* The policy is invalid and these are exactly its diagnostics. */
static inline void check_errors(const char *yaml, const char *expected)
{
	int ret;
	char *got = policy_diags_of(yaml, &ret);

	assert_string_equal(got, expected);
	assert_int_equal(ret, -EINVAL);
	free(got);
}

/* The policy is valid; the caller frees it. */
static inline struct fng_policy *load_ok(const char *yaml)
{
	struct policy_diags d;
	struct fng_policy *p = NULL;
	int ret;

	policy_diags_init(&d);
	ret = policy_load_buffer("p.yaml", yaml, strlen(yaml), "/base", &p, &d);
	if (d.n)
		print_error("unexpected: %u:%u: %s\n", d.v[0].line, d.v[0].col, d.v[0].msg);
	assert_int_equal(d.n, 0);
	assert_int_equal(ret, 0);
	assert_non_null(p);
	policy_diags_free(&d);
	return p;
}

static inline void check_valid(const char *yaml)
{
	policy_free(load_ok(yaml));
}

#endif
