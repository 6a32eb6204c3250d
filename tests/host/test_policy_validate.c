// SPDX-License-Identifier: Apache-2.0
/*
 * Validation of the top level and of the sections function, environment, limits, files and
 * exec: every rule of docs/policy.md "Validation", each with valid and invalid inputs, the
 * exact message and its line and column. (network and syscalls: test_policy_network.c.)
 */
#include "test_policy_util.h"

/*
 * "SECTION:\n  KEY: VALUE\n" after the apiVersion line: an error about VALUE is on line 3,
 * at column 2 (indent) + len(KEY) + 2 (": ") + 1.
 */
static void check_value(const char *section, const char *key, const char *value, const char *msg)
{
	char *yaml, *want;

	assert_true(asprintf(&yaml, API "%s:\n  %s: %s\n", section, key, value) > 0);
	assert_true(asprintf(&want, "3:%zu: %s.%s: %s\n", strlen(key) + 5, section, key, msg) > 0);
	check_errors(yaml, want);
	free(yaml);
	free(want);
}

static void check_value_ok(const char *section, const char *key, const char *value)
{
	char *yaml;

	assert_true(asprintf(&yaml, API "%s:\n  %s: %s\n", section, key, value) > 0);
	check_valid(yaml);
	free(yaml);
}

static void test_api_version(void **state)
{
	check_valid("apiVersion: fnguard/v1\n");
	check_valid("apiVersion: \"fnguard/v1\"\n");
	check_errors("mode: audit\n", "1:1: missing required key 'apiVersion'\n");
	check_errors(
	    "apiVersion: fnguard/v2\n",
	    "1:13: apiVersion: unsupported apiVersion 'fnguard/v2' (expected 'fnguard/v1')\n");
	check_errors(
	    "apiVersion: Fnguard/v1\n",
	    "1:13: apiVersion: unsupported apiVersion 'Fnguard/v1' (expected 'fnguard/v1')\n");
	check_errors("apiVersion: [fnguard/v1]\n",
		     "1:13: apiVersion: expected a string, got a list\n");
	check_errors("apiVersion:\n", "1:12: apiVersion: expected a string, got null\n");
}

static void test_mode(void **state)
{
	struct fng_policy *p = load_ok(API "mode: audit\nfiles:\n  mode: enforce\n");

	assert_int_equal(p->mode, FNG_MODE_AUDIT);
	/* sections inherit the top-level mode unless they override it */
	assert_int_equal(p->files.mode, FNG_MODE_ENFORCE);
	assert_int_equal(p->exec.mode, FNG_MODE_AUDIT);
	assert_int_equal(p->network.mode, FNG_MODE_AUDIT);
	assert_int_equal(p->syscalls.mode, FNG_MODE_AUDIT);
	policy_free(p);

	check_errors(API "mode: Enforce\n",
		     "2:7: mode: bad value 'Enforce' (expected 'enforce' or 'audit')\n");
	check_errors(API "mode: true\n",
		     "2:7: mode: expected 'enforce' or 'audit', got a boolean\n");
	check_errors(API "mode:\n", "2:6: mode: expected 'enforce' or 'audit', got null\n");
	check_value("files", "mode", "permissive",
		    "bad value 'permissive' (expected 'enforce' or 'audit')");
	check_value("exec", "mode", "[audit]", "expected 'enforce' or 'audit', got a list");
	check_value("network", "mode", "auditing",
		    "bad value 'auditing' (expected 'enforce' or 'audit')");
	check_value("syscalls", "mode", "1", "bad value '1' (expected 'enforce' or 'audit')");
}

static void test_sections_are_mappings(void **state)
{
	check_errors(API "files: [a]\n", "2:8: files: expected a mapping, got a list\n");
	check_errors(API "exec: deny\n", "2:7: exec: expected a mapping, got a string\n");
	check_errors(API "network:\n", "2:9: network: expected a mapping, got null\n");
	check_errors(API "limits: 5\n", "2:9: limits: expected a mapping, got an integer\n");
	check_errors(API "function: []\n", "2:11: function: expected a mapping, got a list\n");
}

#define FUNCTION(name, version, code, handler)                                                     \
	API "function:\n  name: " name "\n  version: " version "\n  code: " code                   \
	    "\n  handler: " handler "\n"

