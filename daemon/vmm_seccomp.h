/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM's own seccomp filter (vmm_seccomp.c): an allow list for QEMU, in the manner of
 * Firecracker's jailer. Loaded in the jail child right before execve, under QEMU's own
 * -sandbox filter, so it covers the dynamic loader and QEMU from its first instruction.
 */
#ifndef FNGUARD_VMM_SECCOMP_H
#define FNGUARD_VMM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

/* How an allowed entry is checked beyond its number. */
enum vmm_rule {
	VMM_ANY = 0,	  /* allowed whatever its arguments */
	VMM_THREAD,	  /* clone: only a thread (CLONE_THREAD), no namespace flag */
	VMM_ENOSYS,	  /* clone3: fails with ENOSYS, so glibc falls back to clone */
	VMM_PRCTL,	  /* prctl: only the options QEMU and libseccomp use */
	VMM_IOCTL_KVM,	  /* ioctl: only KVM's (type 0xAE) */
};

struct vmm_syscall {
	const char *name;
	const char *why;
	enum vmm_rule rule;
};

/* What every VMM may call (TCG and KVM), what only a KVM one may also call, and what none
 * may: everything not allowed fails with EPERM, and the last table names, with a reason,
 * the calls that must never be allowed (a unit test holds the first two to it). */
extern const struct vmm_syscall vmm_allow[];
extern const size_t vmm_allow_len;
extern const struct vmm_syscall vmm_allow_kvm[];
extern const size_t vmm_allow_kvm_len;
extern const struct vmm_syscall vmm_never[];
extern const size_t vmm_never_len;

/* Load the filter into the calling thread (no_new_privs is set by libseccomp if it is not
 * yet). @kvm adds vmm_allow_kvm. 0 or -errno. */
int vmm_seccomp_load(bool kvm);

#endif
