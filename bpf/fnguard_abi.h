/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * Types shared by the BPF programs and user space. Plain C only: this header is included both
 * after vmlinux.h (BPF side) and after <linux/types.h> (user side). Enum values are ABI: they
 * have explicit numbers and never change.
 */
#ifndef FNGUARD_ABI_H
#define FNGUARD_ABI_H

/* Deepest cgroup nesting the programs search for an environment's cgroup. */
#define FNG_MAX_CGROUP_DEPTH 32

/* A file is identified by its inode: device + inode number, never by a path string. */
struct fng_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

#endif
