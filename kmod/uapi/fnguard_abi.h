/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * Types shared by the BPF programs and user space. Plain C only: this header is included both
 * after vmlinux.h (BPF side) and after <linux/types.h> (user side). Enum values are ABI: they
 * have explicit numbers and never change.
 *
 * Model: an environment is a cgroup (v2) subtree. fng_envs maps the environment's cgroup id to
 * the id of the policy in force; every rule map is keyed by policy id. Installing a new policy
 * writes all its entries under a fresh policy id and then switches the environment's entry in
 * one map update, so a decision always sees all of the old policy or all of the new one, never
 * a mix and never none. The old policy's entries are deleted afterwards.
 */
#ifndef FNGUARD_ABI_H
#define FNGUARD_ABI_H

/* Deepest cgroup nesting the programs search for an environment's cgroup. */
#define FNG_MAX_CGROUP_DEPTH 32
/* Deepest directory nesting the file programs walk looking for the most specific rule. */
#define FNG_MAX_PATH_DEPTH 64
/* Bytes of path or syscall-argument text carried by an event. */
#define FNG_TARGET_LEN 256
/* Port ranges one network rule can carry; entries sharing a prefix: see fng_net_prefix. */
#define FNG_NET_MAX_PORTS 8
#define FNG_NET_MAX_PER_PREFIX 8

/*
 * File rule rights (struct fng_file_rule_val.rights, struct fnguard_rule.rights). The same
 * definitions as lib/policy/policy.h and bpf/fnguard.bpf.h (identical redefinitions are allowed).
 */
#ifndef FNG_RIGHT_READ
#define FNG_RIGHT_READ 1u
#endif
#ifndef FNG_RIGHT_WRITE
#define FNG_RIGHT_WRITE 2u
#endif

#define FNG_MAX_ENVS 4096
#define FNG_MAX_POLICIES (2 * FNG_MAX_ENVS)
#define FNG_MAX_FILE_RULES 65536
#define FNG_MAX_NET_PREFIXES 65536

enum fng_abi_mode {
	FNG_ABI_ENFORCE = 0,
	FNG_ABI_AUDIT = 1,
};

enum fng_abi_verdict {
	FNG_ABI_DENY = 0,
	FNG_ABI_ALLOW = 1,
};

enum fng_class {
	FNG_CLASS_FILE = 1,
	FNG_CLASS_EXEC = 2,
	FNG_CLASS_NETWORK = 3,
	FNG_CLASS_SYSCALL = 4,
};

enum fng_op {
	FNG_OP_OPEN = 1,
	FNG_OP_CREATE = 2,
	FNG_OP_UNLINK = 3,
	FNG_OP_RENAME = 4,
	FNG_OP_LINK = 5,
	FNG_OP_EXEC = 6,
	FNG_OP_MMAP = 7,
	FNG_OP_CONNECT = 8,
	FNG_OP_SENDMSG = 9,
	FNG_OP_BIND = 10,
	FNG_OP_SOCKET = 11,
	FNG_OP_MKDIR = 12,
	FNG_OP_RMDIR = 13,
	FNG_OP_SYMLINK = 14,
	FNG_OP_MKNOD = 15,
	FNG_OP_SETATTR = 16,
	FNG_OP_TRUNCATE = 17,
	FNG_OP_MPROTECT = 18,
	FNG_OP_SYSCALL = 19,
};

enum fng_event_verdict {
	FNG_EVENT_BLOCKED = 1,
	FNG_EVENT_AUDITED = 2,
};

/* Which rule decided: a rule of the policy (index into its section), or a default. */
enum fng_rule_kind {
	FNG_RULE_DEFAULT = 0,	/* files.default, exec.default, egress.default */
	FNG_RULE_ENTRY = 1,	/* rule_index names the entry in its section */
	FNG_RULE_CHILDREN = 2,	/* exec.children */
	FNG_RULE_LOOPBACK = 3,	/* network.loopback */
	FNG_RULE_BIND = 4,	/* network.bind */
	FNG_RULE_FAMILIES = 5,	/* network.families */
	FNG_RULE_NO_PATH = 6,	/* exec of a file without a path (memfd, deleted) */
	FNG_RULE_TOO_DEEP = 7,	/* path deeper than FNG_MAX_PATH_DEPTH: fail closed */
	FNG_RULE_CROSS = 8,	/* rename/link that would gain rights (EXDEV) */
	FNG_RULE_RAW = 9,	/* raw/ICMP socket while egress is restricted: it bypasses the rules */
};

/* fng_envs value: the environment's policy and its state. */
struct fng_env {
	__u32 policy_id;
	__u32 flags;		/* FNG_ENV_* */
	__u64 execs;		/* successful execve in the environment (children: deny) */
};

