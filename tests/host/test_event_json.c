// SPDX-License-Identifier: Apache-2.0
/*
 * Denial events as JSON lines: the target text of each kind, which rule is named (index,
 * position among allow/deny entries, defaults), and the fields of docs/telemetry.md.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "event_json.h"
#include "policy.h"

static const char policy_yaml[] = "apiVersion: fnguard/v1\n"
				  "function:\n"
				  "  name: thumbnailer\n"
				  "  version: \"3\"\n"
				  "  code: ./code\n"
				  "  handler: /var/task/handler\n"
				  "files:\n"
				  "  rules:\n"
				  "    - path: /var/task\n"
				  "      access: [read]\n"
				  "    - path: /var/task/handler.py\n"
				  "      access: []\n"
				  "exec:\n"
				  "  allow: [/usr/bin/python3.11]\n"
				  "network:\n"
				  "  egress:\n"
				  "    allow:\n"
				  "      - to: 10.0.0.0/8\n"
				  "      - to: 192.0.2.0/24\n"
				  "    deny:\n"
				  "      - to: 10.0.5.0/24\n";

static struct fng_policy *load(void)
{
	struct fng_policy *p = NULL;
	struct policy_diags d;

	policy_diags_init(&d);
	assert_int_equal(policy_load_buffer("t.yaml", policy_yaml, sizeof(policy_yaml) - 1, "/srv",
					    &p, &d),
			 0);
	policy_diags_free(&d);
	return p;
}

static void test_target_ipv4(void **state)
{
	struct fng_event e = {.class = FNG_CLASS_NETWORK, .op = FNG_OP_CONNECT,
			      .target_kind = FNG_TARGET_ADDR};
	char buf[128];

	e.target.addr.family = AF_INET;
	e.target.addr.protocol = 6;
	e.target.addr.port = 443;
	inet_pton(AF_INET, "192.0.2.7", e.target.addr.addr);
	event_target_text(&e, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7:443/tcp");
}

static void test_target_ipv6(void **state)
{
	struct fng_event e = {.class = FNG_CLASS_NETWORK, .op = FNG_OP_SENDMSG,
			      .target_kind = FNG_TARGET_ADDR};
	char buf[128];

	e.target.addr.family = AF_INET6;
	e.target.addr.protocol = 17;
	e.target.addr.port = 53;
	inet_pton(AF_INET6, "2001:db8::1", e.target.addr.addr);
	event_target_text(&e, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:53/udp");
}

static void test_target_socket_family(void **state)
{
	struct fng_event e = {.class = FNG_CLASS_NETWORK, .op = FNG_OP_SOCKET,
			      .target_kind = FNG_TARGET_ADDR};
	char buf[128];

	e.target.addr.family = AF_NETLINK;
	e.target.addr.port = 3; /* the socket type travels in port */
	event_target_text(&e, buf, sizeof(buf));
	assert_string_equal(buf, "family=netlink type=3 protocol=0");
}

static void test_rule_names(void **state)
{
	struct fng_policy *p = load();
	struct fng_event e = {.class = FNG_CLASS_FILE, .rule_kind = FNG_RULE_ENTRY, .rule_index = 1};
	char buf[256];

	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "files.rules[1] (/var/task/handler.py)");
	e.rule_kind = FNG_RULE_DEFAULT;
	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "files.default");
	e.class = FNG_CLASS_EXEC;
	e.rule_kind = FNG_RULE_CHILDREN;
	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "exec.children");
	/* egress holds the allow entries, then the deny entries: index 2 is deny[0], line 21. */
	e.class = FNG_CLASS_NETWORK;
	e.rule_kind = FNG_RULE_ENTRY;
	e.rule_index = 2;
	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "network.egress.deny[0] (line 21)");
	e.rule_index = 1;
	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "network.egress.allow[1] (line 19)");
	e.rule_kind = FNG_RULE_DEFAULT;
	event_rule_name(p, &e, buf, sizeof(buf));
	assert_string_equal(buf, "network.egress.default");
	policy_free(p);
}

static void test_json_line(void **state)
{
	struct fng_policy *p = load();
	struct fng_event e = {.class = FNG_CLASS_FILE, .op = FNG_OP_OPEN, .pid = 42,
			      .verdict = FNG_EVENT_BLOCKED, .rule_kind = FNG_RULE_ENTRY,
			      .rule_index = 1, .target_kind = FNG_TARGET_PATH,
			      .syscall_nr = SYS_openat};
	struct event_ctx c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	strcpy(e.comm, "python3");
	strcpy(e.target.path, "/var/task/handler.py");
	event_ctx_init(&c, p, "env-1");
	assert_int_equal(event_json_write(f, &c, &e), 0);
	e.verdict = FNG_EVENT_AUDITED;
	assert_int_equal(event_json_write(f, &c, &e), 0);
	fclose(f);
	assert_non_null(strstr(buf, "{\"type\":\"denial\",\"time\":\""));
	assert_non_null(strstr(buf, "\"seq\":1,"));
	assert_non_null(strstr(buf, "\"seq\":2,"));
	assert_non_null(strstr(buf, "\"function\":\"thumbnailer\",\"version\":\"3\",\"env\":\"env-1\""));
	assert_non_null(strstr(buf, "\"pid\":42,\"comm\":\"python3\",\"class\":\"file\",\"op\":\"open\","
				    "\"syscall\":\"openat\",\"target\":\"/var/task/handler.py\","
				    "\"verdict\":\"blocked\",\"rule\":\"files.rules[1] "
				    "(/var/task/handler.py)\"}\n"));
	assert_non_null(strstr(buf, "\"verdict\":\"audited\""));
	/* One event, one line. */
	assert_int_equal(strchr(buf, '\n') - buf + 1 < (long)len, 1);
	free(buf);
	policy_free(p);
}

static void test_syscall_event(void **state)
{
	struct fng_event e = {.class = FNG_CLASS_SYSCALL, .op = FNG_OP_SYSCALL,
			      .syscall_nr = SYS_ptrace, .verdict = FNG_EVENT_BLOCKED,
			      .rule_kind = FNG_RULE_ENTRY, .target_kind = FNG_TARGET_TEXT};
	struct event_ctx c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	strcpy(e.target.path, "ptrace(0x0, 0x0, 0x0, 0x0, 0x0, 0x0)");
	event_ctx_init(&c, NULL, NULL);
	assert_int_equal(event_json_write(f, &c, &e), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"class\":\"syscall\",\"op\":\"ptrace\",\"syscall\":\"ptrace\""));
	assert_non_null(strstr(buf, "\"rule\":\"syscalls.deny\""));
	assert_null(strstr(buf, "\"function\""));
	free(buf);
}

static void test_loss_event(void **state)
{
	struct event_ctx c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	event_ctx_init(&c, NULL, NULL);
	assert_int_equal(event_json_write_loss(f, &c, 17, "kernel ring buffer"), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"type\":\"loss\""));
	assert_non_null(strstr(buf, "\"events_lost\":17,\"where\":\"kernel ring buffer\"}"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_ipv4),	    cmocka_unit_test(test_target_ipv6),
		cmocka_unit_test(test_target_socket_family), cmocka_unit_test(test_rule_names),
		cmocka_unit_test(test_json_line),	    cmocka_unit_test(test_syscall_event),
		cmocka_unit_test(test_loss_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
