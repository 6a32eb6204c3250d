/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The steps every kind of environment takes (process and microVM alike): its cgroup with
 * limits (-errno, @why set), and its first process, in new namespaces (@ns_flags), which
 * starts in @child with no signal blocked and the control channel as fd 3; sets e->pid and
 * e->ctl.fd.
 */
#ifndef FNGUARD_ENV_SPAWN_H
#define FNGUARD_ENV_SPAWN_H

#include <stddef.h>
#include <stdint.h>

struct env;

int env_cgroup_make(struct env *e, uint32_t pids, uint64_t memory_bytes, uint32_t cpus,
		    char *why, size_t whylen);
int env_spawn(struct env *e, uint64_t ns_flags, void (*child)(struct env *e, void *arg), void *arg,
	      char *why, size_t whylen);

/* The first step of ending an environment, of either kind: SIGKILL to its first process
 * (e->pid) and to everything in its cgroup, then e->pid reaped (waiting at most 3 s; 0 after),
 * so that its cgroup can be removed. */
void env_kill(struct env *e);

/* An environment's id, "env-SEQ-PID" (also its cgroup's name; SEQ 0 is the KVM probe's):
 * made in one place, read in one place (envs_cleanup_stale). env_id_parse() is 0 when @name
 * is one, else -EINVAL. */
void env_id_make(char *buf, size_t len, uint64_t seq, int pid);
int env_id_parse(const char *name, unsigned long long *seq, int *pid);

#endif
