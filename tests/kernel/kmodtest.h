/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bench tests of the fnguard module's generic netlink interface (kmod_genl, kmod_fuzz): one
 * request and its answer, raw through libnl, without libfnguard (these tests send what
 * libfnguard never would).
 */
#ifndef FNGUARD_KMODTEST_H
#define FNGUARD_KMODTEST_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>

#include "fnguard_genl.h"

struct kmt_reply {
	int err; /* 1: pending, 0: ack, <0: -errno */
	__u32 version, policies;
	__u64 counters[FNGUARD_CNT_MAX];
	bool have_counters;
};

static int kmt_on_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	((struct kmt_reply *)arg)->err = e->error;
	return NL_STOP;
}

static int kmt_on_ack(struct nl_msg *msg, void *arg)
{
	((struct kmt_reply *)arg)->err = 0;
	return NL_STOP;
}

static int kmt_on_info(struct nl_msg *msg, void *arg)
{
	struct kmt_reply *r = arg;
	struct nlattr *a[FNGUARD_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, FNGUARD_A_MAX, NULL))
		return NL_SKIP;
	if (a[FNGUARD_A_VERSION])
		r->version = nla_get_u32(a[FNGUARD_A_VERSION]);
	if (a[FNGUARD_A_POLICIES])
		r->policies = nla_get_u32(a[FNGUARD_A_POLICIES]);
	if (a[FNGUARD_A_COUNTERS] && nla_len(a[FNGUARD_A_COUNTERS]) == sizeof(r->counters)) {
		memcpy(r->counters, nla_data(a[FNGUARD_A_COUNTERS]), sizeof(r->counters));
		r->have_counters = true;
	}
	return NL_OK;
}

/* Send @msg (freed here) and wait for the answer: 0 or the kernel's -errno (-EIO: libnl's). */
static inline int kmt_send_wait(struct nl_sock *sk, struct nl_msg *msg, struct kmt_reply *out)
{
	struct kmt_reply r = {.err = 1};
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	nl_cb_err(cb, NL_CB_CUSTOM, kmt_on_err, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, kmt_on_ack, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, kmt_on_info, &r);
	if (nl_send_auto(sk, msg) < 0)
		r.err = -EIO;
	while (r.err == 1)
		if (nl_recvmsgs(sk, cb) < 0 && r.err == 1)
			r.err = -EIO;
	nlmsg_free(msg);
	nl_cb_put(cb);
	if (out)
		*out = r;
	return r.err;
}

#endif
