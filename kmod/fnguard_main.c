// SPDX-License-Identifier: GPL-2.0
/*
 * fnguard kernel module: the enforcement backend for kernels where 'bpf' is not an active LSM.
 * This file: module init/exit and the generic netlink family user space talks to
 * (uapi/fnguard_genl.h). Every change needs CAP_SYS_ADMIN (GENL_ADMIN_PERM); every input is
 * validated before anything is built.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <net/genetlink.h>

#include "fng.h"

static struct genl_family fng_genl_family;

enum { FNG_MCGRP_EVENTS };

static const struct genl_multicast_group fng_mcgrps[] = {
	[FNG_MCGRP_EVENTS] = { .name = FNGUARD_MCGRP_EVENTS, .flags = GENL_UNS_ADMIN_PERM },
};

static int fng_cmd_get_info(struct sk_buff *skb, struct genl_info *info)
{
	u64 counters[FNGUARD_CNT_MAX] = {};
	struct sk_buff *msg;
	unsigned int i;
	void *hdr;

	/* Events queued before this request are sent before its reply: a reader that asks for
	 * the counters and then reads its events socket has every event made so far. */
	fng_events_flush();
	for (i = 0; i < FNGUARD_CNT_MAX; i++)
		counters[i] = fng_counter_sum(i);
	counters[FNGUARD_CNT_PROBE_MISSED] += fng_hooks_missed();
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &fng_genl_family, 0, FNGUARD_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	if (nla_put_u32(msg, FNGUARD_A_VERSION, FNGUARD_GENL_VERSION) ||
	    nla_put_u32(msg, FNGUARD_A_POLICIES, atomic_read(&fng_n_envs)) ||
	    nla_put(msg, FNGUARD_A_COUNTERS, sizeof(counters), counters))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int fng_get_cgid(struct genl_info *info, u64 *cgid)
{
	if (!info->attrs[FNGUARD_A_CGROUP_ID]) {
		GENL_SET_ERR_MSG(info, "CGROUP_ID missing");
		return -EINVAL;
	}
	*cgid = nla_get_u64(info->attrs[FNGUARD_A_CGROUP_ID]);
	if (!*cgid) {
		GENL_SET_ERR_MSG(info, "CGROUP_ID is 0");
		return -EINVAL;
	}
	return 0;
}

static int fng_check_conf(const struct fng_policy_conf *c)
{
	size_t i;

	if (c->valid != 1)
		return -EINVAL;
	for (i = 0; i < sizeof(c->pad); i++)
		if (c->pad[i])
			return -EINVAL;
	if (c->file_mode > FNG_ABI_AUDIT || c->exec_mode > FNG_ABI_AUDIT ||
	    c->net_mode > FNG_ABI_AUDIT || c->file_default > FNG_ABI_ALLOW ||
	    c->exec_default > FNG_ABI_ALLOW || c->exec_children > FNG_ABI_ALLOW ||
	    c->egress_default > FNG_ABI_ALLOW || c->loopback > FNG_ABI_ALLOW ||
	    c->bind > FNG_ABI_ALLOW || c->raw_deny > 1)
		return -EINVAL;
	return 0;
}

/*
 * The rules of one section: every FILE_RULES (or EXEC_RULES) attribute of the message, in
 * order. An attribute holds at most 65535 bytes (2730 rules), so a section of more rules is
 * sent as several attributes of the same type, concatenated here.
 */
static int fng_gather_rules(struct genl_info *info, int type, u32 max_rights,
			    struct fnguard_rule **out, u32 *n_out)
{
	const struct nlattr *a, *head = nlmsg_attrdata(info->nlhdr, GENL_HDRLEN);
	int rem, len = nlmsg_attrlen(info->nlhdr, GENL_HDRLEN);
	struct fnguard_rule *rules;
	size_t total = 0;
	u32 i, n = 0;

	*out = NULL;
	*n_out = 0;
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) != type)
			continue;
		if (nla_len(a) % sizeof(struct fnguard_rule))
			return -EINVAL;
		total += nla_len(a) / sizeof(struct fnguard_rule);
		if (total > FNGUARD_MAX_RULES)
			return -E2BIG;
	}
	if (!total)
		return 0;
	rules = kvmalloc_array(total, sizeof(*rules), GFP_KERNEL);
	if (!rules)
		return -ENOMEM;
	nla_for_each_attr(a, head, len, rem) {
		if (nla_type(a) != type)
			continue;
		memcpy(&rules[n], nla_data(a), nla_len(a));
		n += nla_len(a) / sizeof(struct fnguard_rule);
	}
	for (i = 0; i < n; i++) {
		if (rules[i].pad || rules[i].rights & ~max_rights) {
			kvfree(rules);
			return -EINVAL;
		}
	}
	*out = rules;
	*n_out = n;
	return 0;
}

