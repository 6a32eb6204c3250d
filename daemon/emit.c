// SPDX-License-Identifier: Apache-2.0
/* Telemetry from the daemon's files (emit.h). */
#include "emit.h"
#include "fnguard_api.h"
#include "fnguardd.h"

struct telemetry_event *ev_scratch(struct fnguardd *d)
{
	return &d->scratch;
}

void emit(struct fnguardd *d, struct telemetry_event *t, const struct fn *fn,
	  const struct env *env, const struct inv *inv)
{
	struct telemetry_origin o = {.host = d->host};

	if (fn) {
		o.function = fn->policy->function.name;
		o.version = fn->policy->function.version;
	}
	if (env)
		o.env = env->id;
	if (inv)
		o.invocation = inv->id;
	hub_publish(d->hub, t, &o);
}

uint64_t kernel_lost_total(struct fnguardd *d)
{
	return d->bpf ? enforcer_counter(d->bpf, FNG_CNT_RINGBUF_FULL) : 0;
}
