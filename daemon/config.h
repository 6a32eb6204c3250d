/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's configuration file (fnguardd --config FILE): a YAML mapping of settings, read
 * with libyaml and checked against one table of keys (name, type, default, help), from which
 * fnguardd --help prints the settings. Problems are reported like a policy's, as
 * FILE:LINE:COLUMN: message, every one of them.
 */
#ifndef FNGUARD_CONFIG_H
#define FNGUARD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct fnguardd_config;
struct policy_diags;
struct uid_range;

/* A configuration file is at most this long: a few dozen settings. */
#define CONFIG_MAX_SIZE (64u << 10)

/*
 * Every setting's default: the table's, and where QEMU, the guest kernel and the guest image
 * are found (qemu-system-x86_64 in PATH, the kernel 'make deps' caches, guest/ beside this
 * binary). The uid range goes to @uids (first and count only).
 */
void config_defaults(struct fnguardd_config *cfg, struct uid_range *uids);

/*
 * Reads @file over the settings in @cfg and @uids. 0; or -EINVAL with every problem in
 * @diags and @cfg and @uids unchanged (a file applies completely or not at all); or the
 * -errno of opening or reading it (also in @diags). Strings set are malloc'd: see
 * config_release().
 */
int config_load(struct fnguardd_config *cfg, struct uid_range *uids, const char *file,
		struct policy_diags *diags);
/* The same for buf[0..len), called @name in messages. */
int config_load_buffer(struct fnguardd_config *cfg, struct uid_range *uids, const char *name,
		       const char *buf, size_t len, struct policy_diags *diags);
/* Frees the strings of @cfg that a load set, that is, those that differ from @before's. */
void config_release(struct fnguardd_config *cfg, const struct fnguardd_config *before);

/* The settings, as fnguardd --help shows them: name, type, default and what it does. */
void config_help(FILE *f);

#endif
