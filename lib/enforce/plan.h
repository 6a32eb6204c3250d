/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The enforcement plan: how each section of a policy is enforced on this kernel, decided once,
 * before anything runs, by `fnguard run`, the daemon and the guest agent alike, so that they
 * all refuse the same things for the same reasons.
 */
#ifndef FNGUARD_PLAN_H
#define FNGUARD_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"

struct enforce_plan {
	unsigned sections;     /* FNG_SEC_* enforced */
	unsigned missing;      /* FNG_SEC_* the policy needs and this kernel cannot enforce */
	bool lsm;	       /* the BPF LSM programs are used */
	bool kmod;	       /* the fnguard module decides files, exec and families */
	int lsm_mode;	       /* BPF_LSM_* for enforcer_open() */
	unsigned socket_rules; /* FNG_SECCOMP_*: socket rules seccomp enforces instead */
	bool seccomp;	       /* a seccomp filter is loaded in the confined process */
	bool bpf;	       /* the BPF object is needed at all */
	unsigned bpf_sections; /* sections to pass to enforcer_env_install() */
};

/* Plan @p with @backend ("auto", "bpf-lsm" or "kmod"). */
void enforce_plan_make(const struct fng_policy *p, const char *backend, struct enforce_plan *plan);

/* One line per missing section, "  SECTION (what): why\n", into @f. */
void enforce_plan_print_missing(const struct fng_policy *p, const char *backend,
				const struct enforce_plan *plan, FILE *f);
/* The same on one line, "SECTION (what): why; SECTION ...", for a message (cut at @len). */
void enforce_plan_missing_line(const struct fng_policy *p, const char *backend,
			       const struct enforce_plan *plan, char *buf, size_t len);

#endif
