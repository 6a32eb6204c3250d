// SPDX-License-Identifier: Apache-2.0
/*
 * The top level of a policy and the sections function, environment, limits, files and
 * exec: check every key against the schema and fill struct fng_policy. network and syscalls
 * have files of their own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

/* Bounds of the integer settings (documented in docs/policy.md). */
#define MAX_INVOCATIONS_MAX UINT32_MAX
#define PROVISIONED_MAX 1024
#define PIDS_MAX 4194304 /* the kernel's PID_MAX_LIMIT */
#define CPUS_MAX 1024

static void section(struct pctx *c, const char *key, const struct pnode *n,
		    void (*fn)(struct pctx *c, const struct pnode *map))
{
	size_t saved;

	if (!n)
		return;
	saved = pctx_push(c, key);
	if (pnode_expect_map(c, n))
		fn(c, n);
	pctx_pop(c, saved);
}

/* ------------------------------------------------------------------ function */

static char *resolve_code(struct pctx *c, const struct pnode *n)
{
	const char *base = c->base_dir ? c->base_dir : ".";
	char *joined = NULL, *clean;

	if (n->len == 0) {
		pctx_err(c, n, "empty path");
		return NULL;
	}
	if (memchr(n->s, '\0', n->len)) {
		pctx_err(c, n, "path '%s' contains a NUL byte", pctx_quote(c, n->s, n->len));
		return NULL;
	}
	if (n->s[0] == '/')
		joined = strdup(n->s);
	else if (asprintf(&joined, "%s/%s", base, n->s) < 0)
		joined = NULL;
	if (!joined) {
		c->oom = 1;
		return NULL;
	}
	clean = policy_path_clean(joined, strlen(joined));
	free(joined);
	if (!clean) {
		c->oom = 1;
		return NULL;
	}
	if (strlen(clean) >= POLICY_PATH_MAX) {
		pctx_err(c, n, "path '%s' is too long", pctx_quote(c, n->s, n->len));
		free(clean);
		return NULL;
	}
	return clean;
}

static char *dup_value(struct pctx *c, const struct pnode *n)
{
	char *s = strdup(n->s);

	if (!s)
		c->oom = 1;
	return s;
}

static void v_function(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"name", "version", "code", "handler",
					   "runtime", "layers", "env"};
	static const char *const runtimes[] = {"stdio", "provided", "python3", "nodejs"};
	struct fng_function *f = &c->p->function;
	const struct pnode *v[7];
	int k;

	f->present = true;
	pmap_collect(c, map, keys, 7, v);
	pmap_require(c, map, "name", v[0]);
	pmap_require(c, map, "version", v[1]);
	pmap_require(c, map, "code", v[2]);
	pmap_require(c, map, "handler", v[3]);
	WITH_KEY(c, "name", v[0], {
		if (!pnode_as_string(c, v[0]))
			break;
		if (!policy_function_name_valid(v[0]->s, v[0]->len))
			pctx_err(c, v[0],
				 "bad function name '%s' (1-63 characters a-z, 0-9 and '-', "
				 "starting with a letter or digit)",
				 pctx_quote(c, v[0]->s, v[0]->len));
		else
			f->name = dup_value(c, v[0]);
	});
	WITH_KEY(c, "version", v[1], {
		if (!pnode_as_string(c, v[1]))
			break;
		if (!policy_version_valid(v[1]->s, v[1]->len))
			pctx_err(c, v[1],
				 "bad version '%s' (1-64 characters A-Z, a-z, 0-9, '.', '_' and "
				 "'-', starting with a letter or digit)",
				 pctx_quote(c, v[1]->s, v[1]->len));
		else
			f->version = dup_value(c, v[1]);
	});
	WITH_KEY(c, "code", v[2], {
		if (pnode_as_string(c, v[2]))
			f->code = resolve_code(c, v[2]);
	});
	/* The runtime first: what a handler must look like depends on it. */
	WITH_KEY(c, "runtime", v[4], {
		if (pnode_as_enum(c, v[4], runtimes, 4, &k))
			f->runtime = (enum fng_runtime)k;
	});
	if (f->runtime == FNG_RUNTIME_STDIO)
		WITH_KEY(c, "handler", v[3], pnode_as_path(c, v[3], &f->handler));
	else
		WITH_KEY(c, "handler", v[3], policy_runtime_handler(c, v[3], f));
	WITH_KEY(c, "layers", v[5], {
		if (!pnode_expect_seq(c, v[5]))
			break;
		if (v[5]->n > FNG_LAYERS_MAX) {
			pctx_err(c, v[5], "%zu layers: at most %d", v[5]->n, FNG_LAYERS_MAX);
			break;
		}
		for (size_t i = 0; i < v[5]->n; i++) {
			size_t saved = pctx_push_index(c, i);

			if (pnode_as_string(c, v[5]->kids[i])) {
				char *dir = resolve_code(c, v[5]->kids[i]);

				if (dir)
					f->layers[f->n_layers++] = dir;
			}
			pctx_pop(c, saved);
		}
	});
	WITH_KEY(c, "env", v[6], policy_function_env(c, v[6], f));
}

