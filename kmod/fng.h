/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals of the fnguard kernel module, shared by its files:
 *   fnguard_main.c  module init/exit and the generic netlink family
 *   fng_table.c     environments (cgroup id -> policy) and policies (conf + rule tables)
 *   fng_walk.c      the ancestry walk and event paths (the module's bpf/fspath.bpf.h)
 *   fng_hooks.c     the probes on the security_* functions and the decisions
 *   fng_event.c     the event queue and its multicast
 */
#ifndef FNG_KMOD_H
#define FNG_KMOD_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include <linux/list.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"

/* ------------------------------------------------------------------ counters */
DECLARE_PER_CPU(u64, fng_counters[FNGUARD_CNT_MAX]);

static inline void fng_count(unsigned int which)
{
	this_cpu_inc(fng_counters[which]);
}

u64 fng_counter_sum(unsigned int which);

/* ------------------------------------------------------------------ policies */
struct fng_rule_ent {
	u64 ino;
	u32 dev;
	u32 rights;
	u32 index;
	u32 next; /* 1 + index of the next entry of this bucket; 0: end */
};

/* (dev, ino) -> rule; buckets sized to the rule count: a lookup costs the same for any count. */
struct fng_rtab {
	u32 mask;
	u32 n;
	u32 *heads; /* 1 + entry index; 0: empty bucket */
	struct fng_rule_ent *ents;
};

struct fng_policy {
	struct fng_policy_conf conf;
	u32 id;
	struct fng_rtab files;
	struct fng_rtab execs;
	struct rcu_head rcu;
};

/* One environment: a cgroup (v2) subtree with a policy. */
struct fng_kenv {
	struct hlist_node node;
	u64 cgid;
	struct fng_policy __rcu *policy;
	atomic64_t execs; /* execs past the point of no return (children: deny) */
	struct rcu_head rcu;
};

/* Under rcu_read_lock(). */
struct fng_kenv *fng_env_lookup(u64 cgid);
const struct fng_rule_ent *fng_rtab_lookup(const struct fng_rtab *t, u32 dev, u64 ino);
/* Environments installed (nonzero: some task may be confined). */
extern atomic_t fng_n_envs;

int fng_env_install(u64 cgid, const struct fng_policy_conf *conf, const struct fnguard_rule *files,
		    u32 n_files, const struct fnguard_rule *execs, u32 n_execs);
int fng_env_remove(u64 cgid);
int fng_env_reset_execs(u64 cgid);
void fng_table_exit(void);

/* ------------------------------------------------------------------ walk */
struct dentry;
struct vfsmount;

struct fng_decision {
	u32 rights;
	u32 index;
	u8 kind; /* FNG_RULE_ENTRY, FNG_RULE_DEFAULT or FNG_RULE_TOO_DEEP */
	u8 own;	 /* the rule is on the object's own inode */
};

int fng_walk_init(void);
/* Under rcu_read_lock(). */
void fng_walk(const struct fng_rtab *t, struct dentry *d, struct vfsmount *mnt,
	      struct fng_decision *out);
bool fng_dentry_pathless(struct dentry *d, struct vfsmount *mnt);
struct vfsmount *fng_sb_mount(struct dentry *d);
void fng_path_fill(struct dentry *d, struct vfsmount *mnt, char *out);

/* ------------------------------------------------------------------ events */
int fng_events_init(void);
void fng_events_exit(void);
/* Process context: send every event queued so far (waits for the work item). */
void fng_events_flush(void);
/* Any context but NMI: copies @e into the queue (or counts it dropped). */
void fng_event_queue(const struct fng_event *e);

/* ------------------------------------------------------------------ hooks */
int fng_hooks_init(void);
void fng_hooks_exit(void);
u64 fng_hooks_missed(void);

/* ------------------------------------------------------------------ genl */
int fng_genl_multicast_event(const struct fng_event *e);

#endif
