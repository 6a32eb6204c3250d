// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon's configuration file (daemon/config.c): YAML comments after values, quoted
 * strings, every key's bad values, unknown keys with a hint, duplicate keys, run_as refused,
 * a YAML syntax error with its note, an empty file; a file with any problem changes nothing.
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

#include <cmocka.h>

#include "config.h"
#include "env_microvm.h"
#include "fnguardd.h"

static struct fnguardd_config cfg, before;
static struct uid_range uids;

static int setup(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&uids, 0, sizeof(uids));
	config_defaults(&cfg, &uids);
	before = cfg;
	return 0;
}

static int teardown(void **state)
{
	config_release(&cfg, &before);
	return 0;
}

/* Loads yaml as "c.conf": every diagnostic as "LINE:COL: [note: ]message\n" lines. */
static char *load(const char *yaml, int *ret)
{
	struct policy_diags d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	policy_diags_init(&d);
	*ret = config_load_buffer(&cfg, &uids, "c.conf", yaml, strlen(yaml), &d);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, "c.conf");
		fprintf(f, "%u:%u: %s%s\n", d.v[i].line, d.v[i].col,
			d.v[i].severity == POLICY_DIAG_NOTE ? "note: " : "", d.v[i].msg);
	}
	fclose(f);
	policy_diags_free(&d);
	return text;
}

static void check_ok(const char *yaml)
{
	int ret;
	char *got = load(yaml, &ret);

	assert_string_equal(got, "");
	assert_int_equal(ret, 0);
	free(got);
}

/* Refused with exactly these diagnostics, and nothing of the file applied. */
static void check_errors(const char *yaml, const char *expected)
{
	struct fnguardd_config was = cfg;
	struct uid_range was_uids = uids;
	int ret;
	char *got = load(yaml, &ret);

	assert_string_equal(got, expected);
	assert_int_equal(ret, -EINVAL);
	assert_memory_equal(&cfg, &was, sizeof(cfg));
	assert_int_equal(uids.first, was_uids.first);
	assert_int_equal(uids.count, was_uids.count);
	free(got);
}

static void test_defaults(void **state)
{
	assert_int_equal(cfg.max_envs_per_function, 4);
	assert_int_equal(cfg.queue_max, 64);
	assert_int_equal(cfg.export_keep, 5);
	assert_int_equal(cfg.export_rotate_bytes, 64ull << 20);
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/fnguardd");
	assert_null(cfg.export_path);
	assert_int_equal(cfg.microvm_accel, MICROVM_ACCEL_AUTO);
	assert_int_equal(cfg.microvm_boot_timeout_s, 0);
	assert_int_equal(uids.first, UID_RANGE_FIRST_DEFAULT);
	assert_int_equal(uids.count, UID_RANGE_COUNT_DEFAULT);
}

