// SPDX-License-Identifier: Apache-2.0
/*
 * Diagnostics: the list of problems found in policy files, and the helpers the validators
 * use to add to it (key paths, quoting of user-supplied values).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

void policy_diags_init(struct policy_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void policy_diags_free(struct policy_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int policy_diags_print(const struct policy_diags *d, FILE *f)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct policy_diag *e = &d->v[i];

		if (e->line)
			fprintf(f, "%s:%u:%u: %s\n", e->file, e->line, e->col, e->msg);
		else
			fprintf(f, "%s: %s\n", e->file, e->msg);
	}
	if (fflush(f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

static int diags_append(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
			char *msg)
{
	struct policy_diag *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct policy_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	e = &d->v[d->n];
	e->file = strdup(file);
	if (!e->file)
		return -ENOMEM;
	e->line = line;
	e->col = line ? col : 0;
	e->msg = msg;
	d->n++;
	return 0;
}

int policy_diags_add(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
		     const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int r;

	if (!d)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = diags_append(d, file, line, col, msg);
	if (r)
		free(msg);
	return r;
}

static void pctx_vreport(struct pctx *c, uint32_t line, uint32_t col, const char *prefix,
			 const char *fmt, va_list ap)
{
	char *body = NULL, *msg = NULL;

	c->nerr++;
	if (c->full || !c->diags)
		return;
	if (c->diags->n - c->first_diag >= FNG_POLICY_MAX_DIAGS) {
		c->full = true;
		return;
	}
	if (vasprintf(&body, fmt, ap) < 0) {
		c->oom = 1;
		return;
	}
	if (prefix && *prefix) {
		if (asprintf(&msg, "%s: %s", prefix, body) < 0)
			msg = NULL;
		free(body);
	} else {
		msg = body;
	}
	if (!msg || diags_append(c->diags, c->file, line, col, msg)) {
		free(msg);
		c->oom = 1;
	}
}

void pctx_report(struct pctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_vreport(c, line, col, NULL, fmt, ap);
	va_end(ap);
}

void pctx_err(struct pctx *c, const struct pnode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_vreport(c, n->line, n->col, c->path, fmt, ap);
	va_end(ap);
}

/* Sorts this load's entries by line and column; stable, and they arrive nearly sorted. */
void policy_diags_finish(struct pctx *c)
{
	struct policy_diags *d = c->diags;
	size_t i, j;

	if (!d)
		return;
	for (i = c->first_diag + 1; i < d->n; i++) {
		struct policy_diag e = d->v[i];

		for (j = i; j > c->first_diag; j--) {
			const struct policy_diag *p = &d->v[j - 1];

			if (p->line < e.line || (p->line == e.line && p->col <= e.col))
				break;
			d->v[j] = *p;
		}
		d->v[j] = e;
	}
	if (c->full) {
		char *msg = NULL;

		if (asprintf(&msg, "too many errors; stopped after %d", FNG_POLICY_MAX_DIAGS) < 0 ||
		    diags_append(d, c->file, 0, 0, msg)) {
			free(msg);
			c->oom = 1;
		}
	}
}

const char *pctx_quote(struct pctx *c, const char *s, size_t len)
{
	char *buf = c->qbuf[c->qnext++ % 4];
	const size_t max = 64; /* input bytes shown */
	size_t i, o = 0;

	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* C1 controls are two bytes in UTF-8: 0xc2 0x80-0x9f */
		if (ch == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] <= 0x9f &&
		    (unsigned char)s[i + 1] >= 0x80) {
			o += sprintf(buf + o, "\\u%04x", (unsigned char)s[i + 1]);
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += sprintf(buf + o, "\\x%02x", ch);
		} else if (ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = '\\';
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (i < len) {
		/* do not leave half a UTF-8 sequence before the ellipsis */
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && (unsigned char)buf[o - 1] >= 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *pctx_first_at(struct pctx *c, const struct pnode *first, const struct pnode *dup)
{
	char *buf = c->qbuf[c->qnext++ % 4];

	if (first->line == dup->line)
		snprintf(buf, sizeof(c->qbuf[0]), "first at column %u", first->col);
	else
		snprintf(buf, sizeof(c->qbuf[0]), "first at line %u", first->line);
	return buf;
}

static size_t pctx_append(struct pctx *c, const char *s)
{
	size_t saved = c->pathlen, n = strlen(s);

	if (c->pathlen + n >= sizeof(c->path))
		n = sizeof(c->path) - 1 - c->pathlen;
	memcpy(c->path + c->pathlen, s, n);
	c->pathlen += n;
	c->path[c->pathlen] = '\0';
	return saved;
}

size_t pctx_push(struct pctx *c, const char *key)
{
	size_t saved = c->pathlen;

	if (c->pathlen)
		pctx_append(c, ".");
	pctx_append(c, key);
	return saved;
}

size_t pctx_push_index(struct pctx *c, size_t i)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "[%zu]", i);
	return pctx_append(c, buf);
}

void pctx_pop(struct pctx *c, size_t saved)
{
	c->pathlen = saved;
	c->path[saved] = '\0';
}
