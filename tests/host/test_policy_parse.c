// SPDX-License-Identifier: Apache-2.0
/*
 * Policy files at the YAML level: syntax errors, refused YAML features (anchors, aliases,
 * tags, several documents, deep nesting), sizes, unreadable files, keys (unknown,
 * duplicate, not strings), and reporting every error of a file in one run.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_policy_util.h"

static void test_syntax_error_unclosed_flow(void **state)
{
	check_errors(API "mode: [enforce\n",
		     "3:1: YAML syntax error: did not find expected ',' or ']'\n"
		     "2:7: note: this flow sequence began here\n");
}

static void test_syntax_error_tab_indent(void **state)
{
	check_errors(API "files:\n\tdefault: deny\n",
		     "3:1: YAML syntax error: found character that cannot start any token\n");
}

static void test_syntax_error_bad_indent(void **state)
{
	check_errors(API "files:\n  default: deny\n mode: audit\n",
		     "4:2: YAML syntax error: did not find expected key\n"
		     "1:1: note: this block mapping began here\n");
}

/* The note says where the construct began, as compilers do (issue 14). */
static void test_syntax_error_unclosed_flow_mapping(void **state)
{
	check_errors(API "files: {default: deny,\n  rules: []\nmode: audit\n",
		     "4:1: YAML syntax error: did not find expected ',' or '}'\n"
		     "2:8: note: this flow mapping began here\n");
}

static void test_syntax_error_unclosed_quote(void **state)
{
	check_errors(API "mode: audit\nfunction:\n  name: \"fn\n  version: 1\n",
		     "6:1: YAML syntax error: found unexpected end of stream\n"
		     "4:9: note: this quoted scalar began here\n");
}

/*
 * Errors are sorted by place, but a note stays right after its error: here the note's place
 * (2:8) comes before another error's (3:9).
 */
static void test_syntax_error_note_after_its_error(void **state)
{
	check_errors(API "files: {default: deny,\n  mode: !!str x\n",
		     "3:9: YAML tags are not allowed ('!!str'): write the plain value\n"
		     "4:1: YAML syntax error: did not find expected ',' or '}'\n"
		     "2:8: note: this flow mapping began here\n");
}

static void test_anchor_and_alias(void **state)
{
	check_errors(API "mode: &m enforce\nfiles:\n  mode: *m\n",
		     "2:7: YAML anchors are not allowed ('&m'): an alias of an anchor can expand "
		     "to an exponential amount of data; write the value out\n"
		     "4:9: YAML aliases are not allowed ('*m'): an alias can expand to an "
		     "exponential amount of data; write the value out\n");
}

/* An anchor without an alias is refused too, and the rest is still validated. */
static void test_anchor_on_mapping(void **state)
{
	check_errors(API "files: &f\n  default: maybe\n",
		     "2:8: YAML anchors are not allowed ('&f'): an alias of an anchor can expand "
		     "to an exponential amount of data; write the value out\n"
		     "3:12: files.default: bad value 'maybe' (expected 'allow' or 'deny')\n");
}

static void test_billion_laughs(void **state)
{
	static const char yaml[] =
	    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	    "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
	int ret;
	char *got = policy_diags_of(yaml, &ret);

	assert_int_equal(ret, -EINVAL);
	/* the first problem is the first anchor; no expansion happens */
	assert_non_null(strstr(got, "1:4: YAML anchors are not allowed ('&a')"));
	assert_non_null(strstr(got, "2:8: YAML aliases are not allowed ('*a')"));
	free(got);
}

static void test_tags(void **state)
{
	check_errors(
	    "apiVersion: !!str fnguard/v1\nmode: !x enforce\nfiles: !!map\n  default: deny\n",
	    "1:13: YAML tags are not allowed ('!!str'): write the plain value\n"
	    "2:7: YAML tags are not allowed ('!x'): write the plain value\n"
	    "3:8: YAML tags are not allowed ('!!map'): write the plain value\n");
}

static void test_two_documents(void **state)
{
	check_errors(API "---\n" API,
		     "2:1: a policy file holds one YAML document, this is a second one\n");
	/* an explicit first document is fine on its own */
	check_valid("---\n" API "...\n");
}

