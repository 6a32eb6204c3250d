// SPDX-License-Identifier: GPL-2.0
/*
 * The decisions: bpf/files.bpf.c, bpf/exec.bpf.c and net.bpf.c's socket_create, hook for hook,
 * on kernels where 'bpf' is not an active LSM.
 *
 * Mechanism. A module cannot register LSM hooks (the LSM list is fixed at boot), so each
 * security_* function whose LSM hook the BPF backend uses gets a kprobe at its entry (on
 * ftrace's call site, so no breakpoint is hit). Its handler reads the arguments
 * (regs_get_kernel_argument) and decides under rcu_read_lock(). Allowed: the function runs as
 * usual. Denied: the event is queued, the errno is put in the return register and the
 * instruction pointer is moved to fng_deny_return, a bare return: the function (the other
 * LSMs' hooks included) is not run and its caller sees the errno. This is what the kernel's
 * own error injection (bpf_override_return) does.
 *
 * Why not kretprobes (which the first version of this module used): a kretprobe needs an
 * instance for every call in flight, and when its instances run out the call runs with no
 * decision at all (fails open), which can only be counted. A kprobe needs no instance, so no
 * call goes undecided; what remains is the kprobe core's recursion guard (a probe hit while
 * another handler runs on the same CPU), which this module's handlers never trigger (they call
 * no probed function), and which is counted as FNGUARD_CNT_PROBE_MISSED all the same.
 *
 * Differences from the BPF programs that follow: the decision comes before the other LSMs'
 * hooks instead of after them, so a call both would deny is reported by this module (the BPF
 * programs leave it to the earlier denial, silently); and a denied call skips whatever else
 * the security_* function does (IMA, fsnotify permission events), which only matters for a
 * call that fails anyway. Audit mode reports and lets the function run.
 *
 * The LSM hook of mmap_file receives mmap_prot(file, reqprot), security_mmap_file receives
 * reqprot: mmap_prot is applied here (READ_IMPLIES_EXEC makes PROT_READ executable). The
 * IS_PRIVATE() short cuts of the security_* wrappers (where the LSM hooks are not called) are
 * mirrored too.
 */
#include <linux/kprobes.h>
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <linux/ptrace.h>
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/mount.h>
#include <linux/mman.h>
#include <linux/binfmts.h>
#include <linux/cgroup.h>
#include <linux/sched.h>
#include <linux/personality.h>
#include <linux/timekeeping.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/icmpv6.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "fng.h"

/*
 * A denied call returns from here instead of running the function: ftrace's trampoline
 * returns to it with the stack as at the function's entry, so its return goes to the caller.
 */
asm(".pushsection .text\n"
    ".type fng_deny_return, @function\n"
    "fng_deny_return:\n"
    ANNOTATE_NOENDBR
    ASM_RET
    ".size fng_deny_return, .-fng_deny_return\n"
    ".popsection\n");
void fng_deny_return(void);
#define FNG_RIGHTS_ALL (FNG_RIGHT_READ | FNG_RIGHT_WRITE)

DEFINE_PER_CPU(u64, fng_counters[FNGUARD_CNT_MAX]);

u64 fng_counter_sum(unsigned int which)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(fng_counters[which], cpu);
	return sum;
}

/* A decision's outcome: the event to report, and the errno the call returns instead. */
struct fng_pending {
	u64 cgid;
	struct dentry *d; /* the event's target (held by the probed function's caller) */
	struct vfsmount *mnt;
	u32 policy_id;
	u32 rule_index;
	int err; /* returned without running the function; 0 in audit mode */
	u16 class;
	u16 op;
	u8 verdict; /* 0: no event (an invariant violation) */
	u8 rule_kind;
	u8 target_kind;
	u8 family;
	u8 protocol;
	u16 type;
};

/* The current task's environment and its policy, under rcu_read_lock(). */
struct fng_ctx {
	u64 cgid;
	struct fng_kenv *env;
	const struct fng_policy *pol;
};

