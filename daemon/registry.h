/* SPDX-License-Identifier: Apache-2.0 */
/* Registered functions and their state on disk (registry.c). */
#ifndef FNGUARD_REGISTRY_H
#define FNGUARD_REGISTRY_H

#include <stddef.h>

struct client_id;
struct fn;
struct fnguardd;

int functions_load(struct fnguardd *d);
/* Registers a policy file's function; its code is copied with the rights of @who. */
int function_register(struct fnguardd *d, const char *yaml, size_t len, const char *name,
		      const char *code_base, const struct client_id *who, struct fn **out,
		      char *why, size_t whylen);
struct fn *function_find(struct fnguardd *d, const char *name, const char *version);
/* Removes every matching version; @stop stops its environments (the caller's: the registry
 * does not drive environments) before the function is freed, or when its last one ends. */
int function_remove(struct fnguardd *d, const char *name, const char *version,
		    void (*stop)(struct fn *fn, const char *reason), char *why, size_t whylen);
void function_free(struct fn *f);

#endif
