// SPDX-License-Identifier: Apache-2.0
/*
 * The compiled tables: defaults, sizes and durations, egress entries (IPv4-mapped
 * normalization, port merging), family bitmask, and the syscall deny set
 * (baseline + deny - allow) as x86_64 numbers.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "policy.h"
#include "test_policy_util.h"

#define SEC 1000000000ull

static void test_defaults(void **state)
{
	struct fng_policy *p = load_ok(API);

	assert_string_equal(p->source, "p.yaml");
	assert_int_equal(p->mode, FNG_MODE_ENFORCE);
	assert_false(p->function.present);
	assert_int_equal(p->environment.kind, FNG_ENV_MICROVM);
	assert_true(p->environment.reuse);
	assert_true(p->environment.isolate_invocations);
	assert_int_equal(p->environment.max_invocations, 0);
	assert_int_equal(p->environment.max_lifetime_ns, 14 * 3600 * SEC);
	assert_int_equal(p->environment.provisioned, 0);
	assert_int_equal(p->limits.memory_bytes, 128 * 1024 * 1024);
	assert_int_equal(p->limits.timeout_ns, 3 * SEC);
	assert_int_equal(p->limits.pids, 64);
	assert_int_equal(p->limits.cpus, 1);
	assert_int_equal(p->limits.tmp_size_bytes, 64 * 1024 * 1024);
	assert_int_equal(p->files.mode, FNG_MODE_ENFORCE);
	assert_int_equal(p->files.def, FNG_VERDICT_DENY);
	assert_int_equal(p->files.n_rules, 0);
	assert_int_equal(p->exec.def, FNG_VERDICT_DENY);
	assert_int_equal(p->exec.children, FNG_VERDICT_DENY);
	assert_int_equal(p->exec.n_allow, 0);
	assert_int_equal(p->network.egress_default, FNG_VERDICT_DENY);
	assert_int_equal(p->network.loopback, FNG_VERDICT_ALLOW);
	assert_int_equal(p->network.bind, FNG_VERDICT_DENY);
	/* unix (1), inet (2), inet6 (10) */
	assert_int_equal(p->network.families, (1u << 1) | (1u << 2) | (1u << 10));
	assert_int_equal(p->network.n_egress, 0);
	assert_int_equal(p->syscalls.errno_nr, 1);
	assert_string_equal(p->syscalls.errno_name, "EPERM");
	assert_int_equal(p->syscalls.n_deny, policy_syscall_baseline_len);
	policy_free(p);
}

