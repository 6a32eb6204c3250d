/* SPDX-License-Identifier: Apache-2.0 */
/* Telemetry from the daemon's files: one event at a time, published with its origin. */
#ifndef FNGUARD_EMIT_H
#define FNGUARD_EMIT_H

#include <stdint.h>

#include "telemetry.h"

struct fnguardd;
struct fn;
struct env;
struct inv;

/* Publish @t with the origin of @fn / @env / @inv (any may be NULL). */
void emit(struct fnguardd *d, struct telemetry_event *t, const struct fn *fn,
	  const struct env *env, const struct inv *inv);
/* A scratch event for building one event at a time (the loop is single-threaded). */
struct telemetry_event *ev_scratch(struct fnguardd *d);
/* Events the kernel could not put in the ring buffer, since the daemon started. */
uint64_t kernel_lost_total(struct fnguardd *d);

#endif
