/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Denial and loss events of `fnguard run` as JSON lines, with the field names of
 * docs/telemetry.md: built and rendered by telemetry.c, so they are the lines of
 * `fnguard events --json`. The names of kernel event fields live here.
 */
#ifndef FNGUARD_EVENT_JSON_H
#define FNGUARD_EVENT_JSON_H

#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>

#include "fnguard_abi.h"
#include "policy.h"

struct event_ctx {
	const struct fng_policy *policy; /* names the rule that decided */
	const char *host;
	const char *env;		 /* environment id, NULL when none */
	int64_t boot_to_real_ns;	 /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t seq;			 /* last sequence number used */
};

void event_ctx_init(struct event_ctx *c, const struct fng_policy *p, const char *env);
/* One "denial" event as one JSON line. 0 or -EIO. */
int event_json_write(FILE *f, struct event_ctx *c, const struct fng_event *e);
/* A "loss" event: @lost events dropped at @where. */
int event_json_write_loss(FILE *f, struct event_ctx *c, uint64_t lost, const char *where);

const char *event_class_name(unsigned class);
const char *event_op_name(unsigned op);
/* "files.rules[2] (/var/task/handler.py)", "network.egress.default", ... */
void event_rule_name(const struct fng_policy *p, const struct fng_event *e, char *buf, size_t len);
/* "/etc/passwd", "192.0.2.1:443/tcp", "family=netlink type=3 protocol=0", ... */
void event_target_text(const struct fng_event *e, char *buf, size_t len);

#endif
