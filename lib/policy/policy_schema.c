// SPDX-License-Identifier: Apache-2.0
/*
 * Schema checks on the pnode tree: the type of each value, the keys of each mapping, and
 * typed getters that word the message when a value is not what the schema wants.
 *
 * Scalars are typed as in the YAML 1.2 core schema: plain null/~/empty is null, true/false
 * is a boolean, decimal digits are an integer; a quoted scalar is always a string. Where a
 * string is expected, integers and numbers are accepted as their text ("version: 3").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

static bool is_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (!strcmp(s + i, ".inf") || !strcmp(s + i, ".Inf") || !strcmp(s + i, ".INF"))
		return true;
	if (i == 0 && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")))
		return true;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			e++;
		if (e == 0)
			return false;
	}
	return i == len;
}

enum pscalar_type pnode_scalar_type(const struct pnode *n)
{
	const char *s = n->s;
	int64_t v;

	if (!n->plain)
		return PSCALAR_STRING;
	if (n->len == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return PSCALAR_NULL;
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
	    !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return PSCALAR_BOOL;
	if (policy_parse_int(s, n->len, &v) != -EINVAL)
		return PSCALAR_INT;
	if (is_float(s, n->len))
		return PSCALAR_FLOAT;
	return PSCALAR_STRING;
}

const char *pnode_type_name(const struct pnode *n)
{
	if (n->kind == PNODE_SEQ)
		return "a list";
	if (n->kind == PNODE_MAP)
		return "a mapping";
	switch (pnode_scalar_type(n)) {
	case PSCALAR_NULL:
		return "null";
	case PSCALAR_BOOL:
		return "a boolean";
	case PSCALAR_INT:
		return "an integer";
	case PSCALAR_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

bool pnode_expect_map(struct pctx *c, const struct pnode *n)
{
	if (n->kind == PNODE_MAP)
		return true;
	pctx_err(c, n, "expected a mapping, got %s", pnode_type_name(n));
	return false;
}

bool pnode_expect_seq(struct pctx *c, const struct pnode *n)
{
	if (n->kind == PNODE_SEQ)
		return true;
	pctx_err(c, n, "expected a list, got %s", pnode_type_name(n));
	return false;
}

/* "'a' or 'b'", "'a', 'b' or 'c'" */
static void choices_text(char *buf, size_t size, const char *const *names, size_t n)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s'%s'",
				      i == 0	   ? ""
				      : i + 1 == n ? " or "
						   : ", ",
				      names[i]);
}

#define PMAP_MAX_KEYS 16

void pmap_collect(struct pctx *c, const struct pnode *map, const char *const *names, size_t n,
		  const struct pnode **vals)
{
	const struct pnode *keys[PMAP_MAX_KEYS] = {NULL};
	size_t i, j;

	for (j = 0; j < n; j++)
		vals[j] = NULL;
	for (i = 0; i + 1 < map->n && !c->full; i += 2) {
		const struct pnode *k = map->kids[i];

		if (k->kind != PNODE_SCALAR) {
			pctx_err(c, k, "keys must be strings, got %s", pnode_type_name(k));
			continue;
		}
		for (j = 0; j < n; j++)
			if (k->len == strlen(names[j]) && !memcmp(k->s, names[j], k->len))
				break;
		if (j == n) {
			const char *hint = policy_suggest(k->s, names, n);
			char valid[256];
			size_t o = 0, m;

			if (hint) {
				pctx_err(c, k, "unknown key '%s' (did you mean '%s'?)",
					 pctx_quote(c, k->s, k->len), hint);
				continue;
			}
			valid[0] = '\0';
			for (m = 0; m < n && o < sizeof(valid); m++)
				o += (size_t)snprintf(valid + o, sizeof(valid) - o, "%s%s",
						      m ? ", " : "", names[m]);
			pctx_err(c, k, "unknown key '%s' (valid keys: %s)",
				 pctx_quote(c, k->s, k->len), valid);
		} else if (vals[j]) {
			pctx_err(c, k, "duplicate key '%s' (%s)", names[j],
				 pctx_first_at(c, keys[j], k));
		} else {
			keys[j] = k;
			vals[j] = map->kids[i + 1];
		}
	}
}

void pmap_require(struct pctx *c, const struct pnode *map, const char *name,
		  const struct pnode *val)
{
	if (!val)
		pctx_err(c, map, "missing required key '%s'", name);
}

static bool is_text(const struct pnode *n)
{
	enum pscalar_type t;

	if (n->kind != PNODE_SCALAR)
		return false;
	t = pnode_scalar_type(n);
	return t != PSCALAR_NULL && t != PSCALAR_BOOL;
}

bool pnode_as_string(struct pctx *c, const struct pnode *n)
{
	if (is_text(n))
		return true;
	pctx_err(c, n, "expected a string, got %s", pnode_type_name(n));
	return false;
}

bool pnode_as_bool(struct pctx *c, const struct pnode *n, bool *out)
{
	if (n->kind == PNODE_SCALAR && pnode_scalar_type(n) == PSCALAR_BOOL) {
		*out = n->s[0] == 't' || n->s[0] == 'T';
		return true;
	}
	pctx_err(c, n, "expected true or false, got %s", pnode_type_name(n));
	return false;
}

