/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps and helpers shared by the enforcement programs. The concern files (files.bpf.c,
 * exec.bpf.c, net.bpf.c) are linked into one object by 'bpftool gen object'; the maps here are
 * __weak so each file can declare them and the linker merges them into one.
 */
#ifndef FNGUARD_MAPS_BPF_H
#define FNGUARD_MAPS_BPF_H

#include "fnguard.bpf.h"

/* Environment cgroup id -> its policy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FNG_MAX_ENVS);
	__type(key, __u64);
	__type(value, struct fng_env);
} fng_envs SEC(".maps") __weak;

/* Policy id -> settings. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FNG_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct fng_policy_conf);
} fng_policies SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} fng_events SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FNG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fng_counters SEC(".maps") __weak;

/*
 * (policy id, dev, ino) -> the files rule on that inode / the exec.allow entry on it. Hash maps:
 * a decision costs one lookup per directory level of the object, whatever the number of rules.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FNG_MAX_FILE_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fng_rule_key);
	__type(value, struct fng_file_rule_val);
} fng_file_rules SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FNG_MAX_FILE_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fng_rule_key);
	__type(value, struct fng_file_rule_val);
} fng_exec_rules SEC(".maps") __weak;

static __always_inline void fng_count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&fng_counters, &which);

	if (c)
		*c += 1;
}

/*
 * The environment the current task belongs to: the outermost ancestor cgroup (v2) that is an
 * environment. Cost is bounded by FNG_MAX_CGROUP_DEPTH, independent of the number of
 * environments or rules. Returns NULL for tasks outside every environment.
 */
static __always_inline struct fng_env *fng_current_env(__u64 *cgid)
{
	for (int lvl = 1; lvl < FNG_MAX_CGROUP_DEPTH; lvl++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(lvl);
		struct fng_env *env;

		if (id == 0)
			return NULL;
		env = bpf_map_lookup_elem(&fng_envs, &id);
		if (env) {
			*cgid = id;
			return env;
		}
	}
	return NULL;
}

static __always_inline struct fng_policy_conf *fng_policy(__u32 policy_id)
{
	struct fng_policy_conf *conf = bpf_map_lookup_elem(&fng_policies, &policy_id);

	return conf && conf->valid ? conf : NULL;
}

/*
 * The prologue of every decision: the current task's environment and its policy settings.
 * Returns 1 (in an environment: *envp and *confp set), 0 (not in one: the caller allows), or
 * -1 (the environment has no valid policy: an invariant violation, counted; the caller fails
 * closed).
 */
static __always_inline int fng_enter(__u64 *cgid, struct fng_env **envp,
				     struct fng_policy_conf **confp)
{
	struct fng_env *env = fng_current_env(cgid);

	if (!env)
		return 0;
	*envp = env;
	*confp = fng_policy(env->policy_id);
	if (!*confp) {
		fng_count(FNG_CNT_MAP_FAIL);
		return -1;
	}
	/* FNG_CNT_DECISIONS is not counted here: a per-CPU update on every decision, read by
	 * nobody on this backend. */
	return 1;
}

/* Start an event; NULL (and counted) when the ring buffer is full. */
static __always_inline struct fng_event *fng_event_start(__u64 cgid, __u32 policy_id,
							 __u16 class, __u16 op, __u8 verdict,
							 __u8 rule_kind, __u32 rule_index)
{
	struct fng_event *e = bpf_ringbuf_reserve(&fng_events, sizeof(*e), 0);
	__u64 pid_tgid;

	if (!e) {
		fng_count(FNG_CNT_RINGBUF_FULL);
		return NULL;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = cgid;
	e->policy_id = policy_id;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->syscall_nr = -1;
	e->class = class;
	e->op = op;
	e->verdict = verdict;
	e->target_kind = FNG_TARGET_NONE;
	e->rule_kind = rule_kind;
	e->pad = 0;
	e->rule_index = rule_index;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* Deny, or in audit mode only report: the verdict an event carries for a mode. */
static __always_inline __u8 fng_event_verdict(__u8 mode)
{
	return mode == FNG_ABI_AUDIT ? FNG_EVENT_AUDITED : FNG_EVENT_BLOCKED;
}

#endif
