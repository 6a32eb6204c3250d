/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kmod backend: the kernel module's half of an enforcement object opened with
 * BPF_LSM_KMOD (enforcer.h), which hands it the files, exec and family sections. It talks
 * to the module through its client (kmod_client.h) and keeps what the module itself does not:
 * which environments are this object's (the module's events group carries every
 * environment's events, another fnguard run's too; only these are passed on), and the
 * module's counters when it connected (they are global: only what changed since counts).
 */
#ifndef FNGUARD_KMOD_BACKEND_H
#define FNGUARD_KMOD_BACKEND_H

#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "kmod_client.h"
#include "policy.h"

struct kmod_backend;

/* Connect to the module; @fn gets the events of this object's environments only. */
int kmod_backend_open(struct kmod_backend **out, kmod_event_fn fn, void *ctx);
void kmod_backend_close(struct kmod_backend *k);

/* Install or replace the policy of the environment @cgroup_id (kmod_client_env_install()),
 * which becomes one of this object's. */
int kmod_backend_env_install(struct kmod_backend *k, uint64_t cgroup_id,
			     const struct fng_policy_conf *conf, const struct fng_policy *p,
			     int root_fd);
/* Remove its policy (none installed is no error), read its last queued events while they are
 * still ours, and forget it. 0, or -errno. */
int kmod_backend_env_remove(struct kmod_backend *k, uint64_t cgroup_id);
int kmod_backend_env_reset_execs(struct kmod_backend *k, uint64_t cgroup_id);

/* The events socket (for poll), and reading what is there without blocking. */
int kmod_backend_events_fd(struct kmod_backend *k);
int kmod_backend_events_read(struct kmod_backend *k);

/* How much the module's counter @which (enum fnguard_counter) grew since we connected; 0 when
 * it cannot be read. */
uint64_t kmod_backend_counter(struct kmod_backend *k, unsigned which);

#endif
