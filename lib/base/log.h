/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging in the OpenBSD style: log_warn appends strerror(errno), log_warnx does not;
 * fatal/fatalx log and exit. Every function is printf-format checked.
 */
#ifndef FNGUARD_LOG_H
#define FNGUARD_LOG_H

#include <stdarg.h>

/* Program name used as the message prefix ("fnguard: ..."). */
void log_init(const char *progname, int debug);
void log_set_verbose(int verbose);
/* Daemons: log to syslog with @facility (LOG_DAEMON) instead of stderr. */
void log_use_syslog(int facility);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
