/* SPDX-License-Identifier: Apache-2.0 */
/* Process environments (env_process.c): set up in one ordered function, confined by this
 * host's kernel. */
#ifndef FNGUARD_ENV_PROCESS_H
#define FNGUARD_ENV_PROCESS_H

#include <stddef.h>

struct env;

int env_process_start(struct env *e, char *why, size_t whylen);
int env_process_enforce(struct env *e, char *why, size_t whylen);
void env_process_destroy(struct env *e);

#endif
