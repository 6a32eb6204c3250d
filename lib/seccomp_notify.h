/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall deny list as a seccomp filter whose denials are reported, not just returned:
 * denied calls trap to a supervisor (SCMP_ACT_NOTIFY), which records name and arguments and
 * answers with the policy's errno (enforce) or lets the call run (audit). Nothing is lost: the
 * calling thread waits for the answer.
 */
#ifndef FNGUARD_SECCOMP_NOTIFY_H
#define FNGUARD_SECCOMP_NOTIFY_H

#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"

/* In the child, before exec: load the filter (no_new_privs must be set) and return the
 * notification fd, or -errno. */
int seccomp_policy_load(const struct fng_policy *p);
/* Pass an fd over a Unix socket and receive it on the other side. */
int fd_send(int sock, int fd);
int fd_recv(int sock);
/* In the supervisor, when @notify_fd is readable: answer one notification and describe it in
 * @e (class syscall). Returns 1 when @e is filled, 0 when there was nothing to answer, or
 * -errno. */
int seccomp_notify_handle(int notify_fd, const struct fng_policy *p, struct fng_event *e);

#endif
