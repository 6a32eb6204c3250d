// SPDX-License-Identifier: Apache-2.0
/*
 * The environments' uids (daemon/uidrange.c): the range is parsed and bounded; a range that
 * overlaps a subordinate id range of /etc/subuid or /etc/subgid is refused, naming it; ids in
 * use by running processes (a /proc of the test's making) are never handed out; ids are handed
 * out next-fit, so a released id comes back only after every other free one; the VMMs' real
 * gid (the last id) is never an environment's; an exhausted range says -ENOSPC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "uidrange.h"

static char dir[] = "/tmp/fng-uidrange-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *at(const char *name)
{
	static char path[2][256];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

static void test_parse(void **state)
{
	struct uid_range r = {0};
	char why[256];

	(void)state;
	assert_int_equal(uid_range_parse(&r, "2000000000:65536", why, sizeof(why)), 0);
	assert_int_equal(r.first, 2000000000u);
	assert_int_equal(r.count, 65536u);
	assert_int_equal(uid_range_parse(&r, "1000:10", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "at least 65536"));
	assert_int_equal(uid_range_parse(&r, "4294967000:1000", why, sizeof(why)), -EINVAL);
	assert_int_equal(uid_range_parse(&r, "100000", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "FIRST:COUNT"));
	assert_int_equal(uid_range_parse(&r, "100000:1x", why, sizeof(why)), -EINVAL);
	assert_int_equal(uid_range_parse(&r, "100000:1", why, sizeof(why)), -EINVAL);
}

static void test_subid_overlap(void **state)
{
	struct uid_range r = {.first = 3000000000u, .count = 100};
	char why[256];

	(void)state;
	write_file("subuid", "alice:100000:65536\n");
	write_file("subgid", "bob:2999999990:20\n");
	assert_int_equal(uid_range_init(&r, at("subuid"), at("subgid"), why, sizeof(why)), -EEXIST);
	assert_non_null(strstr(why, "bob"));
	assert_null(r.used);
	write_file("subgid", "bob:2999999990:10\n"); /* ends right below the range */
	assert_int_equal(uid_range_init(&r, at("subuid"), at("subgid"), why, sizeof(why)), 0);
	uid_range_free(&r);
	/* Missing files: nobody has subordinate ids. */
	assert_int_equal(uid_range_init(&r, at("none1"), at("none2"), why, sizeof(why)), 0);
	uid_range_free(&r);
}

static void test_running_marked(void **state)
{
	struct uid_range r = {.first = 3000000000u, .count = 4};
	char why[256];
	uint32_t id;

	(void)state;
	assert_int_equal(uid_range_init(&r, at("none1"), at("none2"), why, sizeof(why)), 0);
	/* A process runs as the range's first id (its saved uid) and another's gid is the
	 * second: neither is handed out. */
	mkdir(at("proc"), 0755);
	mkdir(at("proc/41"), 0755);
	mkdir(at("proc/42"), 0755);
	mkdir(at("proc/self"), 0755);
	write_file("proc/41/status", "Name:\tx\nUid:\t0\t0\t3000000000\t0\nGid:\t0\t0\t0\t0\n");
	write_file("proc/42/status", "Name:\ty\nUid:\t5\t5\t5\t5\nGid:\t3000000001\t3000000001\t3000000001\t3000000001\n");
	write_file("proc/self/status", "Uid:\t3000000002\t3000000002\t3000000002\t3000000002\n");
	assert_int_equal(uid_range_mark_running(&r, at("proc")), 5);
	assert_int_equal(uid_range_alloc(&r, &id), 0);
	assert_int_equal(id, 3000000002u);
	/* 3000000003 is the VMMs' real gid: the range is now full. */
	assert_int_equal(uid_range_vmm_rgid(&r), 3000000003u);
	assert_int_equal(uid_range_alloc(&r, &id), -ENOSPC);
	uid_range_free(&r);
}

static void test_next_fit(void **state)
{
	struct uid_range r = {.first = 3000000000u, .count = 5};
	char why[256];
	uint32_t a, b, c, d, e;

	(void)state;
	assert_int_equal(uid_range_init(&r, at("none1"), at("none2"), why, sizeof(why)), 0);
	assert_int_equal(uid_range_alloc(&r, &a), 0);
	assert_int_equal(uid_range_alloc(&r, &b), 0);
	assert_int_not_equal(a, b);
	uid_range_release(&r, a);
	/* a is free again, but the next ones come first. */
	assert_int_equal(uid_range_alloc(&r, &c), 0);
	assert_int_equal(uid_range_alloc(&r, &d), 0);
	assert_int_not_equal(c, a);
	assert_int_not_equal(d, a);
	assert_int_equal(uid_range_alloc(&r, &e), 0);
	assert_int_equal(e, a);
	assert_int_equal(uid_range_alloc(&r, &e), -ENOSPC);
	/* Releasing what is not ours, or twice, changes nothing. */
	uid_range_release(&r, 12345);
	uid_range_release(&r, uid_range_vmm_rgid(&r));
	assert_int_equal(r.n_used, 4);
	uid_range_release(&r, b);
	uid_range_release(&r, b);
	assert_int_equal(r.n_used, 3);
	assert_true(uid_range_contains(&r, b));
	assert_false(uid_range_contains(&r, 3000000005u));
	uid_range_free(&r);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_subid_overlap),
	    cmocka_unit_test(test_running_marked),
	    cmocka_unit_test(test_next_fit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