static void test_function(void **state)
{
	struct fng_policy *p =
	    load_ok(FUNCTION("thumbnailer", "\"3\"", "./thumbnailer", "/var/task/handler"));

	assert_true(p->function.present);
	assert_string_equal(p->function.name, "thumbnailer");
	assert_string_equal(p->function.version, "3");
	assert_string_equal(p->function.code, "/base/thumbnailer");
	assert_string_equal(p->function.handler, "/var/task/handler");
	policy_free(p);

	/* the function section is optional (fnguard run ignores it) */
	p = load_ok(API);
	assert_false(p->function.present);
	policy_free(p);

	check_errors(API "function: {}\n", "2:11: function: missing required key 'name'\n"
					   "2:11: function: missing required key 'version'\n"
					   "2:11: function: missing required key 'code'\n"
					   "2:11: function: missing required key 'handler'\n");
	check_errors(API "function:\n  name: f\n  handler: /h\n  entry: main\n",
		     "3:3: function: missing required key 'version'\n"
		     "3:3: function: missing required key 'code'\n"
		     "5:3: function: unknown key 'entry' (valid keys: name, version, code, "
		     "handler, runtime, layers, env)\n");
}

/*
 * A function section with FIELD: VALUE first (line 3, column len(FIELD) + 5) and valid
 * values for the other three fields.
 */
static char *function_with(const char *field, const char *value)
{
	static const char *const fields[] = {"name", "version", "code", "handler"};
	static const char *const values[] = {"f", "'1'", "code", "/var/task/h"};
	char *yaml = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&yaml, &len);

	fprintf(f, API "function:\n  %s: %s\n", field, value);
	for (i = 0; i < 4; i++)
		if (strcmp(fields[i], field))
			fprintf(f, "  %s: %s\n", fields[i], values[i]);
	fclose(f);
	return yaml;
}

static void check_function(const char *field, const char *value, const char *msg)
{
	char *yaml = function_with(field, value), *want;

	if (msg) {
		assert_true(
		    asprintf(&want, "3:%zu: function.%s: %s\n", strlen(field) + 5, field, msg) > 0);
		check_errors(yaml, want);
		free(want);
	} else {
		check_valid(yaml);
	}
	free(yaml);
}

static void test_function_name(void **state)
{
	static const char max[] = "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh";
	static const char *const good[] = {"a", "0", "a-b", "3d-render", "a-", "42", max};
	static const char rule[] =
	    "(1-63 characters a-z, 0-9 and '-', starting with a letter or digit)";
	char *msg;
	size_t i;

	assert_int_equal(strlen(max), 63);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_function("name", good[i], NULL);
	check_function("name", "-a",
		       "bad function name '-a' (1-63 characters a-z, 0-9 and '-', "
		       "starting with a letter or digit)");
	assert_true(asprintf(&msg, "bad function name '%sx' %s", max, rule) > 0);
	{
		char *v;

		assert_true(asprintf(&v, "%sx", max) > 0);
		check_function("name", v, msg);
		free(v);
	}
	free(msg);
	check_function("name", "Thumb",
		       "bad function name 'Thumb' (1-63 characters a-z, 0-9 and '-', starting "
		       "with a letter or digit)");
	check_function("name", "a_b",
		       "bad function name 'a_b' (1-63 characters a-z, 0-9 and '-', starting with "
		       "a letter or digit)");
	check_function("name", "\"a b\"",
		       "bad function name 'a b' (1-63 characters a-z, 0-9 and '-', starting with "
		       "a letter or digit)");
	check_function("name", "\"\"",
		       "bad function name '' (1-63 characters a-z, 0-9 and '-', starting with a "
		       "letter or digit)");
	check_function("name", "true", "expected a string, got a boolean");
	check_function("name", "[f]", "expected a string, got a list");
}

static void test_function_version(void **state)
{
	check_function("version", "'3'", NULL);
	check_function("version", "3", NULL);
	check_function("version", "3.10", NULL);
	check_function("version", "v1.2_3-rc1", NULL);
	check_function("version", "\"1:2\"",
		       "bad version '1:2' (1-64 characters A-Z, a-z, 0-9, '.', '_' and '-', "
		       "starting with a letter or digit)");
	check_function("version", "\"\"",
		       "bad version '' (1-64 characters A-Z, a-z, 0-9, '.', '_' and '-', starting "
		       "with a letter or digit)");
	check_function("version", "~", "expected a string, got null");
}

