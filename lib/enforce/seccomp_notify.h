/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall deny list as a seccomp filter whose denials are reported, not just returned:
 * denied calls trap to a supervisor (SCMP_ACT_NOTIFY), which records name and arguments and
 * answers with the policy's errno (enforce) or lets the call run (audit). Nothing is lost: the
 * calling thread waits for the answer.
 */
#ifndef FNGUARD_SECCOMP_NOTIFY_H
#define FNGUARD_SECCOMP_NOTIFY_H

#include <sched.h>
#include <stdbool.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"

/*
 * Socket rules seccomp can enforce where no LSM does: socket() of a family the policy does not
 * allow, and raw or ICMP sockets (they bypass the cgroup egress hooks) while egress is
 * restricted. socket()'s arguments are plain integers, so the filter sees what the kernel
 * gets. Only sound while io_uring (which creates sockets without socket()) is denied too.
 */
#define FNG_SECCOMP_FAMILIES 1u
#define FNG_SECCOMP_RAW 2u

/*
 * The namespace flags of clone(2): a clone with any of them makes the namespaces unshare does.
 * CLONE_NEWTIME is not among them: clone's low byte is the exit signal (CSIGNAL), where
 * CLONE_NEWTIME's bit lies, so only clone3 and unshare can ask for a time namespace. The kernel
 * reads only the low 32 bits of clone's flags; the mask has no high bits, so none hides a flag.
 */
#define FNG_CLONE_NS_FLAGS                                                                         \
	(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC |                \
	 CLONE_NEWUTS | CLONE_NEWCGROUP)

/* Whether seccomp alone can enforce socket families for @p (io_uring_setup is denied). */
bool seccomp_can_enforce_families(const struct fng_policy *p);

/* In the child, before exec: load the filter (no_new_privs must be set) with the syscall deny
 * list and the socket rules of @socket_rules (FNG_SECCOMP_*), and return the notification fd,
 * or -errno. clone3 in the list fails with ENOSYS, unreported; unshare in it also traps clone
 * with namespace flags (see policy_syscall_baseline). */
int seccomp_policy_load(const struct fng_policy *p, unsigned socket_rules);
/* In the supervisor, when @notify_fd is readable: answer one notification and describe it in
 * @e (class syscall). Returns 1 when @e is filled, 0 when there was nothing to answer, or
 * -errno. */
int seccomp_notify_handle(int notify_fd, const struct fng_policy *p, struct fng_event *e);

#endif