/* The outermost ancestor cgroup (v2) of the task that is an environment (fng_current_env). */
static struct fng_kenv *fng_current_env(u64 *cgid)
{
	struct cgroup *cg = task_dfl_cgroup(current);
	int lvl;

	for (lvl = 1; lvl < FNG_MAX_CGROUP_DEPTH && lvl <= cg->level; lvl++) {
		u64 id = cgroup_id(cg->ancestors[lvl]);
		struct fng_kenv *env = fng_env_lookup(id);

		if (env) {
			*cgid = id;
			return env;
		}
	}
	return NULL;
}

/* 1: in an environment (@c set), 0: not (allow), -1: no valid policy (fail closed, counted). */
static int fng_enter(struct fng_ctx *c)
{
	c->env = fng_current_env(&c->cgid);
	if (!c->env)
		return 0;
	c->pol = rcu_dereference(c->env->policy);
	if (!c->pol || !c->pol->conf.valid) {
		fng_count(FNGUARD_CNT_MAP_FAIL);
		return -1;
	}
	fng_count(FNGUARD_CNT_DECISIONS);
	return 1;
}

typedef bool (*fng_decide_fn)(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p);

static void fng_emit(const struct fng_pending *p);

/*
 * Every probe handler: decide; on a denial report it and return the errno without running
 * the function (1: the kprobe core leaves the changed instruction pointer alone).
 */
static int fng_pre(struct pt_regs *regs, fng_decide_fn fn, int fail_err)
{
	struct fng_pending p;
	struct fng_ctx c;
	bool act = false;
	int in;

	/* Every open on the host passes here: with no environment, read nothing more. */
	if (!atomic_read(&fng_n_envs))
		return 0;
	memset(&p, 0, sizeof(p));
	rcu_read_lock();
	in = fng_enter(&c);
	if (in < 0) {
		p.err = fail_err;
		act = true;
	} else if (in > 0) {
		act = fn(&c, regs, &p);
	}
	rcu_read_unlock();
	if (!act)
		return 0;
	if (p.verdict)
		fng_emit(&p);
	if (!p.err)
		return 0;
	regs_set_return_value(regs, p.err);
	instruction_pointer_set(regs, (unsigned long)fng_deny_return);
	return 1;
}

static __s32 fng_syscall_nr(void)
{
	struct pt_regs *regs = task_pt_regs(current);

	return regs ? (__s32)regs->orig_ax : -1;
}

static void fng_emit(const struct fng_pending *p)
{
	struct fng_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = ktime_get_boottime_ns();
	e.cgroup_id = p->cgid;
	e.policy_id = p->policy_id;
	e.pid = task_tgid_nr(current);
	e.tid = task_pid_nr(current);
	e.syscall_nr = -1;
	e.class = p->class;
	e.op = p->op;
	e.verdict = p->verdict;
	e.target_kind = p->target_kind;
	e.rule_kind = p->rule_kind;
	e.rule_index = p->rule_index;
	strscpy(e.comm, current->comm, sizeof(e.comm));
	if (p->target_kind == FNG_TARGET_PATH) {
		e.syscall_nr = fng_syscall_nr();
		rcu_read_lock();
		fng_path_fill(p->d, p->mnt, e.target.path);
		rcu_read_unlock();
	} else if (p->target_kind == FNG_TARGET_ADDR) {
		/* As net.bpf.c: family, protocol, and the socket type in port; no syscall_nr. */
		e.target.addr.family = p->family;
		e.target.addr.protocol = p->protocol;
		e.target.addr.port = p->type;
	}
	fng_event_queue(&e);
}

static inline u8 fng_event_verdict(u8 mode)
{
	return mode == FNG_ABI_AUDIT ? FNG_EVENT_AUDITED : FNG_EVENT_BLOCKED;
}