static void test_enum_values_are_abi(void **state)
{
	assert_int_equal(FNG_MODE_ENFORCE, 0);
	assert_int_equal(FNG_MODE_AUDIT, 1);
	assert_int_equal(FNG_VERDICT_DENY, 0);
	assert_int_equal(FNG_VERDICT_ALLOW, 1);
	assert_int_equal(FNG_PROTO_ANY, 0);
	assert_int_equal(FNG_PROTO_TCP, 6);
	assert_int_equal(FNG_PROTO_UDP, 17);
	assert_int_equal(FNG_RIGHT_READ, 1);
	assert_int_equal(FNG_RIGHT_WRITE, 2);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
	    {"0", 0},
	    {"1", 1},
	    {"1Ki", 1024},
	    {"512Ki", 524288},
	    {"64Mi", 67108864},
	    {"128Mi", 134217728},
	    {"1Gi", 1073741824},
	    {"1Ti", 1099511627776ull},
	    {"1K", 1000},
	    {"1k", 1000},
	    {"2M", 2000000},
	    {"1G", 1000000000},
	    {"1T", 1000000000000ull},
	    {"0128Mi", 134217728},
	    {"18446744073709551615", UINT64_MAX},
	    {"16777215Ti", 18446742974197923840ull},
	};
	static const char *const bad[] = {"",	"Mi", "1.5Gi", "1 Mi", "1mi",  "1KB",  "1B",
					  "-1", "+1", "1e3",   " 1",   "1Ki ", "0x10", "1Mi1"};
	static const char *const big[] = {"18446744073709551616", "16777216Ti",
					  "99999999999999999999999", "18446744073709552T"};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		assert_int_equal(policy_parse_size(good[i].text, strlen(good[i].text), &v), 0);
		assert_int_equal(v, good[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(policy_parse_size(bad[i], strlen(bad[i]), &v), -EINVAL);
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		assert_int_equal(policy_parse_size(big[i], strlen(big[i]), &v), -ERANGE);
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
	    {"0", 0},
	    {"1ns", 1},
	    {"1us", 1000},
	    {"1\xc2\xb5s", 1000},
	    {"1\xce\xbcs", 1000},
	    {"500ms", 500000000},
	    {"3s", 3 * SEC},
	    {"1m", 60 * SEC},
	    {"14h", 14 * 3600 * SEC},
	    {"1m30s", 90 * SEC},
	    {"1h30m", 5400 * SEC},
	    {"1.5h", 5400 * SEC},
	    {".5s", SEC / 2},
	    {"1.s", SEC},
	    {"2h45m0.5s", (2 * 3600 + 45 * 60) * SEC + SEC / 2},
	    {"1.000000001s", SEC + 1},
	    {"0.0000000001s", 0},
	    {"1s1s", 2 * SEC},
	    {"0s", 0},
	    {"9223372036854775807ns", INT64_MAX},
	    {"2562047h", 2562047ull * 3600 * SEC},
	};
	static const char *const bad[] = {"",	 "1",	 "s",	  ".s",	    "1d",  "-1s",
					  "+1s", "1 s",	 "1s ",	  "1.2.3s", "1ss", "00",
					  "1S",	 "1sec", "1h-1m", "1e3s",   "1Ms"};
	static const char *const big[] = {"2562048h", "9223372036854775808ns",
					  "99999999999999999999999s", "2562047h2562047h"};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 42;
		assert_int_equal(policy_parse_duration(good[i].text, strlen(good[i].text), &v), 0);
		assert_int_equal(v, good[i].ns);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(policy_parse_duration(bad[i], strlen(bad[i]), &v), -EINVAL);
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		assert_int_equal(policy_parse_duration(big[i], strlen(big[i]), &v), -ERANGE);
}

static void test_limits_normalized(void **state)
{
	struct fng_policy *p = load_ok(API "limits:\n  memory: 1Gi\n  timeout: 1m30s\n  pids: 10\n"
					   "  cpus: 2\n  tmp_size: 512Ki\n"
					   "environment:\n  max_lifetime: 90m\n");

	assert_int_equal(p->limits.memory_bytes, 1073741824);
	assert_int_equal(p->limits.timeout_ns, 90 * SEC);
	assert_int_equal(p->limits.pids, 10);
	assert_int_equal(p->limits.cpus, 2);
	assert_int_equal(p->limits.tmp_size_bytes, 524288);
	assert_int_equal(p->environment.max_lifetime_ns, 5400 * SEC);
	policy_free(p);
}

static void test_path_clean(void **state)
{
	static const char *const cases[][2] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a/b", "/a/b"},
	    {"/a/b/", "/a/b"},
	    {"/a//b", "/a/b"},
	    {"/a/./b", "/a/b"},
	    {"/a/../b", "/b"},
	    {"/..", "/"},
	    {"/../a", "/a"},
	    {"a/b", "a/b"},
	    {"./a", "a"},
	    {"a/..", "."},
	    {"../a", "../a"},
	    {"a/../../b", "../b"},
	    {"", "."},
	    {".", "."},
	    {"/a/b/../../..", "/"},
	    {"/a/.b/..c", "/a/.b/..c"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = policy_path_clean(cases[i][0], strlen(cases[i][0]));

		assert_non_null(c);
		assert_string_equal(c, cases[i][1]);
		free(c);
	}
}