/* ------------------------------------------------------------------ environment, limits */

static void v_environment(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {
	    "kind",	    "reuse",	  "isolate_invocations", "max_invocations",
	    "max_lifetime", "provisioned"};
	static const char *const kinds[] = {"microvm", "process"};
	struct fng_environment *e = &c->p->environment;
	const struct pnode *v[6];
	int64_t i;
	int k;

	pmap_collect(c, map, keys, 6, v);
	WITH_KEY(c, "kind", v[0], {
		if (pnode_as_enum(c, v[0], kinds, 2, &k))
			e->kind = k == 0 ? FNG_ENV_MICROVM : FNG_ENV_PROCESS;
	});
	WITH_KEY(c, "reuse", v[1], pnode_as_bool(c, v[1], &e->reuse));
	WITH_KEY(c, "isolate_invocations", v[2], pnode_as_bool(c, v[2], &e->isolate_invocations));
	WITH_KEY(c, "max_invocations", v[3], {
		if (pnode_as_int(c, v[3], 0, MAX_INVOCATIONS_MAX, &i))
			e->max_invocations = (uint64_t)i;
	});
	WITH_KEY(c, "max_lifetime", v[4], pnode_as_duration(c, v[4], &e->max_lifetime_ns));
	WITH_KEY(c, "provisioned", v[5], {
		if (pnode_as_int(c, v[5], 0, PROVISIONED_MAX, &i))
			e->provisioned = (uint32_t)i;
	});
}

static void v_limits(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"memory", "timeout", "pids", "cpus", "tmp_size"};
	struct fng_limits *l = &c->p->limits;
	const struct pnode *v[5];
	uint64_t u;
	int64_t i;

	pmap_collect(c, map, keys, 5, v);
	WITH_KEY(c, "memory", v[0], {
		if (!pnode_as_size(c, v[0], &u))
			break;
		if (u == 0)
			pctx_err(c, v[0], "must be greater than 0");
		else
			l->memory_bytes = u;
	});
	WITH_KEY(c, "timeout", v[1], {
		if (!pnode_as_duration(c, v[1], &u))
			break;
		if (u == 0)
			pctx_err(c, v[1], "must be greater than 0");
		else
			l->timeout_ns = u;
	});
	WITH_KEY(c, "pids", v[2], {
		if (pnode_as_int(c, v[2], 1, PIDS_MAX, &i))
			l->pids = (uint32_t)i;
	});
	WITH_KEY(c, "cpus", v[3], {
		if (pnode_as_int(c, v[3], 1, CPUS_MAX, &i))
			l->cpus = (uint32_t)i;
	});
	WITH_KEY(c, "tmp_size", v[4], {
		if (!pnode_as_size(c, v[4], &u))
			break;
		/* tmpfs reads size=0 as "no limit": never let 0 through */
		if (u == 0)
			pctx_err(c, v[4], "must be greater than 0");
		else
			l->tmp_size_bytes = u;
	});
}

