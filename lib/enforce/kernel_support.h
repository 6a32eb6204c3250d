/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What this kernel can enforce, found by really trying (systemd's _supported() habit): every
 * probe loads the smallest program of its kind once and the answer is cached for the process.
 */
#ifndef FNGUARD_KERNEL_SUPPORT_H
#define FNGUARD_KERNEL_SUPPORT_H

#include <stdbool.h>

struct backend_support {
	bool ok;
	char why[512];	/* when !ok: the reason, e.g. "'bpf' is not in /sys/kernel/security/lsm" */
	char info[512];	/* when ok: what was checked */
};

struct backend_status {
	struct backend_support bpf_lsm;	  /* file, exec, socket-family rules */
	struct backend_support cgroup_net; /* egress, loopback, bind rules */
	struct backend_support kmod;	  /* fallback for file, exec, family rules */
	struct backend_support seccomp;	  /* the syscall deny list, reported */
	char lsm_list[256];		  /* active LSMs, "" when unreadable */
	char cgroup2[256];		  /* where the cgroup v2 hierarchy is, "" when absent */
};

const struct backend_status *backend_status_get(void);
/* The same, after loading the fnguard module if it is installed and not loaded (a caller that
 * asks for the kmod backend by name: on a kernel with BPF LSM it is not loaded otherwise). */
const struct backend_status *backend_status_kmod_load(void);

#endif
