// SPDX-License-Identifier: Apache-2.0
/*
 * The registry of functions (daemon/registry.c) with a state directory of its own, no daemon
 * running: a function is registered (its code copied), found (the latest version when none is
 * named), kept on disk and registered again from there by a new daemon, removed (its files
 * and code with it); a policy that cannot be registered is refused with the reason. Root only
 * (the code is copied with a client's rights, the state directory must be root's): skipped
 * otherwise.
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

#include "clientfs.h"
#include "fnguardd.h"
#include "registry.h"

static char top[64], state_dir[128], code[128];
static struct fnguardd d;
static struct client_id who;

/* A policy of function @name version @version; @extra: more of it. Everything allowed, so
 * that any kernel can enforce it. */
static char *policy(const char *name, const char *version, const char *extra)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf),
		 "apiVersion: fnguard/v1\n"
		 "function:\n"
		 "  name: %s\n"
		 "  version: \"%s\"\n"
		 "  code: ./fn\n"
		 "  handler: /var/task/handler\n"
		 "environment:\n"
		 "  kind: process\n"
		 "files:\n"
		 "  default: allow\n"
		 "exec:\n"
		 "  default: allow\n"
		 "  children: allow\n"
		 "%s",
		 name, version, extra);
	return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	char path[256];

	(void)state;
	top[0] = 0;
	if (geteuid() != 0)
		return 0; /* each test skips */
	snprintf(top, sizeof(top), "/tmp/fnguard-registry-XXXXXX");
	assert_non_null(mkdtemp(top));
	assert_int_equal(chmod(top, 0755), 0);
	snprintf(state_dir, sizeof(state_dir), "%s/state", top);
	snprintf(code, sizeof(code), "%s/fn", top);
	assert_int_equal(mkdir(code, 0755), 0);
	snprintf(path, sizeof(path), "%s/handler", code);
	write_file(path, "#!/bin/sh\ncat\n", 0755);
	snprintf(path, sizeof(path), "%s/data", code);
	write_file(path, "data\n", 0644);
	memset(&d, 0, sizeof(d));
	d.cfg.state_dir = state_dir;
	who.uid = getuid();
	who.gid = getgid();
	return 0;
}