static bool fng_pend_path(struct fng_ctx *c, struct fng_pending *p, u16 class, u16 op, u8 mode,
			  u8 kind, u32 index, struct dentry *d, struct vfsmount *mnt, int err)
{
	p->cgid = c->cgid;
	p->policy_id = c->pol->id;
	p->class = class;
	p->op = op;
	p->verdict = fng_event_verdict(mode);
	p->rule_kind = kind;
	p->rule_index = index;
	p->target_kind = FNG_TARGET_PATH;
	p->d = d;
	p->mnt = mnt;
	p->err = mode == FNG_ABI_AUDIT ? 0 : err;
	return true;
}

/* ------------------------------------------------------------------ files */

static void files_decide(struct fng_ctx *c, struct dentry *d, struct vfsmount *mnt,
			 struct fng_decision *dec)
{
	fng_walk(&c->pol->files, d, mnt, dec);
	if (dec->kind == FNG_RULE_DEFAULT)
		dec->rights = c->pol->conf.file_default == FNG_ABI_ALLOW ? FNG_RIGHTS_ALL : 0;
	else if (dec->kind == FNG_RULE_TOO_DEEP)
		dec->rights = 0;
}

static bool files_deny(struct fng_ctx *c, struct fng_pending *p, u16 op,
		       const struct fng_decision *dec, struct dentry *d, struct vfsmount *mnt,
		       int err)
{
	return fng_pend_path(c, p, FNG_CLASS_FILE, op, c->pol->conf.file_mode, dec->kind,
			     dec->index, d, mnt, err);
}

/* Rights @need at @at (reported as @obj: the new name for creations, else @at itself). */
static bool files_need(struct fng_ctx *c, struct fng_pending *p, struct dentry *at,
		       struct dentry *obj, struct vfsmount *mnt, u32 need, u16 op)
{
	struct fng_decision dec;

	files_decide(c, at, mnt, &dec);
	if ((dec.rights & need) == need)
		return false;
	return files_deny(c, p, op, &dec, obj, mnt, -EACCES);
}

static bool files_gains(const struct fng_decision *obj, const struct fng_decision *dir)
{
	return !obj->own && (dir->rights & ~obj->rights);
}

#define ARG(n) regs_get_kernel_argument(regs, n)

static bool d_private(struct dentry *d)
{
	struct inode *inode = d_backing_inode(d);

	return inode && IS_PRIVATE(inode);
}

static bool fng_file_open(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	struct file *file = (struct file *)ARG(0);
	unsigned int flags = READ_ONCE(file->f_flags);
	fmode_t fmode = READ_ONCE(file->f_mode);
	u32 need = 0;

	/* The kernel's opens to execute: governed by exec alone. */
	if ((flags & __FMODE_EXEC) || (fmode & FMODE_EXEC))
		return false;
	if (fmode & FMODE_READ)
		need |= FNG_RIGHT_READ;
	/* O_TRUNC truncates even a read-only open; O_APPEND implies FMODE_WRITE. */
	if ((fmode & FMODE_WRITE) || (flags & O_TRUNC))
		need |= FNG_RIGHT_WRITE;
	if (!need)
		return false;
	return files_need(c, p, file->f_path.dentry, file->f_path.dentry, file->f_path.mnt, need,
			  FNG_OP_OPEN);
}

/* Regular files created by open(O_CREAT) come here too. */
static bool fng_path_mknod(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	const struct path *dir = (const struct path *)ARG(0);
	struct dentry *dentry = (struct dentry *)ARG(1);
	umode_t mode = (umode_t)ARG(2);
	u16 op = (mode & S_IFMT) == 0 || (mode & S_IFMT) == S_IFREG ? FNG_OP_CREATE : FNG_OP_MKNOD;

	if (d_private(dir->dentry))
		return false;
	return files_need(c, p, dir->dentry, dentry, dir->mnt, FNG_RIGHT_WRITE, op);
}

static bool fng_dir_create(struct pt_regs *regs, struct fng_ctx *c, struct fng_pending *p, u16 op)
{
	const struct path *dir = (const struct path *)ARG(0);
	struct dentry *dentry = (struct dentry *)ARG(1);

	if (d_private(dir->dentry))
		return false;
	return files_need(c, p, dir->dentry, dentry, dir->mnt, FNG_RIGHT_WRITE, op);
}

