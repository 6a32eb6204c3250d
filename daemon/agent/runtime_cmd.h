/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a runtime's environment starts (runtime_cmd.c, docs/runtime.md): the runtime's command
 * and its environment variables, the same in a microVM and in a process environment.
 */
#ifndef FNGUARD_AGENT_RUNTIME_CMD_H
#define FNGUARD_AGENT_RUNTIME_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* Where the Runtime API listens in every environment (AWS_LAMBDA_RUNTIME_API). */
#define RUNTIME_API_ADDR "127.0.0.1"
#define RUNTIME_API_PORT 9001
/* fnguard's bootstraps in every runtime's root image (fnguard runtime build). */
#define RUNTIME_DIR "/var/runtime"

/* Lambda's variables, then function.env: at most one per byte of its 4 KiB. */
#define RUNTIME_ENV_MAX (16 + FNG_FUNCTION_ENV_MAX)

struct runtime_cmd {
	char *argv[4];
	char *envp[RUNTIME_ENV_MAX];
	char *arn; /* Lambda-Runtime-Invoked-Function-Arn */
};

/*
 * The command of runtime @runtime ("provided", "python3", "nodejs") for the function of @p,
 * with the files the environment has (access() in its root: a provided function's
 * /var/task/bootstrap, else /opt/bootstrap). -errno and @why when it cannot start.
 */
int runtime_cmd_make(const struct fng_policy *p, const char *runtime, struct runtime_cmd *c,
		     char *why, size_t whylen);
void runtime_cmd_free(struct runtime_cmd *c);

#endif
