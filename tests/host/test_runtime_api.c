// SPDX-License-Identifier: Apache-2.0
/*
 * The Runtime API server (daemon/agent/runtime_api.c) against a real HTTP client: curl, as
 * AWS's custom-runtime tutorial uses it, on 127.0.0.1 and an ephemeral port. The server runs
 * in this test's own poll loop while curl runs. Cases: next blocks until an invocation is
 * assigned, then its headers and body; response and error (with the error type header);
 * unknown and finished ids; a body over 6 MiB; init/error; unknown paths and wrong methods;
 * a chunked body; a malformed request; a second waiting next. Then fnguard's own bootstraps
 * (runtimes/python3, runtimes/nodejs; run from the top of the tree, as make does) against it:
 * a result, warm state across invocations, an exception, and a module that is not there.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fnguard_api.h"
#include "runtime_api.h"

struct seen {
	int nexts;
	char id[128];
	char type[256];
	char *body;
	size_t len;
	int responses, errors, init_errors, too_large;
};

static struct seen seen;
static char tmpdir[64];

static void keep(const char *id, const char *type, const void *body, size_t len)
{
	snprintf(seen.id, sizeof(seen.id), "%s", id ? id : "");
	snprintf(seen.type, sizeof(seen.type), "%s", type ? type : "");
	free(seen.body);
	seen.body = malloc(len + 1);
	memcpy(seen.body, body, len);
	seen.body[len] = 0;
	seen.len = len;
}

static void on_response(void *ctx, const char *id, const void *body, size_t len)
{
	(void)ctx;
	seen.responses++;
	keep(id, NULL, body, len);
}

static void on_error(void *ctx, const char *id, const char *type, const void *body, size_t len)
{
	(void)ctx;
	seen.errors++;
	keep(id, type, body, len);
}

static void on_init_error(void *ctx, const char *type, const void *body, size_t len)
{
	(void)ctx;
	seen.init_errors++;
	keep(NULL, type, body, len);
}

static void on_too_large(void *ctx, const char *id)
{
	(void)ctx;
	seen.too_large++;
	keep(id, NULL, "", 0);
}

static void on_next(void *ctx)
{
	(void)ctx;
	seen.nexts++;
}

static const struct rapi_ops ops = {on_response, on_error, on_init_error, on_too_large, on_next};

/* Serve for @ms milliseconds, or until @pid exits (its status in @status). */
static bool serve(struct rapi *r, int ms, pid_t pid, int *status)
{
	for (int waited = 0; waited < ms; waited += 10) {
		struct pollfd p = {.fd = rapi_fd(r), .events = POLLIN};

		poll(&p, 1, 10);
		rapi_run(r);
		if (pid > 0 && waitpid(pid, status, WNOHANG) == pid)
			return true;
	}
	return false;
}

