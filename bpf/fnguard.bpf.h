/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers every fnguard BPF program may use (no maps: those are in maps.bpf.h). */
#ifndef FNGUARD_BPF_H
#define FNGUARD_BPF_H

#include "fnguard_abi.h"

#define EPERM 1
#define EACCES 13
#define EXDEV 18

#define FNG_RIGHT_READ 1u
#define FNG_RIGHT_WRITE 2u

static __always_inline void fng_inode_key_of(struct inode *inode, struct fng_inode_key *key)
{
	key->ino = BPF_CORE_READ(inode, i_ino);
	key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key->pad = 0;
}

/* Is the current task in cgroup @cgid or one of its descendants (cgroup v2 hierarchy)? */
static __always_inline bool fng_task_under_cgroup(__u64 cgid)
{
	for (int lvl = 0; lvl < FNG_MAX_CGROUP_DEPTH; lvl++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(lvl);

		if (id == 0)
			return false;
		if (id == cgid)
			return true;
	}
	return false;
}

#endif
