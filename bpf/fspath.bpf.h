/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The object's place in the file system, as the file and exec programs see it: an ancestry walk
 * from a dentry up to the root of the task's mount tree, and the same walk turned into a path
 * string for events.
 *
 * Rules are keyed by inode (dev, ino), never by name, so the walk decides on the object actually
 * reached: symlinks, '..', /proc/self/fd/N and O_PATH re-opens all end at the real dentry. At
 * the root dentry of a mount the walk continues at the mountpoint in the parent mount, so a bind
 * mount is governed by where it is mounted (and by rules on the mounted directories themselves).
 *
 * Every read goes through CO-RE (BPF_CORE_READ): the walk races with concurrent renames like any
 * lockless dcache walk, and a torn read can only yield a different ancestor, never a fault.
 */
#ifndef FNGUARD_FSPATH_BPF_H
#define FNGUARD_FSPATH_BPF_H

#include "maps.bpf.h"

/* What decided: the rule found nearest the object (or none: the default). */
struct fng_decision {
	__u32 rights; /* FNG_RIGHT_* of the rule; set by the caller for defaults */
	__u32 index;  /* the rule's index in its section */
	__u8 kind;    /* FNG_RULE_ENTRY, FNG_RULE_DEFAULT or FNG_RULE_TOO_DEEP */
	__u8 own;     /* the rule is on the object's own inode (it keeps it when moved) */
};

static __always_inline struct mount *fng_real_mount(struct vfsmount *mnt)
{
	return (struct mount *)((void *)mnt - bpf_core_field_offset(struct mount, mnt));
}

/*
 * The mount a dentry-only hook (inode_setattr, setxattr) cannot name: the first mount of the
 * dentry's superblock. Right for every file system mounted once; for a file system also
 * bind-mounted elsewhere the walk may continue at the other mountpoint.
 */
static __always_inline struct vfsmount *fng_sb_mount(struct dentry *d)
{
	struct list_head *first = BPF_CORE_READ(d, d_sb, s_mounts.next);

	return &((struct mount *)((void *)first -
				  bpf_core_field_offset(struct mount, mnt_instance)))
		    ->mnt;
}

/* A dentry that is no longer (or never was) reachable by a path: deleted, O_TMPFILE, memfd. */
static __always_inline bool fng_dentry_pathless(struct dentry *d, struct vfsmount *mnt)
{
	/* Mount roots are never hashed; every other reachable dentry is. */
	return !BPF_CORE_READ(d, d_hash.pprev) && d != BPF_CORE_READ(mnt, mnt_root);
}

/*
 * One climb: from @d to its parent, or at a mount's root to the mountpoint below it. The
 * mount's root dentry is kept beside it: read once per mount, not once per level.
 */
struct fng_climb {
	struct dentry *d;
	struct mount *m;
	struct dentry *root; /* m's mnt_root */
};

#define FNG_CLIMB_PARENT 0 /* to the parent, in the same mount (and file system) */
#define FNG_CLIMB_TOP 1	   /* @c->d is the top: root of the mount tree, or of an unmounted fs */
#define FNG_CLIMB_MOUNT 2  /* to the mountpoint, in the parent mount */

static __always_inline void fng_climb_init(struct fng_climb *c, struct dentry *d,
					   struct vfsmount *mnt)
{
	c->d = d;
	c->m = fng_real_mount(mnt);
	c->root = BPF_CORE_READ(mnt, mnt_root);
}

/*
 * Kernel pointers are copied to locals first: BPF_CORE_READ(c->m, ...) would ask CO-RE to
 * relocate our own struct fng_climb, which the kernel's BTF does not have.
 */
static __always_inline int fng_climb_up(struct fng_climb *c)
{
	struct dentry *d = c->d, *parent;
	struct mount *m = c->m;

	if (d == c->root) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);

		/* The root of the mount tree, or a detached mount. */
		if (up == m)
			return FNG_CLIMB_TOP;
		c->d = BPF_CORE_READ(m, mnt_mountpoint);
		c->m = up;
		c->root = BPF_CORE_READ(up, mnt.mnt_root);
		return FNG_CLIMB_MOUNT;
	}
	parent = BPF_CORE_READ(d, d_parent);
	/* memfd, pipes, sockets: a file system root no mount shows. */
	if (parent == d)
		return FNG_CLIMB_TOP;
	c->d = parent;
	return FNG_CLIMB_PARENT;
}

