// SPDX-License-Identifier: Apache-2.0
/*
 * YAML to a tree of pnodes, with the line and column of every node (libyaml event API).
 *
 * Refused here, because a policy never needs them and they make a checker slow or wrong:
 * anchors and aliases (one alias can stand for an exponential amount of data: "billion
 * laughs"), tags (they change how a value is typed), more than one document, and nesting
 * deeper than POLICY_MAX_DEPTH. The tree is built iteratively, so hostile nesting cannot
 * exhaust the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_int.h"

/* Recursion is bounded: policy_parse() never builds a tree deeper than POLICY_MAX_DEPTH. */
void pnode_free(struct pnode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		pnode_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

static struct pnode *pnode_new(enum pnode_kind kind, const yaml_mark_t *m)
{
	struct pnode *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->line = (uint32_t)m->line + 1;
	p->col = (uint32_t)m->column + 1;
	return p;
}

static int pnode_add(struct pnode *parent, struct pnode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct pnode **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

/* Line and column of a byte offset, for reader errors (which carry no mark). */
static void offset_position(const char *buf, size_t len, size_t off, uint32_t *line, uint32_t *col)
{
	size_t i, start = 0;

	*line = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	}
	*col = (uint32_t)(off - start) + 1;
}

/*
 * What a parser error says, as compilers say it: the problem where libyaml stopped, and, in a
 * note, where the construct it was reading began (libyaml's context mark), when elsewhere.
 */
struct yaml_syntax {
	uint32_t line, col;
	const char *problem;
	uint32_t note_line, note_col; /* 0: no note */
	char note[96];
};

static void yaml_syntax_of(const yaml_parser_t *y, const char *buf, size_t len,
			   struct yaml_syntax *s)
{
	const char *ctx = y->context, *what;

	memset(s, 0, sizeof(*s));
	s->problem = y->problem ? y->problem : "unknown error";
	if (y->error == YAML_READER_ERROR) {
		offset_position(buf, len, y->problem_offset, &s->line, &s->col);
		return;
	}
	s->line = (uint32_t)y->problem_mark.line + 1;
	s->col = (uint32_t)y->problem_mark.column + 1;
	if (!ctx || (y->context_mark.line == y->problem_mark.line &&
		     y->context_mark.column == y->problem_mark.column))
		return;
	/* libyaml's contexts read "while parsing a flow mapping", "while scanning an anchor" */
	what = ctx;
	if (!strncmp(what, "while parsing ", 14))
		what += 14;
	else if (!strncmp(what, "while scanning ", 15))
		what += 15;
	if (!strncmp(what, "a ", 2))
		snprintf(s->note, sizeof(s->note), "this %s began here", what + 2);
	else if (!strncmp(what, "an ", 3))
		snprintf(s->note, sizeof(s->note), "this %s began here", what + 3);
	else
		snprintf(s->note, sizeof(s->note), "%s: from here", ctx);
	s->note_line = (uint32_t)y->context_mark.line + 1;
	s->note_col = (uint32_t)y->context_mark.column + 1;
}

static void report_syntax(struct pctx *c, const yaml_parser_t *y, const char *buf, size_t len)
{
	struct yaml_syntax s;

	yaml_syntax_of(y, buf, len, &s);
	pctx_report(c, s.line, s.col, "YAML syntax error: %s", s.problem);
	if (s.note_line)
		pctx_note(c, s.note_line, s.note_col, "%s", s.note);
}

int policy_diags_add_yaml_error(struct policy_diags *d, const char *file,
				const struct yaml_parser_s *y, const char *buf, size_t len)
{
	struct yaml_syntax s;
	int r;

	yaml_syntax_of(y, buf, len, &s);
	r = policy_diags_add(d, file, s.line, s.col, "YAML syntax error: %s", s.problem);
	if (!r && s.note_line)
		r = policy_diags_add_note(d, file, s.note_line, s.note_col, "%s", s.note);
	return r;
}

static bool check_node_props(struct pctx *c, const yaml_mark_t *m, const yaml_char_t *anchor,
			     const yaml_char_t *tag)
{
	bool ok = true;

	if (anchor) {
		pctx_report(
		    c, (uint32_t)m->line + 1, (uint32_t)m->column + 1,
		    "YAML anchors are not allowed ('&%s'): an alias of an anchor can expand "
		    "to an exponential amount of data; write the value out",
		    pctx_quote(c, (const char *)anchor, strlen((const char *)anchor)));
		ok = false;
	}
	if (tag) {
		/* show the standard tags as written: libyaml has expanded "!!" */
		static const char yaml_prefix[] = "tag:yaml.org,2002:";
		const char *t = (const char *)tag;
		bool std = !strncmp(t, yaml_prefix, sizeof(yaml_prefix) - 1);

		if (std)
			t += sizeof(yaml_prefix) - 1;
		pctx_report(c, (uint32_t)m->line + 1, (uint32_t)m->column + 1,
			    "YAML tags are not allowed ('%s%s'): write the plain value",
			    std ? "!!" : "", pctx_quote(c, t, strlen(t)));
		ok = false;
	}
	return ok;
}

int policy_parse(struct pctx *c, const char *buf, size_t len, struct pnode **rootp)
{
	struct pnode *stack[POLICY_MAX_DEPTH + 1];
	struct pnode *root = NULL, *node;
	yaml_parser_t y;
	yaml_event_t ev;
	unsigned depth = 0, docs = 0;
	bool done = false, alias = false;
	int r = 0;

	*rootp = NULL;
	if (!yaml_parser_initialize(&y))
		return -ENOMEM;
	yaml_parser_set_input_string(&y, (const unsigned char *)buf, len);
	/* UTF-8 only: a UTF-16 byte order mark is then a reader error, not a conversion. */
	yaml_parser_set_encoding(&y, YAML_UTF8_ENCODING);

	while (!done && r == 0) {
		if (!yaml_parser_parse(&y, &ev)) {
			if (y.error == YAML_MEMORY_ERROR) {
				r = -ENOMEM;
			} else {
				report_syntax(c, &y, buf, len);
				r = -EINVAL;
			}
			break;
		}
		node = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				pctx_report(
				    c, (uint32_t)ev.start_mark.line + 1,
				    (uint32_t)ev.start_mark.column + 1,
				    "a policy file holds one YAML document, this is a second "
				    "one");
				r = -EINVAL;
			}
			break;
		case YAML_ALIAS_EVENT:
			pctx_report(
			    c, (uint32_t)ev.start_mark.line + 1, (uint32_t)ev.start_mark.column + 1,
			    "YAML aliases are not allowed ('*%s'): an alias can expand to an "
			    "exponential amount of data; write the value out",
			    pctx_quote(c, (const char *)ev.data.alias.anchor,
				       strlen((const char *)ev.data.alias.anchor)));
			alias = true;
			/* keep mappings paired: the alias becomes an empty value */
			node = pnode_new(PNODE_SCALAR, &ev.start_mark);
			if (node) {
				node->plain = true;
				node->s = strdup("");
				if (!node->s) {
					free(node);
					node = NULL;
				}
			}
			if (!node)
				r = -ENOMEM;
			break;
		case YAML_SCALAR_EVENT:
			check_node_props(c, &ev.start_mark, ev.data.scalar.anchor,
					 ev.data.scalar.tag);
			node = pnode_new(PNODE_SCALAR, &ev.start_mark);
			if (node) {
				node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				node->len = ev.data.scalar.length;
				node->s = malloc(node->len + 1);
				if (node->s) {
					memcpy(node->s, ev.data.scalar.value, node->len);
					node->s[node->len] = '\0';
				} else {
					free(node);
					node = NULL;
				}
			}
			if (!node)
				r = -ENOMEM;
			break;
		case YAML_SEQUENCE_START_EVENT:
			check_node_props(c, &ev.start_mark, ev.data.sequence_start.anchor,
					 ev.data.sequence_start.tag);
			node = pnode_new(PNODE_SEQ, &ev.start_mark);
			if (!node)
				r = -ENOMEM;
			break;
		case YAML_MAPPING_START_EVENT:
			check_node_props(c, &ev.start_mark, ev.data.mapping_start.anchor,
					 ev.data.mapping_start.tag);
			node = pnode_new(PNODE_MAP, &ev.start_mark);
			if (!node)
				r = -ENOMEM;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		if (node) {
			if (depth == 0) {
				if (root)
					pnode_free(root); /* cannot happen: one document */
				root = node;
			} else if (pnode_add(stack[depth - 1], node)) {
				pnode_free(node);
				r = -ENOMEM;
			}
			if (r == 0 && node->kind != PNODE_SCALAR) {
				if (depth == POLICY_MAX_DEPTH) {
					pctx_report(c, node->line, node->col,
						    "nesting is deeper than %d levels",
						    POLICY_MAX_DEPTH);
					r = -EINVAL;
				} else {
					stack[depth++] = node;
				}
			}
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	/*
	 * After an anchor or a tag the tree is still sound and is validated; after an alias it
	 * is not (the alias stands for a missing value), so stop at the reported errors.
	 */
	if (r || alias) {
		pnode_free(root);
		return r ? r : -EINVAL;
	}
	*rootp = root;
	return 0;
}
