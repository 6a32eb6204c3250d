// SPDX-License-Identifier: GPL-2.0
/*
 * Network policy: cgroup sock_addr programs (connect4/6, sendmsg4/6, bind4/6) attached to each
 * environment's cgroup, and a BPF LSM program for socket families. The cgroup programs need no
 * LSM, so egress, loopback and bind rules are enforced on kernels without BPF LSM too.
 *
 * connect covers TCP (including TCP fast open, which goes through the same pre-connect hook),
 * connected UDP and ping sockets; sendmsg covers UDP sendto/sendmsg/sendmmsg without connect.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10

/* (policy id, address) -> every rule of the policy with exactly that prefix. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, FNG_MAX_NET_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fng_net_key);
	__type(value, struct fng_net_prefix);
} fng_net_rules SEC(".maps");

struct net_match {
	struct fng_net_key key;
	__u16 port;
	__u8 proto;
	__s8 verdict; /* -1: no rule matched */
	__u32 index;
};

static __always_inline bool port_match(const struct fng_net_rule *r, __u16 port)
{
	if (r->n_ports == 0)
		return true;
	for (int i = 0; i < FNG_NET_MAX_PORTS; i++) {
		if (i >= r->n_ports)
			break;
		if (port >= r->ports[i][0] && port <= r->ports[i][1])
			return true;
	}
	return false;
}

/*
 * One step of the longest-prefix search: look up the longest prefix not longer than the key's,
 * and let the rules at that prefix whose protocol and ports match decide (a tie goes to deny).
 * When none of them matches, go on with the next shorter prefix.
 */
static long net_match_step(__u32 i, void *data)
{
	struct net_match *m = data;
	struct fng_net_prefix *v = bpf_map_lookup_elem(&fng_net_rules, &m->key);
	int allow = -1;

	if (!v)
		return 1;
	for (int r = 0; r < FNG_NET_MAX_PER_PREFIX; r++) {
		const struct fng_net_rule *rule = &v->rules[r];

		if (r >= v->n_rules)
			break;
		if (rule->protocol && rule->protocol != m->proto)
			continue;
		if (!port_match(rule, m->port))
			continue;
		if (rule->verdict == FNG_ABI_DENY) {
			m->verdict = FNG_ABI_DENY;
			m->index = rule->index;
			return 1;
		}
		if (allow < 0) {
			allow = r;
			m->index = rule->index;
		}
	}
	if (allow >= 0) {
		m->verdict = FNG_ABI_ALLOW;
		return 1;
	}
	if (v->prefix_len == 0)
		return 1;
	m->key.prefixlen = 32 + v->prefix_len - 1;
	return 0;
}

/* The destination as an IPv4-mapped IPv6 address when it is IPv4 (also when ::ffff:a.b.c.d). */
/* @family is a constant: connect4 programs may not even read user_ip6. */
static __always_inline void net_dest(struct bpf_sock_addr *ctx, int family, __u8 addr[16])
{
	__u32 *a = (__u32 *)addr;

	if (family == AF_INET) {
		a[0] = 0;
		a[1] = 0;
		a[2] = bpf_htonl(0xffff);
		a[3] = ctx->user_ip4;
	} else {
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
	}
}

/* 127.0.0.0/8, ::1, and the unspecified addresses (connecting to them reaches this host). */
static __always_inline bool net_is_loopback(const __u8 addr[16])
{
	const __u32 *a = (const __u32 *)addr;

	if (a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff))
		return addr[12] == 127 || a[3] == 0;
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && (a[3] == bpf_htonl(1) || a[3] == 0);
}

static __always_inline void net_report(__u64 cgid, __u32 policy_id, __u16 op, __u8 mode,
				       __u8 rule_kind, __u32 rule_index, struct bpf_sock_addr *ctx,
				       const __u8 addr[16])
{
	struct fng_event *e = fng_event_start(cgid, policy_id, FNG_CLASS_NETWORK, op,
					      fng_event_verdict(mode), rule_kind, rule_index);

	if (!e)
		return;
	e->target_kind = FNG_TARGET_ADDR;
	e->target.addr.family = ctx->user_family;
	e->target.addr.protocol = ctx->protocol;
	e->target.addr.port = bpf_ntohs((__u16)ctx->user_port);
	/* The event carries IPv4 as IPv4 (addr[0..3]), not in its mapped form. */
	if (ctx->user_family == AF_INET) {
		__builtin_memset(e->target.addr.addr, 0, 16);
		__builtin_memcpy(e->target.addr.addr, addr + 12, 4);
	} else {
		__builtin_memcpy(e->target.addr.addr, addr, 16);
	}
	bpf_ringbuf_submit(e, 0);
}

