// SPDX-License-Identifier: GPL-2.0
/*
 * fnguard kernel module: the enforcement backend for kernels where 'bpf' is not an active LSM.
 * This file registers the generic netlink family user space talks to.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <net/genetlink.h>

#include "fnguard_genl.h"

static atomic_t fng_policies = ATOMIC_INIT(0);
static struct genl_family fng_genl_family;

static int fng_cmd_get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &fng_genl_family, 0, FNGUARD_CMD_GET_INFO);
	if (!hdr)
		goto nospace;
	if (nla_put_u32(msg, FNGUARD_A_VERSION, FNGUARD_GENL_VERSION) ||
	    nla_put_u32(msg, FNGUARD_A_POLICIES, atomic_read(&fng_policies)))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct nla_policy fng_genl_policy[FNGUARD_A_MAX + 1] = {
	[FNGUARD_A_VERSION] = { .type = NLA_U32 },
	[FNGUARD_A_POLICIES] = { .type = NLA_U32 },
};

static const struct genl_small_ops fng_genl_ops[] = {
	{
		.cmd = FNGUARD_CMD_GET_INFO,
		.doit = fng_cmd_get_info,
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
};

static int __init fng_init(void)
{
	int err;

	err = genl_register_family(&fng_genl_family);
	if (err) {
		pr_err("fnguard: cannot register generic netlink family: %d\n", err);
		return err;
	}
	pr_info("fnguard: loaded, interface version %d\n", FNGUARD_GENL_VERSION);
	return 0;
}

static void __exit fng_exit(void)
{
	genl_unregister_family(&fng_genl_family);
	pr_info("fnguard: unloaded\n");
}

module_init(fng_init);
module_exit(fng_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fnguard: per-environment file, exec and network enforcement");
MODULE_VERSION("0.1");