static void test_function_code(void **state)
{
	struct fng_policy *p;
	char *yaml;
	size_t i;
	static const char *const cases[][2] = {
	    {"./thumbnailer", "/base/thumbnailer"},
	    {"code", "/base/code"},
	    {"./a/../b/./c/", "/base/b/c"},
	    {"../shared/code", "/shared/code"},
	    {"/srv/code", "/srv/code"},
	    {".", "/base"},
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		yaml = function_with("code", cases[i][0]);
		p = load_ok(yaml);
		assert_string_equal(p->function.code, cases[i][1]);
		policy_free(p);
		free(yaml);
	}
	check_function("code", "''", "empty path");
	check_function("code", "\"a\\0b\"", "path 'a\\x00b' contains a NUL byte");
	check_function("code", "{dir: x}", "expected a string, got a mapping");
}

static void test_function_handler(void **state)
{
	check_function("handler", "/var/task/handler", NULL);
	check_function("handler", "handler", "'handler' is not an absolute path");
	check_function("handler", "/var/task/",
		       "'/var/task/' is not normalized (did you mean "
		       "'/var/task'?)");
}

static void test_environment(void **state)
{
	struct fng_policy *p = load_ok(API "environment:\n  kind: process\n  reuse: false\n"
					   "  isolate_invocations: False\n  max_invocations: 100\n"
					   "  max_lifetime: 1h30m\n  provisioned: 2\n");

	assert_int_equal(p->environment.kind, FNG_ENV_PROCESS);
	assert_false(p->environment.reuse);
	assert_false(p->environment.isolate_invocations);
	assert_int_equal(p->environment.max_invocations, 100);
	assert_int_equal(p->environment.max_lifetime_ns, 5400ull * 1000000000);
	assert_int_equal(p->environment.provisioned, 2);
	policy_free(p);

	check_value_ok("environment", "kind", "microvm");
	check_value_ok("environment", "max_invocations", "4294967295");
	check_value_ok("environment", "max_lifetime", "0");
	check_value_ok("environment", "provisioned", "1024");
	check_value("environment", "kind", "vm",
		    "bad value 'vm' (expected 'microvm' or 'process')");
	check_value("environment", "reuse", "yes", "expected true or false, got a string");
	check_value("environment", "reuse", "\"true\"", "expected true or false, got a string");
	check_value("environment", "isolate_invocations", "1",
		    "expected true or false, got an integer");
	check_value("environment", "max_invocations", "-1", "-1 is out of range (0-4294967295)");
	check_value("environment", "max_invocations", "4294967296",
		    "4294967296 is out of range (0-4294967295)");
	check_value("environment", "max_invocations", "99999999999999999999",
		    "99999999999999999999 is out of range (0-4294967295)");
	check_value("environment", "max_invocations", "'10'", "expected an integer, got a string");
	check_value("environment", "max_invocations", "1.5", "expected an integer, got a number");
	check_value("environment", "max_lifetime", "14 h",
		    "bad duration '14 h' (use numbers with units ns, us, ms, s, m or h, e.g. "
		    "500ms, 3s, 1m30s)");
	check_value("environment", "max_lifetime", "2d",
		    "bad duration '2d' (use numbers with units ns, us, ms, s, m or h, e.g. "
		    "500ms, 3s, 1m30s)");
	check_value("environment", "provisioned", "1025", "1025 is out of range (0-1024)");
	check_errors(API "environment:\n  warm: true\n",
		     "3:3: environment: unknown key 'warm' (valid keys: kind, reuse, "
		     "isolate_invocations, max_invocations, max_lifetime, provisioned)\n");
}

