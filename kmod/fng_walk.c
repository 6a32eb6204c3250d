// SPDX-License-Identifier: GPL-2.0
/*
 * The object's place in the file system: the ancestry walk from a dentry up through d_parent
 * and across mounts to the root of the mount tree, and the same walk turned into a path string
 * for events. This is bpf/fspath.bpf.h step for step, so both backends find the same rule and
 * report the same path, byte for byte.
 *
 * The walk runs under rcu_read_lock() with READ_ONCE reads and takes no lock: it races with
 * concurrent renames like any lockless dcache walk (dentries, names and mounts are freed after
 * an RCU grace period), and a torn read can only yield a different ancestor, never a fault.
 * Names are copied with copy_from_kernel_nofault, as bpf_probe_read_kernel does.
 *
 * struct mount is private to fs/ (fs/mount.h). The walk needs mnt_parent and mnt_mountpoint
 * (and, for the dentry-only hooks, mnt_instance), so the head of struct mount is mirrored
 * below. Its first fields have had this order since Linux 3.3 and are what the BPF side reads
 * through CO-RE on the same kernel; fng_walk_init() checks the mirror against live mounts at
 * load time (the root mount's chain to the top of its tree, and its superblock's mount list)
 * and refuses to load when it does not hold, rather than walk wrong memory.
 */
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/mount.h>
#include <linux/path.h>
#include <linux/fs_struct.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/string.h>

#include "fng.h"

struct fng_mount {
	struct hlist_node mnt_hash;
	struct fng_mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	union {
		struct rcu_head mnt_rcu;
		struct llist_node mnt_llist;
	};
#ifdef CONFIG_SMP
	void __percpu *mnt_pcp;
#else
	int mnt_count;
	int mnt_writers;
#endif
	struct list_head mnt_mounts;
	struct list_head mnt_child;
	struct list_head mnt_instance; /* on sb->s_mounts */
};

static inline struct fng_mount *fng_real_mount(struct vfsmount *mnt)
{
	return mnt ? container_of(mnt, struct fng_mount, mnt) : NULL;
}

/*
 * The mount a dentry-only hook (inode_setattr, setxattr) cannot name: the first mount of the
 * dentry's superblock (as fng_sb_mount of the BPF side). NULL when the superblock has none.
 */
struct vfsmount *fng_sb_mount(struct dentry *d)
{
	struct super_block *sb = READ_ONCE(d->d_sb);
	struct list_head *first = READ_ONCE(sb->s_mounts.next);

	if (first == &sb->s_mounts || !first)
		return NULL;
	return &container_of(first, struct fng_mount, mnt_instance)->mnt;
}

bool fng_dentry_pathless(struct dentry *d, struct vfsmount *mnt)
{
	/* Mount roots are never hashed; every other reachable dentry is. */
	return !READ_ONCE(d->d_hash.pprev) && (!mnt || d != READ_ONCE(mnt->mnt_root));
}

struct fng_climb {
	struct dentry *d;
	struct fng_mount *m;
	struct dentry *root; /* m's mnt_root */
};

#define FNG_CLIMB_PARENT 0
#define FNG_CLIMB_TOP 1
#define FNG_CLIMB_MOUNT 2

static inline void fng_climb_init(struct fng_climb *c, struct dentry *d, struct vfsmount *mnt)
{
	c->d = d;
	c->m = fng_real_mount(mnt);
	c->root = mnt ? READ_ONCE(mnt->mnt_root) : NULL;
}

static int fng_climb_up(struct fng_climb *c)
{
	struct dentry *d = c->d, *parent;

	if (c->m && d == c->root) {
		struct fng_mount *up = READ_ONCE(c->m->mnt_parent);

		/* The root of the mount tree, or a detached mount. */
		if (up == c->m || !up)
			return FNG_CLIMB_TOP;
		c->d = READ_ONCE(c->m->mnt_mountpoint);
		c->m = up;
		c->root = READ_ONCE(up->mnt.mnt_root);
		return FNG_CLIMB_MOUNT;
	}
	parent = READ_ONCE(d->d_parent);
	/* memfd, pipes, sockets: a file system root no mount shows. */
	if (parent == d || !parent)
		return FNG_CLIMB_TOP;
	c->d = parent;
	return FNG_CLIMB_PARENT;
}

static inline u32 fng_dentry_dev(struct dentry *d)
{
	return READ_ONCE(d->d_sb)->s_dev;
}

void fng_walk(const struct fng_rtab *t, struct dentry *d, struct vfsmount *mnt,
	      struct fng_decision *out)
{
	struct fng_climb at;
	u32 dev = fng_dentry_dev(d);
	int i;

