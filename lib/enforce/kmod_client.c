// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kmod_client.h"
#include "log.h"

struct kmod_client {
	struct nl_sock *req; /* requests and their replies */
	struct nl_sock *ev;  /* the events group */
	int family;
	kmod_event_fn fn;
	void *ctx;
	uint64_t overruns; /* the events socket overflowed: events lost, at least one each */
};

/* Replies: the kernel's errno (negative) or 0, and GET_INFO's attributes. */
struct reply {
	int err;
	bool done;
	bool info;
	uint32_t policies;
	uint64_t counters[FNGUARD_CNT_MAX];
};

/* libnl's own error codes, for the messages that are not the kernel's errno. */
static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;

	r->err = e->error;
	r->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;

	r->done = true;
	return NL_STOP;
}

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *a[FNGUARD_A_MAX + 1];
	struct reply *r = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, FNGUARD_A_MAX, NULL) < 0)
		return NL_SKIP;
	if (a[FNGUARD_A_POLICIES]) {
		r->info = true;
		r->policies = nla_get_u32(a[FNGUARD_A_POLICIES]);
	}
	if (a[FNGUARD_A_COUNTERS]) {
		size_t len = (size_t)nla_len(a[FNGUARD_A_COUNTERS]);

		if (len > sizeof(r->counters))
			len = sizeof(r->counters);
		memcpy(r->counters, nla_data(a[FNGUARD_A_COUNTERS]), len);
	}
	return NL_OK;
}

/* Send @msg (consumed) and wait for its acknowledgement (and reply). */
static int request(struct nl_sock *sk, struct nl_msg *msg, struct reply *r)
{
	struct nl_cb *cb;
	int err;

	memset(r, 0, sizeof(*r));
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		return nl_to_errno(err);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_reply, r);
	while (!r->done) {
		err = nl_recvmsgs(sk, cb);
		if (err < 0 && !r->done) {
			r->err = nl_to_errno(err);
			break;
		}
	}
	nl_cb_put(cb);
	return r->err;
}

/* A request socket: connected, the family resolved (the kernel loads the module if needed). */
static int connect_family(struct nl_sock **out, int *family, char *why, size_t len)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	err = genl_connect(sk);
	if (err < 0) {
		snprintf(why, len, "cannot open a generic netlink socket: %s", nl_geterror(err));
		nl_socket_free(sk);
		return nl_to_errno(err);
	}
	*family = genl_ctrl_resolve(sk, FNGUARD_GENL_NAME);
	if (*family < 0) {
		bool loaded = access("/sys/module/fnguard", F_OK) == 0;

		snprintf(why, len, "%s",
			 loaded ? "the fnguard module is loaded but its generic netlink family "
				  "'fnguard' does not answer"
				: "the fnguard kernel module is not loaded and could not be loaded "
				  "(not installed for this kernel? see dkms.conf)");
		nl_socket_free(sk);
		return -ENOENT;
	}
	*out = sk;
	return 0;
}

