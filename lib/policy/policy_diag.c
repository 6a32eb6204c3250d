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

		const char *label = e->severity == POLICY_DIAG_NOTE ? "note: " : "";

		if (e->line)
			fprintf(f, "%s:%u:%u: %s%s\n", e->file, e->line, e->col, label, e->msg);
		else
			fprintf(f, "%s: %s%s\n", e->file, label, e->msg);
	}
	if (fflush(f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

static int diags_append(struct policy_diags *d, enum policy_diag_severity sev, const char *file,
			uint32_t line, uint32_t col, char *msg)
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
	e->severity = sev;
	d->n++;
	return 0;
}

static int diags_vadd(struct policy_diags *d, enum policy_diag_severity sev, const char *file,
		      uint32_t line, uint32_t col, const char *fmt, va_list ap)
{
	char *msg = NULL;
	int r;

	if (!d)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	r = diags_append(d, sev, file, line, col, msg);
	if (r)
		free(msg);
	return r;
}

int policy_diags_add(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
		     const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diags_vadd(d, POLICY_DIAG_ERROR, file, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int policy_diags_add_note(struct policy_diags *d, const char *file, uint32_t line, uint32_t col,
			  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = diags_vadd(d, POLICY_DIAG_NOTE, file, line, col, fmt, ap);
	va_end(ap);
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
	if (!msg || diags_append(c->diags, POLICY_DIAG_ERROR, c->file, line, col, msg)) {
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

void pctx_note(struct pctx *c, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;

	/* Only after a recorded error: a note alone would say more about nothing. */
	if (c->full || !c->diags || c->diags->n == c->first_diag)
		return;
	va_start(ap, fmt);
	if (diags_vadd(c->diags, POLICY_DIAG_NOTE, c->file, line, col, fmt, ap))
		c->oom = 1;
	va_end(ap);
}

void pctx_err(struct pctx *c, const struct pnode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_vreport(c, n->line, n->col, c->path, fmt, ap);
	va_end(ap);
}

struct diag_key {
	uint32_t line, col;
};

/*
 * Sorts this load's entries by line and column; stable, and they arrive nearly sorted. A note
 * sorts at its error's place, so it stays right after it.
 */
void policy_diags_finish(struct pctx *c)
{
	struct policy_diags *d = c->diags;
	struct diag_key *key;
	size_t i, j, n;

	if (!d)
		return;
	n = d->n - c->first_diag;
	key = n ? calloc(n, sizeof(*key)) : NULL;
	if (key) {
		for (i = 0; i < n; i++) {
			const struct policy_diag *e = &d->v[c->first_diag + i];

			if (e->severity == POLICY_DIAG_NOTE && i)
				key[i] = key[i - 1];
			else
				key[i] = (struct diag_key){e->line, e->col};
		}
		for (i = 1; i < n; i++) {
			struct policy_diag e = d->v[c->first_diag + i];
			struct diag_key k = key[i];

			for (j = i; j > 0; j--) {
				const struct diag_key *p = &key[j - 1];

				if (p->line < k.line || (p->line == k.line && p->col <= k.col))
					break;
				d->v[c->first_diag + j] = d->v[c->first_diag + j - 1];
				key[j] = *p;
			}
			d->v[c->first_diag + j] = e;
			key[j] = k;
		}
		free(key);
	} else if (n) {
		c->oom = 1;
	}
	if (c->full) {
		char *msg = NULL;

		if (asprintf(&msg, "too many errors; stopped after %d", FNG_POLICY_MAX_DIAGS) < 0 ||
		    diags_append(d, POLICY_DIAG_ERROR, c->file, 0, 0, msg)) {
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
