// SPDX-License-Identifier: GPL-2.0
/*
 * Files policy (docs/policy.md, "Files") for tasks of an environment: BPF LSM programs on the
 * path_* hooks, which carry the vfsmount the ancestry walk needs to cross mount points.
 *
 * read:  opening for read (FMODE_READ).
 * write: opening for write, append or truncate; creating (decided by the rights at the parent
 *        directory); unlink, rmdir, rename (source and destination); link (destination);
 *        chmod, chown, truncate, utimes, setxattr, removexattr (on the object).
 * A rename or link that would give the object rights it does not have where it stands now
 * fails with EXDEV. An object with a rule on its own inode keeps that rule wherever it goes, so
 * only objects governed by an ancestor's rule can gain anything by moving.
 *
 * Opens the kernel makes to execute a file (__FMODE_EXEC: the binary, its ELF interpreter, a
 * script's interpreter) are governed by exec alone (exec.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fspath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
/*
 * The kernel's opens for exec carry __FMODE_EXEC in f_flags; on 6.1 f_mode does not have
 * FMODE_EXEC yet when file_open runs (checked too, for kernels where it does). open(2) and
 * openat2(2) cannot pass it: it is not in VALID_OPEN_FLAGS.
 */
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20
#define O_TRUNC 01000
#define S_IFMT 0170000
#define S_IFREG 0100000
#define RENAME_EXCHANGE 2
#define ATTR_MODE 0x1
#define ATTR_UID 0x2
#define ATTR_GID 0x4
#define ATTR_SIZE 0x8
#define ATTR_ATIME 0x10
#define ATTR_MTIME 0x20

#define FNG_RIGHTS_ALL (FNG_RIGHT_READ | FNG_RIGHT_WRITE)

/* The environment's file settings, read once per hook. */
struct files_ctx {
	__u64 cgid;
	__u32 policy_id;
	__u8 mode;
	__u8 def;
};

/* 1: the task is in an environment, 0: it is not (allow), -1: no valid policy (fail closed). */
static __always_inline int files_enter(struct files_ctx *c)
{
	struct fng_policy_conf *conf;
	struct fng_env *env;
	int in = fng_enter(&c->cgid, &env, &conf);

	if (in <= 0)
		return in;
	c->policy_id = env->policy_id;
	c->mode = conf->file_mode;
	c->def = conf->file_default;
	return 1;
}

/* The rights at @d: its nearest rule, else files.default; nothing when the walk was cut. */
static __noinline int files_decide(const struct files_ctx *c, struct dentry *d,
				   struct vfsmount *mnt, struct fng_decision *dec)
{
	fng_walk(false, c->policy_id, d, mnt, dec);
	if (dec->kind == FNG_RULE_DEFAULT)
		dec->rights = c->def == FNG_ABI_ALLOW ? FNG_RIGHTS_ALL : 0;
	else if (dec->kind == FNG_RULE_TOO_DEEP)
		dec->rights = 0;
	return 0;
}

static __noinline int files_report(const struct files_ctx *c, __u16 op,
				   const struct fng_decision *dec, struct dentry *d,
				   struct vfsmount *mnt)
{
	fng_report_file(c->cgid, c->policy_id, FNG_CLASS_FILE, op, c->mode, dec->kind, dec->index,
			d, mnt);
	return 0;
}

/* A failed check: the event, then @err, or 0 in audit mode. */
static __always_inline int files_deny(const struct files_ctx *c, __u16 op,
				      const struct fng_decision *dec, struct dentry *d,
				      struct vfsmount *mnt, int err)
{
	files_report(c, op, dec, d, mnt);
	return c->mode == FNG_ABI_AUDIT ? 0 : err;
}

/* Rights @need at @at (reported as @obj: the new name for creations, else @at itself). */
static __always_inline int files_need(const struct files_ctx *c, struct dentry *at,
				      struct dentry *obj, struct vfsmount *mnt, __u32 need,
				      __u16 op)
{
	struct fng_decision dec;

	files_decide(c, at, mnt, &dec);
	if ((dec.rights & need) == need)
		return 0;
	return files_deny(c, op, &dec, obj, mnt, -EACCES);
}

/*
 * Would an object with decision @obj gain rights by moving under a directory with decision
 * @dir? Not when its own inode carries the rule: the rule goes with it.
 */
static __always_inline bool files_gains(const struct fng_decision *obj,
					const struct fng_decision *dir)
{
	return !obj->own && (dir->rights & ~obj->rights);
}

