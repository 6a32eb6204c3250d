/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Between config.c (the table of settings, their defaults and their values) and config_load.c
 * (reading the file's YAML): private to those two.
 */
#ifndef FNGUARD_CONFIG_INT_H
#define FNGUARD_CONFIG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "fnguardd.h"

/* There are fewer settings than this (a static assertion in config.c says so). */
#define CONFIG_KEYS_MAX 32

struct config_key;

/* One load: the file applied over a copy of the caller's settings, and what went wrong. */
struct cfg_load {
	const char *file;
	struct policy_diags *diags;
	unsigned nerr;
	int oom;
	struct fnguardd_config cfg;
	struct uid_range uids;
	/* where each key was set first; line 0: not yet */
	uint32_t seen_line[CONFIG_KEYS_MAX], seen_col[CONFIG_KEYS_MAX];
	char qbuf[2][272];
	unsigned qnext;
};

/* config_load.c: a problem at @m (counted, and recorded in l->diags). */
void cfg_report(struct cfg_load *l, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* s[0..len) for a message: control characters escaped, long values cut with "...". */
const char *cfg_quote(struct cfg_load *l, const char *s, size_t len);
/* YAML's plain null: nothing, ~, null. */
bool cfg_is_null(const yaml_event_t *ev);

/* config.c: the setting a key names (NULL, reported, when none or set before), its name, and
 * setting it from a scalar value (reported when the value is bad). */
const struct config_key *cfg_key_of(struct cfg_load *l, const yaml_event_t *ev);
const char *cfg_key_name(const struct config_key *k);
void cfg_value_set(struct cfg_load *l, const struct config_key *k, const yaml_event_t *ev);

#endif
