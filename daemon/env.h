/* SPDX-License-Identifier: Apache-2.0 */
/* Environments and invocations (env.c): the pool, the queue, timeouts, results. */
#ifndef FNGUARD_ENV_H
#define FNGUARD_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct env;
struct fn;
struct fng_event;
struct fnguardd;

int inv_submit(struct fn *fn, const uint8_t *payload, size_t len, bool async,
	       struct client *c, uint64_t req_id, char *id_out, size_t id_len);
void inv_client_gone(struct fnguardd *d, struct client *c);
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
