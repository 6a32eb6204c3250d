// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: any input must load (or be refused with at least one diagnostic)
 * without a crash, leak or hang; a policy that loads must print as JSON and satisfy the
 * invariants the backends rely on. A broken invariant aborts, so the fuzzer reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__,         \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void check_path(const char *path)
{
	size_t len = strlen(path);

	CHECK(len > 0 && path[0] == '/');
	CHECK(len == 1 || path[len - 1] != '/');
	CHECK(!strstr(path, "//") && !strstr(path, "/./") && !strstr(path, "/../"));
}

static void check_policy(const struct fng_policy *p)
{
	size_t i, j;

	for (i = 0; i < p->files.n_rules; i++) {
		check_path(p->files.rules[i].path);
		CHECK((p->files.rules[i].rights & ~(FNG_RIGHT_READ | FNG_RIGHT_WRITE)) == 0);
	}
	for (i = 0; i < p->exec.n_allow; i++)
		check_path(p->exec.allow[i].path);
	for (i = 0; i < p->network.n_egress; i++) {
		const struct fng_egress_rule *r = &p->network.egress[i];
		unsigned bits = r->family == AF_INET ? 32 : 128;

		CHECK(r->family == AF_INET || r->family == AF_INET6);
		CHECK(r->prefix_len <= bits);
		/* host bits are zero, and IPv4 leaves the rest of addr zero */
		for (j = 0; j < 16; j++) {
			unsigned keep = r->prefix_len >= (j + 1) * 8 ? 8
					: r->prefix_len > j * 8	     ? r->prefix_len - j * 8
								     : 0;

			if (j >= bits / 8)
				CHECK(r->addr[j] == 0);
			else
				CHECK((r->addr[j] & (uint8_t) ~(0xff00u >> keep)) == 0);
		}
		for (j = 0; j < r->n_ports; j++) {
			CHECK(r->ports[j].first >= 1 && r->ports[j].first <= r->ports[j].last);
			if (j)
				CHECK(r->ports[j].first > r->ports[j - 1].last + 1);
		}
	}
	for (i = 1; i < p->syscalls.n_deny; i++)
		CHECK(p->syscalls.deny[i - 1].nr < p->syscalls.deny[i].nr);
	CHECK(p->syscalls.errno_nr > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diags d;
	struct fng_policy *p = NULL;
	char *buf = NULL;
	size_t len = 0, i;
	uint32_t last;
	FILE *f;
	int r;

	policy_diags_init(&d);
	r = policy_load_buffer("fuzz.yaml", (const char *)data, size, "/fuzz", &p, &d);
	if (r == 0) {
		CHECK(p && d.n == 0);
		check_policy(p);
		f = open_memstream(&buf, &len);
		if (f) {
			CHECK(policy_to_json(p, f) == 0);
			fclose(f);
		}
		free(buf);
	} else {
		/* every refusal says why, and where */
		CHECK(!p && d.n > 0 && d.v[0].severity == POLICY_DIAG_ERROR);
		for (i = 0, last = 0; i < d.n; i++) {
			CHECK(d.v[i].msg && d.v[i].msg[0]);
			CHECK(d.v[i].line == 0 || d.v[i].col > 0);
			/* errors in line order; a note (anywhere) follows its error */
			if (d.v[i].severity == POLICY_DIAG_NOTE)
				continue;
			if (d.v[i].line && last)
				CHECK(last <= d.v[i].line);
			if (d.v[i].line)
				last = d.v[i].line;
		}
		buf = NULL;
		f = open_memstream(&buf, &len);
		if (f) {
			policy_diags_print(&d, f);
			fclose(f);
		}
		free(buf);
	}
	policy_free(p);
	policy_diags_free(&d);
	return 0;
}
