// SPDX-License-Identifier: Apache-2.0
/*
 * A process environment: the function's processes on this host's kernel, in their own cgroup
 * and mount, pid, ipc and uts namespaces, under the policy, supervised by the agent (PID 1 of
 * the pid namespace). Set-up is one ordered function per side, read top to bottom, one step
 * per call, one error per step (Firecracker's jailer):
 *
 *   daemon: cgroup -> limits -> control channel -> clone; then, when the agent reports the
 *           environment set up, the policy in force (env_process_enforce)
 *   child:  join the cgroup -> close inherited fds -> open the code -> private mounts ->
 *           new root (system directories read-only, or a runtime's root image; code at
 *           /var/task, tmpfs /tmp, /proc, a minimal /dev) -> pivot_root -> root read-only ->
 *           hostname -> agent (a runtime's: in a network namespace of its own)
 *
 * The child joins the cgroup before it does anything else, and the policy is in force before
 * the agent is given its first invocation: no code of the function ever runs unconfined.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "agent.h"
#include "confine.h"
#include "env_process.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "image.h"
#include "jail.h"
#include "log.h"
#include "runtime_cmd.h"

/* The new root is built on a tmpfs mounted here, in the environment's namespace only. */
#define NEWROOT "/tmp"
/* Host directories the environment sees, read-only (when they exist). Everything else of the
 * host (/home, /root, /run, /var, /srv, /mnt, /boot, ...) is not there at all. */
static const char *const host_dirs[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
					"/usr", "/etc", "/opt"};
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};

#define STEP(s, expr) SETUP_STEP(st, s, expr)

/*
 * A runtime's root (docs/runtime.md): the runtime's tree, read-only, as the new root, its
 * /var/task, /tmp, /proc and /dev mounted over; in a network namespace of its own, where the
 * Runtime API's 127.0.0.1:9001 is the environment's alone.
 */
static int env_child_runtime_root(struct env *e, const char *rt, struct setup_step *st)
{
	char root[700];

	snprintf(root, sizeof(root), "%s/%s/root", e->d->cfg.runtime_dir, rt);
	STEP("binding the runtime's root", errno_or(mount(root, NEWROOT, NULL, MS_BIND, NULL)));
	STEP("making the runtime's root read-only", jail_setattr_ro(NEWROOT, false));
	STEP("bringing up the loopback interface", agent_loopback_up());
	return 0;
}

