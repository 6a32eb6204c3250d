// SPDX-License-Identifier: Apache-2.0
/*
 * The enforcement plan (plan.h). Without BPF LSM, socket families and the raw/ICMP sockets
 * that would bypass the cgroup egress hooks are refused by seccomp instead, which is sound
 * only while io_uring is denied as well.
 */
#include <stdio.h>
#include <string.h>

#include "kernel_support.h"
#include "enforcer.h"
#include "plan.h"
#include "seccomp_notify.h"

/* Why @backend cannot enforce the file, exec and family sections (auto: neither backend). */
static const char *lsm_why(const struct backend_status *st, const char *backend)
{
	static char why[1100];

	if (!strcmp(backend, "kmod"))
		return st->kmod.why;
	if (strcmp(backend, "auto"))
		return st->bpf_lsm.why;
	snprintf(why, sizeof(why), "BPF LSM: %s; kmod backend: %s", st->bpf_lsm.why, st->kmod.why);
	return why;
}

static unsigned sections_enforceable(const struct backend_status *st, const char *backend,
				     const struct fng_policy *p, struct enforce_plan *plan)
{
	bool seccomp_sockets = st->seccomp.ok && seccomp_can_enforce_families(p);
	unsigned can = 0;

	if (!strcmp(backend, "kmod"))
		plan->kmod = st->kmod.ok;
	else if (st->bpf_lsm.ok)
		plan->lsm = true;
	else if (!strcmp(backend, "auto"))
		/* No BPF LSM on this kernel: the module is the fallback (auto). */
		plan->kmod = st->kmod.ok;
	if (plan->lsm || plan->kmod)
		can |= FNG_SEC_FILES | FNG_SEC_EXEC | FNG_SEC_FAMILIES;
	if (!plan->lsm && !plan->kmod && seccomp_sockets)
		can |= FNG_SEC_FAMILIES;
	/* Egress is whole only when raw/ICMP sockets are refused too (LSM, module or seccomp). */
	if (st->cgroup_net.ok && (plan->lsm || plan->kmod || seccomp_sockets))
		can |= FNG_SEC_EGRESS;
	if (st->seccomp.ok)
		can |= FNG_SEC_SYSCALLS;
	return can;
}

static const char *section_reason(const struct backend_status *st, unsigned sec,
				  const char *why)
{
	if (sec == FNG_SEC_EGRESS && !st->cgroup_net.ok)
		return st->cgroup_net.why;
	if (sec == FNG_SEC_EGRESS || sec == FNG_SEC_FAMILIES)
		return "raw, ICMP and other-family sockets can be refused neither by BPF LSM "
		       "(unavailable) nor by seccomp (io_uring is not denied, or syscalls are in "
		       "audit mode)";
	if (sec == FNG_SEC_SYSCALLS)
		return st->seccomp.why;
	return why;
}

void enforce_plan_make(const struct fng_policy *p, const char *backend, struct enforce_plan *plan)
{
	const struct backend_status *st =
	    !strcmp(backend, "kmod") ? backend_status_kmod_load() : backend_status_get();
	unsigned need = policy_sections_needed(p), can;

	memset(plan, 0, sizeof(*plan));
	can = sections_enforceable(st, backend, p, plan);
	plan->missing = need & ~can;
	plan->sections = need & can;
	plan->lsm = plan->lsm && (plan->sections & (FNG_SEC_FILES | FNG_SEC_EXEC |
						    FNG_SEC_FAMILIES | FNG_SEC_EGRESS));
	plan->kmod = plan->kmod && (plan->sections & (FNG_SEC_FILES | FNG_SEC_EXEC |
						      FNG_SEC_FAMILIES | FNG_SEC_EGRESS));
	plan->lsm_mode = plan->lsm ? BPF_LSM_PROGS : plan->kmod ? BPF_LSM_KMOD : BPF_LSM_NONE;
	if (!plan->lsm && !plan->kmod) {
		if (plan->sections & FNG_SEC_FAMILIES)
			plan->socket_rules |= FNG_SECCOMP_FAMILIES;
		if (plan->sections & FNG_SEC_EGRESS)
			plan->socket_rules |= FNG_SECCOMP_RAW;
	}
	plan->seccomp = ((plan->sections & FNG_SEC_SYSCALLS) && p->syscalls.n_deny) ||
			plan->socket_rules;
	plan->bpf = plan->sections & (FNG_SEC_FILES | FNG_SEC_EXEC | FNG_SEC_FAMILIES |
				      FNG_SEC_EGRESS);
	plan->bpf_sections = plan->lsm || plan->kmod ? plan->sections
						     : plan->sections & ~FNG_SEC_FAMILIES;
}

void enforce_plan_missing_line(const struct fng_policy *p, const char *backend,
			       const struct enforce_plan *plan, char *buf, size_t len)
{
	const struct backend_status *st = backend_status_get();
	const char *why = lsm_why(st, backend);
	char desc[256];
	size_t off = 0;

	buf[0] = 0;
	for (unsigned sec = 1; sec <= FNG_SEC_SYSCALLS && off < len; sec <<= 1) {
		if (!(plan->missing & sec))
			continue;
		policy_section_describe(p, sec, desc, sizeof(desc));
		off += (size_t)snprintf(buf + off, len - off, "%s%s (%s): %s", off ? "; " : "",
					policy_section_name(sec), desc, section_reason(st, sec, why));
	}
}

void enforce_plan_print_missing(const struct fng_policy *p, const char *backend,
				const struct enforce_plan *plan, FILE *f)
{
	const struct backend_status *st = backend_status_get();
	const char *why = lsm_why(st, backend);
	char desc[256];

	for (unsigned sec = 1; sec <= FNG_SEC_SYSCALLS; sec <<= 1) {
		if (!(plan->missing & sec))
			continue;
		policy_section_describe(p, sec, desc, sizeof(desc));
		fprintf(f, "  %s (%s): %s\n", policy_section_name(sec), desc,
			section_reason(st, sec, why));
	}
}
