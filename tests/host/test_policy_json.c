// SPDX-License-Identifier: Apache-2.0
/*
 * `fnguard policy show`: the normalized policy as JSON. The expected document is written by
 * hand from docs/policy.md ("fnguard policy show").
 */
#include "test_policy_util.h"

static char *show(const char *yaml, const char *name)
{
	struct fng_policy *p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(policy_load_buffer(name, yaml, strlen(yaml), "/base", &p, NULL), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(policy_to_json(p, f), 0);
	fclose(f);
	policy_free(p);
	return buf;
}

/* Every baseline syscall but ptrace in syscalls.allow: the deny set is just ptrace. */
static char *policy_text(void)
{
	char *yaml = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&yaml, &len);

	fputs(API
	      "function:\n  name: hello\n  version: \"2\"\n  code: ./src\n"
	      "  handler: /var/task/handler\n"
	      "mode: audit\n"
	      "environment:\n  kind: process\n"
	      "limits:\n  memory: 64Mi\n"
	      "files:\n  mode: enforce\n  rules:\n    - path: /tmp\n      access: [write, read]\n"
	      "exec:\n  allow: [/usr/bin]\n"
	      "network:\n  egress:\n    allow:\n      - to: ::ffff:192.0.2.0/120\n"
	      "        ports: [443, \"8000-8100\"]\n        protocol: tcp\n"
	      "    deny:\n      - to: 2001:db8::/32\n"
	      "  families: [inet6, unix]\n"
	      "syscalls:\n  errno: EACCES\n  allow:\n",
	      f);
	for (i = 0; i < policy_syscall_baseline_len; i++)
		if (strcmp(policy_syscall_baseline[i].name, "ptrace"))
			fprintf(f, "    - %s\n", policy_syscall_baseline[i].name);
	fclose(f);
	return yaml;
}