static void test_empty(void **state)
{
	static const char msg[] = "1:1: the policy is empty (it needs at least 'apiVersion: "
				  "fnguard/v1')\n";

	check_errors("", msg);
	check_errors("# only a comment\n\n", msg);
	check_errors("---\n", msg);
	check_errors("~\n", msg);
}

static void test_top_level_not_mapping(void **state)
{
	check_errors("- a\n- b\n", "1:1: expected a mapping at the top level, got a list\n");
	check_errors("fnguard/v1\n", "1:1: expected a mapping at the top level, got a string\n");
	check_errors("  42\n", "1:3: expected a mapping at the top level, got an integer\n");
}

static void test_nesting(void **state)
{
	/* the top-level mapping and 15 lists are 16 levels: fine for the parser */
	check_errors(API "files: [[[[[[[[[[[[[[[]]]]]]]]]]]]]]]\n",
		     "2:8: files: expected a mapping, got a list\n");
	check_errors(API "files: [[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]\n",
		     "2:23: nesting is deeper than 16 levels\n");
}

static void test_control_characters(void **state)
{
	static const char nul[] = API "mode: a\0b\n";

	/* a NUL written as a YAML escape reaches the validator, which quotes it safely */
	check_errors(API "mode: \"en\\0force\\e[31m\"\n",
		     "2:7: mode: bad value 'en\\x00force\\x1b[31m' (expected 'enforce' or "
		     "'audit')\n");
	/* a raw NUL byte is refused by the YAML reader */
	{
		int ret;
		char *got = policy_diags_of_len(nul, sizeof(nul) - 1, &ret);

		assert_string_equal(got,
				    "2:8: YAML syntax error: control characters are not allowed\n");
		assert_int_equal(ret, -EINVAL);
		free(got);
	}
}

static void test_invalid_utf8(void **state)
{
	check_errors(API "mode: \xff\n", "2:7: YAML syntax error: invalid leading UTF-8 octet\n");
	/* a lead byte followed by a non-continuation byte: the column of the latter */
	check_errors(API "mode: a\xc3\n", "2:9: YAML syntax error: invalid trailing UTF-8 octet\n");
	/* a sequence cut by the end of the input: the column of its lead byte */
	check_errors(API "mode: a\xc3",
		     "2:8: YAML syntax error: incomplete UTF-8 octet sequence\n");
	/* UTF-16 is not converted: its byte order mark is not UTF-8 */
	check_errors("\xff\xfe"
		     "a\0:\0",
		     "1:1: YAML syntax error: invalid leading UTF-8 octet\n");
}

static char *padded_policy(size_t size)
{
	char *buf = malloc(size + 1);

	assert_non_null(buf);
	memset(buf, '#', size);
	memcpy(buf, API, strlen(API));
	buf[size - 1] = '\n';
	buf[size] = '\0';
	return buf;
}

static void test_size_limit_buffer(void **state)
{
	char *buf = padded_policy(1024 * 1024 + 1);
	struct fng_policy *p;
	int ret;
	char *got = policy_diags_of_len(buf, 1024 * 1024 + 1, &ret);

	assert_string_equal(
	    got, "-: file is too large (1048577 bytes; policy files are at most 1 MiB)\n");
	assert_int_equal(ret, -EFBIG);
	free(got);
	/* exactly 1 MiB is fine */
	buf[1024 * 1024 - 1] = '\n';
	buf[1024 * 1024] = '\0';
	p = load_ok(buf);
	policy_free(p);
	free(buf);
}

static char *temp_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/fnguard-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Loads a file and returns its single diagnostic as "FILE: message". */
static char *file_diag(const char *path, int expect)
{
	struct policy_diags d;
	struct fng_policy *p;
	char *s = NULL;
	int ret;

	policy_diags_init(&d);
	ret = policy_load_file(path, &p, &d);
	assert_int_equal(ret, expect);
	assert_null(p);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].line, 0);
	assert_true(asprintf(&s, "%s: %s", d.v[0].file, d.v[0].msg) > 0);
	policy_diags_free(&d);
	return s;
}

