/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in telemetry exporter (docs/telemetry.md): every event as one JSON line appended to
 * a file that log shippers tail (Fluent Bit, Vector, the OpenTelemetry Collector's filelog
 * receiver), rotated by size the way they expect: PATH is renamed PATH.1, PATH.1 becomes
 * PATH.2, ..., and a new PATH is opened, so a tailer that follows by name sees a new file and
 * one that follows the descriptor finishes the old one.
 *
 * A failed write never stops the daemon: the event is counted, the first failure of a burst is
 * logged, and the next event tries again (reopening PATH if it could not be opened). A path that
 * is not a regular file (/dev/stdout, a FIFO) is written to but never rotated.
 */
#ifndef FNGUARD_EXPORT_H
#define FNGUARD_EXPORT_H

#include <stdint.h>

#include "telemetry.h"

#define EXPORT_ROTATE_BYTES_DEFAULT (64ull << 20)
#define EXPORT_KEEP_DEFAULT 5u
/* Most rotated files kept: the suffix must stay short and renames cheap. */
#define EXPORT_KEEP_MAX 1000u

struct export;

/*
 * Opens (creates, mode 0640, or appends to) @path. @rotate_bytes: rotate before a write that
 * would make the file larger (0: EXPORT_ROTATE_BYTES_DEFAULT); @keep: rotated files kept,
 * PATH.1 .. PATH.keep (0: EXPORT_KEEP_DEFAULT). 0, -EINVAL, -ENOMEM or open(2)'s -errno.
 */
int export_open(struct export **out, const char *path, uint64_t rotate_bytes, unsigned keep);
void export_close(struct export *x);

/*
 * Appends @ev as one JSON line (telemetry_json_write), whole or not at all: a line cut short by
 * a failing write is taken back, so the file never holds half a line followed by the next one.
 * 0 or -errno (the event was not written; counted in export_errors()).
 */
int export_write(struct export *x, const Fnguard__V1__Event *ev);

/* Events that could not be written since export_open(). */
uint64_t export_errors(const struct export *x);

#endif
