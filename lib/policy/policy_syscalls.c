// SPDX-License-Identifier: Apache-2.0
/*
 * The syscalls section and the built-in baseline deny list.
 *
 * Names are resolved by libseccomp for x86_64, so the numbers are the ones the kernel and
 * the seccomp filter use; a name that is only a system call on another architecture is
 * unknown here. The deny set is: baseline + syscalls.deny - syscalls.allow.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/*
 * In the spirit of Docker's default seccomp profile: system calls a function has no use for
 * and that widen what a compromised function can reach. Two entries are not plain denials
 * (seccomp_policy_load() gives them their meaning):
 *  - unshare stands for new namespaces: while it is denied, so is clone with any CLONE_NEW*
 *    flag (the same namespaces, one call away), reported as clone with the policy's errno;
 *  - clone3 passes its flags in memory, where a seccomp filter cannot read them: it fails with
 *    ENOSYS, never the policy's errno and never reported, because ENOSYS is the one answer on
 *    which the C library falls back to clone (any other errno breaks thread creation).
 * Deliberately NOT here: personality and mbind/set_mempolicy (language runtimes call them;
 * their danger is in arguments a name-only list cannot see), seccomp and landlock_*
 * (self-sandboxing is good).
 */
const struct policy_baseline_entry policy_syscall_baseline[] = {
    {"acct", "process accounting is host-wide"},
    {"add_key", "kernel keyrings are not namespaced"},
    {"keyctl", "kernel keyrings are not namespaced"},
    {"request_key", "kernel keyrings are not namespaced"},
    {"bpf", "loads programs into the kernel"},
    {"perf_event_open", "kernel profiling interface: side channels, frequent kernel bugs"},
    {"userfaultfd", "stalls kernel page faults from user space, an exploit primitive"},
    {"io_uring_setup", "asynchronous syscalls that per-syscall filters do not see"},
    {"io_uring_enter", "asynchronous syscalls that per-syscall filters do not see"},
    {"io_uring_register", "asynchronous syscalls that per-syscall filters do not see"},
    {"ptrace", "inspects and controls other processes"},
    {"process_vm_readv", "reads another process's memory"},
    {"process_vm_writev", "writes another process's memory"},
    {"kcmp", "compares kernel objects of other processes"},
    {"pidfd_getfd", "takes file descriptors from another process"},
    {"unshare", "new namespaces expose kernel code meant for root (clone's CLONE_NEW* too)"},
    {"clone3", "its flags are in memory, out of seccomp's sight: ENOSYS, so libc uses clone"},
    {"setns", "joins other namespaces"},
    {"mount", "changes the file system view"},
    {"umount2", "changes the file system view"},
    {"mount_setattr", "changes the file system view"},
    {"move_mount", "changes the file system view"},
    {"open_tree", "changes the file system view"},
    {"fsopen", "changes the file system view"},
    {"fsconfig", "changes the file system view"},
    {"fsmount", "changes the file system view"},
    {"fspick", "changes the file system view"},
    {"pivot_root", "changes the root file system"},
    {"chroot", "changes the root directory, a classic escape step"},
    {"open_by_handle_at", "opens files by handle, bypassing path lookup (\"shocker\")"},
    {"name_to_handle_at", "produces handles for open_by_handle_at"},
    {"init_module", "loads kernel code"},
    {"finit_module", "loads kernel code"},
    {"delete_module", "unloads kernel code"},
    {"create_module", "obsolete module interface"},
    {"get_kernel_syms", "obsolete module interface"},
    {"query_module", "obsolete module interface"},
    {"kexec_load", "replaces the running kernel"},
    {"kexec_file_load", "replaces the running kernel"},
    {"reboot", "reboots or halts the machine"},
    {"swapon", "changes system swap"},
    {"swapoff", "changes system swap"},
    {"settimeofday", "changes the system clock"},
    {"clock_settime", "changes the system clock"},
    {"clock_adjtime", "changes the system clock"},
    {"adjtimex", "changes the system clock"},
    {"sethostname", "changes the machine's name"},
    {"setdomainname", "changes the machine's name"},
    {"syslog", "reads the kernel log, which leaks kernel addresses"},
    {"iopl", "raw I/O port access"},
    {"ioperm", "raw I/O port access"},
    {"quotactl", "file system quota administration"},
    {"quotactl_fd", "file system quota administration"},
    {"fanotify_init", "watches whole file systems"},
    {"lookup_dcookie", "obsolete profiling interface"},
    {"move_pages", "moves another process's memory"},
    {"migrate_pages", "moves another process's memory"},
    {"vhangup", "hangs up the controlling terminal"},
    {"nfsservctl", "obsolete"},
    {"_sysctl", "obsolete"},
    {"uselib", "obsolete a.out library loader"},
};
const size_t policy_syscall_baseline_len =
    sizeof(policy_syscall_baseline) / sizeof(policy_syscall_baseline[0]);

static int syscall_resolve(const char *s, size_t len)
{
	size_t i;
	int nr;

	if (len == 0 || len >= sizeof(((struct fng_syscall *)0)->name))
		return -1;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return -1;
	/* negative: not a system call, or one of another architecture only */
	nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, s);
	return nr >= 0 && nr < POLICY_SYSCALL_MAX ? nr : -1;
}

