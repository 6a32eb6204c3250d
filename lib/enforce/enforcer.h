/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The enforcer: one loaded enforcement object (the bpf/ programs, linked) serving any number
 * of environments, whichever backend holds the file, exec and family sections. An environment
 * is a cgroup; its policy is installed under a policy id and switched in with one map update
 * (see kmod/uapi/fnguard_abi.h), so updates are atomic. Opened with BPF_LSM_PROGS, the BPF LSM
 * programs enforce those sections; with BPF_LSM_KMOD, the object hands them to the kernel
 * module (kmod_backend.h) and keeps the cgroup programs, the environments map and its events.
 */
#ifndef FNGUARD_ENFORCER_H
#define FNGUARD_ENFORCER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"

struct enforcer;

struct enforce_env {
	uint64_t cgroup_id;
	int cgroup_fd;
	uint32_t policy_id;	/* 0: nothing installed */
	struct bpf_link *links[6];
	const struct fng_policy *policy; /* the policy in force, for naming rules in events */
	int root_fd; /* > 0: resolve rule paths in this root (the environment's); 0: ours */
};

/* Called for every event read from the ring buffer. */
typedef void (*bpf_event_fn)(const struct fng_event *e, void *ctx);

/* Who decides files, exec and socket families (enforcer_open's @mode). */
enum {
	BPF_LSM_NONE = 0,  /* nobody: only the cgroup network programs run */
	BPF_LSM_PROGS = 1, /* the BPF LSM programs of the object */
	BPF_LSM_KMOD = 2,  /* the fnguard kernel module (kmod_backend.h), through this object */
};

/* Load the object; with BPF_LSM_KMOD also connect to the module. */
int enforcer_open(struct enforcer **out, int mode, bpf_event_fn fn, void *ctx);
void enforcer_close(struct enforcer *b);

/* Install @p for @env (first call), or replace the policy in force atomically. @sections
 * (FNG_SEC_* of policy.h) says which sections to enforce; the others are left open. */
int enforcer_env_install(struct enforcer *b, struct enforce_env *env,
			    const struct fng_policy *p, unsigned sections);
/* Remove the environment's policy and detach its programs. */
int enforcer_env_remove(struct enforcer *b, struct enforce_env *env);

/* children: deny counts execs from the handler's start; a daemon that runs one handler per
 * invocation in a warm environment starts the count again before each. */
int enforcer_env_reset_execs(struct enforcer *b, const struct enforce_env *env);

/*
 * Pinning, so enforcement survives the process that installed it (a daemon killed with
 * SIGKILL): enforcer_pin() pins the maps and the LSM links under DIR (a directory on bpffs),
 * enforcer_env_pin() an environment's cgroup links under DIR/env-<cgroup id>/. Whatever is
 * pinned stays in force until enforcer_unpin(DIR) removes it (or the cgroup goes away).
 */
int enforcer_pin(struct enforcer *b, const char *dir);
int enforcer_env_pin(struct enforcer *b, const struct enforce_env *env, const char *dir);
int enforcer_unpin(const char *dir);

/* The ring buffer's epoll fd, and reading what is there (calls the event function). */
int enforcer_events_fd(struct enforcer *b);
int enforcer_events_read(struct enforcer *b, int timeout_ms);
/* Sum of a per-CPU failure counter (enum fng_counter). */
uint64_t enforcer_counter(struct enforcer *b, unsigned which);

#endif
