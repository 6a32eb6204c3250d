// SPDX-License-Identifier: Apache-2.0
/*
 * The confinement sequence (lib/enforce/confine.c): every step has a name and a failure
 * phrase; the first step that fails stops the sequence (no later step runs) and is named,
 * with its -errno; a rule the plan cannot enforce is told to the caller's hook, then refused,
 * or with partial passed over; the plan step is named after the caller's kernel; in the
 * confined process, a failed cgroup join stops it before no_new_privs, and the seccomp step
 * hands the notification fd to the supervisor. Nothing here needs root.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "confine.h"
#include "fdpass.h"
#include "policy.h"

const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void) { return "use_sigaltstack=0"; }

struct told {
	int n;
	enum confine_step step;
	char why[1024];
};

static void count_unenforced(const struct confine *c, enum confine_step step, void *ctx)
{
	struct told *t = ctx;

	t->n++;
	t->step = step;
	snprintf(t->why, sizeof(t->why), "%s", c->why);
}

static struct fng_policy *policy_of(const char *text)
{
	struct policy_diags diags;
	struct fng_policy *p = NULL;

	policy_diags_init(&diags);
	assert_int_equal(policy_load_buffer("test.yaml", text, strlen(text), NULL, &p, &diags), 0);
	policy_diags_free(&diags);
	assert_non_null(p);
	return p;
}

static void test_step_names(void **state)
{
	(void)state;
	for (int i = 0; i < CONFINE_STEPS; i++) {
		assert_non_null(confine_step_name((enum confine_step)i));
		assert_non_null(confine_step_cannot((enum confine_step)i));
		assert_true(!strncmp(confine_step_cannot((enum confine_step)i), "cannot ", 7));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(confine_step_name((enum confine_step)i),
						confine_step_name((enum confine_step)j));
	}
	assert_null(confine_step_name(CONFINE_STEPS));
	assert_null(confine_step_cannot(CONFINE_STEPS));
	assert_string_equal(confine_step_name(CONFINE_CGROUP), "creating the cgroup");
	assert_string_equal(confine_step_cannot(CONFINE_BACKEND), "cannot load the BPF programs");
}

/* The cgroup cannot be made (a name no file system takes; without root, no right either):
 * the limits hook is never told, and the install step, which would use the object and set
 * the environment's cgroup fd, never runs. */
static void test_failed_step_stops(void **state)
{
	struct fng_cgroup cg = {.fd = -1};
	struct enforce_env env = {.cgroup_fd = 1234};
	struct told t = {0};
	char name[700];
	struct confine c = {
	    .cgroup_name = name,
	    .cg = &cg,
	    .pids = 8,
	    .partial = true,
	    .unenforced = count_unenforced,
	    .ctx = &t,
	    /* Never dereferenced unless a step after the failed one ran (it would crash). */
	    .bpf = (struct enforcer *)(uintptr_t)1,
	    .env = &env,
	    .sock = -1,
	};
	int err;

	(void)state;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	c.plan.bpf = true;
	err = confine_setup(&c, CONFINE_CGROUP, CONFINE_PIN);
	assert_true(err < 0);
	assert_int_equal(c.err, err);
	assert_int_equal(c.failed, CONFINE_CGROUP);
	assert_string_equal(c.step, "creating the cgroup");
	assert_int_equal(t.n, 0);
	assert_int_equal(env.cgroup_fd, 1234);
}

static void test_bad_range(void **state)
{
	struct confine c = {.sock = -1};

	(void)state;
	assert_int_equal(confine_setup(&c, CONFINE_PIN, CONFINE_PLAN), -EINVAL);
	assert_int_equal(confine_setup(&c, CONFINE_PLAN, CONFINE_STEPS), -EINVAL);
}

/* A file rule with the bpf-lsm backend, where this kernel has no BPF LSM. */
static void test_plan_refuses_or_partial(void **state)
{
	struct fng_policy *p = policy_of("apiVersion: fnguard/v1\n"
					 "files:\n  default: allow\n  rules:\n"
					 "    - path: /etc/shadow\n      access: []\n");
	struct enforce_plan expect;
	struct told t = {0};
	struct confine c = {
	    .policy = p,
	    .backend = "bpf-lsm",
	    .unenforced = count_unenforced,
	    .ctx = &t,
	    .sock = -1,
	};
	int err;

	(void)state;
	enforce_plan_make(p, "bpf-lsm", &expect);
	if (!expect.missing) {
		policy_free(p);
		skip(); /* this kernel has BPF LSM: nothing of the policy is missing */
	}
	err = confine_setup(&c, CONFINE_PLAN, CONFINE_CGROUP);
	assert_int_equal(err, -EOPNOTSUPP);
	assert_int_equal(c.failed, CONFINE_PLAN);
	assert_string_equal(c.step, "checking what this kernel can enforce");
	assert_true(!strncmp(c.why, "this kernel cannot enforce the policy: files", 44));
	assert_int_equal(c.plan.missing, expect.missing);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.step, CONFINE_PLAN);
	assert_string_equal(t.why, c.why);

	/* Named after the caller's kernel. */
	c.kernel = "the guest kernel";
	assert_int_equal(confine_setup(&c, CONFINE_PLAN, CONFINE_PLAN), -EOPNOTSUPP);
	assert_string_equal(c.step, "checking what the guest kernel can enforce");

	/* With partial: told all the same, and the sequence goes on (nothing to make). */
	c.partial = true;
	t.n = 0;
	assert_int_equal(confine_setup(&c, CONFINE_PLAN, CONFINE_CGROUP), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(c.plan.missing, expect.missing);
	policy_free(p);
}

/* In the confined process: joining fails (no cgroup), so no_new_privs is never set. */
static void test_enter_fails_first(void **state)
{
	struct fng_cgroup cg = {.fd = -1};
	struct confine c = {.cg = &cg, .sock = -1};
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = confine_setup(&c, CONFINE_ENTER, CONFINE_SECCOMP);
		int ok = err < 0 && c.failed == CONFINE_ENTER &&
			 !strcmp(c.step, "joining the cgroup") &&
			 prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0;

		syscall(SYS_exit_group, ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The built-in deny list: no_new_privs, the filter, and its fd on the supervisor's socket. */
static void test_seccomp_fd_handed_over(void **state)
{
	struct fng_policy *p = policy_of("apiVersion: fnguard/v1\n");
	struct confine c = {.policy = p, .sock = -1};
	int sv[2], fd, status;
	pid_t pid;

	(void)state;
	c.plan.seccomp = true;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err;

		close(sv[0]);
		c.sock = sv[1];
		err = confine_setup(&c, CONFINE_NO_NEW_PRIVS, CONFINE_SECCOMP);
		syscall(SYS_exit_group,
			!err && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1);
	}
	close(sv[1]);
	fd = fd_recv(sv[0]);
	assert_true(fd >= 0);
	close(fd);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_step_names),
	    cmocka_unit_test(test_failed_step_stops),
	    cmocka_unit_test(test_bad_range),
	    cmocka_unit_test(test_plan_refuses_or_partial),
	    cmocka_unit_test(test_enter_fails_first),
	    cmocka_unit_test(test_seccomp_fd_handed_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