	out->kind = FNG_RULE_DEFAULT;
	out->rights = 0;
	out->index = 0;
	out->own = 0;
	fng_climb_init(&at, d, mnt);
	for (i = 0; i < FNG_MAX_PATH_DEPTH; i++) {
		struct inode *inode = READ_ONCE(at.d->d_inode);
		const struct fng_rule_ent *r = NULL;

		/* Negative dentries (the name being created) have no inode and no rule. */
		if (inode)
			r = fng_rtab_lookup(t, dev, READ_ONCE(inode->i_ino));
		if (r) {
			out->rights = r->rights;
			out->index = r->index;
			out->kind = FNG_RULE_ENTRY;
			out->own = i == 0;
			return;
		}
		switch (fng_climb_up(&at)) {
		case FNG_CLIMB_TOP:
			return;
		case FNG_CLIMB_MOUNT:
			dev = fng_dentry_dev(at.d);
			break;
		}
	}
	out->kind = FNG_RULE_TOO_DEEP;
	fng_count(FNGUARD_CNT_PATH_TOO_DEEP);
}

#define FNG_PATH_MASK (FNG_TARGET_LEN - 1)

/*
 * @d's path as the walk sees it, into @out (FNG_TARGET_LEN bytes, NUL-terminated): the
 * algorithm of fng_path_fill in bpf/fspath.bpf.h, built right to left in a stack buffer (the
 * BPF side's per-CPU scratch). Too long: the tail, after "...". Unlinked objects get
 * " (deleted)"; objects in no mount tree (memfd) are their bare name ("memfd:x").
 */
void fng_path_fill(struct dentry *d, struct vfsmount *mnt, char *out)
{
	char buf[FNG_TARGET_LEN];
	struct fng_climb at;
	bool cut = false, bare = false;
	int pos = FNG_TARGET_LEN - 1, i;
	u32 size;

	out[0] = 0;
	buf[pos] = 0;
	fng_climb_init(&at, d, mnt);
	/* Negative dentries being created are unhashed too, but not deleted. */
	if (READ_ONCE(d->d_inode) && fng_dentry_pathless(d, mnt) && READ_ONCE(d->d_parent) != d) {
		pos -= 10;
		memcpy(&buf[pos], " (deleted)", 10);
	}
	for (i = 0; i < FNG_MAX_PATH_DEPTH; i++) {
		const unsigned char *name;
		u32 len;

		/* A mount root's name is its mountpoint's: climb without writing. */
		if (at.m && at.d == at.root) {
			if (fng_climb_up(&at) == FNG_CLIMB_TOP)
				break;
			continue;
		}
		name = READ_ONCE(at.d->d_name.name);
		len = READ_ONCE(at.d->d_name.len);
		if (len + 1 > (u32)pos) {
			cut = true;
			break;
		}
		pos -= len;
		if (copy_from_kernel_nofault(&buf[pos & FNG_PATH_MASK], name, len & FNG_PATH_MASK))
			memset(&buf[pos & FNG_PATH_MASK], '?', len & FNG_PATH_MASK);
		if (fng_climb_up(&at) == FNG_CLIMB_TOP) {
			/* Its own root, in no mount: the bare name ("memfd:x"). */
			bare = true;
			break;
		}
		pos -= 1;
		buf[pos & FNG_PATH_MASK] = '/';
		if (i == FNG_MAX_PATH_DEPTH - 1)
			cut = true;
	}
	pos &= FNG_PATH_MASK;
	if (cut) {
		if (pos < 3)
			pos = 3;
		pos -= 3;
		memcpy(&buf[pos], "...", 3);
	} else if (!bare && pos == FNG_TARGET_LEN - 1) {
		pos -= 1;
		buf[pos] = '/';
	}
	size = FNG_TARGET_LEN - pos;
	memcpy(out, &buf[pos], size);
}

/*
 * The load-time check of the struct mount mirror, on the mount of this task's root: following
 * mnt_parent must reach a mount that is its own parent within a few steps, each mountpoint
 * dentry must belong to its parent mount's superblock, and the root mount's superblock's
 * mount list (mnt_instance) must lead to mounts of that superblock.
 */
int fng_walk_init(void)
{
	struct fng_mount *m, *first;
	struct list_head *l;
	struct path root;
	int i, err = -EINVAL;

	get_fs_root(current->fs, &root);
	rcu_read_lock();
	m = fng_real_mount(root.mnt);
	for (i = 0; i < 64; i++) {
		struct fng_mount *up = READ_ONCE(m->mnt_parent);
		struct dentry *mp = READ_ONCE(m->mnt_mountpoint);

		if (!up || !mp)
			break;
		if (up == m) {
			/* The top of the tree is mounted on its own root. */
			if (mp == m->mnt.mnt_root)
				err = 0;
			break;
		}
		if (READ_ONCE(mp->d_sb) != READ_ONCE(up->mnt.mnt_sb))
			break;
		m = up;
	}
	l = READ_ONCE(root.mnt->mnt_sb->s_mounts.next);
	if (!err && (l == &root.mnt->mnt_sb->s_mounts || !l))
		err = -EINVAL;
	if (!err) {
		first = container_of(l, struct fng_mount, mnt_instance);
		if (READ_ONCE(first->mnt.mnt_sb) != root.mnt->mnt_sb)
			err = -EINVAL;
	}
	rcu_read_unlock();
	path_put(&root);
	if (err)
		pr_err("fnguard: struct mount does not have the layout this module was built for; not loading\n");
	return err;
}