static bool fng_path_mkdir(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return fng_dir_create(regs, c, p, FNG_OP_MKDIR);
}

static bool fng_path_symlink(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return fng_dir_create(regs, c, p, FNG_OP_SYMLINK);
}

static bool fng_dir_remove(struct pt_regs *regs, struct fng_ctx *c, struct fng_pending *p, u16 op)
{
	const struct path *dir = (const struct path *)ARG(0);
	struct dentry *dentry = (struct dentry *)ARG(1);

	if (d_private(dir->dentry))
		return false;
	return files_need(c, p, dentry, dentry, dir->mnt, FNG_RIGHT_WRITE, op);
}

static bool fng_path_unlink(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return fng_dir_remove(regs, c, p, FNG_OP_UNLINK);
}

static bool fng_path_rmdir(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return fng_dir_remove(regs, c, p, FNG_OP_RMDIR);
}

/*
 * Write on the source, on the destination directory and on a replaced target; then no gain
 * for the moved object. RENAME_EXCHANGE moves both objects: the same checks the other way.
 */
static bool fng_path_rename(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	const struct path *old_dir = (const struct path *)ARG(0);
	struct dentry *old_dentry = (struct dentry *)ARG(1);
	const struct path *new_dir = (const struct path *)ARG(2);
	struct dentry *new_dentry = (struct dentry *)ARG(3);
	unsigned int flags = (unsigned int)ARG(4);
	struct vfsmount *mnt = old_dir->mnt;
	struct fng_decision src, dst_dir, src_dir;
	struct fng_decision dst = {.own = 1};

	if (d_private(old_dentry) || (d_is_positive(new_dentry) && d_private(new_dentry)))
		return false;
	files_decide(c, old_dentry, mnt, &src);
	if (!(src.rights & FNG_RIGHT_WRITE))
		return files_deny(c, p, FNG_OP_RENAME, &src, old_dentry, mnt, -EACCES);
	files_decide(c, new_dir->dentry, mnt, &dst_dir);
	if (!(dst_dir.rights & FNG_RIGHT_WRITE))
		return files_deny(c, p, FNG_OP_RENAME, &dst_dir, new_dentry, mnt, -EACCES);
	if (READ_ONCE(new_dentry->d_inode)) {
		files_decide(c, new_dentry, mnt, &dst);
		if (!(dst.rights & FNG_RIGHT_WRITE))
			return files_deny(c, p, FNG_OP_RENAME, &dst, new_dentry, mnt, -EACCES);
	}
	if (files_gains(&src, &dst_dir)) {
		dst_dir.kind = FNG_RULE_CROSS;
		return files_deny(c, p, FNG_OP_RENAME, &dst_dir, old_dentry, mnt, -EXDEV);
	}
	if (!(flags & RENAME_EXCHANGE))
		return false;
	files_decide(c, old_dir->dentry, mnt, &src_dir);
	if (!(src_dir.rights & FNG_RIGHT_WRITE))
		return files_deny(c, p, FNG_OP_RENAME, &src_dir, old_dentry, mnt, -EACCES);
	if (files_gains(&dst, &src_dir)) {
		src_dir.kind = FNG_RULE_CROSS;
		return files_deny(c, p, FNG_OP_RENAME, &src_dir, new_dentry, mnt, -EXDEV);
	}
	return false;
}

static bool fng_path_link(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	struct dentry *old_dentry = (struct dentry *)ARG(0);
	const struct path *new_dir = (const struct path *)ARG(1);
	struct dentry *new_dentry = (struct dentry *)ARG(2);
	struct vfsmount *mnt = new_dir->mnt;
	struct fng_decision obj, dir;

	if (d_private(old_dentry))
		return false;
	files_decide(c, new_dir->dentry, mnt, &dir);
	if (!(dir.rights & FNG_RIGHT_WRITE))
		return files_deny(c, p, FNG_OP_LINK, &dir, new_dentry, mnt, -EACCES);
	files_decide(c, old_dentry, mnt, &obj);
	if (files_gains(&obj, &dir)) {
		dir.kind = FNG_RULE_CROSS;
		return files_deny(c, p, FNG_OP_LINK, &dir, old_dentry, mnt, -EXDEV);
	}
	return false;
}