/* ------------------------------------------------------------------ files, exec */

struct pathref {
	const char *path;
	const struct pnode *node;
	size_t idx;
};

static int pathref_cmp(const void *a, const void *b)
{
	const struct pathref *x = a, *y = b;
	int r = strcmp(x->path, y->path);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Reports every path that an earlier item of the list already names. O(n log n). */
static void check_unique(struct pctx *c, struct pathref *refs, size_t n, const char *list,
			 const char *subkey, const char *what)
{
	size_t i, first = 0;

	if (n < 2)
		return;
	qsort(refs, n, sizeof(*refs), pathref_cmp);
	for (i = 1; i < n; i++) {
		size_t saved;

		if (strcmp(refs[i].path, refs[first].path)) {
			first = i;
			continue;
		}
		saved = pctx_push(c, list);
		pctx_push_index(c, refs[i].idx);
		if (subkey)
			pctx_push(c, subkey);
		pctx_err(c, refs[i].node, "duplicate %s '%s' (%s)", what,
			 pctx_quote(c, refs[i].path, strlen(refs[i].path)),
			 pctx_first_at(c, refs[first].node, refs[i].node));
		pctx_pop(c, saved);
	}
}

struct list_ctx {
	struct pathref *refs;
	size_t n;
};

static void v_file_rule(struct pctx *c, const struct pnode *item, size_t idx, void *arg)
{
	static const char *const keys[] = {"path", "access"};
	static const char *const rights[] = {"read", "write"};
	struct fng_files *f = &c->p->files;
	struct list_ctx *lc = arg;
	const struct pnode *v[2];
	uint32_t mask = 0;
	char *path = NULL;
	size_t i;

	if (!pnode_expect_map(c, item))
		return;
	pmap_collect(c, item, keys, 2, v);
	pmap_require(c, item, "path", v[0]);
	pmap_require(c, item, "access", v[1]);
	WITH_KEY(c, "path", v[0], pnode_as_path(c, v[0], &path));
	WITH_KEY(c, "access", v[1], {
		if (!pnode_expect_seq(c, v[1]))
			break;
		for (i = 0; i < v[1]->n; i++) {
			const struct pnode *r = v[1]->kids[i];
			size_t saved = pctx_push_index(c, i);
			int k;

			if (pnode_as_enum(c, r, rights, 2, &k)) {
				uint32_t bit = k == 0 ? FNG_RIGHT_READ : FNG_RIGHT_WRITE;

				if (mask & bit)
					pctx_err(c, r, "duplicate right '%s'", rights[k]);
				mask |= bit;
			}
			pctx_pop(c, saved);
		}
	});
	if (!path)
		return;
	f->rules[f->n_rules].path = path;
	f->rules[f->n_rules].rights = mask;
	f->rules[f->n_rules].line = item->line;
	f->n_rules++;
	lc->refs[lc->n++] = (struct pathref){path, v[0], idx};
}

static void v_files(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"mode", "default", "rules"};
	struct fng_files *f = &c->p->files;
	const struct pnode *v[3];
	struct list_ctx lc = {0};

	pmap_collect(c, map, keys, 3, v);
	WITH_KEY(c, "mode", v[0], pnode_as_mode(c, v[0], &f->mode));
	WITH_KEY(c, "default", v[1], pnode_as_verdict(c, v[1], &f->def));
	if (!v[2])
		return;
	WITH_KEY(c, "rules", v[2], {
		if (!pnode_expect_seq(c, v[2]) || v[2]->n == 0)
			break;
		f->rules = calloc(v[2]->n, sizeof(*f->rules));
		lc.refs = calloc(v[2]->n, sizeof(*lc.refs));
		if (!f->rules || !lc.refs) {
			c->oom = 1;
			break;
		}
		pseq_each(c, v[2], v_file_rule, &lc);
	});
	check_unique(c, lc.refs, lc.n, "rules", "path", "rule for");
	free(lc.refs);
}

