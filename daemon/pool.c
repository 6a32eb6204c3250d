// SPDX-License-Identifier: Apache-2.0
/*
 * The pool of environments. An environment is bound to one function version, runs one
 * invocation at a time, is reused warm, and is recycled after max_invocations or max_lifetime.
 * Invocations wait in their function's bounded queue (invocations.c) until an environment is
 * ready; a new environment is started while the function has fewer than max_envs_per_function.
 *
 * The agent inside an environment is not trusted (agent.proto): every message is checked
 * against the environment's state (channel.c), and the limits that matter are enforced from
 * here: the
 * timeout by a timerfd that kills the whole cgroup, the memory limit by the cgroup itself
 * (the daemon reads its OOM count).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "agent.h"
#include "channel.h"
#include "emit.h"
#include "env_microvm.h"
#include "env_process.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "invocations.h"
#include "log.h"
#include "pool.h"
#include "registry.h"

static void env_stop(struct env *e, Fnguard__V1__EnvPhase phase, const char *reason);

/* What differs between the kinds of environment: how one starts, is put under the policy,
 * and goes away. */
static const struct env_ops {
	int (*start)(struct env *e, char *why, size_t whylen);
	int (*enforce)(struct env *e, char *why, size_t whylen);
	void (*destroy)(struct env *e);
} env_process_ops = {env_process_start, env_process_enforce, env_process_destroy},
  env_microvm_ops = {env_microvm_start, env_microvm_enforce, env_microvm_destroy};

static const struct env_ops *env_ops(const struct env *e)
{
	return e->fn->policy->environment.kind == FNG_ENV_PROCESS ? &env_process_ops
								   : &env_microvm_ops;
}

/* A guest that never reports ready is stopped after this (0: no bound, process envs). */
static int env_boot_timeout_s(const struct env *e)
{
	if (!env_is_microvm(e))
		return 0;
	if (e->d->cfg.microvm_boot_timeout_s)
		return (int)e->d->cfg.microvm_boot_timeout_s;
	return !strcmp(env_microvm_accel(e->d), "kvm") ? MICROVM_BOOT_TIMEOUT_KVM_S
						   : MICROVM_BOOT_TIMEOUT_TCG_S;
}

static Fnguard__V1__EnvKind env_kind(const struct env *e)
{
	return e->fn->policy->environment.kind == FNG_ENV_PROCESS ? FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS
								   : FNGUARD__V1__ENV_KIND__ENV_KIND_MICROVM;
}

static void env_emit_state(struct env *e, Fnguard__V1__EnvPhase phase, const char *reason)
{
	struct fnguardd *d = e->d;
	struct telemetry_event *t = ev_scratch(d);
	char accel[200];

	/* Which accelerator runs a guest, and why not KVM, is said where it starts and serves. */
	if (env_is_microvm(e) && !reason[0] &&
	    (phase == FNGUARD__V1__ENV_PHASE__ENV_PHASE_STARTING ||
	     phase == FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY)) {
		const char *a = env_microvm_accel(e->d);

		snprintf(accel, sizeof(accel), "microvm on %s%s%s", a, *env_microvm_accel_why(d) ? ": " : "",
			 env_microvm_accel_why(d));
		reason = accel;
	}
	telemetry_env_state(t, phase, env_kind(e), reason);
	emit(d, t, e->fn, e, NULL);
}



static void timer_disarm(struct env *e)
{
	struct itimerspec its = {0};

	if (e->timer.fd >= 0)
		timerfd_settime(e->timer.fd, 0, &its, NULL);
}

/* ------------------------------------------------------------------ lifecycle */

static bool env_expired(const struct env *e)
{
	const struct fng_environment *c = &e->fn->policy->environment;

	if (!c->reuse || e->fn->removed || e->d->stopping)
		return true;
	if (c->max_invocations && e->invocations >= c->max_invocations)
		return true;
	return c->max_lifetime_ns && (uint64_t)(mono_ns() - e->started_mono) >= c->max_lifetime_ns;
}

