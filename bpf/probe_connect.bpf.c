// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest cgroup connect4 program that really denies: a TCP/UDP connect to one port from
 * the cgroup it is attached to. Used by the kernel test bench and by the network-support probe.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

/* Destination port to refuse, host byte order. */
const volatile __u16 deny_port = 0;

__u64 denied = 0;

SEC("cgroup/connect4")
int fng_probe_connect4(struct bpf_sock_addr *ctx)
{
	if (bpf_ntohs((__u16)ctx->user_port) == deny_port) {
		__sync_fetch_and_add(&denied, 1);
		return 0; /* reject: connect() fails with EPERM */
	}
	return 1;
}
