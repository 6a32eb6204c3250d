// SPDX-License-Identifier: Apache-2.0
/*
 * Reading the configuration file: one YAML mapping of settings, each checked against the table
 * in config.c.
 *
 * libyaml's event API is enough (the file is one flat mapping of scalars), and it gives the
 * line and column of every key and value. Refused: anchors, aliases and tags (nothing here
 * needs them, and they would make a value mean something other than what is written), more
 * than one document, and a value that is a list or a mapping. Every problem is reported, then
 * the file is refused as a whole: a daemon that starts with half its configuration is worse
 * than one that does not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "config_int.h"
#include "policy.h"

void cfg_report(struct cfg_load *l, const yaml_mark_t *m, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	l->nerr++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg || policy_diags_add(l->diags, l->file, (uint32_t)m->line + 1,
				     (uint32_t)m->column + 1, "%s", msg))
		l->oom = 1;
	free(msg);
}

const char *cfg_quote(struct cfg_load *l, const char *s, size_t len)
{
	char *buf = l->qbuf[l->qnext++ % 2];
	size_t i, o = 0;

	for (i = 0; i < len && i < 64; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)sprintf(buf + o, "\\x%02x", ch);
		else if (ch == '\\')
			o += (size_t)sprintf(buf + o, "\\\\");
		else
			buf[o++] = (char)ch;
	}
	if (i < len)
		o += (size_t)sprintf(buf + o, "...");
	buf[o] = 0;
	return buf;
}

bool cfg_is_null(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static const char *node_name(yaml_event_type_t t)
{
	return t == YAML_SEQUENCE_START_EVENT ? "a list" : "a mapping";
}

/* Anchors and tags: refused, each said once. */
static void check_props(struct cfg_load *l, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (anchor)
		cfg_report(l, &ev->start_mark,
			   "YAML anchors are not used here ('&%s'): write the value",
			   cfg_quote(l, (const char *)anchor, strlen((const char *)anchor)));
	if (tag)
		cfg_report(l, &ev->start_mark,
			   "YAML tags are not used here ('%s'): write the value",
			   cfg_quote(l, (const char *)tag, strlen((const char *)tag)));
}

/*
 * One pass over the events. At the top, one mapping (or nothing: an empty file is the
 * defaults); in it, keys and values in turn; a list or mapping where a value or a key should
 * be is reported and skipped whole (skip counts how deep).
 */
static int parse(struct cfg_load *l, const char *buf, size_t len)
{
	const struct config_key *key = NULL;
	bool in_map = false, want_value = false, done = false;
	unsigned skip = 0, docs = 0;
	yaml_parser_t y;
	yaml_event_t ev;
	int r = 0;

	if (!yaml_parser_initialize(&y))
		return -ENOMEM;
	yaml_parser_set_input_string(&y, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&y, YAML_UTF8_ENCODING);
	while (!done && !l->oom) {
		if (!yaml_parser_parse(&y, &ev)) {
			if (y.error == YAML_MEMORY_ERROR)
				r = -ENOMEM;
			else if (policy_diags_add_yaml_error(l->diags, l->file, &y, buf, len))
				l->oom = 1;
			l->nerr++;
			break;
		}
		if (skip) {
			if (ev.type == YAML_SEQUENCE_START_EVENT ||
			    ev.type == YAML_MAPPING_START_EVENT)
				skip++;
			else if (ev.type == YAML_SEQUENCE_END_EVENT ||
				 ev.type == YAML_MAPPING_END_EVENT)
				skip--;
			yaml_event_delete(&ev);
			continue;
		}
		check_props(l, &ev);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				cfg_report(
				    l, &ev.start_mark,
				    "a configuration file holds one YAML document, this is a "
				    "second one");
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			cfg_report(l, &ev.start_mark,
				   "YAML aliases are not used here ('*%s'): write the value",
				   cfg_quote(l, (const char *)ev.data.alias.anchor,
					     strlen((const char *)ev.data.alias.anchor)));
			if (in_map)
				want_value = !want_value, key = NULL;
			break;
		case YAML_MAPPING_END_EVENT:
			in_map = false;
			break;
		case YAML_SCALAR_EVENT:
			if (!in_map) {
				if (!cfg_is_null(&ev))
					cfg_report(
					    l, &ev.start_mark,
					    "the configuration is a mapping of settings ('key: "
					    "value' lines), not a single value");
			} else if (!want_value) {
				key = cfg_key_of(l, &ev);
				want_value = true;
			} else {
				if (key)
					cfg_value_set(l, key, &ev);
				want_value = false;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (!in_map && ev.type == YAML_MAPPING_START_EVENT) {
				in_map = true;
				break;
			}
			if (!in_map)
				cfg_report(
				    l, &ev.start_mark,
				    "the configuration is a mapping of settings ('key: value' "
				    "lines), not %s",
				    node_name(ev.type));
			else if (!want_value)
				cfg_report(l, &ev.start_mark, "keys are setting names, not %s",
					   node_name(ev.type));
			else if (key)
				cfg_report(l, &ev.start_mark, "%s: expected a single value, not %s",
					   cfg_key_name(key), node_name(ev.type));
			if (in_map)
				want_value = !want_value;
			key = NULL;
			skip = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&y);
	return r ? r : l->oom ? -ENOMEM : 0;
}

int config_load_buffer(struct fnguardd_config *cfg, struct uid_range *uids, const char *name,
		       const char *buf, size_t len, struct policy_diags *diags)
{
	struct cfg_load *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->file = name;
	l->diags = diags;
	l->cfg = *cfg;
	l->uids = *uids;
	r = parse(l, buf, len);
	if (!r && l->nerr)
		r = -EINVAL;
	if (r) {
		config_release(&l->cfg, cfg);
	} else {
		*cfg = l->cfg;
		uids->first = l->uids.first;
		uids->count = l->uids.count;
	}
	free(l);
	return r;
}

int config_load(struct fnguardd_config *cfg, struct uid_range *uids, const char *file,
		struct policy_diags *diags)
{
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, r = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		policy_diags_add(diags, file, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	/* A FIFO would block the start; a directory is no file. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		r = -EINVAL;
		policy_diags_add(diags, file, 0, 0, "not a regular file");
		goto out;
	}
	buf = malloc(CONFIG_MAX_SIZE + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (len <= CONFIG_MAX_SIZE) {
		ssize_t n = read(fd, buf + len, CONFIG_MAX_SIZE + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			policy_diags_add(diags, file, 0, 0, "cannot read: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_SIZE) {
		r = -EFBIG;
		policy_diags_add(diags, file, 0, 0, "file is too large (more than %u KiB)",
				 CONFIG_MAX_SIZE >> 10);
		goto out;
	}
	r = config_load_buffer(cfg, uids, file, buf, len, diags);
out:
	free(buf);
	close(fd);
	return r;
}
