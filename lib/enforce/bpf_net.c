// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "bpf_net.h"
#include "log.h"

void bpf_net_conf(const struct fng_policy *p, struct fng_policy_conf *conf)
{
	conf->net_mode = p->network.mode == FNG_MODE_AUDIT ? FNG_ABI_AUDIT : FNG_ABI_ENFORCE;
	conf->egress_default = p->network.egress_default == FNG_VERDICT_ALLOW;
	conf->loopback = p->network.loopback == FNG_VERDICT_ALLOW;
	conf->bind = p->network.bind == FNG_VERDICT_ALLOW;
	conf->families = p->network.families;
	conf->runtime_api_port = p->network.runtime_api_port;
	/* Raw and ICMP sockets bypass every address rule: refused whenever any applies. */
	conf->raw_deny = p->network.n_egress || p->network.egress_default == FNG_VERDICT_DENY ||
			 p->network.loopback == FNG_VERDICT_DENY ||
			 p->network.bind == FNG_VERDICT_DENY;
}

/* The trie stores IPv4 as IPv4-mapped IPv6 so one lookup serves both families. */
static void net_key_of(const struct fng_egress_rule *r, uint32_t policy_id, struct fng_net_key *k)
{
	memset(k, 0, sizeof(*k));
	k->policy_id = htonl(policy_id);
	if (r->family == AF_INET) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(&k->addr[12], r->addr, 4);
		k->prefixlen = 32 + 96 + r->prefix_len;
	} else {
		memcpy(k->addr, r->addr, 16);
		k->prefixlen = 32 + r->prefix_len;
	}
}

int bpf_net_fill(int fd, uint32_t policy_id, const struct fng_policy *p)
{
	const struct fng_network *n = &p->network;
	struct fng_net_prefix *vals;
	struct fng_net_key *keys;
	size_t nkeys = 0;
	int err = 0;

	if (n->n_egress == 0)
		return 0;
	keys = calloc(n->n_egress, sizeof(*keys));
	vals = calloc(n->n_egress, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	/* Group the rules by exact prefix: one trie entry per prefix. */
	for (size_t i = 0; i < n->n_egress; i++) {
		const struct fng_egress_rule *r = &n->egress[i];
		struct fng_net_key k;
		struct fng_net_rule *nr;
		size_t j;

		net_key_of(r, policy_id, &k);
		for (j = 0; j < nkeys; j++)
			if (!memcmp(&keys[j], &k, sizeof(k)))
				break;
		if (j == nkeys) {
			keys[nkeys] = k;
			vals[nkeys].prefix_len = k.prefixlen - 32;
			nkeys++;
		}
		if (vals[j].n_rules >= FNG_NET_MAX_PER_PREFIX) {
			log_warnx("%s:%u: more than %d egress rules for the same address prefix",
				  p->source, r->line, FNG_NET_MAX_PER_PREFIX);
			err = -E2BIG;
			goto out;
		}
		if (r->n_ports > FNG_NET_MAX_PORTS) {
			log_warnx("%s:%u: more than %d port ranges in one egress rule: split it",
				  p->source, r->line, FNG_NET_MAX_PORTS);
			err = -E2BIG;
			goto out;
		}
		nr = &vals[j].rules[vals[j].n_rules++];
		nr->protocol = r->protocol;
		nr->verdict = r->verdict == FNG_VERDICT_ALLOW ? FNG_ABI_ALLOW : FNG_ABI_DENY;
		nr->n_ports = r->n_ports;
		nr->index = i;
		for (size_t q = 0; q < r->n_ports; q++) {
			nr->ports[q][0] = r->ports[q].first;
			nr->ports[q][1] = r->ports[q].last;
		}
	}
	for (size_t j = 0; j < nkeys; j++) {
		if (bpf_map_update_elem(fd, &keys[j], &vals[j], BPF_ANY)) {
			err = -errno;
			log_warn("cannot write network rule map");
			bpf_net_clear(fd, policy_id);
			goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return err;
}

int bpf_net_clear(int fd, uint32_t policy_id)
{
	struct fng_net_key cur, next, *prev = NULL;
	int err = 0;

	/* Collect first: deleting while iterating an LPM trie restarts the walk. */
	for (;;) {
		if (bpf_map_get_next_key(fd, prev, &next))
			break;
		cur = next;
		prev = &cur;
		if (ntohl(next.policy_id) == policy_id) {
			if (bpf_map_delete_elem(fd, &next) && errno != ENOENT)
				err = -errno;
			prev = NULL; /* start over: the deleted key can no longer lead the walk */
		}
	}
	return err;
}