bool pnode_as_int(struct pctx *c, const struct pnode *n, int64_t min, int64_t max, int64_t *out)
{
	int64_t v;
	int r;

	if (n->kind != PNODE_SCALAR || pnode_scalar_type(n) != PSCALAR_INT) {
		pctx_err(c, n, "expected an integer, got %s", pnode_type_name(n));
		return false;
	}
	r = policy_parse_int(n->s, n->len, &v);
	if (r || v < min || v > max) {
		pctx_err(c, n, "%s is out of range (%lld-%lld)", pctx_quote(c, n->s, n->len),
			 (long long)min, (long long)max);
		return false;
	}
	*out = v;
	return true;
}

bool pnode_as_enum(struct pctx *c, const struct pnode *n, const char *const *choices,
		   size_t nchoices, int *out)
{
	char text[128];
	size_t i;

	choices_text(text, sizeof(text), choices, nchoices);
	if (!is_text(n)) {
		pctx_err(c, n, "expected %s, got %s", text, pnode_type_name(n));
		return false;
	}
	for (i = 0; i < nchoices; i++) {
		if (n->len == strlen(choices[i]) && !memcmp(n->s, choices[i], n->len)) {
			*out = (int)i;
			return true;
		}
	}
	pctx_err(c, n, "bad value '%s' (expected %s)", pctx_quote(c, n->s, n->len), text);
	return false;
}

bool pnode_as_mode(struct pctx *c, const struct pnode *n, enum fng_mode *out)
{
	static const char *const names[] = {"enforce", "audit"};
	int i;

	if (!pnode_as_enum(c, n, names, 2, &i))
		return false;
	*out = i == 0 ? FNG_MODE_ENFORCE : FNG_MODE_AUDIT;
	return true;
}

bool pnode_as_verdict(struct pctx *c, const struct pnode *n, enum fng_verdict *out)
{
	static const char *const names[] = {"allow", "deny"};
	int i;

	if (!pnode_as_enum(c, n, names, 2, &i))
		return false;
	*out = i == 0 ? FNG_VERDICT_ALLOW : FNG_VERDICT_DENY;
	return true;
}

bool pnode_as_path(struct pctx *c, const struct pnode *n, char **out)
{
	char *clean;

	*out = NULL;
	if (!pnode_as_string(c, n))
		return false;
	switch (policy_path_check(n->s, n->len)) {
	case PATH_OK:
		*out = strdup(n->s);
		if (!*out)
			c->oom = 1;
		return *out != NULL;
	case PATH_EMPTY:
		pctx_err(c, n, "empty path");
		return false;
	case PATH_NUL:
		pctx_err(c, n, "path '%s' contains a NUL byte", pctx_quote(c, n->s, n->len));
		return false;
	case PATH_RELATIVE:
		pctx_err(c, n, "'%s' is not an absolute path", pctx_quote(c, n->s, n->len));
		return false;
	case PATH_TOO_LONG:
		pctx_err(c, n, "path '%s' is too long (at most %d bytes, %d per component)",
			 pctx_quote(c, n->s, n->len), POLICY_PATH_MAX - 1, POLICY_NAME_MAX);
		return false;
	case PATH_NOT_NORMALIZED:
		clean = policy_path_clean(n->s, n->len);
		if (!clean) {
			c->oom = 1;
			return false;
		}
		pctx_err(c, n, "'%s' is not normalized (did you mean '%s'?)",
			 pctx_quote(c, n->s, n->len), pctx_quote(c, clean, strlen(clean)));
		free(clean);
		return false;
	}
	return false;
}

bool pnode_as_size(struct pctx *c, const struct pnode *n, uint64_t *out)
{
	int r;

	if (!is_text(n)) {
		pctx_err(c, n, "expected a size such as 128Mi, got %s", pnode_type_name(n));
		return false;
	}
	r = policy_parse_size(n->s, n->len, out);
	if (r == -ERANGE)
		pctx_err(c, n, "size '%s' is too large", pctx_quote(c, n->s, n->len));
	else if (r)
		pctx_err(c, n,
			 "bad size '%s' (use bytes, or a whole number with a suffix Ki, Mi, Gi, "
			 "Ti, K, M, G or T, e.g. 128Mi)",
			 pctx_quote(c, n->s, n->len));
	return r == 0;
}

bool pnode_as_duration(struct pctx *c, const struct pnode *n, uint64_t *out)
{
	int r;

	if (!is_text(n)) {
		pctx_err(c, n, "expected a duration such as 3s, got %s", pnode_type_name(n));
		return false;
	}
	r = policy_parse_duration(n->s, n->len, out);
	if (r == -ERANGE)
		pctx_err(c, n, "duration '%s' is too long", pctx_quote(c, n->s, n->len));
	else if (r)
		pctx_err(c, n,
			 "bad duration '%s' (use numbers with units ns, us, ms, s, m or h, e.g. "
			 "500ms, 3s, 1m30s)",
			 pctx_quote(c, n->s, n->len));
	return r == 0;
}

void pseq_each(struct pctx *c, const struct pnode *seq,
	       void (*fn)(struct pctx *c, const struct pnode *item, size_t i, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < seq->n && !c->full; i++) {
		size_t saved = pctx_push_index(c, i);

		fn(c, seq->kids[i], i, arg);
		pctx_pop(c, saved);
	}
}