/* Every hook: respect an earlier BPF verdict, leave tasks outside environments alone. */
#define FILES_ENTER(c, ret)                                                                        \
	do {                                                                                       \
		int __in;                                                                          \
		if (ret)                                                                           \
			return ret;                                                                \
		__in = files_enter(&(c));                                                          \
		if (__in == 0)                                                                     \
			return 0;                                                                  \
		if (__in < 0)                                                                      \
			return -EACCES;                                                            \
	} while (0)

SEC("lsm/file_open")
int BPF_PROG(fng_file_open, struct file *file, int ret)
{
	unsigned int flags;
	struct dentry *d;
	fmode_t fmode;
	struct files_ctx c;
	__u32 need = 0;

	/* Every open on the host passes here: tasks outside environments read nothing more. */
	FILES_ENTER(c, ret);
	flags = BPF_CORE_READ(file, f_flags);
	fmode = BPF_CORE_READ(file, f_mode);
	if ((flags & __FMODE_EXEC) || (fmode & FMODE_EXEC))
		return 0;
	if (fmode & FMODE_READ)
		need |= FNG_RIGHT_READ;
	/* O_TRUNC truncates even a read-only open; O_APPEND implies FMODE_WRITE. */
	if ((fmode & FMODE_WRITE) || (flags & O_TRUNC))
		need |= FNG_RIGHT_WRITE;
	if (!need)
		return 0;
	d = BPF_CORE_READ(file, f_path.dentry);
	return files_need(&c, d, d, BPF_CORE_READ(file, f_path.mnt), need, FNG_OP_OPEN);
}

/* Regular files created by open(O_CREAT) come here too (may_o_create). */
SEC("lsm/path_mknod")
int BPF_PROG(fng_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	__u16 op =
	    (mode & S_IFMT) == 0 || (mode & S_IFMT) == S_IFREG ? FNG_OP_CREATE : FNG_OP_MKNOD;
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, BPF_CORE_READ(dir, dentry), dentry, BPF_CORE_READ(dir, mnt),
			  FNG_RIGHT_WRITE, op);
}

SEC("lsm/path_mkdir")
int BPF_PROG(fng_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, BPF_CORE_READ(dir, dentry), dentry, BPF_CORE_READ(dir, mnt),
			  FNG_RIGHT_WRITE, FNG_OP_MKDIR);
}

SEC("lsm/path_symlink")
int BPF_PROG(fng_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, BPF_CORE_READ(dir, dentry), dentry, BPF_CORE_READ(dir, mnt),
			  FNG_RIGHT_WRITE, FNG_OP_SYMLINK);
}

SEC("lsm/path_unlink")
int BPF_PROG(fng_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, dentry, dentry, BPF_CORE_READ(dir, mnt), FNG_RIGHT_WRITE,
			  FNG_OP_UNLINK);
}

SEC("lsm/path_rmdir")
int BPF_PROG(fng_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, dentry, dentry, BPF_CORE_READ(dir, mnt), FNG_RIGHT_WRITE,
			  FNG_OP_RMDIR);
}

/*
 * Write on the source, on the destination directory and on a replaced target; then no gain
 * for the moved object. RENAME_EXCHANGE moves both objects: the same checks the other way.
 * Both ends are in one mount (the VFS refuses cross-mount renames before this hook).
 */
SEC("lsm/path_rename")
int BPF_PROG(fng_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	struct vfsmount *mnt = BPF_CORE_READ(old_dir, mnt);
	struct fng_decision src, dst_dir, src_dir;
	/* No target: nothing is moved back (RENAME_EXCHANGE always has one). */
	struct fng_decision dst = {.own = 1};
	struct files_ctx c;

	FILES_ENTER(c, ret);
	files_decide(&c, old_dentry, mnt, &src);
	if (!(src.rights & FNG_RIGHT_WRITE))
		return files_deny(&c, FNG_OP_RENAME, &src, old_dentry, mnt, -EACCES);
	files_decide(&c, BPF_CORE_READ(new_dir, dentry), mnt, &dst_dir);
	if (!(dst_dir.rights & FNG_RIGHT_WRITE))
		return files_deny(&c, FNG_OP_RENAME, &dst_dir, new_dentry, mnt, -EACCES);
	if (BPF_CORE_READ(new_dentry, d_inode)) {
		files_decide(&c, new_dentry, mnt, &dst);
		if (!(dst.rights & FNG_RIGHT_WRITE))
			return files_deny(&c, FNG_OP_RENAME, &dst, new_dentry, mnt, -EACCES);
	}
	if (files_gains(&src, &dst_dir)) {
		dst_dir.kind = FNG_RULE_CROSS;
		return files_deny(&c, FNG_OP_RENAME, &dst_dir, old_dentry, mnt, -EXDEV);
	}
	if (!(flags & RENAME_EXCHANGE))
		return 0;
	files_decide(&c, BPF_CORE_READ(old_dir, dentry), mnt, &src_dir);
	if (!(src_dir.rights & FNG_RIGHT_WRITE))
		return files_deny(&c, FNG_OP_RENAME, &src_dir, old_dentry, mnt, -EACCES);
	if (files_gains(&dst, &src_dir)) {
		src_dir.kind = FNG_RULE_CROSS;
		return files_deny(&c, FNG_OP_RENAME, &src_dir, new_dentry, mnt, -EXDEV);
	}
	return 0;
}