static void test_size_limit_file(void **state)
{
	char *buf = padded_policy(2000000);
	char *path = temp_file(buf, 2000000), *got, *want;

	got = file_diag(path, -EFBIG);
	assert_true(
	    asprintf(&want, "%s: file is too large (2000000 bytes; policy files are at most 1 MiB)",
		     path) > 0);
	assert_string_equal(got, want);
	unlink(path);
	free(got);
	free(want);
	free(path);
	free(buf);
}

/* Through a pipe the size is unknown in advance: reading stops after 1 MiB + 1 byte. */
static void test_size_limit_pipe(void **state)
{
	struct policy_diags d;
	struct fng_policy *p;
	int fds[2], ret, status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *buf = padded_policy(3000000);
		size_t off = 0;

		close(fds[0]);
		while (off < 3000000) {
			ssize_t n = write(fds[1], buf + off, 3000000 - off);

			if (n <= 0)
				_exit(0); /* the reader stopped reading: expected */
			off += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	policy_diags_init(&d);
	ret = policy_load_fd(fds[0], "<pipe>", NULL, &p, &d);
	close(fds[0]);
	waitpid(pid, &status, 0);
	assert_int_equal(ret, -EFBIG);
	assert_null(p);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].msg,
			    "file is too large (more than 1 MiB; policy files are at most 1 MiB)");
	policy_diags_free(&d);
}

static void test_unreadable_files(void **state)
{
	char *got = file_diag("/nonexistent/policy.yaml", -ENOENT);

	assert_string_equal(got,
			    "/nonexistent/policy.yaml: cannot open: No such file or directory");
	free(got);
	got = file_diag("/", -EISDIR);
	assert_string_equal(got, "/: cannot read: Is a directory");
	free(got);
}

/* policy_load_file resolves function.code against the file's directory. */
static void test_file_base_dir(void **state)
{
	static const char yaml[] = API "function:\n  name: f\n  version: \"1\"\n"
				       "  code: ./src/../code\n  handler: /var/task/h\n";
	struct policy_diags d;
	struct fng_policy *p;
	char dir[] = "/tmp/fnguard-test-dir-XXXXXX", *path, *want;
	int fd;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/policy.yaml", dir) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	policy_diags_init(&d);
	assert_int_equal(policy_load_file(path, &p, &d), 0);
	assert_true(asprintf(&want, "%s/code", dir) > 0);
	assert_string_equal(p->function.code, want);
	assert_string_equal(p->source, path);
	policy_free(p);
	policy_diags_free(&d);
	unlink(path);
	rmdir(dir);
	free(path);
	free(want);
}

static void test_unknown_keys(void **state)
{
	check_errors(API "mdoe: audit\n", "2:1: unknown key 'mdoe' (did you mean 'mode'?)\n");
	check_errors(API "files:\n  rules:\n    - path: /tmp\n      acess: [read]\n",
		     "4:7: files.rules[0]: missing required key 'access'\n"
		     "5:7: files.rules[0]: unknown key 'acess' (did you mean 'access'?)\n");
	check_errors(API "colour: blue\n",
		     "2:1: unknown key 'colour' (valid keys: apiVersion, function, environment, "
		     "limits, mode, files, exec, network, syscalls)\n");
	check_errors(API "network:\n  egress:\n    allowed: []\n",
		     "4:5: network.egress: unknown key 'allowed' (did you mean 'allow'?)\n");
	/* keys are case-sensitive */
	check_errors(API "Mode: audit\n", "2:1: unknown key 'Mode' (did you mean 'mode'?)\n");
}

static void test_duplicate_keys(void **state)
{
	check_errors(API "mode: audit\nmode: enforce\n",
		     "3:1: duplicate key 'mode' (first at line 2)\n");
	check_errors("{apiVersion: fnguard/v1, mode: enforce, mode: audit}\n",
		     "1:41: duplicate key 'mode' (first at column 26)\n");
	check_errors(API "limits:\n  pids: 1\n  cpus: 1\n  pids: 2\n",
		     "5:3: limits: duplicate key 'pids' (first at line 3)\n");
}

static void test_non_string_keys(void **state)
{
	check_errors(API "? [a]\n: b\n", "2:3: keys must be strings, got a list\n");
	check_errors(API "? {a: 1}\n: b\n", "2:3: keys must be strings, got a mapping\n");
}