/* Levels a walk steps inline before it goes on in bpf_loop. */
#define FNG_WALK_NEAR 6

struct fng_walk_ctx {
	struct fng_climb at;
	struct fng_decision dec;
	__u32 dev; /* of at.d's file system: the same for every level of one mount */
	__u32 policy_id;
	bool exec; /* fng_exec_rules, else fng_file_rules */
	bool done;
};

/*
 * One step of fng_walk, as a bpf_loop callback: the verifier checks it once per call site
 * instead of once per level (path_rename, four walks: 10k instructions verified, not 400k).
 */
static long fng_walk_step(__u32 i, void *ctx)
{
	struct fng_walk_ctx *w = ctx;
	struct dentry *d = w->at.d;
	struct inode *inode = BPF_CORE_READ(d, d_inode);
	struct fng_file_rule_val *v = NULL;

	/* Negative dentries (the name being created) have no inode and no rule. */
	if (inode) {
		struct fng_rule_key key = {
		    .policy_id = w->policy_id,
		    .dev = w->dev,
		    .ino = BPF_CORE_READ(inode, i_ino),
		};

		v = w->exec ? bpf_map_lookup_elem(&fng_exec_rules, &key)
			    : bpf_map_lookup_elem(&fng_file_rules, &key);
	}
	if (v) {
		w->dec.rights = v->rights;
		w->dec.index = v->index;
		w->dec.kind = FNG_RULE_ENTRY;
		w->dec.own = i == 0;
		w->done = true;
		return 1;
	}
	switch (fng_climb_up(&w->at)) {
	case FNG_CLIMB_TOP:
		w->done = true;
		return 1;
	case FNG_CLIMB_MOUNT:
		d = w->at.d;
		w->dev = BPF_CORE_READ(d, d_sb, s_dev);
		break;
	}
	return 0;
}

/* The levels beyond the first FNG_WALK_NEAR, as a bpf_loop callback. */
static long fng_walk_step_far(__u32 i, void *ctx)
{
	return fng_walk_step(i + FNG_WALK_NEAR, ctx);
}

/*
 * Find the rule nearest @d: on @d's inode, else on its parent's, and so on up to the root.
 * Fails closed (FNG_RULE_TOO_DEEP) when the root is not reached in FNG_MAX_PATH_DEPTH steps.
 * The cost is one hash lookup per level, whatever the number of rules.
 *
 * Most decisions end within a few levels (a rule on /var/task, /tmp, /usr): those levels are
 * stepped inline, and only deeper walks pay for bpf_loop, whose per-level callback costs the
 * bench kernel about 0.3 us (measured with kernel.bpf_stats_enabled: 2.0 us per confined open
 * with bpf_loop from the first level).
 */
static __always_inline void fng_walk(bool exec, __u32 policy_id, struct dentry *d,
				     struct vfsmount *mnt, struct fng_decision *out)
{
	struct fng_walk_ctx w = {
	    .dec = {.kind = FNG_RULE_DEFAULT},
	    .dev = BPF_CORE_READ(d, d_sb, s_dev),
	    .policy_id = policy_id,
	    .exec = exec,
	};

	fng_climb_init(&w.at, d, mnt);

	for (int i = 0; i < FNG_WALK_NEAR && !w.done; i++)
		fng_walk_step(i, &w);
	if (!w.done)
		bpf_loop(FNG_MAX_PATH_DEPTH - FNG_WALK_NEAR, fng_walk_step_far, &w, 0);
	if (!w.done) {
		w.dec.kind = FNG_RULE_TOO_DEEP;
		fng_count(FNG_CNT_PATH_TOO_DEEP);
	}
	*out = w.dec;
}

/*
 * Scratch space for building paths right to left, one per CPU. LSM programs run with migration
 * but not preemption disabled, so two reports on one CPU can interleave here: that can garble
 * an event's path text, never a verdict (decided before any report).
 */
struct fng_path_buf {
	char buf[2 * FNG_TARGET_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fng_path_buf);
} fng_path_scratch SEC(".maps") __weak;

/*
 * Offsets into the scratch buffer are masked: every access stays inside its 2 * FNG_TARGET_LEN
 * bytes whatever the verifier knows about pos (it checks a bpf_loop callback with one state).
 */
#define FNG_PATH_MASK (FNG_TARGET_LEN - 1)

