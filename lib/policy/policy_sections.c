// SPDX-License-Identifier: Apache-2.0
/*
 * What a policy needs enforced, section by section (FNG_SEC_* of policy.h): the enforcement
 * plan compares this with what the kernel supports, and messages name the sections.
 */
#include <stdio.h>

#include "policy.h"

/* Every address family the kernel knows (AF_UNIX .. AF_MCTP on 6.x; AF_UNSPEC excluded). */
#define FNG_ALL_FAMILIES (((1ULL << 46) - 1) & ~1ULL)

unsigned policy_sections_needed(const struct fng_policy *p)
{
	unsigned need = 0;

	if (p->files.n_rules || p->files.def == FNG_VERDICT_DENY)
		need |= FNG_SEC_FILES;
	if (p->exec.n_allow || p->exec.def == FNG_VERDICT_DENY ||
	    p->exec.children == FNG_VERDICT_DENY)
		need |= FNG_SEC_EXEC;
	if ((p->network.families & FNG_ALL_FAMILIES) != FNG_ALL_FAMILIES)
		need |= FNG_SEC_FAMILIES;
	if (p->network.n_egress || p->network.egress_default == FNG_VERDICT_DENY ||
	    p->network.loopback == FNG_VERDICT_DENY || p->network.bind == FNG_VERDICT_DENY)
		need |= FNG_SEC_EGRESS;
	if (p->syscalls.n_deny)
		need |= FNG_SEC_SYSCALLS;
	return need;
}

const char *policy_section_name(unsigned sec)
{
	switch (sec) {
	case FNG_SEC_FILES:
		return "files";
	case FNG_SEC_EXEC:
		return "exec";
	case FNG_SEC_FAMILIES:
		return "network.families";
	case FNG_SEC_EGRESS:
		return "network (egress, loopback, bind)";
	case FNG_SEC_SYSCALLS:
		return "syscalls";
	}
	return "?";
}

void policy_section_describe(const struct fng_policy *p, unsigned sec, char *buf, size_t len)
{
	switch (sec) {
	case FNG_SEC_FILES:
		snprintf(buf, len, "default %s, %zu rule(s)", policy_verdict_name(p->files.def),
			 p->files.n_rules);
		break;
	case FNG_SEC_EXEC:
		snprintf(buf, len, "default %s, children %s, %zu allow entr%s",
			 policy_verdict_name(p->exec.def), policy_verdict_name(p->exec.children),
			 p->exec.n_allow, p->exec.n_allow == 1 ? "y" : "ies");
		break;
	case FNG_SEC_FAMILIES:
		snprintf(buf, len, "only some socket families allowed");
		break;
	case FNG_SEC_EGRESS:
		snprintf(buf, len, "egress default %s, %zu rule(s), loopback %s, bind %s",
			 policy_verdict_name(p->network.egress_default), p->network.n_egress,
			 policy_verdict_name(p->network.loopback),
			 policy_verdict_name(p->network.bind));
		break;
	case FNG_SEC_SYSCALLS:
		snprintf(buf, len, "%zu syscall(s) denied", p->syscalls.n_deny);
		break;
	default:
		buf[0] = 0;
	}
}