/* Every error of a file is reported, in line order, whatever section it is in. */
static void test_every_error_in_one_run(void **state)
{
	check_errors("mode: audits\n"
		     "syscalls:\n  deny: [ptrace, nosuchcall]\n"
		     "files:\n  default: sometimes\n"
		     "limits:\n  memory: lots\n",
		     "1:1: missing required key 'apiVersion'\n"
		     "1:7: mode: bad value 'audits' (expected 'enforce' or 'audit')\n"
		     "3:18: syscalls.deny[1]: unknown syscall 'nosuchcall' (not a system call on "
		     "x86_64)\n"
		     "5:12: files.default: bad value 'sometimes' (expected 'allow' or 'deny')\n"
		     "7:11: limits.memory: bad size 'lots' (use bytes, or a whole number with a "
		     "suffix Ki, Mi, Gi, Ti, K, M, G or T, e.g. 128Mi)\n");
}

static void test_too_many_errors(void **state)
{
	size_t n = 1500, i, len = 0;
	char *yaml = NULL, *got, *last;
	FILE *f = open_memstream(&yaml, &len);
	int ret, lines = 0;

	fputs(API, f);
	for (i = 0; i < n; i++)
		fprintf(f, "k%zu: 1\n", i);
	fclose(f);
	got = policy_diags_of(yaml, &ret);
	assert_int_equal(ret, -EINVAL);
	for (i = 0; got[i]; i++)
		lines += got[i] == '\n';
	assert_int_equal(lines, 1001);
	assert_true(!strncmp(got, "2:1: unknown key 'k0' (valid keys: apiVersion,", 46));
	last = strstr(got, "1001:1: unknown key 'k999' ");
	assert_non_null(last);
	assert_non_null(strstr(last, "\n-: too many errors; stopped after 1000\n"));
	free(got);
	free(yaml);
}

/* Diagnostics accumulate across loads; NULL diagnostics are allowed. */
static void test_diags_accumulate(void **state)
{
	struct policy_diags d;
	struct fng_policy *p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	policy_diags_init(&d);
	assert_int_equal(policy_load_buffer("a.yaml", "mode: x\n", 8, NULL, &p, &d), -EINVAL);
	assert_int_equal(policy_load_buffer("b.yaml", API, strlen(API), NULL, &p, &d), 0);
	policy_free(p);
	assert_int_equal(policy_load_buffer("c.yaml", "", 0, NULL, &p, NULL), -EINVAL);
	assert_null(p);
	f = open_memstream(&text, &len);
	assert_int_equal(policy_diags_print(&d, f), 0);
	fclose(f);
	assert_string_equal(text,
			    "a.yaml:1:1: missing required key 'apiVersion'\n"
			    "a.yaml:1:7: mode: bad value 'x' (expected 'enforce' or 'audit')\n");
	free(text);
	policy_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_error_unclosed_flow),
	    cmocka_unit_test(test_syntax_error_tab_indent),
	    cmocka_unit_test(test_syntax_error_bad_indent),
	    cmocka_unit_test(test_syntax_error_unclosed_flow_mapping),
	    cmocka_unit_test(test_syntax_error_unclosed_quote),
	    cmocka_unit_test(test_syntax_error_note_after_its_error),
	    cmocka_unit_test(test_anchor_and_alias),
	    cmocka_unit_test(test_anchor_on_mapping),
	    cmocka_unit_test(test_billion_laughs),
	    cmocka_unit_test(test_tags),
	    cmocka_unit_test(test_two_documents),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_top_level_not_mapping),
	    cmocka_unit_test(test_nesting),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_size_limit_buffer),
	    cmocka_unit_test(test_size_limit_file),
	    cmocka_unit_test(test_size_limit_pipe),
	    cmocka_unit_test(test_unreadable_files),
	    cmocka_unit_test(test_file_base_dir),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_non_string_keys),
	    cmocka_unit_test(test_every_error_in_one_run),
	    cmocka_unit_test(test_too_many_errors),
	    cmocka_unit_test(test_diags_accumulate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