static bool files_path_write(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p,
			     u16 op)
{
	const struct path *path = (const struct path *)ARG(0);

	if (d_private(path->dentry))
		return false;
	return files_need(c, p, path->dentry, path->dentry, path->mnt, FNG_RIGHT_WRITE, op);
}

static bool fng_path_chmod(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return files_path_write(c, regs, p, FNG_OP_SETATTR);
}

static bool fng_path_chown(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return files_path_write(c, regs, p, FNG_OP_SETATTR);
}

/* truncate(), ftruncate() and open(O_TRUNC) all pass here. */
static bool fng_path_truncate(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return files_path_write(c, regs, p, FNG_OP_TRUNCATE);
}

/* Dentry-only hooks: the mount is the superblock's first (see fng_sb_mount). */
static bool files_dentry_write(struct fng_ctx *c, struct fng_pending *p, struct dentry *d)
{
	if (d_private(d))
		return false;
	return files_need(c, p, d, d, fng_sb_mount(d), FNG_RIGHT_WRITE, FNG_OP_SETATTR);
}

/* Only utimes: mode, owner and size changes were decided by the path hooks. */
static bool fng_inode_setattr(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return files_dentry_write(c, p, (struct dentry *)ARG(1));
}

static int fng_e_inode_setattr_pre(struct pt_regs *regs)
{
	const struct iattr *attr = (const struct iattr *)ARG(2);
	unsigned int valid = READ_ONCE(attr->ia_valid);

	return (valid & (ATTR_ATIME | ATTR_MTIME)) &&
	       !(valid & (ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_SIZE));
}

/* security_inode_setxattr(mnt_userns, dentry, ...), security_inode_removexattr(mnt_userns, dentry, name) */
static bool fng_inode_xattr(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return files_dentry_write(c, p, (struct dentry *)ARG(1));
}

/* ------------------------------------------------------------------ exec */

static bool exec_check(struct fng_ctx *c, struct fng_pending *p, struct file *file, u16 op,
		       bool execve)
{
	const struct fng_policy_conf *conf = &c->pol->conf;
	struct dentry *d = file->f_path.dentry;
	struct vfsmount *mnt = file->f_path.mnt;
	struct fng_decision dec;

	if (fng_dentry_pathless(d, mnt)) {
		dec.kind = FNG_RULE_NO_PATH;
		dec.index = 0;
		dec.own = 0;
		dec.rights = conf->exec_default == FNG_ABI_ALLOW;
	} else {
		fng_walk(&c->pol->execs, d, mnt, &dec);
		if (dec.kind == FNG_RULE_ENTRY)
			dec.rights = 1;
		else if (dec.kind == FNG_RULE_DEFAULT)
			dec.rights = conf->exec_default == FNG_ABI_ALLOW;
		else
			dec.rights = 0;
	}
	if (dec.rights && execve && conf->exec_children == FNG_ABI_DENY &&
	    atomic64_read(&c->env->execs) > 0) {
		dec.kind = FNG_RULE_CHILDREN;
		dec.index = 0;
		dec.rights = 0;
	}
	if (dec.rights)
		return false;
	return fng_pend_path(c, p, FNG_CLASS_EXEC, op, conf->exec_mode, dec.kind, dec.index, d, mnt,
			     -EACCES);
}

static bool fng_bprm_check(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ARG(0);

	return exec_check(c, p, bprm->file, FNG_OP_EXEC, true);
}

