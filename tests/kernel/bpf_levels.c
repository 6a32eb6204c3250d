// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: environments at any cgroup level. An environment deep in the tree registered first,
 * then one near the root: both are enforced, and so is a cgroup below the deep one (its
 * descendants are the environment's too).
 */
#include <sys/stat.h>
#include <linux/types.h>

#include "kernel_support.h"
#include "enforcer.h"
#include "policy.h"
#include "tap.h"
#include "cgtest.h"

#define SECRET "/tmp/fng-lvl-secret"

static const char policy[] = "apiVersion: fnguard/v1\n"
			     "files:\n"
			     "  default: allow\n"
			     "  rules:\n"
			     "    - path: " SECRET "\n"
			     "      access: []\n"
			     "exec: {default: allow, children: allow}\n";

static int try_secret(void *arg)
{
	int fd = open(SECRET, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int env_open(struct enforce_env *env, const char *path)
{
	memset(env, 0, sizeof(*env));
	env->cgroup_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	env->cgroup_id = cgtest_id(path);
	return env->cgroup_fd >= 0 && env->cgroup_id ? 0 : -1;
}

int main(void)
{
	const char *deep = CGTEST_ROOT "/lvl-a/b/c/d", *below = CGTEST_ROOT "/lvl-a/b/c/d/e",
		   *shallow = CGTEST_ROOT "/lvl-s", *other = CGTEST_ROOT "/lvl-o";
	struct fng_policy *p = NULL;
	struct enforcer *be = NULL;
	struct enforce_env e_deep, e_shallow;

	close(open(SECRET, O_CREAT | O_WRONLY, 0644));
	tap_check(policy_load_buffer("lvl", policy, strlen(policy), NULL, &p, NULL) == 0,
		  "the policy compiles");
	mkdir(CGTEST_ROOT "/lvl-a", 0755);
	mkdir(CGTEST_ROOT "/lvl-a/b", 0755);
	mkdir(CGTEST_ROOT "/lvl-a/b/c", 0755);
	mkdir(deep, 0755);
	mkdir(below, 0755);
	mkdir(shallow, 0755);
	mkdir(other, 0755);
	tap_check(env_open(&e_deep, deep) == 0 && env_open(&e_shallow, shallow) == 0,
		  "cgroups at levels 4, 5 and 1");
	tap_check(enforcer_open(&be, BPF_LSM_PROGS, NULL, NULL) == 0, "backend loaded");
	if (!be || !p)
		return tap_done();

	tap_check(enforcer_env_install(be, &e_deep, p, FNG_SEC_FILES) == 0,
		  "an environment at level 4 first");
	tap_check(cgtest_run(deep, try_secret, NULL) == EACCES, "level 4: the secret is denied");
	tap_check(cgtest_run(below, try_secret, NULL) == EACCES,
		  "level 5, below it: denied too (the environment's descendant)");
	tap_check(cgtest_run(shallow, try_secret, NULL) == 0, "level 1, no environment yet: read");

	tap_check(enforcer_env_install(be, &e_shallow, p, FNG_SEC_FILES) == 0,
		  "then an environment at level 1");
	tap_check(cgtest_run(shallow, try_secret, NULL) == EACCES,
		  "level 1: denied");
	tap_check(cgtest_run(deep, try_secret, NULL) == EACCES, "level 4: still denied");
	tap_check(cgtest_run(other, try_secret, NULL) == 0, "another level-1 cgroup: read");
	tap_check(try_secret(NULL) == 0, "outside every environment: read");

	tap_check(enforcer_env_remove(be, &e_shallow) == 0 &&
		      enforcer_env_remove(be, &e_deep) == 0,
		  "both removed");
	tap_check(cgtest_run(deep, try_secret, NULL) == 0 &&
		      cgtest_run(shallow, try_secret, NULL) == 0,
		  "then nothing is denied");
	enforcer_close(be);
	policy_free(p);
	rmdir(below);
	rmdir(deep);
	rmdir(CGTEST_ROOT "/lvl-a/b/c");
	rmdir(CGTEST_ROOT "/lvl-a/b");
	rmdir(CGTEST_ROOT "/lvl-a");
	rmdir(shallow);
	rmdir(other);
	return tap_done();
}
