/* SPDX-License-Identifier: Apache-2.0 */
/*
 * microVM environments (daemon/microvm/): the function in a QEMU -M microvm guest whose own
 * kernel enforces the policy, the VMM jailed on the host. launcher.c starts and stops them,
 * image.c packs the function into the guest image, vmm_jail.c confines the VMM, probe.c finds
 * out whether KVM runs a guest.
 */
#ifndef FNGUARD_ENV_MICROVM_H
#define FNGUARD_ENV_MICROVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct env;
struct fnguardd;
struct fnguardd_config;

enum microvm_accel {
	MICROVM_ACCEL_AUTO = 0, /* KVM when a probe guest runs under it, else TCG */
	MICROVM_ACCEL_KVM,
	MICROVM_ACCEL_TCG,
};

/*
 * Guest RAM is limits.memory (the function's cgroup in the guest) plus this, for the guest
 * kernel, the unpacked guest image and the agent (docs/policy.md "limits"). Measured (Debian's
 * 6.1 kernel, TCG, a python3 function of limits.memory 128Mi reading /proc/meminfo): of 192 MiB
 * the guest sees 140 MiB (MemTotal: the rest is the kernel's own, reserved at boot), and with
 * the function's cgroup at 79 MiB only 11 MiB was available: 102 MiB beyond the function. With
 * 64 MiB the guest's global OOM killer, not the function's cgroup, killed a function at 77 MiB
 * of 128. 128 MiB leaves a margin above that for the page cache of the runtime's image.
 */
#define MICROVM_GUEST_OVERHEAD_MIB 128
/* Guest RAM at least (limits.memory below it is raised): Debian's kernel and the guest image
 * do not boot in 64 MiB. */
#define MICROVM_MIN_RAM_MIB 128

/* How long the KVM probe guest may take to boot and power off. */
#define MICROVM_KVM_PROBE_S 10
/* How long a guest may take to report ready: TCG emulates every instruction. */
#define MICROVM_BOOT_TIMEOUT_KVM_S 30
#define MICROVM_BOOT_TIMEOUT_TCG_S 120

/* What the VMM's jail holds of the host, at most (vmm_jail.c). */
#define MICROVM_JAIL_FILES_MAX 128

/* The daemon's microVM state (struct fnguardd's microvm). */
struct microvm_state {
	/* The accelerator: decided once, by the configuration or by the KVM probe. */
	struct microvm_probe {
		struct env *env;		     /* the probe's VMM, while it runs */
		void (*decided)(struct fnguardd *d); /* then: dispatch what waits for it */
		int err_fd;			     /* its stderr */
		int64_t deadline;		     /* CLOCK_MONOTONIC ns */
		bool timed_out;
		bool probed;
		bool kvm;
		char why[160]; /* why TCG, when it is */
	} probe;
	/* What QEMU needs of the host: found once, at the first microVM start (vmm_jail.c). */
	char *jail_files[MICROVM_JAIL_FILES_MAX];
	unsigned n_jail_files;
};

/* 0 when QEMU, the guest kernel and the guest image are there; else -ENOENT and why. */
int env_microvm_available(const struct fnguardd_config *cfg, char *why, size_t whylen);
/* "kvm" or "tcg" (probing KVM once, the first time); why not KVM ("" when KVM). */
const char *env_microvm_accel(const struct fnguardd *d);
const char *env_microvm_accel_why(const struct fnguardd *d);
/* Whether env_microvm_accel() answers without probing. */
bool env_microvm_accel_known(const struct fnguardd *d);

int env_microvm_start(struct env *e, char *why, size_t whylen);
int env_microvm_enforce(struct env *e, char *why, size_t whylen);
void env_microvm_destroy(struct env *e);
/* The KVM probe (microvm_accel: auto): started once, at start-up; microVM environments wait
 * while it runs. Its exit is reported by the loop's reaper, its deadline by the tick; then
 * @decided is called (what waits for a microVM is dispatched). */
void env_microvm_probe_start(struct fnguardd *d, void (*decided)(struct fnguardd *d));
bool env_microvm_probing(const struct fnguardd *d);
void env_microvm_probe_tick(struct fnguardd *d);
void env_microvm_child_exited(struct fnguardd *d, pid_t pid, int status);
/* The daemon stops: a probe still running is killed, reaped and its cgroup removed; nothing
 * is dispatched. */
void env_microvm_probe_stop(struct fnguardd *d);
/* Once a second (envs_tick): the console's read budget is renewed. */
void env_microvm_tick(struct env *e);

#endif