static void test_limits(void **state)
{
	static const char bad_size[] =
	    "(use bytes, or a whole number with a suffix Ki, Mi, Gi, Ti, K, M, G or T, e.g. "
	    "128Mi)";
	static const char bad_duration[] =
	    "(use numbers with units ns, us, ms, s, m or h, e.g. 500ms, 3s, 1m30s)";
	char msg[256];

	check_value_ok("limits", "memory", "1Gi");
	check_value_ok("limits", "memory", "134217728");
	check_value_ok("limits", "memory", "\"64Mi\"");
	check_value_ok("limits", "timeout", "500ms");
	check_value_ok("limits", "timeout", "1m30s");
	check_value_ok("limits", "pids", "4194304");
	check_value_ok("limits", "cpus", "1024");
	check_value_ok("limits", "tmp_size", "512Ki");

	snprintf(msg, sizeof(msg), "bad size '128MB' %s", bad_size);
	check_value("limits", "memory", "128MB", msg);
	snprintf(msg, sizeof(msg), "bad size '1.5Gi' %s", bad_size);
	check_value("limits", "memory", "1.5Gi", msg);
	snprintf(msg, sizeof(msg), "bad size '-1' %s", bad_size);
	check_value("limits", "memory", "-1", msg);
	snprintf(msg, sizeof(msg), "bad size '128 Mi' %s", bad_size);
	check_value("limits", "memory", "128 Mi", msg);
	check_value("limits", "memory", "0", "must be greater than 0");
	check_value("limits", "memory", "16777216Ti", "size '16777216Ti' is too large");
	check_value("limits", "memory", "true", "expected a size such as 128Mi, got a boolean");
	check_value("limits", "memory", "[1Gi]", "expected a size such as 128Mi, got a list");

	snprintf(msg, sizeof(msg), "bad duration '3' %s", bad_duration);
	check_value("limits", "timeout", "3", msg);
	snprintf(msg, sizeof(msg), "bad duration '-3s' %s", bad_duration);
	check_value("limits", "timeout", "-3s", msg);
	snprintf(msg, sizeof(msg), "bad duration '3sec' %s", bad_duration);
	check_value("limits", "timeout", "3sec", msg);
	check_value("limits", "timeout", "0", "must be greater than 0");
	check_value("limits", "timeout", "0s", "must be greater than 0");
	check_value("limits", "timeout", "3000000h", "duration '3000000h' is too long");
	check_value("limits", "timeout", "~", "expected a duration such as 3s, got null");

	check_value("limits", "pids", "0", "0 is out of range (1-4194304)");
	check_value("limits", "pids", "4194305", "4194305 is out of range (1-4194304)");
	check_value("limits", "pids", "\"64\"", "expected an integer, got a string");
	check_value("limits", "cpus", "0", "0 is out of range (1-1024)");
	check_value("limits", "cpus", "0.5", "expected an integer, got a number");
	check_value("limits", "tmp_size", "0", "must be greater than 0");
	check_value("limits", "tmp_size", "0Mi", "must be greater than 0");
}

static void test_files(void **state)
{
	struct fng_policy *p = load_ok(API "files:\n  default: allow\n  rules:\n"
					   "    - path: /var/task\n      access: [read]\n"
					   "    - path: /var/task/handler.py\n      access: []\n"
					   "    - {path: /tmp, access: [write, read]}\n"
					   "    - path: /\n      access: [read]\n");

	assert_int_equal(p->files.def, FNG_VERDICT_ALLOW);
	assert_int_equal(p->files.n_rules, 4);
	assert_string_equal(p->files.rules[0].path, "/var/task");
	assert_int_equal(p->files.rules[0].rights, FNG_RIGHT_READ);
	assert_int_equal(p->files.rules[0].line, 5);
	assert_string_equal(p->files.rules[1].path, "/var/task/handler.py");
	assert_int_equal(p->files.rules[1].rights, 0);
	assert_int_equal(p->files.rules[1].line, 7);
	assert_string_equal(p->files.rules[2].path, "/tmp");
	assert_int_equal(p->files.rules[2].rights, FNG_RIGHT_READ | FNG_RIGHT_WRITE);
	assert_int_equal(p->files.rules[2].line, 9);
	assert_string_equal(p->files.rules[3].path, "/");
	policy_free(p);

	check_value("files", "default", "maybe", "bad value 'maybe' (expected 'allow' or 'deny')");
	check_value("files", "default", "Deny", "bad value 'Deny' (expected 'allow' or 'deny')");
	check_value("files", "default", "false", "expected 'allow' or 'deny', got a boolean");
	check_value("files", "rules", "/tmp", "expected a list, got a string");
	check_errors(API "files:\n  rules:\n    - /tmp\n",
		     "4:7: files.rules[0]: expected a mapping, got a string\n");
	check_errors(API "files:\n  rules:\n    - {path: /tmp}\n    - {access: [read]}\n",
		     "4:7: files.rules[0]: missing required key 'access'\n"
		     "5:7: files.rules[1]: missing required key 'path'\n");
	check_errors(API "files:\n  rules:\n    - {path: /tmp, access: read}\n",
		     "4:28: files.rules[0].access: expected a list, got a string\n");
	check_errors(API "files:\n  rules:\n    - {path: /tmp, access: [read, exec, read]}\n",
		     "4:35: files.rules[0].access[1]: bad value 'exec' (expected 'read' or "
		     "'write')\n"
		     "4:41: files.rules[0].access[2]: duplicate right 'read'\n");
	check_errors(API "files:\n  rules:\n    - {path: /tmp, access: [Read]}\n",
		     "4:29: files.rules[0].access[0]: bad value 'Read' (expected 'read' or "
		     "'write')\n");
}

