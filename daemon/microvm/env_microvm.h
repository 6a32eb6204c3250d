/* SPDX-License-Identifier: Apache-2.0 */
/*
 * microVM environments (env_microvm.c): the function in a QEMU -M microvm guest whose own
 * kernel enforces the policy, the VMM jailed on the host.
 */
#ifndef FNGUARD_ENV_MICROVM_H
#define FNGUARD_ENV_MICROVM_H

#include <stdbool.h>
#include <stddef.h>

struct env;
struct fnguardd;
struct fnguardd_config;

enum microvm_accel {
	MICROVM_ACCEL_AUTO = 0, /* KVM when a probe guest runs under it, else TCG */
	MICROVM_ACCEL_KVM,
	MICROVM_ACCEL_TCG,
};

/* Guest RAM at least (limits.memory below it is raised): Debian's kernel and the guest image
 * do not boot in 64 MiB. */
#define MICROVM_MIN_RAM_MIB 128

/* How long the KVM probe guest may take to boot and power off. */
#define MICROVM_KVM_PROBE_S 10
/* How long a guest may take to report ready: TCG emulates every instruction. */
#define MICROVM_BOOT_TIMEOUT_KVM_S 30
#define MICROVM_BOOT_TIMEOUT_TCG_S 120

/* 0 when QEMU, the guest kernel and the guest image are there; else -ENOENT and why. */
int env_microvm_available(const struct fnguardd_config *cfg, char *why, size_t whylen);
/* "kvm" or "tcg" (probing KVM once, the first time); why not KVM ("" when KVM). */
const char *env_microvm_accel(void);
const char *env_microvm_accel_why(void);
/* Whether env_microvm_accel() answers without probing. */
bool env_microvm_accel_known(void);

int env_microvm_start(struct env *e, char *why, size_t whylen);
int env_microvm_enforce(struct env *e, char *why, size_t whylen);
void env_microvm_destroy(struct env *e);
/* The KVM probe (microvm_accel: auto): started once, at start-up; microVM environments wait
 * while it runs. Its exit is reported by the loop's reaper, its deadline by the tick; then
 * @decided is called (what waits for a microVM is dispatched). */
void env_microvm_probe_start(struct fnguardd *d, void (*decided)(struct fnguardd *d));
bool env_microvm_probing(void);
void env_microvm_probe_tick(void);
void env_microvm_child_exited(struct fnguardd *d, pid_t pid, int status);
/* Once a second (envs_tick): the console's read budget is renewed. */
void env_microvm_tick(struct env *e);

#endif
