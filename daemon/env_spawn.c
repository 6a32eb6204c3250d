// SPDX-License-Identifier: Apache-2.0
/*
 * The steps every kind of environment takes (env_spawn.h): its cgroup with limits, and its
 * first process in new namespaces with the control channel as fd 3; and its id.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "confine.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "log.h"

/* The cgroup and limits steps of the confinement (confine.h): the daemon makes the cgroup. */
int env_cgroup_make(struct env *e, uint32_t pids, uint64_t memory_bytes, uint32_t cpus,
		    char *why, size_t whylen)
{
	struct confine cf = {
	    .cgroup_name = e->id,
	    .cg = &e->cg,
	    .pids = pids,
	    .memory_bytes = memory_bytes,
	    .cpus = cpus,
	    .sock = -1,
	};
	int err = confine_setup(&cf, CONFINE_CGROUP, CONFINE_LIMITS);

	if (err && cf.why[0])
		snprintf(why, whylen, "%s", cf.why);
	else if (err)
		snprintf(why, whylen, "%s: %s", cf.step, strerror(-err));
	return err;
}

int env_spawn(struct env *e, uint64_t ns_flags, void (*child)(struct env *e, void *arg), void *arg,
	      char *why, size_t whylen)
{
	struct clone_args ca = {.flags = ns_flags, .exit_signal = SIGCHLD};
	int sv[2], err;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		snprintf(why, whylen, "creating the control channel: %s", strerror(errno));
		return err;
	}
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		snprintf(why, whylen, "creating the namespaces: %s", strerror(errno));
		return err;
	}
	if (pid == 0) {
		sigset_t none;

		/* The daemon's blocked signals (its signalfd's) are not the child's. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(sv[0]);
		/* The control channel is fd 3, where the agent and QEMU expect it. */
		if (sv[1] != 3) {
			dup2(sv[1], 3);
			close(sv[1]);
		}
		child(e, arg); /* never returns */
		_exit(1);
	}
	close(sv[1]);
	e->pid = pid;
	e->ctl.fd = sv[0];
	return 0;
}

void env_id_make(char *buf, size_t len, uint64_t seq, int pid)
{
	snprintf(buf, len, "env-%" PRIu64 "-%d", seq, pid);
}

int env_id_parse(const char *name, unsigned long long *seq, int *pid)
{
	return sscanf(name, "env-%llu-%d", seq, pid) == 2 ? 0 : -EINVAL;
}

void env_kill(struct env *e)
{
	if (e->pid > 0)
		kill(e->pid, SIGKILL);
	if (e->cg.fd >= 0 && e->cg.path[0]) {
		int left = cgroup_kill_all(&e->cg);

		if (left > 0)
			log_warnx("env %s: %d process(es) survived SIGKILL", e->id, left);
	}
	/* Reaped before its cgroup goes: newer kernels keep an unreaped task's cgroup busy.
	 * It got SIGKILL and has nothing to wait for, so the wait is short (bounded). */
	for (int i = 0; e->pid > 0 && i < 300; i++) {
		pid_t r = waitpid(e->pid, NULL, WNOHANG);

		if (r == e->pid || (r < 0 && errno == ECHILD))
			e->pid = 0;
		else
			usleep(10000);
	}
}
