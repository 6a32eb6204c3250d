// SPDX-License-Identifier: Apache-2.0
/*
 * The network section: egress entries compiled to (family, address, prefix, ports,
 * protocol, verdict), loopback, bind and the socket families bitmask.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_int.h"

struct egress_ctx {
	enum fng_verdict verdict;
};

static bool parse_port(const char *s, size_t len, unsigned *out)
{
	size_t i;
	unsigned v = 0;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		/* saturate: anything above 65535 is out of range, however long */
		v = v > 65535 ? v : v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* One item of ports: 443, "443" or "8000-8100". */
static bool v_port(struct pctx *c, const struct pnode *n, struct fng_port_range *out)
{
	const char *dash;
	unsigned lo, hi;
	int64_t v;

	if (n->kind == PNODE_SCALAR && pnode_scalar_type(n) == PSCALAR_INT) {
		if (policy_parse_int(n->s, n->len, &v) || v < 1 || v > 65535) {
			pctx_err(c, n, "port %s is out of range (1-65535)",
				 pctx_quote(c, n->s, n->len));
			return false;
		}
		out->first = out->last = (uint16_t)v;
		return true;
	}
	if (n->kind != PNODE_SCALAR || pnode_scalar_type(n) != PSCALAR_STRING) {
		pctx_err(c, n, "expected a port or a range such as 8000-8100, got %s",
			 pnode_type_name(n));
		return false;
	}
	dash = memchr(n->s, '-', n->len);
	if (!dash) {
		lo = hi = 0;
		if (!parse_port(n->s, n->len, &lo))
			goto bad;
		hi = lo;
	} else if (!parse_port(n->s, (size_t)(dash - n->s), &lo) ||
		   !parse_port(dash + 1, n->len - (size_t)(dash - n->s) - 1, &hi)) {
		goto bad;
	}
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
		pctx_err(c, n, "port '%s' is out of range (1-65535)", pctx_quote(c, n->s, n->len));
		return false;
	}
	if (lo > hi) {
		pctx_err(c, n, "bad port range '%s' (the first port is greater than the last)",
			 pctx_quote(c, n->s, n->len));
		return false;
	}
	out->first = (uint16_t)lo;
	out->last = (uint16_t)hi;
	return true;
bad:
	pctx_err(c, n, "bad port '%s' (use a number 1-65535 or a range such as 8000-8100)",
		 pctx_quote(c, n->s, n->len));
	return false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct fng_port_range *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->last > y->last) - (x->last < y->last);
}

/* Sorts the ranges and merges those that overlap or touch. */
static size_t merge_ranges(struct fng_port_range *r, size_t n)
{
	size_t i, w = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range_cmp);
	for (i = 1; i < n; i++) {
		if ((unsigned)r[i].first <= (unsigned)r[w].last + 1) {
			if (r[i].last > r[w].last)
				r[w].last = r[i].last;
		} else {
			r[++w] = r[i];
		}
	}
	return w + 1;
}

static void v_ports(struct pctx *c, const struct pnode *n, struct fng_egress_rule *rule)
{
	size_t i;

	if (!pnode_expect_seq(c, n))
		return;
	if (n->n == 0) {
		pctx_err(c, n, "empty list (leave 'ports' out to match every port)");
		return;
	}
	rule->ports = calloc(n->n, sizeof(*rule->ports));
	if (!rule->ports) {
		c->oom = 1;
		return;
	}
	for (i = 0; i < n->n; i++) {
		size_t saved = pctx_push_index(c, i);

		if (v_port(c, n->kids[i], &rule->ports[rule->n_ports]))
			rule->n_ports++;
		pctx_pop(c, saved);
	}
	rule->n_ports = merge_ranges(rule->ports, rule->n_ports);
}

static void v_to(struct pctx *c, const struct pnode *n, struct fng_egress_rule *rule)
{
	char fixed[64];

	if (!pnode_as_string(c, n))
		return;
	switch (policy_parse_cidr(n->s, n->len, rule)) {
	case CIDR_OK:
		return;
	case CIDR_BAD_ADDRESS:
		pctx_err(c, n,
			 "bad address '%s' (expected an IPv4 or IPv6 address or CIDR such as "
			 "192.0.2.0/24)",
			 pctx_quote(c, n->s, n->len));
		break;
	case CIDR_BAD_PREFIX:
		pctx_err(c, n, "bad prefix length in '%s' (0-32 for IPv4, 0-128 for IPv6)",
			 pctx_quote(c, n->s, n->len));
		break;
	case CIDR_HOST_BITS:
		policy_cidr_format(rule, fixed, sizeof(fixed));
		pctx_err(c, n, "'%s' has host bits set (did you mean '%s'?)",
			 pctx_quote(c, n->s, n->len), fixed);
		break;
	case CIDR_MAPPED_PREFIX:
		pctx_err(c, n,
			 "'%s' is an IPv4-mapped IPv6 range shorter than /96 (write the IPv4 "
			 "range instead)",
			 pctx_quote(c, n->s, n->len));
		break;
	}
}