static void test_edit_distance(void **state)
{
	char a[70], b[70];

	assert_int_equal(policy_edit_distance("", ""), 0);
	assert_int_equal(policy_edit_distance("a", ""), 1);
	assert_int_equal(policy_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(policy_edit_distance("acess", "access"), 1);
	assert_int_equal(policy_edit_distance("ptarce", "ptrace"), 1);
	memset(a, 'a', 65);
	a[65] = '\0';
	memcpy(b, a, sizeof(b));
	assert_true(policy_edit_distance(a, b) >= 1000);
	a[64] = '\0';
	b[64] = '\0';
	assert_int_equal(policy_edit_distance(a, b), 0);
}

static void test_egress_tables(void **state)
{
	struct fng_policy *p =
	    load_ok(API "network:\n  egress:\n    allow:\n"
			"      - to: 192.0.2.7\n"
			"      - to: ::ffff:192.0.2.0/120\n        protocol: tcp\n"
			"      - to: 2001:db8::/32\n        protocol: udp\n"
			"        ports: [443, 80, 81, 82-90, 85-95, 100, 22, 443]\n"
			"    deny:\n      - to: ::ffff:198.51.100.9\n"
			"      - to: 0.0.0.0/0\n        ports: [1-65535]\n");
	const struct fng_egress_rule *r = p->network.egress;
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	static const uint8_t zero[16] = {0};

	assert_int_equal(p->network.n_egress, 5);

	assert_int_equal(r[0].family, AF_INET);
	assert_memory_equal(r[0].addr, "\xc0\x00\x02\x07", 4);
	assert_memory_equal(r[0].addr + 4, zero, 12);
	assert_int_equal(r[0].prefix_len, 32);
	assert_int_equal(r[0].protocol, FNG_PROTO_ANY);
	assert_int_equal(r[0].verdict, FNG_VERDICT_ALLOW);
	assert_int_equal(r[0].n_ports, 0);
	assert_int_equal(r[0].line, 5);

	/* IPv4-mapped IPv6 is stored as the IPv4 range */
	assert_int_equal(r[1].family, AF_INET);
	assert_memory_equal(r[1].addr, "\xc0\x00\x02\x00", 4);
	assert_memory_equal(r[1].addr + 4, zero, 12);
	assert_int_equal(r[1].prefix_len, 24);
	assert_int_equal(r[1].protocol, FNG_PROTO_TCP);
	assert_int_equal(r[1].line, 6);

	assert_int_equal(r[2].family, AF_INET6);
	assert_memory_equal(r[2].addr, v6, 16);
	assert_int_equal(r[2].prefix_len, 32);
	assert_int_equal(r[2].protocol, FNG_PROTO_UDP);
	/* sorted, overlapping and adjacent ranges merged */
	assert_int_equal(r[2].n_ports, 4);
	assert_int_equal(r[2].ports[0].first, 22);
	assert_int_equal(r[2].ports[0].last, 22);
	assert_int_equal(r[2].ports[1].first, 80);
	assert_int_equal(r[2].ports[1].last, 95);
	assert_int_equal(r[2].ports[2].first, 100);
	assert_int_equal(r[2].ports[2].last, 100);
	assert_int_equal(r[2].ports[3].first, 443);
	assert_int_equal(r[2].ports[3].last, 443);

	assert_int_equal(r[3].family, AF_INET);
	assert_memory_equal(r[3].addr, "\xc6\x33\x64\x09", 4);
	assert_int_equal(r[3].prefix_len, 32);
	assert_int_equal(r[3].verdict, FNG_VERDICT_DENY);
	assert_int_equal(r[3].line, 12);

	assert_int_equal(r[4].family, AF_INET);
	assert_int_equal(r[4].prefix_len, 0);
	assert_int_equal(r[4].n_ports, 1);
	assert_int_equal(r[4].ports[0].first, 1);
	assert_int_equal(r[4].ports[0].last, 65535);
	policy_free(p);
}

static void test_families_mask(void **state)
{
	struct fng_policy *p = load_ok(API "network:\n  families: [unix, inet6, netlink]\n");

	assert_int_equal(p->network.families, (1ull << 1) | (1ull << 10) | (1ull << 16));
	policy_free(p);
	p = load_ok(API "network:\n  families: []\n");
	assert_int_equal(p->network.families, 0);
	policy_free(p);
	assert_string_equal(policy_family_name(AF_PACKET), "packet");
	assert_null(policy_family_name(63));
}

static bool denies(const struct fng_policy *p, int nr, const char *name)
{
	size_t i;

	for (i = 0; i < p->syscalls.n_deny; i++)
		if (p->syscalls.deny[i].nr == nr) {
			assert_string_equal(p->syscalls.deny[i].name, name);
			return true;
		}
	return false;
}

static void test_syscall_set(void **state)
{
	struct fng_policy *p = load_ok(API);
	size_t i, j;

	/* x86_64 numbers, from the kernel's syscall table */
	assert_true(denies(p, 101, "ptrace"));
	assert_true(denies(p, 321, "bpf"));
	assert_true(denies(p, 165, "mount"));
	assert_true(denies(p, 272, "unshare"));
	assert_true(denies(p, 308, "setns"));
	assert_true(denies(p, 250, "keyctl"));
	assert_true(denies(p, 298, "perf_event_open"));
	assert_true(denies(p, 323, "userfaultfd"));
	assert_true(denies(p, 425, "io_uring_setup"));
	assert_true(denies(p, 246, "kexec_load"));
	assert_true(denies(p, 175, "init_module"));
	assert_true(denies(p, 169, "reboot"));
	assert_true(denies(p, 304, "open_by_handle_at"));
	/* ENOSYS there (seccomp_policy_load), so the C library falls back to clone */
	assert_true(denies(p, 435, "clone3"));
	/* deliberately not in the baseline (clone: only its namespace flags, with unshare) */
	assert_false(denies(p, 56, "clone"));
	assert_false(denies(p, 135, "personality"));
	assert_false(denies(p, 39, "getpid"));
	/* sorted by number, no duplicates */
	for (i = 1; i < p->syscalls.n_deny; i++)
		assert_true(p->syscalls.deny[i - 1].nr < p->syscalls.deny[i].nr);
	policy_free(p);

	p = load_ok(API "syscalls:\n  deny: [getpid, personality]\n  allow: [ptrace, bpf, "
			"clone3]\n  errno: ENOSYS\n");
	assert_true(denies(p, 39, "getpid"));
	assert_true(denies(p, 135, "personality"));
	assert_false(denies(p, 101, "ptrace"));
	assert_false(denies(p, 321, "bpf"));
	assert_false(denies(p, 435, "clone3"));
	assert_true(denies(p, 165, "mount"));
	assert_int_equal(p->syscalls.n_deny, policy_syscall_baseline_len + 2 - 3);
	assert_int_equal(p->syscalls.errno_nr, 38);
	policy_free(p);

	/* every baseline entry has a reason and appears once */
	for (i = 0; i < policy_syscall_baseline_len; i++) {
		assert_true(strlen(policy_syscall_baseline[i].reason) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(policy_syscall_baseline[i].name,
						policy_syscall_baseline[j].name);
	}
}

/* Everything can be allowed away: the deny set may be empty. */
static void test_syscall_set_empty(void **state)
{
	char *yaml = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&yaml, &len);
	struct fng_policy *p;

	fputs(API "syscalls:\n  allow:\n", f);
	for (i = 0; i < policy_syscall_baseline_len; i++)
		fprintf(f, "    - %s\n", policy_syscall_baseline[i].name);
	fclose(f);
	p = load_ok(yaml);
	assert_int_equal(p->syscalls.n_deny, 0);
	policy_free(p);
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_enum_values_are_abi),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_limits_normalized),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_edit_distance),
	    cmocka_unit_test(test_egress_tables),
	    cmocka_unit_test(test_families_mask),
	    cmocka_unit_test(test_syscall_set),
	    cmocka_unit_test(test_syscall_set_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
