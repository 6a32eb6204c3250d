// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <seccomp.h>

#include "log.h"
#include "seccomp_notify.h"

int seccomp_policy_load(const struct fng_policy *p)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int err = 0, fd;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < p->syscalls.n_deny && !err; i++) {
		err = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, p->syscalls.deny[i].nr, 0);
		if (err == -EDOM || err == -EFAULT)
			err = 0; /* not a syscall on this architecture */
	}
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

int fd_send(int sock, int fd)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0}, byte = 'f';
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
			     .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int fd_recv(int sock)
{
	char buf[CMSG_SPACE(sizeof(int))] = {0}, byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf,
			     .msg_controllen = sizeof(buf)};
	struct cmsghdr *cm;
	ssize_t n;
	int fd;

	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (n != 1 || !cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int seccomp_notify_handle(int notify_fd, const struct fng_policy *p, struct fng_event *e)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	struct timespec ts;
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
	if (p->syscalls.mode == FNG_MODE_AUDIT) {
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	} else {
		resp->error = -p->syscalls.errno_nr;
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
	e->class = FNG_CLASS_SYSCALL;
	e->op = FNG_OP_SYSCALL;
	e->verdict = p->syscalls.mode == FNG_MODE_AUDIT ? FNG_EVENT_AUDITED : FNG_EVENT_BLOCKED;
	e->rule_kind = FNG_RULE_ENTRY;
	e->target_kind = FNG_TARGET_TEXT;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, req->data.nr);
	snprintf(e->target.path, sizeof(e->target.path),
		 "%s(0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx)", name ? name : "?",
		 (unsigned long long)req->data.args[0], (unsigned long long)req->data.args[1],
		 (unsigned long long)req->data.args[2], (unsigned long long)req->data.args[3],
		 (unsigned long long)req->data.args[4], (unsigned long long)req->data.args[5]);
	free(name);
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