static void test_show(void **state)
{
	char *yaml = policy_text();
	char *json = show(yaml, "p.yaml");

	assert_string_equal(json, "{\n"
				  "  \"apiVersion\": \"fnguard/v1\",\n"
				  "  \"source\": \"p.yaml\",\n"
				  "  \"mode\": \"audit\",\n"
				  "  \"function\": {\n"
				  "    \"name\": \"hello\",\n"
				  "    \"version\": \"2\",\n"
				  "    \"code\": \"/base/src\",\n"
				  "    \"handler\": \"/var/task/handler\",\n"
				  "    \"runtime\": \"stdio\",\n"
				  "    \"layers\": [],\n"
				  "    \"env\": []\n"
				  "  },\n"
				  "  \"environment\": {\n"
				  "    \"kind\": \"process\",\n"
				  "    \"reuse\": true,\n"
				  "    \"isolate_invocations\": true,\n"
				  "    \"max_invocations\": 0,\n"
				  "    \"max_lifetime_ns\": 50400000000000,\n"
				  "    \"provisioned\": 0\n"
				  "  },\n"
				  "  \"limits\": {\n"
				  "    \"memory_bytes\": 67108864,\n"
				  "    \"timeout_ns\": 3000000000,\n"
				  "    \"pids\": 64,\n"
				  "    \"cpus\": 1,\n"
				  "    \"tmp_size_bytes\": 67108864\n"
				  "  },\n"
				  "  \"files\": {\n"
				  "    \"mode\": \"enforce\",\n"
				  "    \"default\": \"deny\",\n"
				  "    \"rules\": [\n"
				  "      {\n"
				  "        \"path\": \"/tmp\",\n"
				  "        \"access\": [\n"
				  "          \"read\",\n"
				  "          \"write\"\n"
				  "        ],\n"
				  "        \"rights\": 3,\n"
				  "        \"line\": 15\n"
				  "      }\n"
				  "    ]\n"
				  "  },\n"
				  "  \"exec\": {\n"
				  "    \"mode\": \"audit\",\n"
				  "    \"default\": \"deny\",\n"
				  "    \"children\": \"deny\",\n"
				  "    \"allow\": [\n"
				  "      {\n"
				  "        \"path\": \"/usr/bin\",\n"
				  "        \"line\": 18\n"
				  "      }\n"
				  "    ]\n"
				  "  },\n"
				  "  \"network\": {\n"
				  "    \"mode\": \"audit\",\n"
				  "    \"egress\": {\n"
				  "      \"default\": \"deny\",\n"
				  "      \"rules\": [\n"
				  "        {\n"
				  "          \"verdict\": \"allow\",\n"
				  "          \"to\": \"192.0.2.0/24\",\n"
				  "          \"family\": \"inet\",\n"
				  "          \"address\": \"192.0.2.0\",\n"
				  "          \"prefix_len\": 24,\n"
				  "          \"protocol\": \"tcp\",\n"
				  "          \"ports\": [\n"
				  "            {\n"
				  "              \"first\": 443,\n"
				  "              \"last\": 443\n"
				  "            },\n"
				  "            {\n"
				  "              \"first\": 8000,\n"
				  "              \"last\": 8100\n"
				  "            }\n"
				  "          ],\n"
				  "          \"line\": 22\n"
				  "        },\n"
				  "        {\n"
				  "          \"verdict\": \"deny\",\n"
				  "          \"to\": \"2001:db8::/32\",\n"
				  "          \"family\": \"inet6\",\n"
				  "          \"address\": \"2001:db8::\",\n"
				  "          \"prefix_len\": 32,\n"
				  "          \"protocol\": \"any\",\n"
				  "          \"ports\": [],\n"
				  "          \"line\": 26\n"
				  "        }\n"
				  "      ]\n"
				  "    },\n"
				  "    \"loopback\": \"allow\",\n"
				  "    \"runtime_api_port\": 0,\n"
				  "    \"bind\": \"deny\",\n"
				  "    \"families\": [\n"
				  "      \"unix\",\n"
				  "      \"inet6\"\n"
				  "    ],\n"
				  "    \"families_mask\": 1026\n"
				  "  },\n"
				  "  \"syscalls\": {\n"
				  "    \"mode\": \"audit\",\n"
				  "    \"errno\": \"EACCES\",\n"
				  "    \"errno_nr\": 13,\n"
				  "    \"deny\": [\n"
				  "      {\n"
				  "        \"name\": \"ptrace\",\n"
				  "        \"nr\": 101\n"
				  "      }\n"
				  "    ]\n"
				  "  }\n"
				  "}\n");
	free(json);
	free(yaml);
}

static void test_show_minimal(void **state)
{
	char *json = show(API "files:\n  default: allow\n", "dir/\"odd\"\n.yaml");

	/* the source name is escaped; without a function section, "function" is null */
	assert_non_null(strstr(json, "  \"source\": \"dir/\\\"odd\\\"\\n.yaml\",\n"
				     "  \"mode\": \"enforce\",\n"
				     "  \"function\": null,\n"));
	assert_non_null(strstr(json, "  \"files\": {\n"
				     "    \"mode\": \"enforce\",\n"
				     "    \"default\": \"allow\",\n"
				     "    \"rules\": []\n"
				     "  },\n"));
	assert_non_null(strstr(json, "    \"families\": [\n"
				     "      \"unix\",\n"
				     "      \"inet\",\n"
				     "      \"inet6\"\n"
				     "    ],\n"
				     "    \"families_mask\": 1030\n"));
	/* the baseline is expanded, in syscall number order: ptrace (101) before bpf (321) */
	{
		char *ptrace = strstr(json, "\"name\": \"ptrace\",\n        \"nr\": 101\n");
		char *bpf = strstr(json, "\"name\": \"bpf\",\n        \"nr\": 321\n");

		assert_non_null(ptrace);
		assert_non_null(bpf);
		assert_true(ptrace < bpf);
	}
	free(json);
}

static void test_show_write_error(void **state)
{
	struct fng_policy *p = load_ok(API);
	FILE *f = fopen("/dev/full", "w");

	assert_non_null(f);
	assert_int_equal(policy_to_json(p, f), -EIO);
	fclose(f);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_show),
	    cmocka_unit_test(test_show_minimal),
	    cmocka_unit_test(test_show_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
