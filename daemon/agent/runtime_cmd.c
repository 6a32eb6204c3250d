// SPDX-License-Identifier: Apache-2.0
/*
 * A runtime's command and environment (runtime_cmd.h). The variables are Lambda's
 * (docs/runtime.md), so that runtime interface clients written for Lambda find what they
 * expect; nothing of the agent's, the daemon's or the host's is in them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime_cmd.h"

static int env_add(struct runtime_cmd *c, size_t *n, const char *name, const char *value)
{
	if (*n + 1 >= RUNTIME_ENV_MAX)
		return -E2BIG;
	if (asprintf(&c->envp[*n], "%s=%s", name, value) < 0) {
		c->envp[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* function.env, after Lambda's own (which it may not override: the policy refuses that). */
static int runtime_cmd_user_env(const struct fng_policy *p, struct runtime_cmd *c, size_t *n)
{
	int err = 0;

	for (size_t i = 0; !err && i < p->function.n_env; i++)
		err = env_add(c, n, p->function.env[i].name, p->function.env[i].value);
	return err;
}

int runtime_cmd_make(const struct fng_policy *p, const char *runtime, struct runtime_cmd *c,
		     char *why, size_t whylen)
{
	const struct fng_function *f = &p->function;
	char mem[32], api[64];
	const char *exe = NULL, *script = NULL;
	size_t n = 0;
	int err = 0;

	memset(c, 0, sizeof(*c));
	if (!strcmp(runtime, "provided")) {
		/* Lambda's order: the function's own bootstrap, else a layer's. */
		exe = !access("/var/task/bootstrap", F_OK) ? "/var/task/bootstrap" : "/opt/bootstrap";
		if (access(exe, F_OK)) {
			snprintf(why, whylen,
				 "runtime provided: neither /var/task/bootstrap nor /opt/bootstrap "
				 "exists: the function's code (or a layer) must have an executable "
				 "bootstrap");
			return -ENOENT;
		}
	} else if (!strcmp(runtime, "python3")) {
		exe = "/usr/bin/python3";
		script = RUNTIME_DIR "/bootstrap.py";
	} else if (!strcmp(runtime, "nodejs")) {
		exe = "/usr/bin/node";
		script = RUNTIME_DIR "/bootstrap.js";
	} else {
		snprintf(why, whylen, "unknown runtime '%s'", runtime);
		return -EINVAL;
	}
	c->argv[0] = strdup(exe);
	c->argv[1] = script ? strdup(script) : NULL;
	if (!c->argv[0] || (script && !c->argv[1]))
		goto nomem;
	if (asprintf(&c->arn, "arn:aws:lambda:fnguard:000000000000:function:%s:%s", f->name,
		     f->version) < 0) {
		c->arn = NULL;
		goto nomem;
	}
	snprintf(api, sizeof(api), "%s:%d", RUNTIME_API_ADDR, RUNTIME_API_PORT);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(p->limits.memory_bytes >> 20));
	if ((err = env_add(c, &n, "AWS_LAMBDA_RUNTIME_API", api)) ||
	    (err = env_add(c, &n, "_HANDLER", f->handler)) ||
	    (err = env_add(c, &n, "LAMBDA_TASK_ROOT", "/var/task")) ||
	    (err = env_add(c, &n, "LAMBDA_RUNTIME_DIR", RUNTIME_DIR)) ||
	    (err = env_add(c, &n, "AWS_LAMBDA_FUNCTION_NAME", f->name)) ||
	    (err = env_add(c, &n, "AWS_LAMBDA_FUNCTION_VERSION", f->version)) ||
	    (err = env_add(c, &n, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem)) ||
	    (err = env_add(c, &n, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")) ||
	    (err = env_add(c, &n, "TZ", ":UTC")) || (err = env_add(c, &n, "LANG", "C.UTF-8")) ||
	    (err = env_add(c, &n, "PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin")) ||
	    (err = env_add(c, &n, "LD_LIBRARY_PATH",
			   "/var/task/lib:/opt/lib:" RUNTIME_DIR "/lib")))
		goto fail;
	/* Lambda's: a layer's packages are found by require() from the function's code too. */
	if (!strcmp(runtime, "nodejs") &&
	    (err = env_add(c, &n, "NODE_PATH",
			   "/opt/nodejs/node18/node_modules:/opt/nodejs/node_modules:" RUNTIME_DIR
			   "/node_modules:" RUNTIME_DIR ":/var/task")))
		goto fail;
	err = runtime_cmd_user_env(p, c, &n);
	if (err)
		goto fail;
	return 0;
nomem:
	err = -ENOMEM;
fail:
	snprintf(why, whylen, "the runtime's environment: %s", strerror(-err));
	runtime_cmd_free(c);
	return err;
}

void runtime_cmd_free(struct runtime_cmd *c)
{
	for (size_t i = 0; i < sizeof(c->argv) / sizeof(c->argv[0]); i++)
		free(c->argv[i]);
	for (size_t i = 0; i < RUNTIME_ENV_MAX; i++)
		free(c->envp[i]);
	free(c->arn);
	memset(c, 0, sizeof(*c));
}
