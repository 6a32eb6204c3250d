/* SPDX-License-Identifier: Apache-2.0 */
/* The environments (pool.c): their start, reuse, timeouts and end, and the agent channel's
 * messages. */
#ifndef FNGUARD_POOL_H
#define FNGUARD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct env;
struct fn;
struct fng_event;
struct fnguardd;

/* Start environments for @fn while invocations wait and it may have more (after
 * inv_submit()). */
void env_dispatch(struct fn *fn);
void envs_stop_function(struct fn *fn, const char *reason);
void envs_stop_all(struct fnguardd *d, const char *reason);
void envs_tick(struct fnguardd *d);
/* Every function's waiting invocations get environments (after the KVM probe answered). */
void envs_dispatch_all(struct fnguardd *d);
struct env *env_by_cgroup(struct fnguardd *d, uint64_t cgroup_id);
/* A denial in @e: from the kernel ring buffer or the agent's seccomp notifications. */
void env_denial(struct env *e, const struct fng_event *ev);
/* What a daemon killed with SIGKILL left: its environments' cgroups and their processes.
 * Returns how many were cleaned. */
int envs_cleanup_stale(void);

#endif
