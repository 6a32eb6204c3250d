// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest BPF LSM program that really denies something: opening a marked inode from inside
 * one cgroup subtree. bpf_lsm_supported() loads it to prove that this kernel runs BPF LSM
 * programs (a kernel may load them yet never call them when 'bpf' is not an active LSM), and the
 * kernel test bench uses it to prove denial is scoped to the cgroup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fnguard.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Scope: this cgroup (v2 id) and its descendants. */
const volatile __u64 target_cgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct fng_inode_key);
	__type(value, __u32);
} fng_probe_inodes SEC(".maps");

/* How many opens were denied: lets user space see the hook run. */
__u64 denied = 0;

SEC("lsm/file_open")
int BPF_PROG(fng_probe_file_open, struct file *file, int ret)
{
	struct fng_inode_key key;

	if (ret != 0)
		return ret;
	fng_inode_key_of(BPF_CORE_READ(file, f_inode), &key);
	if (!bpf_map_lookup_elem(&fng_probe_inodes, &key))
		return 0;
	if (!fng_task_under_cgroup(target_cgid))
		return 0;
	__sync_fetch_and_add(&denied, 1);
	return -EACCES;
}