static int fng_cmd_env_install(struct sk_buff *skb, struct genl_info *info)
{
	struct fnguard_rule *files = NULL, *execs = NULL;
	struct fng_policy_conf conf;
	u32 n_files, n_execs;
	u64 cgid;
	int err;

	err = fng_get_cgid(info, &cgid);
	if (err)
		return err;
	if (!info->attrs[FNGUARD_A_CONF] ||
	    nla_len(info->attrs[FNGUARD_A_CONF]) != sizeof(struct fng_policy_conf)) {
		GENL_SET_ERR_MSG(info, "CONF missing or not a struct fng_policy_conf");
		return -EINVAL;
	}
	memcpy(&conf, nla_data(info->attrs[FNGUARD_A_CONF]), sizeof(conf));
	if (fng_check_conf(&conf)) {
		GENL_SET_ERR_MSG(info, "CONF invalid (valid != 1, pad, or a value out of range)");
		return -EINVAL;
	}
	err = fng_gather_rules(info, FNGUARD_A_FILE_RULES, FNG_RIGHT_READ | FNG_RIGHT_WRITE, &files,
			       &n_files);
	if (!err)
		err = fng_gather_rules(info, FNGUARD_A_EXEC_RULES, 1, &execs, &n_execs);
	if (err) {
		GENL_SET_ERR_MSG(info, "FILE_RULES or EXEC_RULES invalid");
		kvfree(files);
		return err;
	}
	err = fng_env_install(cgid, &conf, files, n_files, execs, n_execs);
	kvfree(files);
	kvfree(execs);
	return err;
}

static int fng_cmd_env_remove(struct sk_buff *skb, struct genl_info *info)
{
	u64 cgid;
	int err = fng_get_cgid(info, &cgid);

	return err ? err : fng_env_remove(cgid);
}

static int fng_cmd_env_reset_execs(struct sk_buff *skb, struct genl_info *info)
{
	u64 cgid;
	int err = fng_get_cgid(info, &cgid);

	return err ? err : fng_env_reset_execs(cgid);
}

int fng_genl_multicast_event(const struct fng_event *e)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&fng_genl_family, &init_net, FNG_MCGRP_EVENTS))
		return -ESRCH;
	msg = genlmsg_new(nla_total_size(sizeof(*e)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &fng_genl_family, 0, FNGUARD_CMD_EVENT);
	if (!hdr || nla_put(msg, FNGUARD_A_EVENT, sizeof(*e), e)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_multicast(&fng_genl_family, msg, 0, FNG_MCGRP_EVENTS, GFP_KERNEL);
}

static const struct nla_policy fng_genl_policy[FNGUARD_A_MAX + 1] = {
	[FNGUARD_A_VERSION] = { .type = NLA_U32 },
	[FNGUARD_A_POLICIES] = { .type = NLA_U32 },
	[FNGUARD_A_CGROUP_ID] = { .type = NLA_U64 },
	[FNGUARD_A_CONF] = { .type = NLA_BINARY, .len = sizeof(struct fng_policy_conf) },
	[FNGUARD_A_FILE_RULES] = { .type = NLA_BINARY },
	[FNGUARD_A_EXEC_RULES] = { .type = NLA_BINARY },
	[FNGUARD_A_EVENT] = { .type = NLA_BINARY, .len = sizeof(struct fng_event) },
	[FNGUARD_A_COUNTERS] = { .type = NLA_BINARY },
};

static const struct genl_small_ops fng_genl_ops[] = {
	{
		.cmd = FNGUARD_CMD_GET_INFO,
		.doit = fng_cmd_get_info,
	},
	{
		.cmd = FNGUARD_CMD_ENV_INSTALL,
		.doit = fng_cmd_env_install,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = FNGUARD_CMD_ENV_REMOVE,
		.doit = fng_cmd_env_remove,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = FNGUARD_CMD_ENV_RESET_EXECS,
		.doit = fng_cmd_env_reset_execs,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family fng_genl_family __ro_after_init = {
	.name = FNGUARD_GENL_NAME,
	.version = FNGUARD_GENL_VERSION,
	.maxattr = FNGUARD_A_MAX,
	.policy = fng_genl_policy,
	.module = THIS_MODULE,
	.small_ops = fng_genl_ops,
	.n_small_ops = ARRAY_SIZE(fng_genl_ops),
	.resv_start_op = FNGUARD_CMD_MAX + 1,
	.mcgrps = fng_mcgrps,
	.n_mcgrps = ARRAY_SIZE(fng_mcgrps),
};

static int __init fng_init(void)
{
	int err;

	err = fng_walk_init();
	if (err)
		return err;
	err = fng_events_init();
	if (err)
		return err;
	err = genl_register_family(&fng_genl_family);
	if (err) {
		pr_err("fnguard: cannot register generic netlink family: %d\n", err);
		goto out_events;
	}
	err = fng_hooks_init();
	if (err)
		goto out_genl;
	pr_info("fnguard: loaded, interface version %d\n", FNGUARD_GENL_VERSION);
	return 0;
out_genl:
	genl_unregister_family(&fng_genl_family);
out_events:
	fng_events_exit();
	return err;
}

/*
 * Only reached with no policy installed (each pins the module). Probes first (waits for the
 * handlers in flight), then the events they queued (sent), then netlink, then the tables.
 */
static void __exit fng_exit(void)
{
	fng_hooks_exit();
	fng_events_exit();
	genl_unregister_family(&fng_genl_family);
	fng_table_exit();
	pr_info("fnguard: unloaded\n");
}

module_init(fng_init);
module_exit(fng_exit);
MODULE_LICENSE("GPL");
/* Resolving the family loads the module when installed (request_module of this alias). */
MODULE_ALIAS_GENL_FAMILY(FNGUARD_GENL_NAME);
MODULE_DESCRIPTION("fnguard: per-environment file, exec and network enforcement");
MODULE_VERSION("0.2");