static const char *syscall_hint(const char *word, char *buf, size_t size)
{
	unsigned best_d = ~0u;
	int nr;

	buf[0] = '\0';
	if (strlen(word) > 64)
		return NULL;
	for (nr = 0; nr < POLICY_SYSCALL_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		unsigned d;

		if (!name)
			continue;
		d = policy_edit_distance(word, name);
		if (d < best_d) {
			best_d = d;
			snprintf(buf, size, "%s", name);
		}
		free(name);
	}
	return buf[0] && policy_suggest_close(word, best_d) ? buf : NULL;
}

/* seen[nr]: the item that listed syscall nr, or NULL. */
static void v_names(struct pctx *c, const struct pnode *n, const struct pnode **seen)
{
	size_t i;

	if (!pnode_expect_seq(c, n))
		return;
	for (i = 0; i < n->n && !c->full; i++) {
		const struct pnode *s = n->kids[i];
		size_t saved = pctx_push_index(c, i);
		char hint[64];
		int nr;

		if (!pnode_as_string(c, s))
			goto next;
		nr = syscall_resolve(s->s, s->len);
		if (nr < 0) {
			const char *h = c->nerr < POLICY_HINT_LIMIT && s->len == strlen(s->s)
					    ? syscall_hint(s->s, hint, sizeof(hint))
					    : NULL;

			if (h)
				pctx_err(c, s, "unknown syscall '%s' (did you mean '%s'?)",
					 pctx_quote(c, s->s, s->len), h);
			else
				pctx_err(c, s, "unknown syscall '%s' (not a system call on x86_64)",
					 pctx_quote(c, s->s, s->len));
		} else if (seen[nr]) {
			pctx_err(c, s, "duplicate syscall '%s' (%s)", s->s,
				 pctx_first_at(c, seen[nr], s));
		} else {
			seen[nr] = s;
		}
	next:
		pctx_pop(c, saved);
	}
}

static void v_errno(struct pctx *c, const struct pnode *n)
{
	struct fng_syscalls *sc = &c->p->syscalls;
	const char *hint;
	int e;

	if (!pnode_as_string(c, n))
		return;
	e = n->len == strlen(n->s) ? policy_errno_lookup(n->s) : -1;
	if (e > 0) {
		sc->errno_nr = e;
		snprintf(sc->errno_name, sizeof(sc->errno_name), "%s", policy_errno_name(e));
		return;
	}
	hint = policy_errno_hint(n->s);
	if (hint)
		pctx_err(c, n, "unknown errno name '%s' (did you mean '%s'?)",
			 pctx_quote(c, n->s, n->len), hint);
	else
		pctx_err(c, n,
			 "unknown errno name '%s' (use a name such as EPERM, EACCES or ENOSYS)",
			 pctx_quote(c, n->s, n->len));
}

void policy_syscalls_validate(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"mode", "deny", "allow", "errno"};
	const struct pnode *v[4];
	size_t saved, i;

	pmap_collect(c, map, keys, 4, v);
	WITH_KEY(c, "mode", v[0], pnode_as_mode(c, v[0], &c->p->syscalls.mode));
	WITH_KEY(c, "deny", v[1], v_names(c, v[1], c->sc_deny));
	if (v[2]) {
		WITH_KEY(c, "allow", v[2], v_names(c, v[2], c->sc_allow));
		/* a name in both lists is a contradiction, whatever the formula says */
		for (i = 0; v[2]->kind == PNODE_SEQ && i < v[2]->n; i++) {
			const struct pnode *s = v[2]->kids[i];
			int nr = s->kind == PNODE_SCALAR ? syscall_resolve(s->s, s->len) : -1;

			if (nr < 0 || !c->sc_deny[nr] || c->sc_allow[nr] != s)
				continue;
			saved = pctx_push(c, "allow");
			pctx_push_index(c, i);
			pctx_err(c, s, "'%s' is also in syscalls.deny (line %u)", s->s,
				 c->sc_deny[nr]->line);
			pctx_pop(c, saved);
		}
	}
	WITH_KEY(c, "errno", v[3], v_errno(c, v[3]));
}

int policy_syscalls_compile(struct pctx *c)
{
	struct fng_syscalls *sc = &c->p->syscalls;
	bool deny[POLICY_SYSCALL_MAX] = {false};
	size_t i, n = 0;
	int nr;

	for (i = 0; i < policy_syscall_baseline_len; i++) {
		const char *name = policy_syscall_baseline[i].name;

		nr = syscall_resolve(name, strlen(name));
		if (nr < 0) {
			/* the libseccomp in use predates this entry: refuse, never drop it */
			pctx_report(c, 0, 0,
				    "internal error: baseline syscall '%s' is unknown to "
				    "libseccomp",
				    name);
			return -ENOSYS;
		}
		deny[nr] = true;
	}
	for (nr = 0; nr < POLICY_SYSCALL_MAX; nr++) {
		if (c->sc_deny[nr])
			deny[nr] = true;
		if (c->sc_allow[nr])
			deny[nr] = false;
		n += deny[nr];
	}
	sc->deny = calloc(n ? n : 1, sizeof(*sc->deny));
	if (!sc->deny)
		return -ENOMEM;
	for (nr = 0; nr < POLICY_SYSCALL_MAX; nr++) {
		char *name;

		if (!deny[nr])
			continue;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
		if (!name)
			return -ENOMEM;
		sc->deny[sc->n_deny].nr = nr;
		snprintf(sc->deny[sc->n_deny].name, sizeof(sc->deny[0].name), "%s", name);
		sc->n_deny++;
		free(name);
	}
	return 0;
}