struct fng_path_ctx {
	struct fng_climb at;
	int pos; /* the path so far is buf[pos, FNG_TARGET_LEN) */
	bool cut;
	bool bare;
};

/* One component, right to left, as a bpf_loop callback. */
static long fng_path_step(__u32 i, void *ctx)
{
	struct fng_path_ctx *p = ctx;
	struct fng_path_buf *pb;
	struct dentry *d = p->at.d;
	const unsigned char *name;
	__u32 zero = 0, len;

	pb = bpf_map_lookup_elem(&fng_path_scratch, &zero);
	if (!pb)
		return 1;
	/* A mount root's name is its mountpoint's: climb without writing. */
	if (d == p->at.root)
		return fng_climb_up(&p->at) == FNG_CLIMB_TOP;
	name = BPF_CORE_READ(d, d_name.name);
	len = BPF_CORE_READ(d, d_name.len);
	if (len + 1 > (__u32)p->pos) {
		p->cut = true;
		return 1;
	}
	p->pos -= len;
	bpf_probe_read_kernel(&pb->buf[p->pos & FNG_PATH_MASK], len & FNG_PATH_MASK, name);
	if (fng_climb_up(&p->at) == FNG_CLIMB_TOP) {
		/* Its own root, in no mount: the bare name ("memfd:x"). */
		p->bare = true;
		return 1;
	}
	p->pos -= 1;
	pb->buf[p->pos & FNG_PATH_MASK] = '/';
	if (i == FNG_MAX_PATH_DEPTH - 1)
		p->cut = true;
	return 0;
}

/*
 * @d's path as the walk sees it, into @out (FNG_TARGET_LEN bytes, NUL-terminated). Built from
 * d_name because bpf_d_path is only allowed in a few hooks. Too long: the tail, after "...".
 * Unlinked objects get " (deleted)" like d_path; objects without a place in any mount tree
 * (memfd) are their bare name ("memfd:x").
 */
static __always_inline void fng_path_fill(struct dentry *d, struct vfsmount *mnt, char *out)
{
	struct fng_path_ctx p = {};
	struct fng_path_buf *pb;
	__u32 zero = 0, size;
	int pos = FNG_TARGET_LEN - 1;

	out[0] = 0;
	pb = bpf_map_lookup_elem(&fng_path_scratch, &zero);
	if (!pb)
		return;
	pb->buf[pos] = 0;
	fng_climb_init(&p.at, d, mnt);
	/* Negative dentries being created are unhashed too, but not deleted. */
	if (BPF_CORE_READ(d, d_inode) && fng_dentry_pathless(d, mnt) &&
	    BPF_CORE_READ(d, d_parent) != d) {
		pos -= 10;
		__builtin_memcpy(&pb->buf[pos], " (deleted)", 10);
	}
	p.pos = pos;
	bpf_loop(FNG_MAX_PATH_DEPTH, fng_path_step, &p, 0);
	pos = p.pos & FNG_PATH_MASK;
	if (p.cut) {
		if (pos < 3)
			pos = 3;
		pos -= 3;
		__builtin_memcpy(&pb->buf[pos & FNG_PATH_MASK], "...", 3);
	} else if (!p.bare && pos == FNG_TARGET_LEN - 1) {
		pos -= 1;
		pb->buf[pos] = '/';
	}
	pos &= FNG_PATH_MASK;
	size = FNG_TARGET_LEN - pos;
	if (size > FNG_TARGET_LEN)
		size = FNG_TARGET_LEN;
	bpf_probe_read_kernel(out, size, &pb->buf[pos]);
}

/* The system call being served (orig_ax of the task's user registers). */
static __always_inline __s32 fng_syscall_nr(void)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return regs ? (__s32)BPF_CORE_READ(regs, orig_ax) : -1;
}

/* An event about a file: class, op, decision and the object's path. Never affects the verdict. */
static __always_inline void fng_report_file(__u64 cgid, __u32 policy_id, __u16 class, __u16 op,
					    __u8 mode, __u8 rule_kind, __u32 rule_index,
					    struct dentry *d, struct vfsmount *mnt)
{
	struct fng_event *e = fng_event_start(cgid, policy_id, class, op, fng_event_verdict(mode),
					      rule_kind, rule_index);

	if (!e)
		return;
	e->syscall_nr = fng_syscall_nr();
	e->target_kind = FNG_TARGET_PATH;
	fng_path_fill(d, mnt, e->target.path);
	bpf_ringbuf_submit(e, 0);
}

#endif
