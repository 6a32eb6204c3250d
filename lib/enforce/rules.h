/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule resolution, shared by both backends (the BPF maps of bpf_files.h and the kernel
 * module's rule arrays): the paths of a compiled policy's files.rules and exec.allow as the
 * inodes they name.
 *
 * Rules name objects, not strings: each path is resolved once, when the policy is installed,
 * with stat() (symlinks followed: the rule names the object reached, as decisions do) to the
 * inode it names. A directory rule then covers whatever is beneath that directory later, and a
 * file rule follows the file through renames and hard links. A path that does not exist then is
 * covered by no rule of its own: the caller is told, so it can warn.
 */
#ifndef FNGUARD_RULES_H
#define FNGUARD_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"
#include "policy.h"

/* A rule whose path could not be resolved when the policy was installed. */
struct rules_unresolved {
	const char *section; /* "files.rules" or "exec.allow" */
	size_t index;	     /* in that section */
	const char *path;    /* the rule's path (owned by the policy) */
	uint32_t line;	     /* of the rule in the policy file */
	int err;	     /* -errno of stat(): -ENOENT, -ENOTDIR, -EACCES, -ELOOP, ... */
};

typedef void (*rules_unresolved_fn)(const struct rules_unresolved *u, void *ctx);

/*
 * Resolve one rule's @path (rule @index of @section, at @line) to @key (under @policy_id). With
 * @root_fd > 0 (a directory: an environment's root) the path is resolved as a process in that
 * root sees it; with 0, in this process's root. 1: @key filled; 0: the path does not resolve,
 * reported to @fn (with @ctx), or logged with log_warnx when @fn is NULL.
 */
int rules_resolve(int root_fd, const struct fng_policy *p, uint32_t policy_id, const char *section,
		  size_t index, const char *path, uint32_t line, struct fng_rule_key *key,
		  rules_unresolved_fn fn, void *ctx);

/*
 * The entries of @p's files.rules and exec.allow as arrays, for the kernel module: resolved by
 * rules_resolve() (unresolved rules reported the same way as bpf_files_fill() does), sorted by
 * inode, with rules naming one inode merged. The arrays are malloc'd (free them). 0, or -ENOMEM.
 */
int rules_files_collect(const struct fng_policy *p, int root_fd, rules_unresolved_fn unresolved,
			void *ctx, struct fnguard_rule **files, size_t *n_files,
			struct fnguard_rule **execs, size_t *n_execs);

#endif
