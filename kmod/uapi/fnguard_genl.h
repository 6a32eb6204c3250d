/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Generic netlink interface of the fnguard kernel module, shared with user space.
 * Numbers are ABI: they never change, new ones are only appended.
 *
 * Model (the same as the bpf-lsm backend's, bpf/fnguard_abi.h): an environment is a cgroup (v2)
 * subtree, named by its cgroup id. ENV_INSTALL gives it a whole policy in one message: the
 * settings (struct fng_policy_conf) and every file and exec rule, keyed by inode (dev, ino).
 * The module builds the new policy aside and switches the environment to it with one RCU
 * pointer update, so a decision sees all of the old policy or all of the new one, never a mix
 * and never none.
 *
 * Denials (and audited would-be denials) are multicast to the group FNGUARD_MCGRP_EVENTS as
 * FNGUARD_CMD_EVENT messages carrying one struct fng_event each (the same struct as the BPF
 * ring buffer's). Events that cannot be sent are counted, never dropped silently.
 *
 * Changing anything (ENV_INSTALL, ENV_REMOVE, ENV_RESET_EXECS) needs CAP_SYS_ADMIN.
 *
 * A netlink attribute holds at most 65535 bytes (2730 struct fnguard_rule): a section with more
 * rules is sent as several FILE_RULES (or EXEC_RULES) attributes in one ENV_INSTALL, which the
 * module concatenates in order. A later rule on the same inode replaces an earlier one. A
 * message of many rules needs a large enough socket send buffer (SO_SNDBUF).
 * Joining the "events" group needs CAP_NET_ADMIN (GENL_UNS_ADMIN_PERM).
 */
#ifndef _UAPI_FNGUARD_GENL_H
#define _UAPI_FNGUARD_GENL_H

#include <linux/types.h>

#define FNGUARD_GENL_NAME "fnguard"
#define FNGUARD_GENL_VERSION 2
#define FNGUARD_MCGRP_EVENTS "events"

/* Most file rules, and most exec rules, one ENV_INSTALL may carry. */
#define FNGUARD_MAX_RULES 65536

enum fnguard_cmd {
	FNGUARD_CMD_UNSPEC = 0,
	/* reply: VERSION, POLICIES, COUNTERS; every event queued before it is multicast first */
	FNGUARD_CMD_GET_INFO = 1,
	/* CGROUP_ID, CONF, FILE_RULES, EXEC_RULES: install, or replace atomically; ENOENT when no
	 * cgroup (v2) has that id. An environment whose cgroup is removed is dropped (within
	 * seconds) without ENV_REMOVE. */
	FNGUARD_CMD_ENV_INSTALL = 2,
	/* CGROUP_ID: remove the environment's policy (ENOENT: none installed) */
	FNGUARD_CMD_ENV_REMOVE = 3,
	/* CGROUP_ID: children: deny counts execs from here again (a new handler) */
	FNGUARD_CMD_ENV_RESET_EXECS = 4,
	/* multicast to FNGUARD_MCGRP_EVENTS: EVENT */
	FNGUARD_CMD_EVENT = 5,
	__FNGUARD_CMD_MAX,
};
#define FNGUARD_CMD_MAX (__FNGUARD_CMD_MAX - 1)

enum fnguard_attr {
	FNGUARD_A_UNSPEC = 0,
	FNGUARD_A_VERSION = 1,	  /* u32: interface version */
	FNGUARD_A_POLICIES = 2,	  /* u32: environments with a policy installed */
	FNGUARD_A_CGROUP_ID = 3,  /* u64: the environment's cgroup (v2) id */
	FNGUARD_A_CONF = 4,	  /* binary: struct fng_policy_conf (fnguard_abi.h) */
	FNGUARD_A_FILE_RULES = 5, /* binary: array of struct fnguard_rule, files.rules */
	FNGUARD_A_EXEC_RULES = 6, /* binary: array of struct fnguard_rule, exec.allow */
	FNGUARD_A_EVENT = 7,	  /* binary: struct fng_event (fnguard_abi.h) */
	FNGUARD_A_COUNTERS = 8,	  /* binary: __u64[FNGUARD_CNT_MAX], enum fnguard_counter */
	__FNGUARD_A_MAX,
};
#define FNGUARD_A_MAX (__FNGUARD_A_MAX - 1)

/* One rule: the inode it is on, its rights (FNG_RIGHT_*; 1 for exec), its index in its section. */
struct fnguard_rule {
	__u64 ino;
	__u32 dev; /* kernel encoding: MAJOR << 20 | MINOR (super_block.s_dev) */
	__u32 rights;
	__u32 index;
	__u32 pad; /* 0 */
};

/*
 * Counters since the module was loaded. The first four have the meaning (and index) of
 * enum fng_counter of the BPF backend.
 */
enum fnguard_counter {
	FNGUARD_CNT_EVENTS_DROPPED = 0, /* events not delivered: queue full or send failed */
	FNGUARD_CNT_MAP_FAIL = 1,	/* an invariant violated (decided: deny) */
	FNGUARD_CNT_PATH_TOO_DEEP = 2,	/* ancestry walks cut at FNG_MAX_PATH_DEPTH (deny) */
	FNGUARD_CNT_DECISIONS = 3,	/* decisions made for environments */
	FNGUARD_CNT_PROBE_MISSED = 4,	/* probe hits the kprobe core skipped: calls undecided */
	FNGUARD_CNT_MAX = 8,
};

#endif
