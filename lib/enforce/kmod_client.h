/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fnguard kernel module's client: its generic netlink family (kmod/uapi/fnguard_genl.h),
 * through libnl-genl-3. The module enforces the files, exec and socket-family sections (and
 * refuses raw sockets while egress is restricted) on kernels where 'bpf' is not an active LSM;
 * egress rules stay with the cgroup BPF programs.
 *
 * Used by the kmod backend (kmod_backend.h), which enforcer_open(..., BPF_LSM_KMOD, ...)
 * hands these sections to.
 */
#ifndef FNGUARD_KMOD_CLIENT_H
#define FNGUARD_KMOD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"
#include "rules.h"
#include "policy.h"

struct kmod_client;

typedef void (*kmod_event_fn)(const struct fng_event *e, void *ctx);

/*
 * Is the module there and answering? Resolving the family makes the kernel load the module
 * when it is installed but not loaded (its genl family alias). On failure @why says why.
 */
bool kmod_probe(char *why, size_t why_len, char *info, size_t info_len);

/* Connect: one socket for requests, one subscribed to the events group. */
int kmod_client_open(struct kmod_client **out, kmod_event_fn fn, void *ctx);
void kmod_client_close(struct kmod_client *k);

/*
 * Install @p's files, exec and family settings (@conf: built by the caller, as for the BPF
 * maps) for the environment @cgroup_id, or replace its policy in one step. Rule paths are
 * resolved in @root_fd (> 0) or in our root (0), by rules_files_collect().
 */
int kmod_client_env_install(struct kmod_client *k, uint64_t cgroup_id,
			     const struct fng_policy_conf *conf, const struct fng_policy *p,
			     int root_fd);
/* Remove the environment's policy; -ENOENT when none was installed. */
int kmod_client_env_remove(struct kmod_client *k, uint64_t cgroup_id);
int kmod_client_env_reset_execs(struct kmod_client *k, uint64_t cgroup_id);

/* The events socket (for poll), and reading what is there without blocking. */
int kmod_client_events_fd(struct kmod_client *k);
int kmod_client_events_read(struct kmod_client *k);

/* The module's counters (enum fnguard_counter), plus events the socket lost (overrun) added to
 * FNGUARD_CNT_EVENTS_DROPPED. 0, or -errno. */
int kmod_client_counters(struct kmod_client *k, uint64_t out[FNGUARD_CNT_MAX]);
/* Environments with a policy in the module (GET_INFO). */
int kmod_client_policies(struct kmod_client *k, uint32_t *n);

/* Remove the policy of @cgroup_id with a connection of its own (leftovers of a killed daemon). */
int kmod_env_remove_oneshot(uint64_t cgroup_id);

#endif