/* In the child, PID 1 of the new namespaces, with the control channel on fd 3. */
static int env_child_setup(struct env *e, struct confine *cf, struct setup_step *st)
{
	const struct fng_policy *p = e->fn->policy;
	const char *rt = microvm_runtime_name(p);
	char code[64], opt[64], host[64], path[800];
	int code_fd, opt_fd = -1;

	/* The cgroup first: the policy is keyed by it, and every later step runs confined. */
	STEP("joining the cgroup", confine_setup(cf, CONFINE_ENTER, CONFINE_ENTER));
	/* Only the control channel survives into the environment. */
	STEP("closing inherited files", errno_or(syscall(SYS_close_range, 4, ~0u, 0)));
	/* The code is opened before any mount can hide it (it may live under /tmp). */
	/* The daemon's copy, made at registration with the client's rights, never the
	 * client's directory: whatever its parents' modes, nothing else is reachable. */
	code_fd = open(e->fn->code_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	STEP("opening the function code", code_fd < 0 ? -errno : 0);
	snprintf(code, sizeof(code), "/proc/self/fd/%d", code_fd);
	if (e->fn->layers_dir) {
		/* Its layers, merged at registration. */
		snprintf(path, sizeof(path), "%s/opt", e->fn->layers_dir);
		opt_fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		STEP("opening the function's layers", opt_fd < 0 ? -errno : 0);
		snprintf(opt, sizeof(opt), "/proc/self/fd/%d", opt_fd);
	}
	/* Nothing mounted here may propagate back to the host. */
	STEP("making mounts private", errno_or(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
	if (rt) {
		if (env_child_runtime_root(e, rt, st))
			return st->err;
	} else {
		STEP("mounting the new root",
		     errno_or(mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV,
				    "mode=0755,size=1m")));
		STEP("binding host directories read-only",
		     jail_host_dirs(NEWROOT, host_dirs, sizeof(host_dirs) / sizeof(host_dirs[0])));
		STEP("creating /var/task", errno_or(mkdir(NEWROOT "/var", 0755) ||
						    mkdir(NEWROOT "/var/task", 0755)));
	}
	STEP("binding the code at /var/task",
	     errno_or(mount(code, NEWROOT "/var/task", NULL, MS_BIND | MS_REC, NULL)));
	STEP("making /var/task read-only", jail_setattr_ro(NEWROOT "/var/task", true));
	close(code_fd);
	if (opt_fd >= 0) {
		/* Over the host's /opt, for a stdio function. */
		STEP("creating /opt", errno_or(mkdir(NEWROOT "/opt", 0755) && errno != EEXIST));
		STEP("binding the layers at /opt",
		     errno_or(mount(opt, NEWROOT "/opt", NULL, MS_BIND | MS_REC, NULL)));
		STEP("making /opt read-only", jail_setattr_ro(NEWROOT "/opt", true));
		close(opt_fd);
	}
	/* A runtime's root has the mount points already. */
	STEP("creating /tmp", errno_or(mkdir(NEWROOT "/tmp", 01777) && !(rt && errno == EEXIST)));
	STEP("mounting /tmp", agent_tmp_mount(NEWROOT "/tmp", p->limits.tmp_size_bytes));
	/* A /proc of the new pid namespace: the host's processes are not there. */
	STEP("mounting /proc", errno_or((mkdir(NEWROOT "/proc", 0555) && !(rt && errno == EEXIST)) ||
					mount("proc", NEWROOT "/proc", "proc",
					      MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)));
	STEP("populating /dev",
	     jail_dev_make(NEWROOT, dev_nodes, sizeof(dev_nodes) / sizeof(dev_nodes[0]), 0666, true));
	STEP("switching to the new root", jail_switch_root(NEWROOT));
	STEP("making the root read-only",
	     errno_or(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL)));
	snprintf(host, sizeof(host), "fn-%.50s", p->function.name);
	STEP("setting the hostname", errno_or(sethostname(host, strlen(host))));
	return 0;
}

/* Fd 3 is the control channel (env_spawn). */
static void env_child(struct env *e, void *arg)
{
	/* The confinement's steps in the environment (confine.h): the agent joins the cgroup,
	 * each handler takes no_new_privs and the seccomp filter. */
	struct confine cf = {
	    .policy = e->fn->policy,
	    .plan = e->fn->plan,
	    .cg = &e->cg,
	    .sock = -1,
	};
	struct agent_config acfg = {
	    .policy = e->fn->policy,
	    .confine = &cf,
	    .uid = e->uid,
	    .gid = e->uid,
	    .tmp_size = e->fn->policy->limits.tmp_size_bytes,
	};
	struct setup_step st = {0};
	struct runtime_cmd rc;
	char why[400];

	(void)arg;
	if (env_child_setup(e, &cf, &st)) {
		agent_failure_write(3, st.step, st.err, NULL);
		_exit(1);
	}
	acfg.runtime = microvm_runtime_name(e->fn->policy);
	if (acfg.runtime) {
		/* In the environment's root: which bootstrap a provided function has. */
		int err = runtime_cmd_make(e->fn->policy, acfg.runtime, &rc, why, sizeof(why));

		if (err) {
			agent_failure_write(3, "preparing the runtime's command", err, why);
			_exit(1);
		}
		acfg.runtime_argv = rc.argv;
		acfg.runtime_envp = rc.envp;
		acfg.function_arn = rc.arn;
		acfg.runtime_api_port = RUNTIME_API_PORT;
		acfg.runtime_init_timeout_ms = e->fn->policy->limits.timeout_ns / 1000000;
	}
	_exit(agent_serve(&acfg, 3) ? 1 : 0);
}

int env_process_start(struct env *e, char *why, size_t whylen)
{
	struct fnguardd *d = e->d;
	const struct fng_policy *p = e->fn->policy;
	int err;

	/* 0. The handlers' own uid and gid, shared with no other environment. */
	err = uid_range_alloc(&d->uids, &e->uid);
	if (err) {
		snprintf(why, whylen, "no free uid in uid_range (%u in use)", d->uids.n_used);
		return err;
	}
	/* 1. The cgroup, and its limits before any process is in it. */
	err = env_cgroup_make(e, p->limits.pids, p->limits.memory_bytes, p->limits.cpus, why,
			      whylen);
	if (err)
		return err;
	/* 2. The control channel, and 3. the agent, PID 1 of new mount, pid, ipc and uts
	 * namespaces. */
	return env_spawn(e,
			 CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
			     (microvm_runtime_name(p) ? CLONE_NEWNET : 0),
			 env_child, NULL, why, whylen);
}

/*
 * The policy in force for the cgroup, pinned so that it outlives the daemon. Called when the
 * agent reports its environment set up and before it is given any invocation: rule paths
 * name objects as the environment sees them (/var/task is the code, /tmp its own tmpfs), so
 * they are resolved in its root. Until then only the set-up code above ran in the cgroup;
 * nothing of the function runs before this returns 0.
 */
int env_process_enforce(struct env *e, char *why, size_t whylen)
{
	struct fnguardd *d = e->d;
	/* The confinement's last supervisor steps (confine.h), with the daemon's object. */
	struct confine cf = {
	    .policy = e->fn->policy,
	    .plan = e->fn->plan,
	    .cg = &e->cg,
	    .bpf = d->bpf,
	    .env = &e->benv,
	    .pin_dir = d->bpf_pinned ? d->cfg.pin_dir : NULL,
	    .sock = -1,
	};
	char root[64];
	int err;

	if (!e->fn->plan.bpf)
		return 0;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)e->pid);
	cf.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cf.root_fd < 0) {
		err = -errno;
		snprintf(why, whylen, "opening the environment's root: %s", strerror(-err));
		return err;
	}
	err = confine_setup(&cf, CONFINE_INSTALL, CONFINE_PIN);
	close(cf.root_fd);
	if (err)
		snprintf(why, whylen, "%s: %s", cf.step, strerror(-err));
	return err;
}

void env_process_destroy(struct env *e)
{
	struct fnguardd *d = e->d;
	char path[600];

	env_kill(e);
	if (e->benv.cgroup_id) {
		enforcer_env_remove(d->bpf, &e->benv);
		if (d->bpf_pinned) {
			snprintf(path, sizeof(path), "%s/env-%llu", d->cfg.pin_dir,
				 (unsigned long long)e->cg.id);
			enforcer_unpin(path);
		}
	}
	if (e->cg.path[0] && cgroup_env_destroy(&e->cg)) {
		if (e->uid)
			log_warnx("env %s: uid %u stays reserved: its cgroup could not be removed",
				  e->id, e->uid);
		e->uid = 0;
	}
	/* Handed out again only once nothing of it can live: its cgroup is gone. */
	if (e->uid)
		uid_range_release(&d->uids, e->uid);
	e->uid = 0;
}
