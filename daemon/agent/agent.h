/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fnguard-agent: the supervisor inside one execution environment. It runs the handler once per
 * invocation by the handler protocol of docs/policy.md (payload on stdin, response from stdout,
 * stderr lines as logs), answers the seccomp notifications of the syscall deny list, and resets
 * the environment between invocations. It talks to fnguardd over one control channel
 * (proto/fnguard/v1/agent.proto).
 *
 * The agent is PID 1 of its environment (a process environment's pid namespace, or a microVM),
 * keeps the privileges it needs to reset the environment, and drops every privilege in the
 * handler before executing it. It trusts nothing the handler does: a handler that floods
 * stdout or stderr is cut at the limits below.
 */
#ifndef FNGUARD_AGENT_H
#define FNGUARD_AGENT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "confine.h"
#include "fnguard_api.h" /* FNGUARD_PAYLOAD_MAX: the payload and response limit */
#include "policy.h"

/* stderr is cut into lines of at most this many bytes. */
#define AGENT_LOG_LINE_MAX 16384

struct agent_config {
	const struct fng_policy *policy; /* the syscall deny list, answers to notifications */
	/* The confinement (confine.h) whose last steps, no_new_privs and the seccomp filter of
	 * its plan, each handler takes before it is executed (and, with @cg, its first). */
	struct confine *confine;
	uid_t uid;			 /* the handler's user and group */
	gid_t gid;
	uint64_t tmp_size; /* bytes of the /tmp tmpfs made by a reset */
	/* Hooks of a microVM guest, whose kernel enforces the policy itself; process
	 * environments leave them NULL. @events_fd is polled with the rest when @events_fn is
	 * set; @events_fn is called when it is readable and before each result is sent, so that
	 * denials come before the result of the invocation that caused them (@invocation: the
	 * running one's id, "" between invocations). @start_fn is called before each handler
	 * starts (exec.children counts execs from the handler's start). */
	int events_fd;
	void (*events_fn)(void *ctx, const char *invocation);
	/* A guest's environment cgroup: each handler joins it before it is executed, and its
	 * memory peak and OOM kills go into each result. NULL in a process environment, which
	 * is in its cgroup as a whole and measured by the daemon, from outside. */
	const struct fng_cgroup *cg;
	void (*start_fn)(void *ctx);
	void *hook_ctx;
	/* A runtime's environment (docs/runtime.md), when @runtime is set ("python3", ...):
	 * @runtime_argv is started once (again after each reset) with @runtime_envp, and
	 * invocations are handed to it through the Runtime API on 127.0.0.1:@runtime_api_port.
	 * It must ask for one within @runtime_init_timeout_ms. NULL: the stdio handler
	 * protocol, one process per invocation. */
	const char *runtime;
	char **runtime_argv;
	char **runtime_envp;
	uint16_t runtime_api_port;
	uint64_t runtime_init_timeout_ms;
	const char *function_arn; /* Lambda-Runtime-Invoked-Function-Arn */
};

/*
 * Serve the control channel @ctl until AgentShutdown or its end of file; sends AgentReady
 * first. Returns 0 on a clean shutdown, else -errno (after an AgentFailure when it can).
 */
int agent_serve(const struct agent_config *cfg, int ctl);

/*
 * Ordered set-ups (a process environment's child, a microVM's jailer, the guest agent), in the
 * manner of Firecracker's jailer: one step per call, and the first failed step with its -errno.
 */
struct setup_step {
	const char *step;
	int err;
};

#define SETUP_STEP(st, what, expr)                                                                 \
	do {                                                                                       \
		int __e = (expr);                                                                  \
		if (__e) {                                                                         \
			(st)->step = (what);                                                       \
			(st)->err = __e < 0 ? __e : -EIO;                                          \
			return (st)->err;                                                          \
		}                                                                                  \
	} while (0)

/* 0 when @r is 0, else -errno: for calls that return -1 and set errno. */
static inline int errno_or(int r)
{
	return r ? -errno : 0;
}

/* Tell the daemon on @fd why set-up failed (AgentFailure; @error NULL: strerror(-err)). */
int agent_failure_write(int fd, const char *step, int err, const char *error);

/* The loopback interface of this network namespace, up (the Runtime API is on it). */
int agent_loopback_up(void);

/* Mount a fresh, empty tmpfs of @size bytes on @dir (mode 1777, nosuid, nodev). */
int agent_tmp_mount(const char *dir, uint64_t size);

#endif