/* "files:\n  rules:\n    - path: PATH\n      access: []\n": PATH is at 4:13. */
static void check_rule_path(const char *path, const char *msg)
{
	char *yaml, *want;

	assert_true(
	    asprintf(&yaml, API "files:\n  rules:\n    - path: %s\n      access: []\n", path) > 0);
	assert_true(asprintf(&want, "4:13: files.rules[0].path: %s\n", msg) > 0);
	check_errors(yaml, want);
	free(yaml);
	free(want);
}

static void test_paths(void **state)
{
	char *longpath, *longname, *msg;

	check_rule_path("var/task", "'var/task' is not an absolute path");
	check_rule_path("./var", "'./var' is not an absolute path");
	check_rule_path("/var/./task",
			"'/var/./task' is not normalized (did you mean '/var/task'?)");
	check_rule_path("/var/../etc", "'/var/../etc' is not normalized (did you mean '/etc'?)");
	check_rule_path("/..", "'/..' is not normalized (did you mean '/'?)");
	check_rule_path("/.", "'/.' is not normalized (did you mean '/'?)");
	check_rule_path("//var", "'//var' is not normalized (did you mean '/var'?)");
	check_rule_path("/var//task", "'/var//task' is not normalized (did you mean '/var/task'?)");
	check_rule_path("/tmp/", "'/tmp/' is not normalized (did you mean '/tmp'?)");
	check_rule_path("//", "'//' is not normalized (did you mean '/'?)");
	check_rule_path("''", "empty path");
	check_rule_path("\"/a\\0b\"", "path '/a\\x00b' contains a NUL byte");
	check_rule_path("42", "'42' is not an absolute path");
	check_rule_path("~", "expected a string, got null");
	/* names that only look special */
	check_valid(API "files:\n  rules:\n    - {path: /a/.b/..c/.../b., access: []}\n");

	/* PATH_MAX includes the NUL: 4095 bytes is the longest path */
	longpath = malloc(4097);
	assert_non_null(longpath);
	memset(longpath, 'a', 4096);
	longpath[4096] = '\0';
	for (size_t i = 0; i < 4096; i += 200)
		longpath[i] = '/';
	longpath[4095] = '\0';
	{
		char *yaml;

		assert_true(asprintf(&yaml, API "files:\n  rules:\n    - {path: %s, access: []}\n",
				     longpath) > 0);
		check_valid(yaml);
		free(yaml);
	}
	longpath[4095] = 'a';
	assert_true(asprintf(&msg,
			     "path '%.64s...' is too long (at most 4095 bytes, 255 per "
			     "component)",
			     longpath) > 0);
	check_rule_path(longpath, msg);
	free(msg);
	free(longpath);

	/* NAME_MAX: 255 bytes per component */
	longname = malloc(258);
	assert_non_null(longname);
	longname[0] = '/';
	memset(longname + 1, 'n', 256);
	longname[257] = '\0';
	assert_true(asprintf(&msg,
			     "path '%.64s...' is too long (at most 4095 bytes, 255 per "
			     "component)",
			     longname) > 0);
	check_rule_path(longname, msg);
	free(msg);
	longname[256] = '\0';
	{
		char *yaml;

		assert_true(asprintf(&yaml, API "files:\n  rules:\n    - {path: %s, access: []}\n",
				     longname) > 0);
		check_valid(yaml);
		free(yaml);
	}
	free(longname);
}