static void env_free(struct env *e)
{
	struct env **pp;

	for (pp = &e->d->envs; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	wire_decoder_free(&e->dec);
	env_out_free(e);
	free(e);
}

/* Stop @e: kill everything in it, remove its policy, cgroup and channel. */
static void env_stop(struct env *e, Fnguard__V1__EnvPhase phase, const char *reason)
{
	struct fn *fn = e->fn;

	bool never_ready = e->state == ENV_STARTING, start_failed;
	Fnguard__V1__Outcome outcome;

	if (e->state == ENV_STOPPING)
		return;
	e->state = ENV_STOPPING;
	if (e->ctl.fd >= 0) {
		Fnguard__V1__AgentRequest rq = FNGUARD__V1__AGENT_REQUEST__INIT;
		Fnguard__V1__AgentShutdown sd = FNGUARD__V1__AGENT_SHUTDOWN__INIT;
		uint8_t *frame;
		size_t len;

		rq.msg_case = FNGUARD__V1__AGENT_REQUEST__MSG_SHUTDOWN;
		rq.shutdown = &sd;
		/* Best effort, and never blocking: the cgroup is killed below whatever the agent
		 * does, and the end of file tells it as well. */
		if (!wire_frame_pack(&rq.base, 0, &frame, &len))
			env_out_last(e, frame, len);
		loop_del(&e->ctl);
		close(e->ctl.fd);
		e->ctl.fd = -1;
	}
	if (e->timer.fd >= 0) {
		loop_del(&e->timer);
		close(e->timer.fd);
		e->timer.fd = -1;
	}
	env_ops(e)->destroy(e); /* env_kill(): its first process is reaped */
	env_report_refused(e);
	env_emit_state(e, phase, reason);
	log_debug("env %s %s: %s", e->id, telemetry_env_phase_name(phase), reason);
	/* A runtime that failed to initialise (its init error, a module that is not there) is
	 * the function's error, not a crash. */
	outcome = strncmp(reason, "agent: runtime init: ", 21) ? FNGUARD__V1__OUTCOME__OUTCOME_CRASH
							      : FNGUARD__V1__OUTCOME__OUTCOME_ERROR;
	if (e->cur) {
		struct inv *inv = e->cur;

		e->cur = NULL;
		inv_complete(e, inv, outcome, -1, NULL, reason);
	}
	fn->n_envs--;
	e->d->n_envs--;
	env_free(e);
	/* An environment that could not start would fail the same way again at once: what
	 * waits for one fails now, with the reason, instead of a restart loop. */
	start_failed = never_ready && phase == FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED;
	if (start_failed)
		fn_queue_fail(fn, outcome, reason);
	if (fn->removed && !fn->n_envs && !fn->removing)
		function_free(fn);
	else if (!start_failed)
		env_dispatch(fn);
}

/* Not stopped here (callers still hold @e): the channel is shut, and its end of file stops
 * the environment from the loop with this reason. */
static void env_channel_broken(struct env *e, int err)
{
	if (e->fail_why[0])
		return;
	if (err == -ENOBUFS)
		snprintf(e->fail_why, sizeof(e->fail_why),
			 "control channel: the agent does not read what it is sent (%zu bytes)",
			 e->out_len - e->out_off);
	else
		snprintf(e->fail_why, sizeof(e->fail_why), "control channel: %s",
			 wire_strerror(err));
	shutdown(e->ctl.fd, SHUT_RDWR);
}

/* Queued, and written as the agent reads: an invoke of 6 MiB does not fit in a socket buffer,
 * and the loop serves every other environment meanwhile. */
static void env_send(struct env *e, Fnguard__V1__AgentRequest *rq)
{
	uint8_t *frame;
	size_t len;
	int err;

	if (e->fail_why[0])
		return;
	err = wire_frame_pack(&rq->base, 0, &frame, &len);
	if (!err)
		err = env_out_queue(e, frame, len);
	if (err)
		env_channel_broken(e, err);
}

static void env_run(struct env *e, struct inv *inv)
{
	Fnguard__V1__AgentRequest rq = FNGUARD__V1__AGENT_REQUEST__INIT;
	Fnguard__V1__AgentInvoke ai = FNGUARD__V1__AGENT_INVOKE__INIT;
	const struct fng_policy *p = e->fn->policy;
	struct itimerspec its = {0};
	struct timespec now;

	e->state = ENV_BUSY;
	e->cur = inv;
	inv->env = e;
	inv->attempts++;
	inv->cold = e->cold;
	e->cold = false;
	inv->start_mono = mono_ns();
	inv->lost_at_start = kernel_lost_total(e->d);
	inv_log_budget_init(inv);
	e->denial_flood = e->refused_idle = 0;
	e->oom_kills = cgroup_env_oom_kills(&e->cg);
	cgroup_env_memory_peak_reset(&e->cg);
	/* children: deny counts execs from the handler's start: this invocation's handler is
	 * the environment's first exec again. */
	if (e->benv.policy_id)
		enforcer_env_reset_execs(e->d->bpf, &e->benv);
	env_emit_state(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_BUSY, "");
	clock_gettime(CLOCK_REALTIME, &now);
	ai.invocation = inv->id;
	ai.payload.data = inv->payload;
	ai.payload.len = inv->payload_len;
	ai.deadline_unix_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 +
			      (int64_t)(p->limits.timeout_ns / 1000000);
	ai.function = p->function.name;
	ai.version = p->function.version;
	ai.handler = p->function.handler;
	rq.msg_case = FNGUARD__V1__AGENT_REQUEST__MSG_INVOKE;
	rq.invoke = &ai;
	if (p->limits.timeout_ns) {
		its.it_value.tv_sec = (time_t)(p->limits.timeout_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(p->limits.timeout_ns % 1000000000ull);
		timerfd_settime(e->timer.fd, 0, &its, NULL);
	}
	env_send(e, &rq);
}

/* Give @e its next invocation, or leave it ready. */
static void env_next(struct env *e)
{
	struct inv *inv = fn_queue_pop(e->fn);

	if (!inv) {
		e->state = ENV_READY;
		env_emit_state(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY, "");
		return;
	}
	env_run(e, inv);
}

static void env_ctl_event(struct watch *w, uint32_t events);
static void env_timer_event(struct watch *w, uint32_t events);

static int env_start(struct fn *fn)
{
	struct fnguardd *d = fn->d;
	struct env *e = calloc(1, sizeof(*e));
	char why[512] = "";
	int err;

	if (!e)
		return -ENOMEM;
	env_id_make(e->id, sizeof(e->id), ++d->next_env, (int)getpid());
	e->d = d;
	e->fn = fn;
	e->state = ENV_STARTING;
	e->cold = true;
	e->cg.fd = -1;
	e->ctl.fd = -1;
	e->console.fd = -1;
	e->ctl.fn = env_ctl_event;
	e->timer.fn = env_timer_event;
	e->started_mono = mono_ns();
	wire_decoder_init(&e->dec, 0);
	e->next = d->envs;
	d->envs = e;
	fn->n_envs++;
	d->n_envs++;
	env_emit_state(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_STARTING, "");
	e->timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (e->timer.fd < 0) {
		err = -errno;
		snprintf(why, sizeof(why), "timerfd: %s", strerror(errno));
		goto fail;
	}
	err = env_ops(e)->start(e, why, sizeof(why));
	if (err)
		goto fail;
	fcntl(e->ctl.fd, F_SETFL, O_NONBLOCK);
	if (env_boot_timeout_s(e)) {
		struct itimerspec its = {.it_value.tv_sec = env_boot_timeout_s(e)};

		timerfd_settime(e->timer.fd, 0, &its, NULL);
	}
	if (loop_add(&d->loop, &e->ctl, EPOLLIN) || loop_add(&d->loop, &e->timer, EPOLLIN)) {
		err = -errno;
		snprintf(why, sizeof(why), "epoll: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	log_warnx("env %s of %s:%s: %s", e->id, fn->policy->function.name,
		  fn->policy->function.version, why);
	env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED, why);
	return err;
}

void env_dispatch(struct fn *fn)
{
	struct fnguardd *d = fn->d;
	unsigned starting = 0;

	if (d->stopping)
		return;
	/* Which accelerator to start a guest with is not known yet: envs_dispatch_all() once
	 * it is. */
	if (fn->policy->environment.kind == FNG_ENV_MICROVM && env_microvm_probing(d))
		return;
	for (struct env *e = d->envs; e; e = e->next) {
		if (e->fn != fn)
			continue;
		if (e->state == ENV_READY && fn->queue)
			env_next(e);
		/* Starting or cleaning up after an invocation: ready soon, no need for more. */
		if (e->state == ENV_STARTING || e->state == ENV_RESETTING)
			starting++;
	}
	while (!fn->removed && fn->n_envs < d->cfg.max_envs_per_function &&
	       (fn->queued > starting ||
		fn->n_envs < fn->policy->environment.provisioned)) {
		starting++;
		if (env_start(fn))
			break;
	}
}

/* ------------------------------------------------------------------ the agent channel */

void env_denial(struct env *e, const struct fng_event *ev)
{
	struct fnguardd *d = e->d;
	struct telemetry_event *t = ev_scratch(d);
	struct fng_event guest;

	if (e->cur)
		e->cur->denials++;
	/* A guest's clock is its own: its agent relays each denial at once, so the time it
	 * arrives is the time to tell (within milliseconds). */
	if (env_is_microvm(e)) {
		struct timespec now;

		guest = *ev;
		clock_gettime(CLOCK_BOOTTIME, &now);
		guest.ts_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		ev = &guest;
	}
	telemetry_denial(t, ev, e->fn->policy, d->boot_to_real_ns);
	emit(d, t, e->fn, e, e->cur);
}

/* One message of the agent, checked by agent_message_check(): -EPROTO when it is out of
 * place, 1 when @e is gone. */
static int env_agent_message(struct env *e, const Fnguard__V1__AgentMessage *m, char *why,
			     size_t whylen)
{
	struct fnguardd *d = e->d;
	struct telemetry_event *t;
	struct fng_event ev;
	struct inv *inv;

	switch (agent_message_check(e, m, &ev, why, whylen)) {
	case AGENT_REFUSE:
		return -EPROTO;
	case AGENT_DROP:
		return 0;
	case AGENT_BOOTED:
		timer_disarm(e); /* the boot timeout */
		if (env_ops(e)->enforce(e, why, whylen))
			return -EPROTO;
		e->init_ns = (uint64_t)(mono_ns() - e->started_mono);
		/* A runtime's init is its own part of the cold start. */
		e->runtime_init_ns = m->ready->runtime_init_ns < e->init_ns ? m->ready->runtime_init_ns : 0;
		e->init_ns -= e->runtime_init_ns;
		log_debug("env %s ready in %.1f ms (runtime init %.1f ms)", e->id,
			  (e->init_ns + e->runtime_init_ns) / 1e6, e->runtime_init_ns / 1e6);
		env_next(e);
		return 0;
	case AGENT_RESET_DONE:
		env_next(e);
		return 0;
	case AGENT_LOG:
		for (size_t off = 0, n; off < m->log->line.len || !off; off += n) {
			t = ev_scratch(d);
			n = telemetry_log(t, "stderr", (const char *)m->log->line.data + off,
					  m->log->line.len - off);
			emit(d, t, e->fn, e, e->cur);
			if (!n)
				break;
		}
		return 0;
	case AGENT_DENIAL:
		env_denial(e, &ev);
		return 0;
	case AGENT_RESULT:
		break;
	}
	timer_disarm(e);
	inv = e->cur;
	e->cur = NULL;
	e->invocations++;
	inv_complete(e, inv, outcome_of(e, m->result), m->result->exit_status, m->result,
		     m->result->response_too_large ? "response over 6 MiB: discarded"
						   : m->result->error);
	if (env_expired(e)) {
		env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED,
			 e->fn->removed ? "function removed"
			 : !e->fn->policy->environment.reuse ? "reuse: false"
			 : d->stopping ? "daemon stopping"
				      : "max_invocations or max_lifetime reached");
		return 1;
	}
	if (e->fn->policy->environment.isolate_invocations) {
		Fnguard__V1__AgentRequest rq = FNGUARD__V1__AGENT_REQUEST__INIT;
		Fnguard__V1__AgentReset rs = FNGUARD__V1__AGENT_RESET__INIT;

		e->state = ENV_RESETTING;
		rq.msg_case = FNGUARD__V1__AGENT_REQUEST__MSG_RESET;
		rq.reset = &rs;
		env_send(e, &rq);
		return 0;
	}
	env_next(e);
	return 0;
}

static void env_ctl_event(struct watch *w, uint32_t events)
{
	struct env *e = (struct env *)((char *)w - offsetof(struct env, ctl));
	char why[512] = "";
	const uint8_t *frame;
	size_t len;
	long n;
	int r;

	if ((events & EPOLLOUT) && !e->fail_why[0]) {
		r = env_out_flush(e);
		if (r)
			env_channel_broken(e, r);
	}
	/* A bounded share of the loop per wake-up: an agent that writes as fast as it is read
	 * must not starve the other environments (epoll is level-triggered: the rest is read at
	 * the next turn). */
	for (int reads = 0; reads < ENV_READS_PER_EVENT; reads++) {
		n = wire_decoder_read(&e->dec, w->fd);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			if (e->fail_why[0])
				snprintf(why, sizeof(why), "%s", e->fail_why);
			else if (n == 0)
				snprintf(why, sizeof(why), "%s",
					 env_is_microvm(e) ? "the guest is gone (QEMU exited or was killed)"
							   : "the agent exited");
			else
				snprintf(why, sizeof(why), "control channel: %s", wire_strerror((int)n));
			break;
		}
		while ((r = wire_decoder_next(&e->dec, &frame, &len)) == 1) {
			Fnguard__V1__AgentMessage *m =
			    fnguard__v1__agent_message__unpack(NULL, len, frame);

			if (!m) {
				snprintf(why, sizeof(why), "agent: malformed message");
				break;
			}
			r = env_agent_message(e, m, why, sizeof(why));
			fnguard__v1__agent_message__free_unpacked(m, NULL);
			if (r == 1)
				return; /* e is gone */
			if (r < 0)
				break;
		}
		if (r < 0 && !why[0])
			snprintf(why, sizeof(why), "control channel: %s", wire_decoder_error(&e->dec));
		if (why[0])
			break;
	}
	if (!why[0])
		return;
	/* The environment died or misbehaved: it is stopped, never trusted again. An OOM kill
	 * of the agent itself counts as the invocation's. */
	if (e->cur && cgroup_env_oom_kills(&e->cg) > e->oom_kills) {
		struct inv *inv = e->cur;

		e->cur = NULL;
		inv_complete(e, inv, FNGUARD__V1__OUTCOME__OUTCOME_OOM, 137, NULL, "out of memory");
	}
	log_warnx("env %s: %s", e->id, why);
	env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED, why);
}

