// SPDX-License-Identifier: Apache-2.0
/*
 * Confinement (confine.h): one table of steps, run in its order. The order is the point:
 * the limits before any process is in the cgroup (cgroup_env_limits requires it), the policy
 * in force before anything runs in it, and in the confined process the cgroup first (the
 * policy is keyed by it) and the seccomp filter last (the deny list must not break the steps
 * before it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "confine.h"
#include "fdpass.h"
#include "fnguard_genl.h"
#include "seccomp_notify.h"

/* Something cannot be enforced: told, then carried on without it (@partial) or refused. */
static int unenforced(struct confine *c, enum confine_step step, int err)
{
	if (c->unenforced)
		c->unenforced(c, step, c->ctx);
	return c->partial ? 0 : err;
}

static int step_plan(struct confine *c)
{
	const char *backend = c->backend ? c->backend : "auto";
	size_t off;

	enforce_plan_make(c->policy, backend, &c->plan);
	if (!c->plan.missing)
		return 0;
	off = (size_t)snprintf(c->why, sizeof(c->why), "this kernel cannot enforce the policy: ");
	enforce_plan_missing_line(c->policy, backend, &c->plan, c->why + off, sizeof(c->why) - off);
	return unenforced(c, CONFINE_PLAN, -EOPNOTSUPP);
}

static int step_cgroup(struct confine *c)
{
	return c->cgroup_name ? cgroup_env_create(c->cgroup_name, c->cg) : 0;
}

static int step_limits(struct confine *c)
{
	int err = cgroup_env_limits(c->cg, c->pids, c->memory_bytes, c->why, sizeof(c->why));

	if (!err)
		err = cgroup_env_cpu(c->cg, c->cpus, c->why, sizeof(c->why));
	return err ? unenforced(c, CONFINE_LIMITS, err) : 0;
}

static int step_backend(struct confine *c)
{
	int err;

	if (!c->plan.bpf || c->bpf)
		return 0;
	err = enforcer_open(&c->bpf, c->plan.lsm_mode, c->on_event, c->event_ctx);
	c->bpf_owned = !err;
	return err;
}

static int step_install(struct confine *c)
{
	int err;

	if (!c->plan.bpf)
		return 0;
	c->env->cgroup_fd = c->cg->fd;
	c->env->cgroup_id = c->cg->id;
	/* Only while installing: the caller owns the fd, and closes it. */
	c->env->root_fd = c->root_fd;
	err = enforcer_env_install(c->bpf, c->env, c->policy, c->plan.bpf_sections);
	c->env->root_fd = 0;
	return err;
}

static int step_pin(struct confine *c)
{
	if (!c->plan.bpf || !c->pin_dir)
		return 0;
	return enforcer_env_pin(c->bpf, c->env, c->pin_dir);
}

static int step_enter(struct confine *c)
{
	return cgroup_enter(c->cg);
}

static int step_no_new_privs(struct confine *c)
{
	(void)c;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}

static int step_seccomp(struct confine *c)
{
	int fd, err;

	if (!c->plan.seccomp)
		return 0;
	fd = seccomp_policy_load(c->policy, c->plan.socket_rules);
	if (fd < 0)
		return fd;
	/* The supervisor answers; the confined side must not keep the fd. */
	err = fd_send(c->sock, fd);
	close(fd);
	return err;
}

static const struct {
	const char *name;
	const char *cannot;
	int (*run)(struct confine *c);
} steps[CONFINE_STEPS] = {
    [CONFINE_PLAN] = {"checking what this kernel can enforce", "cannot enforce the policy", step_plan},
    [CONFINE_CGROUP] = {"creating the cgroup", "cannot create the cgroup", step_cgroup},
    [CONFINE_LIMITS] = {"applying the limits", "cannot apply the limits", step_limits},
    [CONFINE_BACKEND] = {"loading the BPF programs", "cannot load the BPF programs",
			 step_backend},
    [CONFINE_INSTALL] = {"installing the policy", "cannot install the policy", step_install},
    [CONFINE_PIN] = {"pinning the policy", "cannot pin the policy", step_pin},
    [CONFINE_ENTER] = {"joining the cgroup", "cannot join the cgroup", step_enter},
    [CONFINE_NO_NEW_PRIVS] = {"setting no_new_privs", "cannot set no_new_privs",
			      step_no_new_privs},
    [CONFINE_SECCOMP] = {"loading the seccomp filter", "cannot load the seccomp filter",
			 step_seccomp},
};

const char *confine_step_name(enum confine_step step)
{
	return (unsigned)step < CONFINE_STEPS ? steps[step].name : NULL;
}

const char *confine_step_cannot(enum confine_step step)
{
	return (unsigned)step < CONFINE_STEPS ? steps[step].cannot : NULL;
}

int confine_setup(struct confine *c, enum confine_step first, enum confine_step last)
{
	int err;

	if ((unsigned)first > (unsigned)last || (unsigned)last >= CONFINE_STEPS)
		return -EINVAL;
	for (unsigned i = first; i <= (unsigned)last; i++) {
		c->why[0] = 0;
		err = steps[i].run(c);
		if (!err)
			continue;
		c->failed = (enum confine_step)i;
		c->err = err < 0 ? err : -EIO;
		if (i == CONFINE_PLAN && c->kernel)
			snprintf(c->step, sizeof(c->step), "checking what %s can enforce", c->kernel);
		else
			snprintf(c->step, sizeof(c->step), "%s", steps[i].name);
		return c->err;
	}
	c->why[0] = 0;
	return 0;
}

void confine_counters(struct confine *c, struct confine_counters *n)
{
	memset(n, 0, sizeof(*n));
	if (!c->bpf)
		return;
	enforcer_events_read(c->bpf, 0);
	n->lost = enforcer_counter(c->bpf, FNG_CNT_RINGBUF_FULL);
	n->map_fail = enforcer_counter(c->bpf, FNG_CNT_MAP_FAIL);
	n->too_deep = enforcer_counter(c->bpf, FNG_CNT_PATH_TOO_DEEP);
	n->missed = enforcer_counter(c->bpf, FNGUARD_CNT_PROBE_MISSED);
}

int confine_kill(struct confine *c)
{
	return c->cg->fd >= 0 ? cgroup_kill_all(c->cg) : 0;
}

void confine_end(struct confine *c)
{
	if (c->bpf) {
		enforcer_env_remove(c->bpf, c->env);
		if (c->bpf_owned)
			enforcer_close(c->bpf);
		c->bpf = NULL;
		c->bpf_owned = false;
	}
	if (c->cgroup_name && c->cg->path[0])
		cgroup_env_destroy(c->cg);
}