/* curl ARGS... against the server, in the background; stdout (the status code) into OUT. */
static pid_t curl_start(const char *out, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* What the last curl_status() got as the body. */
static char *body_text(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/body", tmpdir);
	return slurp(path);
}

/* curl, served until it exits; its "%{http_code}" output. */
static int curl_status(struct rapi *r, const char *fmt, ...)
{
	char cmd[2048], out[128];
	va_list ap;
	int status = -1;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(out, sizeof(out), "%s/status", tmpdir);
	pid = curl_start(out, "curl -sS -o %s/body -w '%%{http_code}' %s", tmpdir, cmd);
	assert_true(serve(r, 20000, pid, &status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return atoi(slurp(out));
}

static int setup(void **state)
{
	struct rapi *r;
	char why[200];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-rapi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(rapi_start(&r, "127.0.0.1", 0, &ops, NULL, why, sizeof(why)), 0);
	assert_true(rapi_port(r) > 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	rapi_stop(*state);
	free(seen.body);
	seen.body = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
	return 0;
}

#define URL(r, path) "http://127.0.0.1:%u/2018-06-01/runtime/" path, rapi_port(r)

/* GET next in the background, then an invocation assigned: what the runtime gets. */
static void next_then_invoke(struct rapi *r, const char *id, const char *payload)
{
	struct rapi_invocation inv = {.id = id,
				      .payload = payload,
				      .len = strlen(payload),
				      .deadline_ms = 1999999999123,
				      .function_arn = "arn:aws:lambda:fnguard:000000000000:function:f:1"};
	char out[128], url[256];
	int status = -1, nexts = seen.nexts;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/status", tmpdir);
	snprintf(url, sizeof(url), URL(r, "invocation/next"));
	pid = curl_start(out, "curl -sS -D %s/headers -o %s/body -w '%%{http_code}' %s", tmpdir,
			 tmpdir, url);
	/* It blocks: no answer while no invocation is assigned. */
	assert_false(serve(r, 500, pid, &status));
	assert_int_equal(seen.nexts, nexts + 1);
	assert_int_equal(rapi_invoke(r, &inv), 0);
	assert_int_equal(rapi_invoke(r, &inv), -EBUSY);
	assert_true(serve(r, 20000, pid, &status));
	assert_int_equal(atoi(slurp(out)), 200);
}

static void test_next_blocks_then_gets_the_invocation(void **state)
{
	struct rapi *r = *state;
	char path[128], *h;

	next_then_invoke(r, "req-1", "{\"x\": 1}");
	snprintf(path, sizeof(path), "%s/headers", tmpdir);
	h = slurp(path);
	assert_non_null(strstr(h, "Lambda-Runtime-Aws-Request-Id: req-1\r\n"));
	assert_non_null(strstr(h, "Lambda-Runtime-Deadline-Ms: 1999999999123\r\n"));
	assert_non_null(strstr(h, "Lambda-Runtime-Invoked-Function-Arn: "
				  "arn:aws:lambda:fnguard:000000000000:function:f:1\r\n"));
	assert_non_null(strstr(h, "Lambda-Runtime-Trace-Id: Root=1-"));
	assert_null(strstr(h, "Lambda-Runtime-Client-Context"));
	snprintf(path, sizeof(path), "%s/body", tmpdir);
	assert_string_equal(slurp(path), "{\"x\": 1}");
}

static void test_response_and_finished_id(void **state)
{
	struct rapi *r = *state;

	next_then_invoke(r, "req-2", "{}");
	assert_int_equal(curl_status(r, "-d '{\"ok\":true}' " URL(r, "invocation/req-2/response")),
			 202);
	assert_int_equal(seen.responses, 1);
	assert_string_equal(seen.id, "req-2");
	assert_string_equal(seen.body, "{\"ok\":true}");
	/* Answered once: the same id again, and an id never given, are 400. */
	assert_int_equal(curl_status(r, "-d x " URL(r, "invocation/req-2/response")), 400);
	assert_int_equal(curl_status(r, "-d x " URL(r, "invocation/nope/response")), 400);
	assert_int_equal(seen.responses, 1);
}

static void test_error_with_type(void **state)
{
	struct rapi *r = *state;

	next_then_invoke(r, "req-3", "{}");
	assert_int_equal(
	    curl_status(r,
			"-H 'Lambda-Runtime-Function-Error-Type: Unhandled' "
			"-d '{\"errorMessage\":\"boom\",\"errorType\":\"ValueError\"}' " URL(
			    r, "invocation/req-3/error")),
	    202);
	assert_int_equal(seen.errors, 1);
	assert_string_equal(seen.type, "Unhandled");
	assert_non_null(strstr(seen.body, "\"boom\""));
}

static void test_too_large(void **state)
{
	struct rapi *r = *state;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/big", tmpdir);
	f = fopen(path, "w");
	for (size_t i = 0; i < FNGUARD_PAYLOAD_MAX + 1; i++)
		fputc('a', f);
	fclose(f);
	next_then_invoke(r, "req-4", "{}");
	assert_int_equal(curl_status(r, "--data-binary @%s http://127.0.0.1:%u/2018-06-01/runtime/"
				     "invocation/req-4/response",
				     path, rapi_port(r)),
			 413);
	assert_int_equal(seen.too_large, 1);
	assert_int_equal(seen.responses, 0);
	/* The invocation failed: its id is finished. */
	assert_int_equal(curl_status(r, "-d x " URL(r, "invocation/req-4/response")), 400);
}

static void test_exactly_the_limit_is_accepted(void **state)
{
	struct rapi *r = *state;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/max", tmpdir);
	f = fopen(path, "w");
	for (size_t i = 0; i < FNGUARD_PAYLOAD_MAX; i++)
		fputc('b', f);
	fclose(f);
	next_then_invoke(r, "req-5", "{}");
	assert_int_equal(curl_status(r, "--data-binary @%s http://127.0.0.1:%u/2018-06-01/runtime/"
				     "invocation/req-5/response",
				     path, rapi_port(r)),
			 202);
	assert_int_equal(seen.len, FNGUARD_PAYLOAD_MAX);
}

static void test_init_error(void **state)
{
	struct rapi *r = *state;

	assert_int_equal(
	    curl_status(r,
			"-H 'Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError' "
			"-d '{\"errorMessage\":\"no module app\"}' " URL(r, "init/error")),
	    202);
	assert_int_equal(seen.init_errors, 1);
	assert_string_equal(seen.type, "Runtime.ImportModuleError");
	assert_non_null(strstr(seen.body, "no module app"));
}

static void test_paths_and_methods(void **state)
{
	struct rapi *r = *state;

	assert_int_equal(curl_status(r, URL(r, "invocation/nothing")), 404);
	assert_non_null(strstr(body_text(), "\"errorType\":\"NotFound\""));
	assert_int_equal(curl_status(r, "http://127.0.0.1:%u/2015-03-31/functions", rapi_port(r)),
			 404);
	assert_int_equal(curl_status(r, "-X POST -d x " URL(r, "invocation/next")), 405);
	assert_int_equal(curl_status(r, URL(r, "invocation/abc/response")), 405);
	assert_int_equal(curl_status(r, URL(r, "init/error")), 405);
	assert_int_equal(seen.responses + seen.errors + seen.init_errors, 0);
}

static void test_chunked_body(void **state)
{
	struct rapi *r = *state;

	next_then_invoke(r, "req-6", "{}");
	assert_int_equal(curl_status(r,
				     "-H 'Transfer-Encoding: chunked' -d '{\"chunked\":1}' " URL(
					 r, "invocation/req-6/response")),
			 202);
	assert_string_equal(seen.body, "{\"chunked\":1}");
}

static void test_malformed_request(void **state)
{
	struct rapi *r = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(rapi_port(r))};
	char buf[512] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ssize_t n = 0;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "GARBAGE \x01\x02 nonsense\r\n\r\n", 24), 24);
	for (int i = 0; i < 200 && n <= 0; i++) {
		serve(r, 10, 0, NULL);
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	}
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "HTTP/1.1 400"));
	close(fd);
}