static void env_timer_event(struct watch *w, uint32_t events)
{
	struct env *e = (struct env *)((char *)w - offsetof(struct env, timer));
	uint64_t ticks;
	struct inv *inv;

	if (read(w->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	if (e->state == ENV_STARTING) {
		char why[96];

		snprintf(why, sizeof(why), "the guest did not report ready within %d s",
			 env_boot_timeout_s(e));
		env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_FAILED, why);
		return;
	}
	if (!e->cur)
		return;
	/* The whole environment: a handler's children must not outlive its timeout. */
	inv = e->cur;
	e->cur = NULL;
	cgroup_kill_all(&e->cg);
	inv_complete(e, inv, FNGUARD__V1__OUTCOME__OUTCOME_TIMEOUT, 128 + SIGKILL, NULL,
		     "timed out: every process of the environment was killed");
	env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED, "invocation timed out");
}

/* ------------------------------------------------------------------ the whole pool */

void envs_stop_function(struct fn *fn, const char *reason)
{
	struct env *e, *next;

	/* Queued invocations of a removed function fail now. */
	fn_queue_fail(fn, FNGUARD__V1__OUTCOME__OUTCOME_CRASH, reason);
	for (e = fn->d->envs; e; e = next) {
		next = e->next;
		if (e->fn == fn && e->state != ENV_BUSY)
			env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED, reason);
	}
}