/* 1: allow, 0: deny (the kernel then fails the call with EPERM). */
static __always_inline int net_egress(struct bpf_sock_addr *ctx, int family, __u16 op)
{
	struct fng_policy_conf *conf;
	struct fng_env *env;
	struct net_match m = {};
	__u8 rule_kind, verdict;
	__u64 cgid = 0;
	int in;

	in = fng_enter(&cgid, &env, &conf);
	if (in <= 0)
		return in == 0; /* outside every environment: allow; no valid policy: deny */
	net_dest(ctx, family, m.key.addr);
	/* The environment's own Runtime API (127.0.0.1:9001, docs/runtime.md): its runtime must
	 * reach it whatever loopback says. */
	if (conf->runtime_api_port && ctx->protocol == IPPROTO_TCP &&
	    bpf_ntohs((__u16)ctx->user_port) == conf->runtime_api_port &&
	    ((__u32 *)m.key.addr)[0] == 0 && ((__u32 *)m.key.addr)[1] == 0 &&
	    ((__u32 *)m.key.addr)[2] == bpf_htonl(0xffff) &&
	    ((__u32 *)m.key.addr)[3] == bpf_htonl(0x7f000001))
		return 1;
	if (net_is_loopback(m.key.addr)) {
		verdict = conf->loopback;
		rule_kind = FNG_RULE_LOOPBACK;
	} else {
		m.key.prefixlen = 32 + 128;
		m.key.policy_id = bpf_htonl(env->policy_id);
		m.port = bpf_ntohs((__u16)ctx->user_port);
		m.proto = ctx->protocol;
		m.verdict = -1;
		bpf_loop(130, net_match_step, &m, 0);
		if (m.verdict < 0) {
			verdict = conf->egress_default;
			rule_kind = FNG_RULE_DEFAULT;
		} else {
			verdict = m.verdict;
			rule_kind = FNG_RULE_ENTRY;
		}
	}
	if (verdict == FNG_ABI_ALLOW)
		return 1;
	net_report(cgid, env->policy_id, op, conf->net_mode, rule_kind, m.index, ctx, m.key.addr);
	return conf->net_mode == FNG_ABI_AUDIT ? 1 : 0;
}

static __always_inline int net_bind(struct bpf_sock_addr *ctx, int family)
{
	struct fng_policy_conf *conf;
	struct fng_env *env;
	__u64 cgid = 0;
	__u8 addr[16];
	int in;

	in = fng_enter(&cgid, &env, &conf);
	if (in <= 0)
		return in == 0;
	net_dest(ctx, family, addr);
	/* Binding the unspecified address listens on every interface: not loopback. */
	if (conf->bind == FNG_ABI_ALLOW || (net_is_loopback(addr) && ((__u32 *)addr)[3] != 0))
		return 1;
	net_report(cgid, env->policy_id, FNG_OP_BIND, conf->net_mode, FNG_RULE_BIND, 0, ctx, addr);
	return conf->net_mode == FNG_ABI_AUDIT ? 1 : 0;
}

SEC("cgroup/connect4")
int fng_connect4(struct bpf_sock_addr *ctx)
{
	return net_egress(ctx, AF_INET, FNG_OP_CONNECT);
}

SEC("cgroup/connect6")
int fng_connect6(struct bpf_sock_addr *ctx)
{
	return net_egress(ctx, AF_INET6, FNG_OP_CONNECT);
}

SEC("cgroup/sendmsg4")
int fng_sendmsg4(struct bpf_sock_addr *ctx)
{
	return net_egress(ctx, AF_INET, FNG_OP_SENDMSG);
}

SEC("cgroup/sendmsg6")
int fng_sendmsg6(struct bpf_sock_addr *ctx)
{
	return net_egress(ctx, AF_INET6, FNG_OP_SENDMSG);
}

SEC("cgroup/bind4")
int fng_bind4(struct bpf_sock_addr *ctx)
{
	return net_bind(ctx, AF_INET);
}

SEC("cgroup/bind6")
int fng_bind6(struct bpf_sock_addr *ctx)
{
	return net_bind(ctx, AF_INET6);
}

#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define SOCK_TYPE_MASK 0xf
#define IPPROTO_ICMP 1
#define IPPROTO_ICMPV6 58

static __always_inline bool net_socket_bypasses_egress(int family, int type, int protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	type &= SOCK_TYPE_MASK;
	return type == SOCK_RAW ||
	       (type == SOCK_DGRAM && (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6));
}

/* Socket families: an LSM hook, so only where BPF LSM is active. */
SEC("lsm/socket_create")
int BPF_PROG(fng_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct fng_policy_conf *conf;
	struct fng_event *e;
	struct fng_env *env;
	__u64 cgid = 0;
	__u8 rule;
	int in;

	if (ret != 0 || kern)
		return ret;
	in = fng_enter(&cgid, &env, &conf);
	if (in <= 0)
		return in == 0 ? 0 : -EPERM;
	rule = FNG_RULE_FAMILIES;
	if (family >= 0 && family < 64 && (conf->families & (1ULL << family))) {
		/*
		 * Raw and ICMP ("ping") sockets send to any address without passing the cgroup
		 * connect/sendmsg hooks: while egress is restricted they are refused.
		 */
		if (!net_socket_bypasses_egress(family, type, protocol) || !conf->raw_deny)
			return 0;
		rule = FNG_RULE_RAW;
	}
	e = fng_event_start(cgid, env->policy_id, FNG_CLASS_NETWORK, FNG_OP_SOCKET,
			    fng_event_verdict(conf->net_mode), rule, 0);
	if (e) {
		e->target_kind = FNG_TARGET_ADDR;
		e->target.addr.family = family;
		e->target.addr.protocol = protocol;
		e->target.addr.port = type;
		bpf_ringbuf_submit(e, 0);
	}
	return conf->net_mode == FNG_ABI_AUDIT ? 0 : -EPERM;
}
