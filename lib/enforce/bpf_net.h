/* SPDX-License-Identifier: Apache-2.0 */
/* Network rules of a compiled policy -> the LPM trie of the enforcement object. */
#ifndef FNGUARD_BPF_NET_H
#define FNGUARD_BPF_NET_H

#include <stdint.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"

/* Fill the network fields of a policy's conf (families, loopback, bind, egress default). */
void bpf_net_conf(const struct fng_policy *p, struct fng_policy_conf *conf);
/* Write every egress rule of @p under @policy_id. -E2BIG (logged, naming the rule) when a rule
 * does not fit the map layout; nothing is left half-written. */
int bpf_net_fill(int net_rules_fd, uint32_t policy_id, const struct fng_policy *p);
/* Delete every entry of @policy_id. */
int bpf_net_clear(int net_rules_fd, uint32_t policy_id);

#endif