void envs_stop_all(struct fnguardd *d, const char *reason)
{
	while (d->envs) {
		if (d->envs->cur)
			d->envs->cur->attempts = INV_ATTEMPTS;
		env_stop(d->envs, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED, reason);
	}
	for (struct fn *fn = d->fns; fn; fn = fn->next)
		envs_stop_function(fn, reason);
}

void envs_dispatch_all(struct fnguardd *d)
{
	for (struct fn *fn = d->fns; fn; fn = fn->next)
		if (!fn->removed)
			env_dispatch(fn);
}

/* Once a second: leases, provisioned environments, kernel losses. */
void envs_tick(struct fnguardd *d)
{
	struct env *e, *next;

	for (e = d->envs; e; e = next) {
		next = e->next;
		if (env_is_microvm(e))
			env_microvm_tick(e);
		env_report_refused(e);
		if (e->state == ENV_READY && env_expired(e))
			env_stop(e, FNGUARD__V1__ENV_PHASE__ENV_PHASE_RECYCLED,
				 "max_lifetime reached");
	}
	for (struct fn *fn = d->fns; fn; fn = fn->next)
		if (!fn->removed && fn->n_envs < fn->policy->environment.provisioned)
			env_dispatch(fn);
}

struct env *env_by_cgroup(struct fnguardd *d, uint64_t cgroup_id)
{
	for (struct env *e = d->envs; e; e = e->next)
		if (e->cg.id == cgroup_id && e->state != ENV_STOPPING)
			return e;
	return NULL;
}