static void v_egress_entry(struct pctx *c, const struct pnode *item, size_t idx, void *arg)
{
	static const char *const keys[] = {"to", "ports", "protocol"};
	static const char *const protos[] = {"tcp", "udp", "any"};
	static const uint8_t proto_nr[] = {FNG_PROTO_TCP, FNG_PROTO_UDP, FNG_PROTO_ANY};
	struct egress_ctx *ec = arg;
	struct fng_network *net = &c->p->network;
	struct fng_egress_rule *rule = &net->egress[net->n_egress];
	const struct pnode *v[3];
	int k;

	if (!pnode_expect_map(c, item))
		return;
	memset(rule, 0, sizeof(*rule));
	rule->verdict = (uint8_t)ec->verdict;
	rule->protocol = FNG_PROTO_ANY;
	rule->line = item->line;
	pmap_collect(c, item, keys, 3, v);
	pmap_require(c, item, "to", v[0]);
	WITH_KEY(c, "to", v[0], v_to(c, v[0], rule));
	WITH_KEY(c, "ports", v[1], v_ports(c, v[1], rule));
	WITH_KEY(c, "protocol", v[2], {
		if (pnode_as_enum(c, v[2], protos, 3, &k))
			rule->protocol = proto_nr[k];
	});
	/* counted even when invalid, so that policy_free() frees its ports */
	net->n_egress++;
}

static void v_egress_list(struct pctx *c, const char *key, const struct pnode *list,
			  enum fng_verdict verdict)
{
	struct egress_ctx ec = {verdict};

	WITH_KEY(c, key, list, {
		if (pnode_expect_seq(c, list))
			pseq_each(c, list, v_egress_entry, &ec);
	});
}

static void v_egress(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"default", "allow", "deny"};
	struct fng_network *net = &c->p->network;
	const struct pnode *v[3];
	size_t total = 0;

	pmap_collect(c, map, keys, 3, v);
	WITH_KEY(c, "default", v[0], pnode_as_verdict(c, v[0], &net->egress_default));
	if (v[1] && v[1]->kind == PNODE_SEQ)
		total += v[1]->n;
	if (v[2] && v[2]->kind == PNODE_SEQ)
		total += v[2]->n;
	if (total) {
		net->egress = calloc(total, sizeof(*net->egress));
		if (!net->egress) {
			c->oom = 1;
			return;
		}
	}
	v_egress_list(c, "allow", v[1], FNG_VERDICT_ALLOW);
	v_egress_list(c, "deny", v[2], FNG_VERDICT_DENY);
}

static void v_families(struct pctx *c, const struct pnode *n)
{
	struct fng_network *net = &c->p->network;
	size_t i;

	if (!pnode_expect_seq(c, n))
		return;
	net->families = 0;
	for (i = 0; i < n->n && !c->full; i++) {
		const struct pnode *f = n->kids[i];
		size_t saved = pctx_push_index(c, i);
		int af;

		if (!pnode_as_string(c, f))
			goto next;
		af = policy_family_lookup(f->s);
		if (af < 0 || f->len != strlen(f->s)) {
			const char *hint = policy_family_hint(f->s);
			char known[256];
			size_t o = 0;
			int a;

			if (hint) {
				pctx_err(c, f, "unknown socket family '%s' (did you mean '%s'?)",
					 pctx_quote(c, f->s, f->len), hint);
				goto next;
			}
			known[0] = '\0';
			for (a = 0; a < 64 && o < sizeof(known); a++)
				if (policy_family_name(a))
					o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s",
							      o ? ", " : "", policy_family_name(a));
			pctx_err(c, f, "unknown socket family '%s' (known families: %s)",
				 pctx_quote(c, f->s, f->len), known);
		} else if (net->families & (1ull << af)) {
			pctx_err(c, f, "duplicate family '%s'", f->s);
		} else {
			net->families |= 1ull << af;
		}
	next:
		pctx_pop(c, saved);
	}
}

void policy_network_validate(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"mode", "egress", "loopback", "bind", "families"};
	struct fng_network *net = &c->p->network;
	const struct pnode *v[5];

	pmap_collect(c, map, keys, 5, v);
	WITH_KEY(c, "mode", v[0], pnode_as_mode(c, v[0], &net->mode));
	WITH_KEY(c, "egress", v[1], {
		if (pnode_expect_map(c, v[1]))
			v_egress(c, v[1]);
	});
	WITH_KEY(c, "loopback", v[2], pnode_as_verdict(c, v[2], &net->loopback));
	WITH_KEY(c, "bind", v[3], pnode_as_verdict(c, v[3], &net->bind));
	WITH_KEY(c, "families", v[4], v_families(c, v[4]));
}
