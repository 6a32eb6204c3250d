// SPDX-License-Identifier: Apache-2.0
/*
 * The policy of a function with a runtime (docs/runtime.md, docs/policy.md): what its handler
 * may look like, its environment variables (secrets: kept, never printed), and the runtime
 * baseline: the runtime's root image (read and exec), /var/task and /opt (read), /tmp (read,
 * write) and the Runtime API, given without rules. A rule of the policy's own on one of those
 * paths is kept as written (it is more specific than the baseline, so it wins); baseline
 * entries have line 0, and `policy show` marks them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define HANDLER_MAX 256

/* An identifier of the languages ($ too: JavaScript's). */
static bool ident_ok(const char *s, size_t len)
{
	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '$'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$')
			return false;
	return true;
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static bool env_name_ok(const char *s, size_t len)
{
	return len && !memchr(s, '$', len) && ident_ok(s, len);
}

/*
 * MODULE.FUNCTION: FUNCTION an identifier; MODULE one or more names of [A-Za-z0-9_-],
 * separated by '/' (a file below /var/task, without its extension).
 */
static bool module_function_ok(const char *s, size_t len)
{
	const char *dot = len ? memrchr(s, '.', len) : NULL;
	size_t mlen, seg = 0;

	if (!dot || dot == s || !ident_ok(dot + 1, len - (size_t)(dot - s) - 1))
		return false;
	mlen = (size_t)(dot - s);
	for (size_t i = 0; i < mlen; i++) {
		if (s[i] == '/') {
			if (!seg)
				return false;
			seg = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-') {
			seg++;
		} else {
			return false;
		}
	}
	return seg > 0;
}

void policy_runtime_handler(struct pctx *c, const struct pnode *n, struct fng_function *f)
{
	const char *rt = fng_runtime_name(f->runtime);

	if (!pnode_as_string(c, n))
		return;
	if (n->len == 0 || n->len >= HANDLER_MAX || memchr(n->s, '\0', n->len)) {
		pctx_err(c, n, "handler of runtime %s: 1 to %d bytes, no NUL", rt, HANDLER_MAX - 1);
		return;
	}
	for (size_t i = 0; i < n->len; i++) {
		if ((unsigned char)n->s[i] < 0x20 || n->s[i] == 0x7f) {
			pctx_err(c, n, "handler '%s' of runtime %s contains a control character",
				 pctx_quote(c, n->s, n->len), rt);
			return;
		}
	}
	if (f->runtime != FNG_RUNTIME_PROVIDED && !module_function_ok(n->s, n->len)) {
		pctx_err(c, n,
			 "handler '%s' does not fit runtime %s: expected MODULE.FUNCTION, e.g. "
			 "app.handler (FUNCTION in /var/task/app.%s)",
			 pctx_quote(c, n->s, n->len), rt,
			 f->runtime == FNG_RUNTIME_PYTHON3 ? "py" : "js");
		return;
	}
	f->handler = strdup(n->s);
	if (!f->handler)
		c->oom = 1;
}

/* Names the runtime sets (docs/runtime.md): function.env may not override them. */
static const char *reserved(const char *name, size_t len)
{
	static const char *const names[] = {
	    "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
	    "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "_X_AMZN_TRACE_ID"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return "the runtime sets it";
	if (len >= 11 && !memcmp(name, "AWS_LAMBDA_", 11))
		return "AWS_LAMBDA_* variables are the runtime's";
	if (len >= 8 && !memcmp(name, "FNGUARD_", 8))
		return "FNGUARD_* variables are fnguard's";
	return NULL;
}

void policy_function_env(struct pctx *c, const struct pnode *n, struct fng_function *f)
{
	size_t total = 0;

	if (!pnode_expect_map(c, n) || !n->n)
		return;
	f->env = calloc(n->n / 2, sizeof(*f->env));
	if (!f->env) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct pnode *k = n->kids[i], *v = n->kids[i + 1];
		const char *why;
		size_t saved;

		if (k->kind != PNODE_SCALAR || !env_name_ok(k->s, k->len)) {
			pctx_err(c, k,
				 "bad environment variable name '%s' (letters, digits and '_', not "
				 "starting with a digit)",
				 k->kind == PNODE_SCALAR ? pctx_quote(c, k->s, k->len) : "?");
			continue;
		}
		why = reserved(k->s, k->len);
		if (why) {
			pctx_err(c, k, "environment variable %s is reserved: %s",
				 pctx_quote(c, k->s, k->len), why);
			continue;
		}
		for (size_t j = 0; j < f->n_env; j++) {
			if (!strcmp(f->env[j].name, k->s)) {
				pctx_err(c, k, "environment variable %s is given twice",
					 pctx_quote(c, k->s, k->len));
				why = "dup";
				break;
			}
		}
		if (why)
			continue;
		saved = pctx_push(c, k->s);
		if (v->kind != PNODE_SCALAR) {
			pctx_err(c, v, "expected a string, got %s", pnode_type_name(v));
		} else if (memchr(v->s, '\0', v->len)) {
			pctx_err(c, v, "the value contains a NUL byte");
		} else {
			total += k->len + v->len;
			f->env[f->n_env].name = strdup(k->s);
			f->env[f->n_env].value = strdup(v->s);
			if (!f->env[f->n_env].name || !f->env[f->n_env].value)
				c->oom = 1;
			f->n_env++;
		}
		pctx_pop(c, saved);
	}
	if (total > FNG_FUNCTION_ENV_MAX)
		pctx_err(c, n, "the environment variables take %zu bytes: at most %d (names and "
			       "values, as Lambda)",
			 total, FNG_FUNCTION_ENV_MAX);
}

static bool has_file_rule(const struct fng_files *f, const char *path)
{
	for (size_t i = 0; i < f->n_rules; i++)
		if (!strcmp(f->rules[i].path, path))
			return true;
	return false;
}

static void file_rule_add(struct pctx *c, const char *path, uint32_t rights)
{
	struct fng_files *f = &c->p->files;
	struct fng_file_rule *r;

	if (has_file_rule(f, path))
		return; /* the policy's own rule on this path wins */
	r = realloc(f->rules, (f->n_rules + 1) * sizeof(*r));
	if (!r) {
		c->oom = 1;
		return;
	}
	f->rules = r;
	r[f->n_rules] = (struct fng_file_rule){.path = strdup(path), .rights = rights, .line = 0};
	if (!r[f->n_rules].path)
		c->oom = 1;
	else
		f->n_rules++;
}

void policy_runtime_baseline(struct pctx *c)
{
	struct fng_exec *e = &c->p->exec;
	struct fng_exec_entry *a;
	bool have = false;

	file_rule_add(c, "/", FNG_RIGHT_READ);
	file_rule_add(c, "/var/task", FNG_RIGHT_READ);
	file_rule_add(c, "/opt", FNG_RIGHT_READ);
	file_rule_add(c, "/tmp", FNG_RIGHT_READ | FNG_RIGHT_WRITE);
	/* /dev/null is every runtime's (stdio redirection, subprocess plumbing). */
	file_rule_add(c, "/dev/null", FNG_RIGHT_READ | FNG_RIGHT_WRITE);
	for (size_t i = 0; i < e->n_allow; i++)
		have = have || !strcmp(e->allow[i].path, "/");
	if (!have) {
		a = realloc(e->allow, (e->n_allow + 1) * sizeof(*a));
		if (!a) {
			c->oom = 1;
			return;
		}
		e->allow = a;
		a[e->n_allow] = (struct fng_exec_entry){.path = strdup("/"), .line = 0};
		if (!a[e->n_allow].path)
			c->oom = 1;
		else
			e->n_allow++;
	}
	c->p->network.runtime_api_port = FNG_RUNTIME_API_PORT;
}