/*
 * A new name in the destination directory (write there), and no gain for the object. A file
 * with a rule on its own inode keeps it under every name, so linking it is harmless.
 */
SEC("lsm/path_link")
int BPF_PROG(fng_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	struct vfsmount *mnt = BPF_CORE_READ(new_dir, mnt);
	struct fng_decision obj, dir;
	struct files_ctx c;

	FILES_ENTER(c, ret);
	files_decide(&c, BPF_CORE_READ(new_dir, dentry), mnt, &dir);
	if (!(dir.rights & FNG_RIGHT_WRITE))
		return files_deny(&c, FNG_OP_LINK, &dir, new_dentry, mnt, -EACCES);
	files_decide(&c, old_dentry, mnt, &obj);
	if (files_gains(&obj, &dir)) {
		dir.kind = FNG_RULE_CROSS;
		return files_deny(&c, FNG_OP_LINK, &dir, old_dentry, mnt, -EXDEV);
	}
	return 0;
}

static __always_inline int files_path_write(const struct path *path, __u16 op, int ret)
{
	struct dentry *d = BPF_CORE_READ(path, dentry);
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, d, d, BPF_CORE_READ(path, mnt), FNG_RIGHT_WRITE, op);
}

SEC("lsm/path_chmod")
int BPF_PROG(fng_path_chmod, const struct path *path, umode_t mode, int ret)
{
	return files_path_write(path, FNG_OP_SETATTR, ret);
}

SEC("lsm/path_chown")
int BPF_PROG(fng_path_chown, const struct path *path, unsigned int uid, unsigned int gid, int ret)
{
	return files_path_write(path, FNG_OP_SETATTR, ret);
}

/* truncate(), ftruncate() and open(O_TRUNC) all pass here. */
SEC("lsm/path_truncate")
int BPF_PROG(fng_path_truncate, const struct path *path, int ret)
{
	return files_path_write(path, FNG_OP_TRUNCATE, ret);
}

/* Dentry-only hooks: the mount is the superblock's first (see fng_sb_mount). */
static __always_inline int files_dentry_write(struct dentry *d, int ret)
{
	struct files_ctx c;

	FILES_ENTER(c, ret);
	return files_need(&c, d, d, fng_sb_mount(d), FNG_RIGHT_WRITE, FNG_OP_SETATTR);
}

/*
 * Only utimes: mode, owner and size changes were decided by the path hooks above, and the
 * kernel's own setattr calls (clearing setuid bits on write) carry none of these bits alone.
 */
SEC("lsm/inode_setattr")
int BPF_PROG(fng_inode_setattr, struct dentry *dentry, struct iattr *attr, int ret)
{
	unsigned int valid = BPF_CORE_READ(attr, ia_valid);

	if (ret)
		return ret;
	if (!(valid & (ATTR_ATIME | ATTR_MTIME)) ||
	    (valid & (ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE)))
		return 0;
	return files_dentry_write(dentry, ret);
}

SEC("lsm/inode_setxattr")
int BPF_PROG(fng_inode_setxattr, struct user_namespace *mnt_userns, struct dentry *dentry,
	     const char *name, const void *value, size_t size, int flags, int ret)
{
	return files_dentry_write(dentry, ret);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(fng_inode_removexattr, struct user_namespace *mnt_userns, struct dentry *dentry,
	     const char *name, int ret)
{
	return files_dentry_write(dentry, ret);
}