static struct nl_msg *msg_new(int family, uint8_t cmd, size_t payload)
{
	struct nl_msg *msg = nlmsg_alloc_size(payload + 4096);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd,
			 FNGUARD_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int get_info(struct nl_sock *sk, int family, struct reply *r)
{
	struct nl_msg *msg = msg_new(family, FNGUARD_CMD_GET_INFO, 0);

	if (!msg)
		return -ENOMEM;
	return request(sk, msg, r);
}

bool kmod_probe(char *why, size_t why_len, char *info, size_t info_len)
{
	struct nl_sock *sk;
	struct reply r;
	int family, err;

	if (connect_family(&sk, &family, why, why_len))
		return false;
	err = get_info(sk, family, &r);
	nl_socket_free(sk);
	if (err || !r.info) {
		snprintf(why, why_len, "the fnguard module does not answer GET_INFO: %s",
			 strerror(err ? -err : EPROTO));
		return false;
	}
	snprintf(info, info_len, "fnguard module answers on generic netlink (%u environment(s))",
		 r.policies);
	return true;
}

/* Buffers big enough for a policy of FNGUARD_MAX_RULES rules, and for bursts of events. */
static void socket_buffers(struct nl_sock *sk, int snd, int rcv)
{
	int fd = nl_socket_get_fd(sk);

	nl_socket_set_buffer_size(sk, rcv, snd);
	/* Beyond net.core.[rw]mem_max: root (CAP_NET_ADMIN) only; the above stays otherwise. */
	if (snd)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd));
	if (rcv)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct kmod_client *k = arg;
	struct nlattr *a[FNGUARD_A_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct fng_event e;

	if (gh->cmd != FNGUARD_CMD_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, a, FNGUARD_A_MAX, NULL) < 0 || !a[FNGUARD_A_EVENT] ||
	    (size_t)nla_len(a[FNGUARD_A_EVENT]) < sizeof(e))
		return NL_SKIP;
	memcpy(&e, nla_data(a[FNGUARD_A_EVENT]), sizeof(e));
	e.comm[sizeof(e.comm) - 1] = 0;
	e.target.path[sizeof(e.target.path) - 1] = 0;
	if (k->fn)
		k->fn(&e, k->ctx);
	return NL_OK;
}

int kmod_client_open(struct kmod_client **out, kmod_event_fn fn, void *ctx)
{
	struct kmod_client *k = calloc(1, sizeof(*k));
	char why[256];
	int err, grp;

	if (!k)
		return -ENOMEM;
	k->fn = fn;
	k->ctx = ctx;
	err = connect_family(&k->req, &k->family, why, sizeof(why));
	if (err) {
		log_warnx("kmod backend: %s", why);
		goto fail;
	}
	socket_buffers(k->req, 8 << 20, 0);
	grp = genl_ctrl_resolve_grp(k->req, FNGUARD_GENL_NAME, FNGUARD_MCGRP_EVENTS);
	k->ev = nl_socket_alloc();
	if (grp < 0 || !k->ev) {
		log_warnx("kmod backend: the module has no '%s' group", FNGUARD_MCGRP_EVENTS);
		err = grp < 0 ? -ENOENT : -ENOMEM;
		goto fail;
	}
	nl_socket_disable_seq_check(k->ev);
	nl_socket_modify_cb(k->ev, NL_CB_VALID, NL_CB_CUSTOM, on_event, k);
	err = genl_connect(k->ev);
	if (!err)
		err = nl_socket_add_membership(k->ev, grp);
	if (!err)
		err = nl_socket_set_nonblocking(k->ev);
	if (err) {
		log_warnx("kmod backend: cannot subscribe to its events: %s", nl_geterror(err));
		err = nl_to_errno(err);
		goto fail;
	}
	socket_buffers(k->ev, 0, 4 << 20);
	*out = k;
	return 0;
fail:
	kmod_client_close(k);
	return err;
}

void kmod_client_close(struct kmod_client *k)
{
	if (!k)
		return;
	if (k->req)
		nl_socket_free(k->req);
	if (k->ev)
		nl_socket_free(k->ev);
	free(k);
}

/*
 * A section's rules as attributes of at most 64 KiB each (an attribute's length is 16 bits):
 * the module joins them in order. An empty section is one empty attribute.
 */
static int rules_put(struct nl_msg *msg, int attr, const struct fnguard_rule *r, size_t n)
{
	const size_t per = 65535 / sizeof(*r);
	size_t i = 0;

	do {
		size_t k = n - i < per ? n - i : per;

		if (nla_put(msg, attr, (int)(k * sizeof(*r)), r + i))
			return -1;
		i += k;
	} while (i < n);
	return 0;
}

