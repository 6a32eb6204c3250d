/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What this kernel can enforce, found by really trying (systemd's _supported() habit): every
 * probe loads the smallest program of its kind once and the answer is cached for the process.
 */
#ifndef FNGUARD_BACKEND_H
#define FNGUARD_BACKEND_H

#include <stdbool.h>

#include "policy.h"

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

/* Policy sections, as a bitmask, for "what does this policy need / what can be enforced". */
enum {
	FNG_SEC_FILES = 1u << 0,
	FNG_SEC_EXEC = 1u << 1,
	FNG_SEC_FAMILIES = 1u << 2,
	FNG_SEC_EGRESS = 1u << 3, /* egress, loopback, bind */
	FNG_SEC_SYSCALLS = 1u << 4,
};

/* Sections of @p that restrict anything (a section that allows everything needs no backend). */
unsigned policy_sections_needed(const struct fng_policy *p);
/* A name for one section bit, and a description of what in @p makes it needed. */
const char *policy_section_name(unsigned sec);
void policy_section_describe(const struct fng_policy *p, unsigned sec, char *buf, size_t len);

#endif
