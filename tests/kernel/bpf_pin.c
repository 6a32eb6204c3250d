// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: pinned enforcement survives the process that installed it. An installer loads the
 * backend, installs a policy for a cgroup, pins everything and dies by SIGKILL; the policy is
 * still in force for the cgroup (file rule and network rule), and removing the pins ends it.
 */
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "kernel_support.h"
#include "enforcer.h"
#include "cgroup.h"
#include "policy.h"
#include "tap.h"
#include "cgtest.h"

#define PIN_DIR "/sys/fs/bpf/fng-pin-test"

static const char policy_yaml[] = "apiVersion: fnguard/v1\n"
				  "files:\n"
				  "  default: allow\n"
				  "  rules:\n"
				  "    - path: /tmp/fng-pinned\n"
				  "      access: []\n"
				  "exec: {default: allow, children: allow}\n"
				  "network:\n"
				  "  egress: {default: deny}\n";

static int try_open(void *arg)
{
	int fd = open("/tmp/fng-pinned/f", O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int try_connect(void *arg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(443)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = errno;
	close(fd);
	return err;
}

/* The installer: never returns; dies by SIGKILL after pinning. */
static void installer(struct fng_cgroup *cg, int ready)
{
	struct policy_diags d;
	struct fng_policy *p = NULL;
	struct enforcer *b = NULL;
	struct enforce_env env = {.cgroup_fd = cg->fd, .cgroup_id = cg->id};
	char ok = 0;

	policy_diags_init(&d);
	if (policy_load_buffer("pin-test", policy_yaml, sizeof(policy_yaml) - 1, NULL, &p, &d) ||
	    enforcer_open(&b, true, NULL, NULL) ||
	    enforcer_env_install(b, &env, p, FNG_SEC_FILES | FNG_SEC_EXEC | FNG_SEC_EGRESS) ||
	    enforcer_pin(b, PIN_DIR) || enforcer_env_pin(b, &env, PIN_DIR))
		ok = 0;
	else
		ok = 1;
	if (write(ready, &ok, 1) != 1)
		_exit(1);
	kill(getpid(), SIGKILL);
	_exit(1);
}

int main(void)
{
	struct fng_cgroup cg = {.fd = -1};
	int pipefd[2], status;
	char ok = 0;
	pid_t pid;

	mkdir("/tmp/fng-pinned", 0755);
	close(open("/tmp/fng-pinned/f", O_CREAT | O_WRONLY, 0644));
	tap_check(cgroup_env_create("pin-test", &cg) == 0, "environment cgroup created");
	if (pipe(pipefd))
		return 1;
	pid = fork();
	if (pid == 0)
		installer(&cg, pipefd[1]);
	if (read(pipefd[0], &ok, 1) != 1)
		ok = 0;
	waitpid(pid, &status, 0);
	tap_check(ok == 1, "installer loaded, installed and pinned the policy");
	tap_check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "installer died by SIGKILL");

	tap_check(cgtest_run(cg.path, try_open, NULL) == EACCES,
		  "after the installer died, a denied open in the environment still fails");
	tap_check(cgtest_run(cg.path, try_connect, NULL) == EPERM,
		  "after the installer died, a denied connect in the environment still fails");
	tap_check(cgtest_run(NULL, try_open, NULL) == 0, "outside the environment the open works");

	tap_check(enforcer_unpin(PIN_DIR) == 0, "pins removed");
	tap_check(access(PIN_DIR, F_OK) != 0, "nothing left under the pin directory");
	tap_check(cgtest_run(cg.path, try_open, NULL) == 0,
		  "with the pins gone the same open in the cgroup works");
	cgroup_env_destroy(&cg);
	return tap_done();
}
