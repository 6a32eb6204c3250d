// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon's own paths cannot be taken over by whoever may write near them: fs_mkdir_p()
 * refuses an existing directory that is a link, someone else's, or open beyond the mode asked
 * for, and an ancestor others may write to without the sticky bit; the JSON-lines exporter
 * follows no link but root's. Run as root (the tests chown to another uid); skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "export.h"
#include "fsutil.h"

static char dir[] = "/tmp/fng-statepaths-XXXXXX";

static const char *at(const char *name)
{
	static char path[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

static void test_mkdir_fresh(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(fs_mkdir_p(at("a/b/c"), 0700), 0);
	assert_int_equal(stat(at("a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* There already, as we made it: fine. */
	assert_int_equal(fs_mkdir_p(at("a/b/c"), 0700), 0);
}

static void test_mkdir_refuses(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("needs root (files of another user)\n");
		skip();
	}
	/* Someone else's directory. */
	assert_int_equal(mkdir(at("other"), 0700), 0);
	assert_int_equal(chown(at("other"), 12345, 12345), 0);
	assert_int_equal(fs_mkdir_p(at("other"), 0700), -EPERM);
	/* Ours, but open to more than asked (readable by all for a 0700 directory). */
	assert_int_equal(mkdir(at("lax"), 0700), 0);
	assert_int_equal(chmod(at("lax"), 0755), 0);
	assert_int_equal(fs_mkdir_p(at("lax"), 0700), -EPERM);
	assert_int_equal(fs_mkdir_p(at("lax"), 0755), 0);
	/* A link where the directory should be, even to a good one. */
	assert_int_equal(symlink(at("a"), at("link")), 0);
	assert_int_equal(fs_mkdir_p(at("link"), 0700), -ELOOP);
	/* A file. */
	assert_int_equal(close(open(at("file"), O_CREAT | O_WRONLY, 0600)), 0);
	assert_int_equal(fs_mkdir_p(at("file"), 0700), -ENOTDIR);
	/* An ancestor anyone may write to, without the sticky bit: refused; with it, fine. */
	assert_int_equal(mkdir(at("open"), 0777), 0);
	assert_int_equal(chmod(at("open"), 0777), 0);
	assert_int_equal(fs_mkdir_p(at("open/state"), 0700), -EPERM);
	assert_int_equal(chmod(at("open"), 01777), 0);
	assert_int_equal(fs_mkdir_p(at("open/state"), 0700), 0);
	/* An ancestor that is someone else's link. */
	assert_int_equal(symlink(at("a"), at("olink")), 0);
	assert_int_equal(lchown(at("olink"), 12345, 12345), 0);
	assert_int_equal(fs_mkdir_p(at("olink/x"), 0700), -ELOOP);
}

static void test_export_no_link(void **state)
{
	struct export *x = NULL;
	char buf[16] = "";
	int fd;

	(void)state;
	if (geteuid() != 0) {
		print_message("needs root (files of another user)\n");
		skip();
	}
	assert_int_equal(close(open(at("target"), O_CREAT | O_WRONLY, 0600)), 0);
	/* A link someone else planted where the export file goes: refused. */
	assert_int_equal(symlink(at("target"), at("planted")), 0);
	assert_int_equal(lchown(at("planted"), 12345, 12345), 0);
	assert_int_equal(export_open(&x, at("planted"), 0, 0), -ELOOP);
	assert_null(x);
	/* Root's link (like /dev/stdout) is followed. */
	assert_int_equal(symlink(at("target"), at("roots")), 0);
	assert_int_equal(export_open(&x, at("roots"), 0, 0), 0);
	export_close(x);
	fd = open(at("target"), O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf)) >= 0);
	close(fd);
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
	    cmocka_unit_test(test_mkdir_fresh),
	    cmocka_unit_test(test_mkdir_refuses),
	    cmocka_unit_test(test_export_no_link),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