static void free_all(struct fnguardd *dd)
{
	while (dd->fns) {
		struct fn *f = dd->fns;

		dd->fns = f->next;
		function_free(f);
	}
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free_all(&d);
	if (!top[0])
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int reg(const char *yaml, struct fn **f, char *why, size_t whylen)
{
	why[0] = 0;
	return function_register(&d, yaml, strlen(yaml), "test.yaml", top, &who, f, why, whylen);
}

/* Whether STATE/@where/@name is there. */
static bool exists(const char *where, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", state_dir, where, name);
	return !lstat(path, &st);
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* No removed function's environments here: nothing to stop. */
static void no_envs(struct fn *fn, const char *reason)
{
	(void)reason;
	assert_int_equal(fn->n_envs, 0);
}

static void test_register_find(void **state)
{
	char why[1024];
	struct fn *f;

	(void)state;
	need_root();
	assert_int_equal(reg(policy("hello", "1", ""), &f, why, sizeof(why)), 0);
	assert_ptr_equal(function_find(&d, "hello", "1"), f);
	assert_ptr_equal(function_find(&d, "hello", NULL), f);
	assert_ptr_equal(function_find(&d, "hello", ""), f);
	assert_null(function_find(&d, "hello", "2"));
	assert_null(function_find(&d, "other", NULL));
	/* Its policy byte for byte, and a copy of its code, in the state directory. */
	assert_true(exists("functions", "hello@31.yaml"));
	assert_true(exists("functions", "hello@31.meta"));
	assert_true(exists("code", "hello@31/handler"));
	assert_true(exists("code", "hello@31/data"));
	assert_non_null(f->code_dir);
	assert_non_null(strstr(f->code_dir, "/code/hello@31"));
	/* The same version again: refused. */
	assert_int_equal(reg(policy("hello", "1", ""), &f, why, sizeof(why)), -EEXIST);
	assert_string_equal(why, "hello:1 is already registered (remove it first)");
}

static void test_latest_wins(void **state)
{
	struct fn *v1, *v2, *v0;
	char why[1024];

	(void)state;
	need_root();
	assert_int_equal(reg(policy("f", "1", ""), &v1, why, sizeof(why)), 0);
	assert_int_equal(reg(policy("f", "2", ""), &v2, why, sizeof(why)), 0);
	assert_ptr_equal(function_find(&d, "f", NULL), v2);
	/* The latest registered, not the greatest version. */
	assert_int_equal(reg(policy("f", "0", ""), &v0, why, sizeof(why)), 0);
	assert_ptr_equal(function_find(&d, "f", NULL), v0);
	assert_ptr_equal(function_find(&d, "f", "1"), v1);
	/* That one removed: the one before it again. */
	assert_int_equal(function_remove(&d, "f", "0", no_envs, why, sizeof(why)), 0);
	assert_ptr_equal(function_find(&d, "f", NULL), v2);
}

static void test_persist_load(void **state)
{
	struct fnguardd d2 = {.cfg.state_dir = state_dir};
	char why[1024];
	struct fn *f, *g;

	(void)state;
	need_root();
	assert_int_equal(reg(policy("a", "1", ""), &f, why, sizeof(why)), 0);
	assert_int_equal(reg(policy("a", "2", ""), &f, why, sizeof(why)), 0);
	assert_int_equal(reg(policy("b", "0.1.2", ""), &f, why, sizeof(why)), 0);
	/* A new daemon on the same state: the same functions, the same latest version. */
	assert_int_equal(functions_load(&d2), 0);
	g = function_find(&d2, "a", NULL);
	assert_non_null(g);
	assert_string_equal(g->policy->function.version, "2");
	assert_non_null(function_find(&d2, "a", "1"));
	g = function_find(&d2, "b", "0.1.2");
	assert_non_null(g);
	assert_ptr_equal(g->d, &d2);
	assert_int_equal(g->yaml_len, f->yaml_len);
	assert_memory_equal(g->yaml, f->yaml, f->yaml_len);
	assert_int_equal(g->registered_ns, f->registered_ns);
	assert_string_equal(g->code_dir, f->code_dir);
	free_all(&d2);
	/* An incomplete one (no meta) is skipped, the others load. */
	assert_int_equal(unlink(strcat(strcpy(why, state_dir), "/functions/a@31.meta")), 0);
	assert_int_equal(functions_load(&d2), 0);
	assert_null(function_find(&d2, "a", "1"));
	assert_non_null(function_find(&d2, "a", "2"));
	free_all(&d2);
}

static void test_remove(void **state)
{
	struct fnguardd d2 = {.cfg.state_dir = state_dir};
	char why[1024];
	struct fn *f;

	(void)state;
	need_root();
	assert_int_equal(reg(policy("gone", "1", ""), &f, why, sizeof(why)), 0);
	assert_int_equal(reg(policy("gone", "2", ""), &f, why, sizeof(why)), 0);
	assert_int_equal(reg(policy("kept", "1", ""), &f, why, sizeof(why)), 0);
	/* No version: every version. */
	assert_int_equal(function_remove(&d, "gone", NULL, no_envs, why, sizeof(why)), 0);
	assert_null(function_find(&d, "gone", NULL));
	assert_non_null(function_find(&d, "kept", NULL));
	assert_false(exists("functions", "gone@31.yaml"));
	assert_false(exists("functions", "gone@32.meta"));
	assert_false(exists("code", "gone@31"));
	assert_true(exists("code", "kept@31"));
	assert_int_equal(function_remove(&d, "gone", NULL, no_envs, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "gone is not registered");
	assert_int_equal(function_remove(&d, "kept", "9", no_envs, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "kept:9 is not registered");
	/* Not registered again by a new daemon. */
	assert_int_equal(functions_load(&d2), 0);
	assert_null(function_find(&d2, "gone", NULL));
	assert_non_null(function_find(&d2, "kept", "1"));
	free_all(&d2);
}

static void test_bad_policy(void **state)
{
	char why[1024], path[256];
	struct fn *f = NULL;

	(void)state;
	need_root();
	/* No function: section. */
	assert_int_equal(reg("apiVersion: fnguard/v1\nfiles:\n  default: allow\n", &f, why,
			     sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "test.yaml: no function: section (required to register a function)");
	/* Not a policy: the parser's diagnostics. */
	assert_int_equal(reg(policy("bad", "1", "nonsense_key: 1\n"), &f, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "nonsense_key"));
	/* A handler that is not executable. */
	snprintf(path, sizeof(path), "%s/handler", code);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(reg(policy("bad", "1", ""), &f, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "function.handler /var/task/handler: not an executable file"));
	/* Nothing of them registered, nor left in the state directory. */
	assert_null(d.fns);
	assert_false(exists("functions", "bad@31.yaml"));
	assert_false(exists("code", "bad@31"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_register_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latest_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_persist_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
