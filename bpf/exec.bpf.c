// SPDX-License-Identifier: GPL-2.0
/*
 * Exec policy (docs/policy.md, "Exec") for tasks of an environment.
 *
 * bprm_check_security runs for the binary and again for each interpreter the exec goes
 * through (a '#!' script's interpreter, binfmt_misc), so a script with a denied interpreter is
 * denied; execveat and fexecve pass here too. The ELF interpreter (ld.so) and shared libraries
 * are mapped executable: mmap_file and file_mprotect with PROT_EXEC of a file are decided by the
 * same rules, which also stops 'ld.so FILE' from running a file exec would refuse.
 *
 * An exec.allow entry covers its file or, for a directory, everything beneath it (the same
 * ancestry walk as files, against fng_exec_rules). A file without a path (memfd, deleted,
 * O_TMPFILE) is decided by exec.default alone.
 *
 * children: deny. fng_env.execs counts the execs of the environment that got past the point of
 * no return (bprm_committed_creds), so refused or failed execs do not count; while it is 0 the
 * next exec is the handler's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fspath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PROT_EXEC 0x4

struct exec_ctx {
	__u64 cgid;
	__u64 execs;
	__u32 policy_id;
	__u8 mode;
	__u8 def;
	__u8 children;
};

/* 1: the task is in an environment, 0: it is not (allow), -1: no valid policy (fail closed). */
static __always_inline int exec_enter(struct exec_ctx *c)
{
	struct fng_policy_conf *conf;
	struct fng_env *env;
	int in = fng_enter(&c->cgid, &env, &conf);

	if (in <= 0)
		return in;
	c->policy_id = env->policy_id;
	c->execs = env->execs;
	c->mode = conf->exec_mode;
	c->def = conf->exec_default;
	c->children = conf->exec_children;
	return 1;
}

/* dec->rights: 1 when an allow entry covers the file (or the default allows), else 0. */
static __noinline int exec_decide(const struct exec_ctx *c, struct dentry *d, struct vfsmount *mnt,
				  struct fng_decision *dec)
{
	if (fng_dentry_pathless(d, mnt)) {
		dec->kind = FNG_RULE_NO_PATH;
		dec->index = 0;
		dec->own = 0;
		dec->rights = c->def == FNG_ABI_ALLOW;
		return 0;
	}
	fng_walk(true, c->policy_id, d, mnt, dec);
	if (dec->kind == FNG_RULE_ENTRY)
		dec->rights = 1;
	else if (dec->kind == FNG_RULE_DEFAULT)
		dec->rights = c->def == FNG_ABI_ALLOW;
	else
		dec->rights = 0;
	return 0;
}

static __noinline int exec_report(const struct exec_ctx *c, __u16 op,
				  const struct fng_decision *dec, struct dentry *d,
				  struct vfsmount *mnt)
{
	fng_report_file(c->cgid, c->policy_id, FNG_CLASS_EXEC, op, c->mode, dec->kind, dec->index,
			d, mnt);
	return 0;
}

/* Executing @file (@execve: a real exec, subject to children) or mapping it executable. */
static __always_inline int exec_check(struct file *file, __u16 op, bool execve, int ret)
{
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
	struct vfsmount *mnt = BPF_CORE_READ(file, f_path.mnt);
	struct fng_decision dec;
	struct exec_ctx c;
	int in;

	if (ret)
		return ret;
	in = exec_enter(&c);
	if (in == 0)
		return 0;
	if (in < 0)
		return -EACCES;
	exec_decide(&c, d, mnt, &dec);
	if (dec.rights && execve && c.children == FNG_ABI_DENY && c.execs > 0) {
		dec.kind = FNG_RULE_CHILDREN;
		dec.index = 0;
		dec.rights = 0;
	}
	if (dec.rights)
		return 0;
	exec_report(&c, op, &dec, d, mnt);
	return c.mode == FNG_ABI_AUDIT ? 0 : -EACCES;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(fng_bprm_check, struct linux_binprm *bprm, int ret)
{
	return exec_check(BPF_CORE_READ(bprm, file), FNG_OP_EXEC, true, ret);
}

/* After the point of no return: this exec happens. Count it for children: deny. */
SEC("lsm/bprm_committed_creds")
int BPF_PROG(fng_bprm_committed, struct linux_binprm *bprm)
{
	struct fng_env *env;
	__u64 cgid;

	env = fng_current_env(&cgid);
	if (env)
		__sync_fetch_and_add(&env->execs, 1);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(fng_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	/* prot, not reqprot: READ_IMPLIES_EXEC makes a PROT_READ mapping executable. */
	if (ret || !file || !(prot & PROT_EXEC))
		return ret;
	return exec_check(file, FNG_OP_MMAP, false, ret);
}

SEC("lsm/file_mprotect")
int BPF_PROG(fng_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct file *file = BPF_CORE_READ(vma, vm_file);

	if (ret || !file || !(prot & PROT_EXEC))
		return ret;
	return exec_check(file, FNG_OP_MPROTECT, false, ret);
}