static void test_duplicate_rules(void **state)
{
	check_errors(API "files:\n  rules:\n"
			 "    - {path: /tmp, access: [read]}\n"
			 "    - {path: /usr, access: [read]}\n"
			 "    - {path: /tmp, access: [write]}\n"
			 "    - {path: /tmp, access: []}\n",
		     "6:14: files.rules[2].path: duplicate rule for '/tmp' (first at line 4)\n"
		     "7:14: files.rules[3].path: duplicate rule for '/tmp' (first at line 4)\n");
	/* a file and its directory are different rules */
	check_valid(API "files:\n  rules:\n"
			"    - {path: /tmp, access: [read]}\n"
			"    - {path: /tmp/x, access: [read]}\n");
}

static void test_exec(void **state)
{
	struct fng_policy *p = load_ok(API "exec:\n  default: allow\n  children: allow\n"
					   "  allow: [/usr/bin/python3.11, /usr/lib]\n");

	assert_int_equal(p->exec.def, FNG_VERDICT_ALLOW);
	assert_int_equal(p->exec.children, FNG_VERDICT_ALLOW);
	assert_int_equal(p->exec.n_allow, 2);
	assert_string_equal(p->exec.allow[0].path, "/usr/bin/python3.11");
	assert_int_equal(p->exec.allow[0].line, 5);
	assert_string_equal(p->exec.allow[1].path, "/usr/lib");
	policy_free(p);

	check_value("exec", "default", "never", "bad value 'never' (expected 'allow' or 'deny')");
	check_value("exec", "children", "maybe", "bad value 'maybe' (expected 'allow' or 'deny')");
	check_value("exec", "allow", "/usr/bin", "expected a list, got a string");
	check_errors(API "exec:\n  allow: [/usr/lib, lib, /usr/lib/, /usr/lib]\n",
		     "3:21: exec.allow[1]: 'lib' is not an absolute path\n"
		     "3:26: exec.allow[2]: '/usr/lib/' is not normalized (did you mean "
		     "'/usr/lib'?)\n"
		     "3:37: exec.allow[3]: duplicate entry '/usr/lib' (first at column 11)\n");
	check_errors(API "exec:\n  allow:\n    - /bin\n    - [/usr/bin]\n    - /bin\n",
		     "5:7: exec.allow[1]: expected a string, got a list\n"
		     "6:7: exec.allow[2]: duplicate entry '/bin' (first at line 4)\n");
	check_errors(API "exec:\n  allowed: []\n",
		     "3:3: exec: unknown key 'allowed' (did you mean 'allow'?)\n");
}

/* ------------------------------------------------------------------ runtimes */

#define FN "function:\n  name: f\n  version: \"1\"\n  code: .\n"

static void test_function_runtime(void **state)
{
	struct fng_policy *p;

	(void)state;
	p = load_ok(API FN "  runtime: python3\n  handler: app.handler\n");
	assert_int_equal(p->function.runtime, FNG_RUNTIME_PYTHON3);
	assert_string_equal(p->function.handler, "app.handler");
	policy_free(p);
	p = load_ok(API FN "  handler: /var/task/h\n");
	assert_int_equal(p->function.runtime, FNG_RUNTIME_STDIO);
	assert_int_equal(p->network.runtime_api_port, 0);
	policy_free(p);
	check_valid(API FN "  runtime: nodejs\n  handler: lib/app-1.main\n");
	check_valid(API FN "  runtime: provided\n  handler: whatever you like 1.2\n");
	check_errors(API FN "  runtime: ruby\n  handler: /h\n",
		     "6:12: function.runtime: bad value 'ruby' (expected 'stdio', 'provided', "
		     "'python3' or 'nodejs')\n");
	check_errors(API FN "  runtime: python3\n  handler: /var/task/app.py\n",
		     "7:12: function.handler: handler '/var/task/app.py' does not fit runtime "
		     "python3: expected MODULE.FUNCTION, e.g. app.handler (FUNCTION in "
		     "/var/task/app.py)\n");
	check_errors(API FN "  runtime: nodejs\n  handler: app.\n",
		     "7:12: function.handler: handler 'app.' does not fit runtime nodejs: "
		     "expected MODULE.FUNCTION, e.g. app.handler (FUNCTION in /var/task/app.js)\n");
	check_errors(API FN "  runtime: python3\n  handler: app.handler\n  layers: [a, b, c, d, e, f]\n",
		     "8:11: function.layers: 6 layers: at most 5\n");
}

