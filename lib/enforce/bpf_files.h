/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The files and exec half of the bpf-lsm backend, user side: a compiled policy's files.rules
 * and exec.allow as entries of fng_file_rules and fng_exec_rules (bpf/files.bpf.c,
 * bpf/exec.bpf.c), and the files/exec fields of its fng_policy_conf. Paths are resolved to
 * inodes by rules.h, as for the kernel module.
 */
#ifndef FNGUARD_BPF_FILES_H
#define FNGUARD_BPF_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"
#include "rules.h"

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
		   const struct fng_policy *p, int root_fd, rules_unresolved_fn unresolved,
		   void *ctx);

/* Delete every entry of @policy_id from both maps. 0, or the first -errno met (all are tried). */
int bpf_files_clear(int file_rules_fd, int exec_rules_fd, uint32_t policy_id);

/* The file and exec fields of @conf (file_mode, file_default, exec_mode, exec_default,
 * exec_children); the other fields are left alone. */
void bpf_files_conf(const struct fng_policy *p, struct fng_policy_conf *conf);

#endif