/* ------------------------------------------------------------------ leftovers */

/*
 * What a daemon killed with SIGKILL left: its environments' cgroups (their processes too) and
 * pinned programs. Another running daemon's environments (env-N-PID with PID alive) are not
 * touched.
 */
int envs_cleanup_stale(void)
{
	char root[512], dir[600], path[1200];
	unsigned n = 0;
	struct dirent *de;
	DIR *dh;

	if (cgroup_v2_root(root, sizeof(root)))
		return 0;
	snprintf(dir, sizeof(dir), "%s/fnguard", root);
	dh = opendir(dir);
	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		struct fng_cgroup cg = {.fd = -1};
		unsigned long long seq;
		int pid;

		if (env_id_parse(de->d_name, &seq, &pid))
			continue;
		if (pid != getpid() && !kill(pid, 0))
			continue;
		if (snprintf(cg.path, sizeof(cg.path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(cg.path))
			continue;
		snprintf(path, sizeof(path), "%s", cg.path);
		cg.fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg.fd < 0)
			continue;
		cgroup_kill_all(&cg);
		close(cg.fd);
		cg.fd = -1;
		if (rmdir(path))
			log_warn("cannot remove stale cgroup %s", path);
		n++;
	}
	closedir(dh);
	if (n)
		log_info("cleaned %u environment(s) left by a previous daemon", n);
	return (int)n;
}