int kmod_client_env_install(struct kmod_client *k, uint64_t cgroup_id,
			     const struct fng_policy_conf *conf, const struct fng_policy *p,
			     int root_fd)
{
	struct fnguard_rule *files = NULL, *execs = NULL;
	size_t nf = 0, nx = 0;
	struct nl_msg *msg;
	struct reply r;
	int err;

	err = rules_files_collect(p, root_fd, NULL, NULL, &files, &nf, &execs, &nx);
	if (err)
		return err;
	if (nf > FNGUARD_MAX_RULES || nx > FNGUARD_MAX_RULES) {
		log_warnx("kmod backend: %zu file and %zu exec rules: at most %d each", nf, nx,
			  FNGUARD_MAX_RULES);
		err = -E2BIG;
		goto out;
	}
	msg = msg_new(k->family, FNGUARD_CMD_ENV_INSTALL,
		      sizeof(*conf) + (nf + nx) * sizeof(struct fnguard_rule));
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	if (nla_put_u64(msg, FNGUARD_A_CGROUP_ID, cgroup_id) ||
	    nla_put(msg, FNGUARD_A_CONF, sizeof(*conf), conf) ||
	    rules_put(msg, FNGUARD_A_FILE_RULES, files, nf) ||
	    rules_put(msg, FNGUARD_A_EXEC_RULES, execs, nx)) {
		nlmsg_free(msg);
		err = -EMSGSIZE;
		goto out;
	}
	err = request(k->req, msg, &r);
	if (err)
		log_warnx("kmod backend: installing the policy of cgroup %llu failed: %s",
			  (unsigned long long)cgroup_id, strerror(-err));
out:
	free(files);
	free(execs);
	return err;
}

static int env_cmd(struct nl_sock *sk, int family, uint8_t cmd, uint64_t cgroup_id)
{
	struct nl_msg *msg = msg_new(family, cmd, 16);
	struct reply r;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, FNGUARD_A_CGROUP_ID, cgroup_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return request(sk, msg, &r);
}

int kmod_client_env_remove(struct kmod_client *k, uint64_t cgroup_id)
{
	return env_cmd(k->req, k->family, FNGUARD_CMD_ENV_REMOVE, cgroup_id);
}

int kmod_client_env_reset_execs(struct kmod_client *k, uint64_t cgroup_id)
{
	return env_cmd(k->req, k->family, FNGUARD_CMD_ENV_RESET_EXECS, cgroup_id);
}

int kmod_env_remove_oneshot(uint64_t cgroup_id)
{
	struct nl_sock *sk;
	char why[256];
	int family, err;

	/* No module, no policy of it to remove. */
	if (access("/sys/module/fnguard", F_OK))
		return -ENOENT;
	err = connect_family(&sk, &family, why, sizeof(why));
	if (err)
		return err;
	err = env_cmd(sk, family, FNGUARD_CMD_ENV_REMOVE, cgroup_id);
	nl_socket_free(sk);
	return err;
}

int kmod_client_events_fd(struct kmod_client *k)
{
	return nl_socket_get_fd(k->ev);
}

int kmod_client_events_read(struct kmod_client *k)
{
	struct reply r;

	/* The module sends what it has queued before it answers: then the socket has it all. */
	get_info(k->req, k->family, &r);
	for (;;) {
		int err = nl_recvmsgs_default(k->ev);

		if (err >= 0)
			continue;
		if (err == -NLE_AGAIN)
			return 0;
		/* ENOBUFS: the socket overflowed, events were lost (how many is not known). */
		if (err == -NLE_NOMEM) {
			k->overruns++;
			continue;
		}
		if (err == -NLE_INTR)
			continue;
		log_warnx("kmod backend: reading events: %s", nl_geterror(err));
		return nl_to_errno(err);
	}
}

int kmod_client_counters(struct kmod_client *k, uint64_t out[FNGUARD_CNT_MAX])
{
	struct reply r;
	int err = get_info(k->req, k->family, &r);

	if (err)
		return err;
	memcpy(out, r.counters, sizeof(r.counters));
	out[FNGUARD_CNT_EVENTS_DROPPED] += k->overruns;
	return 0;
}

int kmod_client_policies(struct kmod_client *k, uint32_t *n)
{
	struct reply r;
	int err = get_info(k->req, k->family, &r);

	if (!err)
		*n = r.policies;
	return err;
}
