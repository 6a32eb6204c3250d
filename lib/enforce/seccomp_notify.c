// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <seccomp.h>

#include "log.h"
#include "seccomp_notify.h"

#define SOCK_TYPE_MASK 0xf

static bool nr_denied(const struct fng_policy *p, int nr)
{
	for (size_t i = 0; i < p->syscalls.n_deny; i++)
		if (p->syscalls.deny[i].nr == nr)
			return true;
	return false;
}

bool seccomp_can_enforce_families(const struct fng_policy *p)
{
	int nr = seccomp_syscall_resolve_name("io_uring_setup");

	/* With io_uring only audited, sockets it creates are not refused: fine only when the
	 * network rules are themselves only audited. */
	if (p->syscalls.mode == FNG_MODE_AUDIT && p->network.mode != FNG_MODE_AUDIT)
		return false;
	return nr_denied(p, nr);
}

static int add_socket_rules(scmp_filter_ctx ctx, const struct fng_policy *p, unsigned rules)
{
	static const struct {
		int af, type, proto;
	} bypass[] = {
		{AF_INET, SOCK_RAW, -1},
		{AF_INET6, SOCK_RAW, -1},
		{AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
		{AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
	};
	int err = 0;

	if (rules & FNG_SECCOMP_FAMILIES) {
		for (int af = 1; af < 64 && !err; af++) {
			if (p->network.families & (1ULL << af))
				continue;
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 1,
					       SCMP_A0(SCMP_CMP_EQ, af));
		}
	}
	for (size_t i = 0; (rules & FNG_SECCOMP_RAW) && i < sizeof(bypass) / sizeof(bypass[0]) &&
			   !err;
	     i++) {
		if (!(p->network.families & (1ULL << bypass[i].af)))
			continue; /* already refused as a family */
		if (bypass[i].proto < 0)
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 2,
					       SCMP_A0(SCMP_CMP_EQ, bypass[i].af),
					       SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK,
						       bypass[i].type));
		else
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 3,
					       SCMP_A0(SCMP_CMP_EQ, bypass[i].af),
					       SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK,
						       bypass[i].type),
					       SCMP_A2(SCMP_CMP_EQ, bypass[i].proto));
	}
	return err;
}

/*
 * clone with any namespace flag traps like a denied call. One rule per flag: seccomp compares
 * with "==" under a mask, so "any of these bits" is an OR of rules.
 */
static int add_clone_ns_rules(scmp_filter_ctx ctx)
{
	int err = 0;

	for (unsigned bit = 0; bit < 32 && !err; bit++) {
		unsigned long flag = 1ul << bit;

		if (FNG_CLONE_NS_FLAGS & flag)
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(clone), 1,
					       SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
	}
	return err;
}

int seccomp_policy_load(const struct fng_policy *p, unsigned socket_rules)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int err = 0, fd;

	if (!ctx)
		return -ENOMEM;
	/* A binary tree of syscall numbers: every allowed call pays log(n) checks, not n. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; i < p->syscalls.n_deny && !err; i++) {
		int nr = p->syscalls.deny[i].nr;

		/* ENOSYS whatever the mode: the C library then uses clone, which the filter can
		 * read; nothing is lost, so nothing is reported (every new thread tries clone3). */
		if (nr == SCMP_SYS(clone3))
			err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		else
			err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
		if (err == -EDOM || err == -EFAULT)
			err = 0; /* not a syscall on this architecture */
	}
	/* unshare stands for new namespaces; clone with CLONE_NEW* makes the same ones. A clone
	 * denied outright needs no rule on its flags. */
	if (!err && nr_denied(p, SCMP_SYS(unshare)) && !nr_denied(p, SCMP_SYS(clone)))
		err = add_clone_ns_rules(ctx);
	if (!err)
		err = add_socket_rules(ctx, p, socket_rules);
	if (!err)
		err = seccomp_load(ctx);
	if (err) {
		seccomp_release(ctx);
		return err;
	}
	fd = seccomp_notify_fd(ctx);
	seccomp_release(ctx);
	return fd;
}

int seccomp_notify_handle(int notify_fd, const struct fng_policy *p, struct fng_event *e)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct timespec ts;
	bool is_socket, audit;
	char *name;
	int err;

	err = seccomp_notify_alloc(&req, &resp);
	if (err)
		return err;
	err = seccomp_notify_receive(notify_fd, req);
	if (err) {
		/* The target died or the call was interrupted: nothing to answer. */
		err = (err == -ENOENT || err == -EINTR || err == -ECANCELED) ? 0 : err;
		goto out;
	}
	resp->id = req->id;
	/* socket() traps only for the socket rules (it is never in the syscall list then). */
	is_socket = req->data.nr == SCMP_SYS(socket) && !nr_denied(p, req->data.nr);
	audit = is_socket ? p->network.mode == FNG_MODE_AUDIT : p->syscalls.mode == FNG_MODE_AUDIT;
	if (audit) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		resp->error = is_socket ? -EPERM : -p->syscalls.errno_nr;
		resp->val = 0;
	}
	if (seccomp_notify_respond(notify_fd, resp) && errno != ENOENT)
		log_debug("seccomp answer failed");

	memset(e, 0, sizeof(*e));
	clock_gettime(CLOCK_BOOTTIME, &ts);
	e->ts_ns = (__u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
	e->pid = req->pid;
	e->tid = req->pid;
	e->syscall_nr = req->data.nr;
	e->verdict = audit ? FNG_EVENT_AUDITED : FNG_EVENT_BLOCKED;
	if (is_socket) {
		int af = (int)req->data.args[0];

		e->class = FNG_CLASS_NETWORK;
		e->op = FNG_OP_SOCKET;
		e->rule_kind = af >= 0 && af < 64 && (p->network.families & (1ULL << af))
				       ? FNG_RULE_RAW
				       : FNG_RULE_FAMILIES;
		e->target_kind = FNG_TARGET_ADDR;
		e->target.addr.family = af;
		e->target.addr.port = (__u16)req->data.args[1];
		e->target.addr.protocol = (__u8)req->data.args[2];
		goto comm;
	}
	e->class = FNG_CLASS_SYSCALL;
	e->op = FNG_OP_SYSCALL;
	e->rule_kind = FNG_RULE_ENTRY;
	e->target_kind = FNG_TARGET_TEXT;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, req->data.nr);
	snprintf(e->target.path, sizeof(e->target.path),
		 "%s(0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx)", name ? name : "?",
		 (unsigned long long)req->data.args[0], (unsigned long long)req->data.args[1],
		 (unsigned long long)req->data.args[2], (unsigned long long)req->data.args[3],
		 (unsigned long long)req->data.args[4], (unsigned long long)req->data.args[5]);
	free(name);
comm:
	/* comm of the caller, best effort (it may be gone already). */
	{
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/comm", req->pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(e->comm, sizeof(e->comm), f))
				e->comm[strcspn(e->comm, "\n")] = 0;
			fclose(f);
		}
	}
	err = 1;
out:
	seccomp_notify_free(req, resp);
	return err;
}