static void test_empty_file(void **state)
{
	check_ok("");
	check_ok("# only a comment\n\n");
	check_ok("---\n");
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

/* The reader of before issue 14 refused the first and kept "# note" in the second. */
static void test_comments_after_values(void **state)
{
	check_ok("# settings\nqueue_max: 32 # per function\nexport_path: /x # note\n");
	assert_int_equal(cfg.queue_max, 32);
	assert_string_equal(cfg.export_path, "/x");
}

static void test_quoted_strings(void **state)
{
	check_ok("export_path: \"/var/log/fn guard # not a comment\"\n"
		 "pin_dir: '/sys/fs/bpf/it''s'\nmicrovm_accel: \"tcg\"\n");
	assert_string_equal(cfg.export_path, "/var/log/fn guard # not a comment");
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/it's");
	assert_int_equal(cfg.microvm_accel, MICROVM_ACCEL_TCG);
}

static void test_every_key(void **state)
{
	check_ok("export_path: /var/log/fnguard/events.jsonl\n"
		 "export_rotate_bytes: 1048576\n"
		 "export_keep: 999\n"
		 "max_envs_per_function: 9999\n"
		 "queue_max: 1\n"
		 "uid_range: 3000000000:1024\n"
		 "pin_dir: /sys/fs/bpf/other\n"
		 "qemu: /opt/qemu/bin/qemu-system-x86_64\n"
		 "microvm_kernel: /boot/vmlinuz\n"
		 "microvm_initrd: /srv/initrd.cpio.gz\n"
		 "microvm_accel: kvm\n"
		 "microvm_boot_timeout: 3600\n");
	assert_string_equal(cfg.export_path, "/var/log/fnguard/events.jsonl");
	assert_int_equal(cfg.export_rotate_bytes, 1048576);
	assert_int_equal(cfg.export_keep, 999);
	assert_int_equal(cfg.max_envs_per_function, 9999);
	assert_int_equal(cfg.queue_max, 1);
	assert_int_equal(uids.first, 3000000000u);
	assert_int_equal(uids.count, 1024);
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/other");
	assert_string_equal(cfg.qemu, "/opt/qemu/bin/qemu-system-x86_64");
	assert_string_equal(cfg.microvm_kernel, "/boot/vmlinuz");
	assert_string_equal(cfg.microvm_initrd, "/srv/initrd.cpio.gz");
	assert_int_equal(cfg.microvm_accel, MICROVM_ACCEL_KVM);
	assert_int_equal(cfg.microvm_boot_timeout_s, 3600);
}

static void test_bad_numbers(void **state)
{
	check_errors("export_rotate_bytes: 0\n"
		     "export_rotate_bytes_x: 1\n"
		     "export_keep: 1000\n"
		     "max_envs_per_function: 10000\n"
		     "queue_max: -1\n"
		     "microvm_boot_timeout: 3601\n",
		     "1:22: export_rotate_bytes: 0 is out of range (at least 1)\n"
		     "2:1: unknown key 'export_rotate_bytes_x' (did you mean "
		     "'export_rotate_bytes'?)\n"
		     "3:14: export_keep: 1000 is out of range (1-999)\n"
		     "4:24: max_envs_per_function: 10000 is out of range (1-9999)\n"
		     "5:12: queue_max: -1 is out of range (1-999999)\n"
		     "6:23: microvm_boot_timeout: 3601 is out of range (1-3600)\n");
	check_errors("queue_max: 0x40\nexport_keep: \"5\"\nmax_envs_per_function:\n"
		     "export_rotate_bytes: 99999999999999999999\nmicrovm_boot_timeout: 1.5\n",
		     "1:12: queue_max: expected an integer (1-999999), got '0x40'\n"
		     "2:14: export_keep: expected an integer, got the string '5' (numbers are "
		     "written without quotes)\n"
		     "3:23: max_envs_per_function: expected an integer (1-9999), got nothing\n"
		     "4:22: export_rotate_bytes: 99999999999999999999 is out of range (at least "
		     "1)\n"
		     "5:23: microvm_boot_timeout: expected an integer (1-3600), got '1.5'\n");
}

static void test_bad_strings(void **state)
{
	check_errors("export_path:\npin_dir: ~\nqemu: \"\"\nmicrovm_kernel: \"a\\0b\"\n"
		     "microvm_initrd: [a, b]\nmicrovm_accel: fast\nqueue_max: {n: 1}\n",
		     "1:13: export_path: expected a path, got nothing\n"
		     "2:10: pin_dir: expected a path, got nothing\n"
		     "3:7: qemu: expected a path, got nothing\n"
		     "4:17: microvm_kernel: 'a\\x00b' holds a NUL byte\n"
		     "5:17: microvm_initrd: expected a single value, not a list\n"
		     "6:16: microvm_accel: bad value 'fast' (expected 'auto', 'kvm' or 'tcg')\n"
		     "7:12: queue_max: expected a single value, not a mapping\n");
}

static void test_bad_uid_range(void **state)
{
	check_errors("uid_range: 2000000000\n",
		     "1:12: uid_range: want FIRST:COUNT (e.g. 2000000000:65536), not "
		     "'2000000000'\n");
	check_errors("uid_range: 1000:65536\n",
		     "1:12: uid_range: '1000:65536': FIRST must be at least 65536, COUNT from 2 "
		     "to 1048576, and the range must end below 4294967295\n");
}

static void test_unknown_and_duplicate_keys(void **state)
{
	check_errors("queue_max: 8\nqueu_max: 9\nbogus: 1\nqueue_max: 10\n"
		     "pin_dir: /a\npin_dir: /b\n",
		     "2:1: unknown key 'queu_max' (did you mean 'queue_max'?)\n"
		     "3:1: unknown key 'bogus' (fnguardd --help lists the settings)\n"
		     "4:1: duplicate key 'queue_max' (first at line 1)\n"
		     "6:1: duplicate key 'pin_dir' (first at line 5)\n");
	check_errors("{queue_max: 1, queue_max: 2}\n",
		     "1:16: duplicate key 'queue_max' (first at column 2)\n");
}

static void test_run_as_refused(void **state)
{
	check_errors(
	    "run_as: nobody\n",
	    "1:1: run_as is no longer used: every environment runs as a uid and gid of its "
	    "own from uid_range (default 2000000000:65536); remove the line\n");
}

static void test_not_a_mapping(void **state)
{
	check_errors("- queue_max: 1\n",
		     "1:1: the configuration is a mapping of settings ('key: value' lines), not a "
		     "list\n");
	check_errors("queue_max\n", "1:1: the configuration is a mapping of settings ('key: "
				    "value' lines), not a single value\n");
	check_errors("[a]: 1\nqueue_max: 2\n---\nqueue_max: 3\n",
		     "1:1: keys are setting names, not a list\n"
		     "3:1: a configuration file holds one YAML document, this is a second one\n");
	check_errors(
	    "queue_max: &n 3\nexport_keep: *n\nqemu: !!str /q\n",
	    "1:12: YAML anchors are not used here ('&n'): write the value\n"
	    "2:14: YAML aliases are not used here ('*n'): write the value\n"
	    "3:7: YAML tags are not used here ('tag:yaml.org,2002:str'): write the value\n");
}

/* Errors before the syntax error are kept; the note says where the flow mapping began. */
static void test_syntax_error(void **state)
{
	check_errors("queue_max: 0\nexport_keep: {a: 1,\npin_dir: /x\n",
		     "1:12: queue_max: 0 is out of range (1-999999)\n"
		     "2:14: export_keep: expected a single value, not a mapping\n"
		     "4:1: YAML syntax error: did not find expected ',' or '}'\n"
		     "2:14: note: this flow mapping began here\n");
	check_errors("export_path: \"/x\nqueue_max: 1\n",
		     "3:1: YAML syntax error: found unexpected end of stream\n"
		     "1:14: note: this quoted scalar began here\n");
	/* libyaml reads "1 pin_dir" as one value before it finds the colon out of place */
	check_errors("queue_max: 1\n  pin_dir: /x\n",
		     "1:12: queue_max: expected an integer (1-999999), got '1 pin_dir'\n"
		     "2:10: YAML syntax error: mapping values are not allowed in this context\n");
}

static void test_file(void **state)
{
	char path[] = "/tmp/fng-config-XXXXXX";
	struct policy_diags d;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "queue_max: 7 # seven\n", 21), 21);
	close(fd);
	policy_diags_init(&d);
	assert_int_equal(config_load(&cfg, &uids, path, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(cfg.queue_max, 7);
	unlink(path);
	assert_int_equal(config_load(&cfg, &uids, path, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 0);
	assert_string_equal(d.v[0].msg, "cannot open: No such file or directory");
	policy_diags_free(&d);
	/* a directory, or a FIFO, is no configuration (and nothing blocks on a FIFO) */
	policy_diags_init(&d);
	assert_int_equal(config_load(&cfg, &uids, "/tmp", &d), -EINVAL);
	assert_string_equal(d.v[0].msg, "not a regular file");
	policy_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comments_after_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quoted_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_strings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_uid_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_and_duplicate_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_as_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_mapping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