static void test_second_next_refused(void **state)
{
	struct rapi *r = *state;
	char out[128], url[256];
	int status = -1;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/first", tmpdir);
	snprintf(url, sizeof(url), URL(r, "invocation/next"));
	pid = curl_start(out, "curl -sS -o /dev/null -w '%%{http_code}' %s", url);
	assert_false(serve(r, 300, pid, &status));
	assert_int_equal(curl_status(r, URL(r, "invocation/next")), 400);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* A runtime restarted (isolate_invocations: true): the killed one's GET .../next may still be
 * waiting, its close not read yet; after rapi_reset() the new runtime's GET .../next waits
 * for an invocation instead of being refused as a second one. */
static void test_reset_forgets_the_dead_runtimes_next(void **state)
{
	struct rapi *r = *state;
	char out[128], url[256];
	int status = -1, nexts;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/first", tmpdir);
	snprintf(url, sizeof(url), URL(r, "invocation/next"));
	pid = curl_start(out, "exec curl -sS -o /dev/null -w '%%{http_code}' %s", url);
	assert_false(serve(r, 300, pid, &status));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	rapi_reset(r);
	nexts = seen.nexts;
	snprintf(out, sizeof(out), "%s/second", tmpdir);
	pid = curl_start(out, "exec curl -sS -o /dev/null -w '%%{http_code}' %s", url);
	assert_false(serve(r, 500, pid, &status));
	assert_int_equal(seen.nexts, nexts + 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* ------------------------------------------------------------------ the bootstraps */

/* Start @interp @script as a runtime on the server, for handler @handler of @dir. */
static pid_t runtime_spawn(struct rapi *r, const char *interp, const char *script,
			   const char *handler, const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		char api[64], h[128], root[128];
		char *envp[] = {api, h, root, "AWS_LAMBDA_FUNCTION_NAME=f",
				"AWS_LAMBDA_FUNCTION_VERSION=7", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
				"PATH=/usr/bin:/bin", NULL};
		int null = open("/dev/null", O_RDWR);

		snprintf(api, sizeof(api), "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", rapi_port(r));
		snprintf(h, sizeof(h), "_HANDLER=%s", handler);
		snprintf(root, sizeof(root), "LAMBDA_TASK_ROOT=%s", dir);
		dup2(null, 0);
		execle(interp, interp, script, (char *)NULL, envp);
		_exit(127);
	}
	return pid;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Until @what counts up (or 20 s): the runtime answered. */
static void serve_until(struct rapi *r, int *what, int want)
{
	for (int i = 0; i < 2000 && *what < want; i++)
		serve(r, 10, 0, NULL);
	assert_int_equal(*what, want);
}

static void invoke(struct rapi *r, const char *id, const char *payload)
{
	struct rapi_invocation inv = {.id = id,
				      .payload = payload,
				      .len = strlen(payload),
				      .deadline_ms = (int64_t)time(NULL) * 1000 + 60000,
				      .function_arn = "arn:aws:lambda:fnguard:000000000000:function:f:7"};

	assert_int_equal(rapi_invoke(r, &inv), 0);
}

static void bootstrap_case(void **state, const char *interp, const char *script,
			   const char *file, const char *code)
{
	struct rapi *r = *state;
	int status;
	pid_t pid;

	if (access(interp, X_OK)) {
		print_message("%s is not installed\n", interp);
		skip();
	}
	write_file(tmpdir, file, code);
	pid = runtime_spawn(r, interp, script, "app.handler", tmpdir);
	/* Ready: it asks for its first invocation. */
	serve_until(r, &seen.nexts, 1);
	invoke(r, "inv-a", "{\"name\": \"x\"}");
	serve_until(r, &seen.responses, 1);
	assert_string_equal(seen.id, "inv-a");
	assert_non_null(strstr(seen.body, "\"greeting\": \"hi x\"") ?: strstr(seen.body, "\"greeting\":\"hi x\""));
	/* Lambda's context names. */
	assert_non_null(strstr(seen.body, "inv-a"));
	assert_non_null(strstr(seen.body, "\"f\""));
	/* The same process, warm: its module state is kept. */
	invoke(r, "inv-b", "{\"name\": \"y\"}");
	serve_until(r, &seen.responses, 2);
	assert_non_null(strstr(seen.body, "\"calls\": 2") ?: strstr(seen.body, "\"calls\":2"));
	/* An exception is an error, with its type and message. */
	invoke(r, "inv-c", "{\"fail\": true}");
	serve_until(r, &seen.errors, 1);
	assert_string_equal(seen.id, "inv-c");
	assert_string_equal(seen.type, "Unhandled");
	assert_non_null(strstr(seen.body, "\"errorMessage\""));
	assert_non_null(strstr(seen.body, "asked to fail"));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void test_python_bootstrap(void **state)
{
	bootstrap_case(state, "/usr/bin/python3", "runtimes/python3/bootstrap.py", "app.py",
		       "calls = 0\n"
		       "def handler(event, context):\n"
		       "    global calls\n"
		       "    calls += 1\n"
		       "    if event.get('fail'):\n"
		       "        raise ValueError('asked to fail')\n"
		       "    return {'greeting': 'hi ' + event['name'], 'calls': calls,\n"
		       "            'id': context.aws_request_id, 'fn': context.function_name,\n"
		       "            'left': context.get_remaining_time_in_millis() > 0}\n");
}

static void test_nodejs_bootstrap(void **state)
{
	const char *node = access("/usr/bin/node", X_OK) ? "/usr/bin/nodejs" : "/usr/bin/node";

	bootstrap_case(state, node, "runtimes/nodejs/bootstrap.js", "app.js",
		       "let calls = 0;\n"
		       "exports.handler = async (event, context) => {\n"
		       "  calls += 1;\n"
		       "  if (event.fail) throw new Error('asked to fail');\n"
		       "  return {greeting: 'hi ' + event.name, calls, id: context.awsRequestId,\n"
		       "          fn: context.functionName, left: context.getRemainingTimeInMillis() > 0};\n"
		       "};\n");
}

static void test_python_missing_module(void **state)
{
	struct rapi *r = *state;
	int status = -1;
	pid_t pid = runtime_spawn(r, "/usr/bin/python3", "runtimes/python3/bootstrap.py",
				  "nothere.handler", tmpdir);

	serve_until(r, &seen.init_errors, 1);
	assert_string_equal(seen.type, "Runtime.ImportModuleError");
	assert_non_null(strstr(seen.body, "nothere"));
	assert_true(serve(r, 10000, pid, &status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_int_equal(seen.nexts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_next_blocks_then_gets_the_invocation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_response_and_finished_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_with_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exactly_the_limit_is_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_and_methods, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunked_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_next_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_forgets_the_dead_runtimes_next, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_python_bootstrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nodejs_bootstrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_python_missing_module, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
