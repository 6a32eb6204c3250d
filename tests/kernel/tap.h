/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal TAP output for tests that run inside the kernel test bench. Each check prints
 * "ok - NAME" or "not ok - NAME" (with the reason on a "# " line); tap_skip says why it skipped.
 * tap_done() returns the process exit status: 1 if anything failed.
 */
#ifndef FNGUARD_TAP_H
#define FNGUARD_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_failed;

__attribute__((format(printf, 2, 3))) static inline void tap_check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed = 1;
}

__attribute__((format(printf, 2, 3))) static inline void tap_skip(const char *name, const char *fmt,
								   ...)
{
	va_list ap;

	printf("ok - %s # SKIP ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline int tap_done(void)
{
	return tap_failed;
}

#endif
