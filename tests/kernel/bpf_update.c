// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: replacing an environment's policy is atomic. Two policies both deny /tmp/fng-upd/z
 * (through different rules) and differ elsewhere; while they are swapped back and forth, a
 * process in the environment opens z in a loop: not one open may succeed (there is never a
 * moment with no policy, or with the old one half removed). After the swaps the last policy
 * is the one in force, and removing it lifts every rule.
 */
#include <signal.h>
#include <sys/mman.h>
#include <linux/types.h>

#include "kernel_support.h"
#include "enforcer.h"
#include "cgroup.h"
#include "policy.h"
#include "tap.h"
#include "cgtest.h"

static const char policy_a[] = "apiVersion: fnguard/v1\n"
			       "files:\n"
			       "  default: allow\n"
			       "  rules:\n"
			       "    - path: /tmp/fng-upd\n"
			       "      access: []\n"
			       "    - path: /tmp/fng-upd/y\n"
			       "      access: [read]\n"
			       "exec: {default: allow, children: allow}\n";
static const char policy_b[] = "apiVersion: fnguard/v1\n"
			       "files:\n"
			       "  default: allow\n"
			       "  rules:\n"
			       "    - path: /tmp/fng-upd/z\n"
			       "      access: [write]\n"
			       "exec: {default: allow, children: allow}\n";

static int open_errno(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_y(void *arg)
{
	return open_errno("/tmp/fng-upd/y");
}

static int try_x(void *arg)
{
	return open_errno("/tmp/fng-upd/x");
}

static struct fng_policy *load(const char *name, const char *yaml)
{
	struct fng_policy *p = NULL;
	struct policy_diags d;

	policy_diags_init(&d);
	policy_load_buffer(name, yaml, strlen(yaml), NULL, &p, &d);
	policy_diags_free(&d);
	return p;
}

int main(void)
{
	struct fng_cgroup cg = {.fd = -1};
	struct fng_policy *a = load("a", policy_a), *b = load("b", policy_b);
	struct enforcer *be = NULL;
	struct enforce_env env = {0};
	volatile long *shared;
	int err, swaps = 0, status;
	pid_t pid;

	mkdir("/tmp/fng-upd", 0755);
	close(open("/tmp/fng-upd/z", O_CREAT | O_WRONLY, 0644));
	close(open("/tmp/fng-upd/y", O_CREAT | O_WRONLY, 0644));
	close(open("/tmp/fng-upd/x", O_CREAT | O_WRONLY, 0644));
	tap_check(a && b, "both policies compile");
	tap_check(cgroup_env_create("upd-test", &cg) == 0, "environment cgroup created");
	tap_check(enforcer_open(&be, true, NULL, NULL) == 0, "backend loaded");
	if (!a || !b || !be)
		return tap_done();
	env.cgroup_fd = cg.fd;
	env.cgroup_id = cg.id;
	tap_check(enforcer_env_install(be, &env, a, FNG_SEC_FILES | FNG_SEC_EXEC) == 0,
		  "policy A installed");
	tap_check(cgtest_run(cg.path, try_y, NULL) == 0, "A: y is readable");

	/* shared[0]: stop flag; shared[1]: opens tried; shared[2]: opens that succeeded. */
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid = fork();
	if (pid == 0) {
		if (cgroup_enter(&cg))
			_exit(255);
		while (!shared[0]) {
			shared[1]++;
			if (open_errno("/tmp/fng-upd/z") == 0)
				shared[2]++;
		}
		_exit(0);
	}
	for (int i = 0; i < 200; i++) {
		err = enforcer_env_install(be, &env, i % 2 ? a : b, FNG_SEC_FILES | FNG_SEC_EXEC);
		if (err)
			break;
		swaps++;
	}
	shared[0] = 1;
	waitpid(pid, &status, 0);
	tap_check(swaps == 200, "200 policy replacements while the environment runs (%d)", swaps);
	tap_check(shared[1] > 0, "the process in the environment kept opening (%ld opens)",
		  shared[1]);
	tap_check(shared[2] == 0, "no open of a file both policies deny ever succeeded (%ld did)",
		  shared[2]);
	/* The last install (i = 199) was A. */
	tap_check(cgtest_run(cg.path, try_x, NULL) == EACCES,
		  "after the swaps A is in force: x denied by its tree rule");
	err = enforcer_env_install(be, &env, b, FNG_SEC_FILES | FNG_SEC_EXEC);
	tap_check(err == 0 && cgtest_run(cg.path, try_x, NULL) == 0,
		  "B in force: x readable (no rule of A left behind)");
	tap_check(enforcer_env_remove(be, &env) == 0, "environment removed");
	tap_check(cgtest_run(cg.path, (int (*)(void *))open_errno, "/tmp/fng-upd/z") == 0,
		  "after removal nothing is denied");
	enforcer_close(be);
	cgroup_env_destroy(&cg);
	policy_free(a);
	policy_free(b);
	return tap_done();
}