/* include/linux/mman.h's mmap_prot (static there): what the LSM hook is given as prot. */
static unsigned long fng_mmap_prot(struct file *file, unsigned long prot)
{
	if ((prot & (PROT_READ | PROT_EXEC)) != PROT_READ)
		return prot;
	if (!(current->personality & READ_IMPLIES_EXEC))
		return prot;
	if (!file)
		return prot | PROT_EXEC;
	/* path_noexec() (not exported): anything on a noexec mount gets no PROT_EXEC. */
	if ((file->f_path.mnt->mnt_flags & MNT_NOEXEC) ||
	    (file->f_path.mnt->mnt_sb->s_iflags & SB_I_NOEXEC))
		return prot;
	return prot | PROT_EXEC;
}

static bool fng_mmap_file(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	return exec_check(c, p, (struct file *)ARG(0), FNG_OP_MMAP, false);
}

static bool fng_file_mprotect(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)ARG(0);

	return exec_check(c, p, vma->vm_file, FNG_OP_MPROTECT, false);
}

/* ------------------------------------------------------------------ socket */

static bool net_socket_bypasses_egress(int family, int type, int protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	type &= SOCK_TYPE_MASK;
	return type == SOCK_RAW ||
	       (type == SOCK_DGRAM && (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6));
}

static bool fng_socket_create(struct fng_ctx *c, struct pt_regs *regs, struct fng_pending *p)
{
	int family = (int)ARG(0), type = (int)ARG(1), protocol = (int)ARG(2);
	const struct fng_policy_conf *conf = &c->pol->conf;
	u8 rule = FNG_RULE_FAMILIES;

	if (family >= 0 && family < 64 && (conf->families & (1ULL << family))) {
		/* Raw and ICMP sockets bypass the cgroup connect/sendmsg hooks. */
		if (!net_socket_bypasses_egress(family, type, protocol) || !conf->raw_deny)
			return false;
		rule = FNG_RULE_RAW;
	}
	p->cgid = c->cgid;
	p->policy_id = c->pol->id;
	p->class = FNG_CLASS_NETWORK;
	p->op = FNG_OP_SOCKET;
	p->verdict = fng_event_verdict(conf->net_mode);
	p->rule_kind = rule;
	p->rule_index = 0;
	p->target_kind = FNG_TARGET_ADDR;
	p->family = family;
	p->protocol = protocol;
	p->type = type;
	p->err = conf->net_mode == FNG_ABI_AUDIT ? 0 : -EPERM;
	return true;
}

/* ------------------------------------------------------------------ entry handlers */

