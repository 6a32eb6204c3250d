/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Confinement: the one ordered sequence that puts a policy in force for an environment, used
 * by `fnguard run`, the daemon's process environments and the microVM guest agent alike:
 *
 *   supervisor:        plan -> cgroup -> limits -> BPF object -> policy in force -> pinned
 *   confined process:  join the cgroup -> no_new_privs -> seccomp filter (fd to the supervisor)
 *
 * The caller loads the policy and says, in struct confine, what differs: whether the cgroup
 * is made here (@cgroup_name) or already made (@cg), which limits it gets, whether the BPF
 * object is the caller's (@bpf, the daemon's) or loaded here, where rule paths resolve
 * (@root_fd), whether the policy is pinned (@pin_dir), and what is said when a rule cannot be
 * enforced (@unenforced). Everything is done by confine_setup() over a range of the steps
 * below, in their order; a step the parameters make pointless (no cgroup to make, no BPF
 * section planned) succeeds at once. Callers that set up in stages (the daemon: the plan at
 * registration, the cgroup at start, the policy once the environment's root exists) call it
 * once per stage, always in this order. The first step that fails stops the sequence and
 * names itself (@step), with its -errno (@err) and, where it knows more, why (@why).
 */
#ifndef FNGUARD_CONFINE_H
#define FNGUARD_CONFINE_H

#include <stdbool.h>
#include <stdint.h>

#include "enforcer.h"
#include "cgroup.h"
#include "plan.h"
#include "policy.h"

enum confine_step {
	/* In the supervisor, before any process of the environment runs. */
	CONFINE_PLAN = 0,    /* what this kernel can enforce (plan.h) */
	CONFINE_CGROUP = 1,  /* the environment's cgroup */
	CONFINE_LIMITS = 2,  /* its limits, before any process is in it */
	CONFINE_BACKEND = 3, /* the BPF object, unless the caller has one */
	CONFINE_INSTALL = 4, /* the policy in force for the cgroup */
	CONFINE_PIN = 5,     /* pinned, so that it outlives the supervisor */
	/* In the confined process: joining first, the filter last before it executes. */
	CONFINE_ENTER = 6,	   /* into the cgroup: every later step of its own runs confined */
	CONFINE_NO_NEW_PRIVS = 7, /* required by the unprivileged seccomp filter */
	CONFINE_SECCOMP = 8,	   /* the syscall deny list and socket rules (seccomp_notify.h) */
	CONFINE_STEPS
};

struct confine {
	/* What the caller decides. */
	const struct fng_policy *policy;
	const char *backend; /* for CONFINE_PLAN: "auto" (NULL), "bpf-lsm" or "kmod" */
	const char *kernel;  /* in CONFINE_PLAN's name: "the guest kernel"; NULL: "this kernel" */
	/* A rule the plan or the limits cannot enforce: @unenforced (when set) is told first;
	 * then with @partial the sequence goes on without it, else the step fails. */
	bool partial;
	void (*unenforced)(const struct confine *c, enum confine_step step, void *ctx);
	void *ctx;
	const char *cgroup_name; /* CONFINE_CGROUP makes it in @cg; NULL: @cg is made already */
	struct fng_cgroup *cg;	 /* the caller's storage */
	uint32_t pids;		 /* CONFINE_LIMITS; 0: unlimited */
	uint64_t memory_bytes;
	uint32_t cpus;
	struct enforcer *bpf; /* the caller's object, or NULL: CONFINE_BACKEND loads one */
	bpf_event_fn on_event;	 /* for an object loaded here */
	void *event_ctx;
	struct enforce_env *env; /* the caller's storage for the environment's BPF state */
	int root_fd;	     /* > 0: rule paths resolve in this root (enforce_env.root_fd) */
	const char *pin_dir; /* CONFINE_PIN pins the environment's links here; NULL: not pinned */
	int sock;	     /* CONFINE_SECCOMP sends the notification fd here */

	/* What the sequence made: the plan (set it instead of running CONFINE_PLAN when it was
	 * made before), and whether the object is ours (confine_end closes it). */
	struct enforce_plan plan;
	bool bpf_owned;

	/* The failed step: its id, name ("creating the cgroup"), -errno, and why when known. */
	enum confine_step failed;
	char step[64];
	int err;
	char why[1024];
};

/* Run steps @first to @last in order: 0, or the failed step's -errno (@failed, @step, @err and
 * @why set). */
int confine_setup(struct confine *c, enum confine_step first, enum confine_step last);

/* A step's name, as in @step, and what a user is told when it fails ("cannot create the
 * cgroup"); NULL for an id that is no step. */
const char *confine_step_name(enum confine_step step);
const char *confine_step_cannot(enum confine_step step);

/* What the kernel could not report or decide, read when the environment ends (after its
 * last events are read: confine_counters reads them). */
struct confine_counters {
	uint64_t lost;	   /* events the ring buffer had no room for */
	uint64_t map_fail; /* decisions denied because the policy maps could not be read */
	uint64_t too_deep; /* paths deeper than FNG_MAX_PATH_DEPTH, denied */
	uint64_t missed;   /* calls the module's probes skipped (kprobe recursion guard) */
};
void confine_counters(struct confine *c, struct confine_counters *n);

/* Kill what is left in the cgroup: how many processes survived SIGKILL, or -errno. */
int confine_kill(struct confine *c);
/* Undo what the sequence did: the policy removed, an object of ours closed, a cgroup made
 * here removed. */
void confine_end(struct confine *c);

#endif
