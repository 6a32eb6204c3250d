/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files and exec half of the bpf-lsm backend, user side: a compiled policy's files.rules
 * and exec.allow as entries of fng_file_rules and fng_exec_rules (bpf/files.bpf.c,
 * bpf/exec.bpf.c), and the files/exec fields of its fng_policy_conf.
 *
 * Rules name objects, not strings: each path is resolved once, when the policy is installed,
 * with stat() (symlinks followed: the rule names the object reached, as decisions do) to the
 * inode it names. A directory rule then covers whatever is beneath that directory later, and a
 * file rule follows the file through renames and hard links. A path that does not exist then is
 * covered by no rule of its own: the caller is told, so it can warn.
 */
#ifndef FNGUARD_BPF_FILES_H
#define FNGUARD_BPF_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"
#include "policy.h"

/* A rule whose path could not be resolved when the policy was installed. */
struct bpf_files_unresolved {
	const char *section; /* "files.rules" or "exec.allow" */
	size_t index;	     /* in that section */
	const char *path;    /* the rule's path (owned by the policy) */
	uint32_t line;	     /* of the rule in the policy file */
	int err;	     /* -errno of stat(): -ENOENT, -ENOTDIR, -EACCES, -ELOOP, ... */
};

typedef void (*bpf_files_unresolved_fn)(const struct bpf_files_unresolved *u, void *ctx);

/*
 * Write the entries of policy @policy_id for @p. Each rule whose path cannot be resolved is
 * passed to @unresolved (with @ctx) and left out; with @unresolved NULL it is logged with
 * log_warnx instead. Either way it is never dropped silently. Two rules naming one inode (e.g.
 * /lib and /usr/lib where one is a symlink to the other) get the rights both grant (fail closed).
 * With @root_fd > 0 (a directory: an environment's root, e.g. /proc/PID/root) paths are
 * resolved as a process in that root sees them; with 0, in this process's root.
 * Returns 0, or the -errno of a failed map update (then no entry of @policy_id is left).
 */
int bpf_files_fill(int file_rules_fd, int exec_rules_fd, uint32_t policy_id,
		   const struct fng_policy *p, int root_fd, bpf_files_unresolved_fn unresolved,
		   void *ctx);

/*
 * The same entries as arrays, for the kernel-module backend: resolved the same way (unresolved
 * rules reported the same way), sorted by inode, with rules naming one inode merged. The arrays
 * are malloc'd (free them). 0, or -ENOMEM.
 */
int bpf_files_collect(const struct fng_policy *p, int root_fd, bpf_files_unresolved_fn unresolved,
		      void *ctx, struct fnguard_rule **files, size_t *n_files,
		      struct fnguard_rule **execs, size_t *n_execs);

/* Delete every entry of @policy_id from both maps. 0, or the first -errno met (all are tried). */
int bpf_files_clear(int file_rules_fd, int exec_rules_fd, uint32_t policy_id);

/* The file and exec fields of @conf (file_mode, file_default, exec_mode, exec_default,
 * exec_children); the other fields are left alone. */
void bpf_files_conf(const struct fng_policy *p, struct fng_policy_conf *conf);

#endif