#define FNG_ENTRY(name, fail)                                                                    \
	static int fng_e_##name(struct kprobe *kp, struct pt_regs *regs)                         \
	{                                                                                         \
		return fng_pre(regs, fng_##name, fail);                                           \
	}

FNG_ENTRY(file_open, -EACCES)
FNG_ENTRY(path_mknod, -EACCES)
FNG_ENTRY(path_mkdir, -EACCES)
FNG_ENTRY(path_symlink, -EACCES)
FNG_ENTRY(path_unlink, -EACCES)
FNG_ENTRY(path_rmdir, -EACCES)
FNG_ENTRY(path_rename, -EACCES)
FNG_ENTRY(path_link, -EACCES)
FNG_ENTRY(path_chmod, -EACCES)
FNG_ENTRY(path_chown, -EACCES)
FNG_ENTRY(path_truncate, -EACCES)
FNG_ENTRY(inode_xattr, -EACCES)
FNG_ENTRY(bprm_check, -EACCES)

static int fng_e_inode_setattr(struct kprobe *kp, struct pt_regs *regs)
{
	if (!fng_e_inode_setattr_pre(regs))
		return 0;
	return fng_pre(regs, fng_inode_setattr, -EACCES);
}

static int fng_e_mmap_file(struct kprobe *kp, struct pt_regs *regs)
{
	struct file *file = (struct file *)ARG(0);

	/* prot as the LSM hook sees it: READ_IMPLIES_EXEC makes a PROT_READ mapping executable. */
	if (!file || !(fng_mmap_prot(file, ARG(1)) & PROT_EXEC))
		return 0;
	return fng_pre(regs, fng_mmap_file, -EACCES);
}

static int fng_e_file_mprotect(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (struct vm_area_struct *)ARG(0);

	if (!READ_ONCE(vma->vm_file) || !(ARG(2) & PROT_EXEC))
		return 0;
	return fng_pre(regs, fng_file_mprotect, -EACCES);
}

static int fng_e_socket_create(struct kprobe *kp, struct pt_regs *regs)
{
	/* Kernel sockets are never touched. */
	if (ARG(3))
		return 0;
	return fng_pre(regs, fng_socket_create, -EPERM);
}

/* After the point of no return: this exec happens. Count it for children: deny. */
static int fng_pre_bprm_committed(struct kprobe *kp, struct pt_regs *regs)
{
	struct fng_kenv *env;
	u64 cgid;

	if (!atomic_read(&fng_n_envs))
		return 0;
	rcu_read_lock();
	env = fng_current_env(&cgid);
	if (env)
		atomic64_inc(&env->execs);
	rcu_read_unlock();
	return 0;
}

#define FNG_KP(sym, handler) {.symbol_name = sym, .pre_handler = handler}

static struct kprobe fng_kps[] = {
	FNG_KP("security_file_open", fng_e_file_open),
	FNG_KP("security_path_mknod", fng_e_path_mknod),
	FNG_KP("security_path_mkdir", fng_e_path_mkdir),
	FNG_KP("security_path_symlink", fng_e_path_symlink),
	FNG_KP("security_path_unlink", fng_e_path_unlink),
	FNG_KP("security_path_rmdir", fng_e_path_rmdir),
	FNG_KP("security_path_rename", fng_e_path_rename),
	FNG_KP("security_path_link", fng_e_path_link),
	FNG_KP("security_path_chmod", fng_e_path_chmod),
	FNG_KP("security_path_chown", fng_e_path_chown),
	FNG_KP("security_path_truncate", fng_e_path_truncate),
	FNG_KP("security_inode_setattr", fng_e_inode_setattr),
	FNG_KP("security_inode_setxattr", fng_e_inode_xattr),
	FNG_KP("security_inode_removexattr", fng_e_inode_xattr),
	FNG_KP("security_bprm_check", fng_e_bprm_check),
	FNG_KP("security_mmap_file", fng_e_mmap_file),
	FNG_KP("security_file_mprotect", fng_e_file_mprotect),
	FNG_KP("security_socket_create", fng_e_socket_create),
	/* No return value to change: counts the environment's execs for children: deny. */
	FNG_KP("security_bprm_committed_creds", fng_pre_bprm_committed),
};

static struct kprobe *fng_kp_ptrs[ARRAY_SIZE(fng_kps)];

u64 fng_hooks_missed(void)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fng_kps); i++)
		n += READ_ONCE(fng_kps[i].nmissed);
	return n;
}

int fng_hooks_init(void)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(fng_kps); i++) {
		fng_kp_ptrs[i] = &fng_kps[i];
		err = register_kprobe(&fng_kps[i]);
		if (err) {
			pr_err("fnguard: cannot probe %s: %d\n", fng_kps[i].symbol_name, err);
			if (i)
				unregister_kprobes(fng_kp_ptrs, i);
			return err;
		}
		/* Only a probe on ftrace's call site can move the instruction pointer safely. */
		if (!kprobe_ftrace(&fng_kps[i])) {
			pr_err("fnguard: %s: the probe is not on ftrace's call site: refusing\n",
			       fng_kps[i].symbol_name);
			unregister_kprobes(fng_kp_ptrs, i + 1);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * unregister_kprobes() disarms every probe and waits for handlers in flight. A task preempted
 * between a handler and fng_deny_return's return is not covered by that: a tasks-RCU grace
 * period (every task through a voluntary switch, as ftrace waits before freeing trampolines)
 * is, before the module's text goes.
 */
void fng_hooks_exit(void)
{
	unregister_kprobes(fng_kp_ptrs, ARRAY_SIZE(fng_kp_ptrs));
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#else
	synchronize_rcu();
#endif
}