/* Per-policy settings (fng_policies, an array indexed by policy id). */
struct fng_policy_conf {
	__u8 valid;
	__u8 file_mode;		/* enum fng_abi_mode */
	__u8 file_default;	/* enum fng_abi_verdict */
	__u8 exec_mode;
	__u8 exec_default;
	__u8 exec_children;	/* FNG_ABI_DENY: only the first execve (the handler) is allowed */
	__u8 net_mode;
	__u8 egress_default;
	__u8 loopback;
	__u8 bind;
	__u8 raw_deny;		/* refuse raw and ICMP sockets: the network is restricted at all */
	__u8 pad[3];
	__u16 runtime_api_port;	/* TCP to 127.0.0.1 on it is allowed whatever loopback says; 0: none */
	__u64 families;		/* bit N: socket(AF_N) allowed */
};

/* A file is identified by its inode: device + inode number, never by a path string. */
struct fng_inode_key {
	__u64 ino;
	__u32 dev;		/* kernel encoding: MAJOR << 20 | MINOR */
	__u32 pad;
};

/* fng_file_rules / fng_exec_rules key. */
struct fng_rule_key {
	__u32 policy_id;
	__u32 dev;
	__u64 ino;
};

struct fng_file_rule_val {
	__u32 rights;		/* FNG_RIGHT_READ | FNG_RIGHT_WRITE, as in policy.h */
	__u32 index;		/* the rule's index in files.rules / exec.allow */
};

/*
 * Network rules live in one LPM trie keyed by (policy id, address) with IPv4 addresses stored
 * as IPv4-mapped IPv6 (::ffff:a.b.c.d, prefix 96 + len). One trie entry holds every rule of
 * the policy with that exact prefix.
 */
struct fng_net_key {
	__u32 prefixlen;	/* 32 (policy id) + address prefix length (0-128) */
	__u32 policy_id;	/* big-endian, so it is matched as the first 32 bits */
	__u8 addr[16];
};

struct fng_net_rule {
	__u8 protocol;		/* 0 any, 6 tcp, 17 udp */
	__u8 verdict;		/* enum fng_abi_verdict */
	__u8 n_ports;		/* 0: every port */
	__u8 pad;
	__u32 index;		/* the rule's index in network.egress */
	__u16 ports[FNG_NET_MAX_PORTS][2];	/* inclusive ranges, host byte order */
};

struct fng_net_prefix {
	__u32 prefix_len;	/* address prefix length, 0-128 in the mapped space */
	__u32 n_rules;
	struct fng_net_rule rules[FNG_NET_MAX_PER_PREFIX];
};

/* Event target: a path, an address, or syscall arguments as text. */
enum fng_target_kind {
	FNG_TARGET_NONE = 0,
	FNG_TARGET_PATH = 1,
	FNG_TARGET_ADDR = 2,
	FNG_TARGET_TEXT = 3,
};

/* For FNG_OP_SOCKET: family, protocol, and the socket type in port. */
struct fng_addr {
	__u8 family;		/* AF_INET / AF_INET6 */
	__u8 protocol;		/* 6 tcp, 17 udp, 0 unknown */
	__u16 port;		/* host byte order */
	__u8 addr[16];		/* IPv4 in addr[0..3] */
};

struct fng_event {
	__u64 ts_ns;		/* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;	/* the environment's cgroup */
	__u32 policy_id;
	__u32 pid;		/* thread group id */
	__u32 tid;
	__s32 syscall_nr;	/* -1 when unknown */
	__u16 class;		/* enum fng_class */
	__u16 op;		/* enum fng_op */
	__u8 verdict;		/* enum fng_event_verdict */
	__u8 target_kind;	/* enum fng_target_kind */
	__u8 rule_kind;		/* enum fng_rule_kind */
	__u8 pad;
	__u32 rule_index;
	char comm[16];
	union {
		char path[FNG_TARGET_LEN];
		struct fng_addr addr;
	} target;
};

/* Per-CPU failure counters (fng_counters, a per-CPU array indexed by this enum). */
enum fng_counter {
	FNG_CNT_RINGBUF_FULL = 0,	/* events dropped: ring buffer reserve failed */
	FNG_CNT_MAP_FAIL = 1,		/* a map update/lookup that must not fail did */
	FNG_CNT_PATH_TOO_DEEP = 2,	/* ancestry walks cut at FNG_MAX_PATH_DEPTH */
	FNG_CNT_DECISIONS = 3,		/* decisions made for environments */
	FNG_CNT_MAX = 8,
};

#define FNG_ENV_ACTIVE 1u

#endif