static void test_function_env(void **state)
{
	struct fng_policy *p;
	char big[5000], yaml[6000];

	(void)state;
	p = load_ok(API FN "  runtime: python3\n  handler: app.h\n  env:\n    LOG_LEVEL: info\n"
			   "    _X1: \"\"\n");
	assert_int_equal(p->function.n_env, 2);
	assert_string_equal(p->function.env[0].name, "LOG_LEVEL");
	assert_string_equal(p->function.env[0].value, "info");
	policy_free(p);
	check_errors(API FN "  handler: /h\n  env:\n    PATH: /x\n    AWS_LAMBDA_FOO: y\n"
			    "    FNGUARD_X: z\n    1A: q\n    A-B: q\n",
		     "8:5: function.env: environment variable PATH is reserved: the runtime sets it\n"
		     "9:5: function.env: environment variable AWS_LAMBDA_FOO is reserved: "
		     "AWS_LAMBDA_* variables are the runtime's\n"
		     "10:5: function.env: environment variable FNGUARD_X is reserved: FNGUARD_* "
		     "variables are fnguard's\n"
		     "11:5: function.env: bad environment variable name '1A' (letters, digits and "
		     "'_', not starting with a digit)\n"
		     "12:5: function.env: bad environment variable name 'A-B' (letters, digits and "
		     "'_', not starting with a digit)\n");
	memset(big, 'v', 4091);
	big[4091] = 0;
	snprintf(yaml, sizeof(yaml), API FN "  handler: /h\n  env:\n    NAME_7: %s\n", big);
	check_errors(yaml, "8:5: function.env: the environment variables take 4097 bytes: at "
			   "most 4096 (names and values, as Lambda)\n");
}

static void test_runtime_baseline(void **state)
{
	struct fng_policy *p;
	bool root = false, task = false, tmp = false, exec_root = false;

	(void)state;
	p = load_ok(API FN "  runtime: python3\n  handler: app.h\n"
			   "files:\n  rules:\n    - path: /tmp\n      access: [read]\n"
			   "network:\n  loopback: deny\n");
	for (size_t i = 0; i < p->files.n_rules; i++) {
		const struct fng_file_rule *r = &p->files.rules[i];

		if (!strcmp(r->path, "/"))
			root = r->rights == FNG_RIGHT_READ && r->line == 0;
		if (!strcmp(r->path, "/var/task"))
			task = r->rights == FNG_RIGHT_READ && r->line == 0;
		/* The policy's own rule on /tmp is kept, not the baseline's read-write one. */
		if (!strcmp(r->path, "/tmp"))
			tmp = r->rights == FNG_RIGHT_READ && r->line != 0 && !tmp;
	}
	for (size_t i = 0; i < p->exec.n_allow; i++)
		exec_root = exec_root || (!strcmp(p->exec.allow[i].path, "/") && !p->exec.allow[i].line);
	assert_true(root);
	assert_true(task);
	assert_true(tmp);
	assert_true(exec_root);
	assert_int_equal(p->network.runtime_api_port, FNG_RUNTIME_API_PORT);
	assert_int_equal(p->network.loopback, FNG_VERDICT_DENY);
	policy_free(p);
	/* stdio: no baseline at all. */
	p = load_ok(API FN "  handler: /h\n");
	assert_int_equal(p->files.n_rules, 0);
	assert_int_equal(p->exec.n_allow, 0);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_api_version),
	    cmocka_unit_test(test_mode),
	    cmocka_unit_test(test_sections_are_mappings),
	    cmocka_unit_test(test_function),
	    cmocka_unit_test(test_function_name),
	    cmocka_unit_test(test_function_version),
	    cmocka_unit_test(test_function_code),
	    cmocka_unit_test(test_function_handler),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_duplicate_rules),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_function_runtime),
	    cmocka_unit_test(test_function_env),
	    cmocka_unit_test(test_runtime_baseline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
