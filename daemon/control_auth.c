// SPDX-License-Identifier: Apache-2.0
/*
 * Who a request comes from and what it may do, and the record of it.
 *
 * Rights are decided per request, from the credentials the kernel attaches to the bytes that
 * carried it (SCM_CREDENTIALS: the sending process's pid, real uid and gid, whoever opened
 * the connection) and from the group database at that moment, never from the gid a process
 * happened to have when it connected: a gid taken with sg(1) or setregid() is not
 * membership, and a connection handed to another process speaks with that process's rights.
 *
 * api_call records of read-only requests (and of refusals) are coalesced per user and method,
 * so that a client asking for the status in a loop cannot flood the audit trail; every
 * request that changes something is recorded on its own.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "control.h"
#include "emit.h"
#include "log.h"

/* Lookups through NSS: buffers grow on ERANGE up to this, groups up to NGROUPS_MAX. */
#define NSS_BUF_MAX (1u << 20)
#define GROUPS_MAX 65536

/* Coalesced api_call records (RECORD_SLOTS): one a second each. */
#define RECORD_WINDOW_NS 1000000000LL
#define RECORD_IDLE_NS (10 * RECORD_WINDOW_NS)

static int group_gid(const char *name, gid_t *gid)
{
	size_t size = 4096;
	struct group gr, *res = NULL;
	char *buf = NULL, *nbuf;
	int err;

	for (;;) {
		nbuf = realloc(buf, size);
		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		err = getgrnam_r(name, &gr, buf, size, &res);
		if (err != ERANGE || size >= NSS_BUF_MAX)
			break;
		size *= 2;
	}
	if (!err && res)
		*gid = gr.gr_gid;
	free(buf);
	return err ? -err : res ? 0 : -ENOENT;
}

/* Whether the user @uid has @gid as its primary group or is listed in it. */
static bool uid_in_group(uid_t uid, gid_t gid)
{
	size_t size = 4096;
	struct passwd pw, *res = NULL;
	char *buf = NULL, *nbuf;
	gid_t *groups = NULL;
	int n = 64, err;
	bool in = false;

	for (;;) {
		nbuf = realloc(buf, size);
		if (!nbuf)
			goto out;
		buf = nbuf;
		err = getpwuid_r(uid, &pw, buf, size, &res);
		if (err != ERANGE || size >= NSS_BUF_MAX)
			break;
		size *= 2;
	}
	if (err || !res)
		goto out;
	if (pw.pw_gid == gid) {
		in = true;
		goto out;
	}
	for (;;) {
		gid_t *ng = realloc(groups, (size_t)n * sizeof(*groups));
		int want = n;

		if (!ng)
			goto out;
		groups = ng;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &want) >= 0) {
			n = want;
			break;
		}
		if (want <= n || want > GROUPS_MAX)
			goto out;
		n = want;
	}
	for (int i = 0; i < n && !in; i++)
		in = groups[i] == gid;
out:
	free(groups);
	free(buf);
	return in;
}

bool control_uid_admin(uid_t uid)
{
	gid_t gid;

	if (uid == 0 || uid == geteuid())
		return true;
	if (uid == (uid_t)-1 || group_gid("fnguard", &gid))
		return false;
	return uid_in_group(uid, gid);
}

struct ucred control_cred_least(const struct ucred *a, const struct ucred *b)
{
	if (a->uid == b->uid)
		return *b;
	/* Unnamed senders (uid -1) are never admin, so they win here too. */
	return control_uid_admin(a->uid) ? *b : *a;
}

long control_recv(int fd, void *buf, size_t len, struct ucred *from)
{
	union {
		struct cmsghdr h;
		/* Room for the credentials only: file descriptors a client sends are dropped. */
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.b,
			   .msg_controllen = sizeof(ctl.b)};
	ssize_t n;

	do
		n = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	from->pid = 0;
	from->uid = (uid_t)-1;
	from->gid = (gid_t)-1;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS &&
		    h->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
			memcpy(from, CMSG_DATA(h), sizeof(*from));
		else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(((int *)CMSG_DATA(h))[i]);
	}
	/* Bytes the kernel sent without credentials carry pid 0 and the overflow uid. */
	if (!from->pid)
		from->uid = (uid_t)-1;
	return n;
}

/* ------------------------------------------------------------------ api_call records */

static void record_emit(struct fnguardd *d, const struct ucred *who, const char *method, const char *target,
			const char *result, uint64_t n)
{
	struct telemetry_event *t = ev_scratch(d);
	char buf[200];

	if (n > 1) {
		snprintf(buf, sizeof(buf), "%s (x%llu)", result, (unsigned long long)n);
		result = buf;
	}
	telemetry_api_call(t, who->uid, who->gid, (uint32_t)who->pid, method, target, result);
	emit(d, t, NULL, NULL, NULL);
}

static void slot_flush(struct fnguardd *d, struct record_slot *s, int64_t now)
{
	if (s->pending)
		record_emit(d, &s->who, s->method, "", s->result, s->pending);
	s->pending = 0;
	s->last = now;
}

void control_record(struct fnguardd *d, const struct ucred *who, const char *method, const char *target,
		    const char *result, bool coalesce)
{
	struct record_slot *slots = d->control->slots, *s = NULL, *oldest = &slots[0];
	int64_t now = mono_ns();

	if (!coalesce || *target) {
		record_emit(d, who, method, target, result, 1);
		return;
	}
	for (int i = 0; i < RECORD_SLOTS && !s; i++) {
		struct record_slot *p = &slots[i];

		if (p->used && p->who.uid == who->uid && !strcmp(p->method, method) &&
		    !strncmp(p->result, result, sizeof(p->result) - 1))
			s = p;
		else if (!p->used || (oldest->used && p->last < oldest->last))
			oldest = p;
	}
	if (s) {
		s->who = *who;
		s->pending++;
		if (now - s->last >= RECORD_WINDOW_NS)
			slot_flush(d, s, now);
		return;
	}
	/* A new slot: this call is recorded now, the next ones of the second are counted. */
	if (oldest->used)
		slot_flush(d, oldest, now);
	s = oldest;
	s->used = true;
	s->who = *who;
	snprintf(s->method, sizeof(s->method), "%s", method);
	snprintf(s->result, sizeof(s->result), "%s", result);
	s->pending = 0;
	s->last = now;
	record_emit(d, who, method, "", result, 1);
}

void control_record_flush(struct fnguardd *d, bool all)
{
	int64_t now = mono_ns();

	for (int i = 0; i < RECORD_SLOTS; i++) {
		struct record_slot *s = &d->control->slots[i];

		if (!s->used)
			continue;
		if (s->pending && (all || now - s->last >= RECORD_WINDOW_NS))
			slot_flush(d, s, now);
		else if (all || (!s->pending && now - s->last >= RECORD_IDLE_NS))
			s->used = false;
		if (all)
			s->used = false;
	}
}