static void v_exec_entry(struct pctx *c, const struct pnode *item, size_t idx, void *arg)
{
	struct fng_exec *e = &c->p->exec;
	struct list_ctx *lc = arg;
	char *path;

	if (!pnode_as_path(c, item, &path))
		return;
	e->allow[e->n_allow].path = path;
	e->allow[e->n_allow].line = item->line;
	e->n_allow++;
	lc->refs[lc->n++] = (struct pathref){path, item, idx};
}

static void v_exec(struct pctx *c, const struct pnode *map)
{
	static const char *const keys[] = {"mode", "default", "allow", "children"};
	struct fng_exec *e = &c->p->exec;
	const struct pnode *v[4];
	struct list_ctx lc = {0};

	pmap_collect(c, map, keys, 4, v);
	WITH_KEY(c, "mode", v[0], pnode_as_mode(c, v[0], &e->mode));
	WITH_KEY(c, "default", v[1], pnode_as_verdict(c, v[1], &e->def));
	WITH_KEY(c, "allow", v[2], {
		if (!pnode_expect_seq(c, v[2]) || v[2]->n == 0)
			break;
		e->allow = calloc(v[2]->n, sizeof(*e->allow));
		lc.refs = calloc(v[2]->n, sizeof(*lc.refs));
		if (!e->allow || !lc.refs) {
			c->oom = 1;
			break;
		}
		pseq_each(c, v[2], v_exec_entry, &lc);
	});
	check_unique(c, lc.refs, lc.n, "allow", NULL, "entry");
	free(lc.refs);
	WITH_KEY(c, "children", v[3], pnode_as_verdict(c, v[3], &e->children));
}

/* ------------------------------------------------------------------ top level */

void policy_validate(struct pctx *c, const struct pnode *root)
{
	static const char *const keys[] = {"apiVersion", "function", "environment",
					   "limits",	 "mode",     "files",
					   "exec",	 "network",  "syscalls"};
	struct fng_policy *p = c->p;
	const struct pnode *v[9];

	/* no document, or an explicit empty one ("---" alone) */
	if (!root || (root->kind == PNODE_SCALAR && pnode_scalar_type(root) == PSCALAR_NULL)) {
		pctx_report(c, 1, 1, "the policy is empty (it needs at least 'apiVersion: %s')",
			    FNG_POLICY_API_VERSION);
		return;
	}
	if (root->kind != PNODE_MAP) {
		pctx_err(c, root, "expected a mapping at the top level, got %s",
			 pnode_type_name(root));
		return;
	}
	pmap_collect(c, root, keys, 9, v);
	pmap_require(c, root, "apiVersion", v[0]);
	WITH_KEY(c, "apiVersion", v[0], {
		if (pnode_as_string(c, v[0]) &&
		    (v[0]->len != strlen(FNG_POLICY_API_VERSION) ||
		     memcmp(v[0]->s, FNG_POLICY_API_VERSION, v[0]->len)))
			pctx_err(c, v[0], "unsupported apiVersion '%s' (expected '%s')",
				 pctx_quote(c, v[0]->s, v[0]->len), FNG_POLICY_API_VERSION);
	});
	/* the top-level mode is every section's default: read it first */
	WITH_KEY(c, "mode", v[4], pnode_as_mode(c, v[4], &p->mode));
	p->files.mode = p->exec.mode = p->network.mode = p->syscalls.mode = p->mode;

	section(c, "function", v[1], v_function);
	section(c, "environment", v[2], v_environment);
	section(c, "limits", v[3], v_limits);
	section(c, "files", v[5], v_files);
	section(c, "exec", v[6], v_exec);
	section(c, "network", v[7], policy_network_validate);
	section(c, "syscalls", v[8], policy_syscalls_validate);
	if (p->function.runtime != FNG_RUNTIME_STDIO && !c->nerr)
		policy_runtime_baseline(c);
}
