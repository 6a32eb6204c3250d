// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon's telemetry hub and its JSON-lines exporter: seq and host on every event, replay of
 * the retained window, type masks, a slow or broken subscriber losing only its own events and
 * being told how many, and the exporter's lines, rotation and failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "export.h"
#include "hub.h"

#define SINK_MAX 512

/* What a subscriber saw of one event. */
struct got {
	uint64_t seq;
	char type[16];
	char host[32];
	char function[32];
	uint64_t events_lost; /* loss events */
	char where[32];
};

struct sink {
	int rc; /* what the callback returns; 0 records the event */
	size_t calls;
	size_t n;
	struct got ev[SINK_MAX];
	/* For the unsubscribe tests. */
	struct hub *h;
	struct hub_sub *self, *victim;
	size_t unsub_after; /* unsubscribe self after this many events (0: never) */
};

static int sink_deliver(void *ctx, const Fnguard__V1__Event *ev)
{
	struct sink *k = ctx;
	struct got *g;
	const char *type = telemetry_type_name(ev);

	k->calls++;
	if (k->rc)
		return k->rc;
	assert_true(k->n < SINK_MAX);
	g = &k->ev[k->n++];
	memset(g, 0, sizeof(*g));
	g->seq = ev->seq;
	snprintf(g->type, sizeof(g->type), "%s", type ? type : "?");
	snprintf(g->host, sizeof(g->host), "%s", ev->host);
	snprintf(g->function, sizeof(g->function), "%s", ev->function);
	if (ev->body_case == FNGUARD__V1__EVENT__BODY_LOSS) {
		g->events_lost = ev->loss->events_lost;
		snprintf(g->where, sizeof(g->where), "%s", ev->loss->where);
	}
	if (k->victim) {
		hub_unsubscribe(k->h, k->victim);
		k->victim = NULL;
	}
	if (k->unsub_after && k->n == k->unsub_after)
		hub_unsubscribe(k->h, k->self);
	return 0;
}

static struct sink *sink_new(void)
{
	struct sink *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	return k;
}

static struct hub *hub_make(size_t retain, const char *export_path, uint64_t rotate, unsigned keep)
{
	struct hub_config cfg = {.host = "worker-1",
				 .retain = retain,
				 .export_path = export_path,
				 .export_rotate_bytes = rotate,
				 .export_keep = keep};
	struct hub *h = NULL;

	assert_int_equal(hub_new(&h, &cfg), 0);
	assert_non_null(h);
	return h;
}

static uint64_t publish_api(struct hub *h, const char *target)
{
	static const struct telemetry_origin o = {.host = "not-this-one",
						  .function = "thumbnailer"};
	struct telemetry_event t;

	telemetry_api_call(&t, 1000, 1000, 42, "invoke", target, "ok");
	return hub_publish(h, &t, &o);
}

static uint64_t publish_denial(struct hub *h)
{
	struct fng_event k = {.pid = 7,
			      .class = FNG_CLASS_FILE,
			      .op = FNG_OP_OPEN,
			      .syscall_nr = -1,
			      .verdict = FNG_EVENT_BLOCKED,
			      .target_kind = FNG_TARGET_PATH};
	struct telemetry_event t;

	strcpy(k.comm, "python3");
	strcpy(k.target.path, "/etc/shadow");
	telemetry_denial(&t, &k, NULL, 0);
	return hub_publish(h, &t, NULL);
}

static uint64_t publish_log(struct hub *h, const char *line)
{
	struct telemetry_event t;

	telemetry_log(&t, "stderr", line, strlen(line));
	return hub_publish(h, &t, NULL);
}

static void assert_seqs(const struct sink *k, size_t from, uint64_t first, size_t n)
{
	size_t i;

	assert_true(k->n >= from + n);
	for (i = 0; i < n; i++)
		assert_int_equal(k->ev[from + i].seq, first + i);
}

/* ------------------------------------------------------------------ hub */

static void test_seq_host(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *k = sink_new();
	struct telemetry_event t;
	uint64_t i;

	assert_non_null(hub_subscribe(h, 0, false, sink_deliver, k));
	assert_int_equal(hub_seq(h), 0);
	for (i = 1; i <= 5; i++) {
		telemetry_env_state(&t, FNGUARD__V1__ENV_PHASE__ENV_PHASE_READY,
				    FNGUARD__V1__ENV_KIND__ENV_KIND_PROCESS, "");
		assert_int_equal(hub_publish(h, &t, NULL), i);
		assert_int_equal(t.ev.seq, i);
		assert_string_equal(t.ev.host, "worker-1");
		assert_true(t.ev.time_unix_nano > 0);
		assert_int_equal(hub_seq(h), i);
	}
	/* The hub's host replaces the origin's; the rest of the origin is kept. */
	assert_int_equal(publish_api(h, "a"), 6);
	assert_int_equal(k->n, 6);
	assert_seqs(k, 0, 1, 6);
	assert_string_equal(k->ev[0].type, "env");
	assert_string_equal(k->ev[5].type, "api_call");
	assert_string_equal(k->ev[5].host, "worker-1");
	assert_string_equal(k->ev[5].function, "thumbnailer");
	assert_int_equal(hub_lost_subscribers(h), 0);
	hub_free(h);
	free(k);
}

static int stop_at_3(void *ctx, const Fnguard__V1__Event *ev)
{
	size_t *n = ctx;

	return ++*n == 3 ? 99 : 0;
}

static void test_replay_retain(void **state)
{
	struct hub *h = hub_make(4, NULL, 0, 0);
	struct sink *k = sink_new(), *r = sink_new();
	size_t n = 0;
	int i;

	/* Nothing retained yet. */
	assert_int_equal(hub_replay(h, 0, sink_deliver, k), 0);
	assert_int_equal(k->n, 0);
	for (i = 0; i < 10; i++)
		publish_api(h, "x");
	/* Only the last 4, oldest first. */
	assert_int_equal(hub_replay(h, 0, sink_deliver, k), 0);
	assert_int_equal(k->n, 4);
	assert_seqs(k, 0, 7, 4);
	assert_string_equal(k->ev[0].host, "worker-1");
	assert_string_equal(k->ev[0].function, "thumbnailer");
	/* A non-zero return stops the walk and is returned. */
	assert_int_equal(hub_replay(h, 0, stop_at_3, &n), 99);
	assert_int_equal(n, 3);
	/* Subscribe with replay: the window inside the call, then live events. */
	assert_non_null(hub_subscribe(h, 0, true, sink_deliver, r));
	assert_int_equal(r->n, 4);
	publish_api(h, "y");
	assert_int_equal(r->n, 5);
	assert_seqs(r, 0, 7, 5);
	hub_free(h);
	free(k);
	free(r);
}

static void test_type_mask(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *all = sink_new(), *den = sink_new(), *rep = sink_new();
	uint32_t mask = 0;
	size_t i;

	assert_int_equal(telemetry_filter_add(&mask, "denial"), 0);
	assert_non_null(hub_subscribe(h, mask, false, sink_deliver, den));
	assert_non_null(hub_subscribe(h, 0, false, sink_deliver, all));
	publish_api(h, "a");  /* 1 */
	publish_denial(h);    /* 2 */
	publish_log(h, "hi"); /* 3 */
	publish_denial(h);    /* 4 */
	publish_api(h, "b");  /* 5 */
	assert_int_equal(all->n, 5);
	assert_int_equal(den->n, 2);
	for (i = 0; i < den->n; i++)
		assert_string_equal(den->ev[i].type, "denial");
	assert_int_equal(den->ev[0].seq, 2);
	assert_int_equal(den->ev[1].seq, 4);
	/* The same mask on replay. */
	assert_int_equal(hub_replay(h, mask, sink_deliver, rep), 0);
	assert_int_equal(rep->n, 2);
	assert_int_equal(rep->ev[1].seq, 4);
	/* Not delivering a masked-out event is not a loss. */
	assert_int_equal(hub_lost_subscribers(h), 0);
	hub_free(h);
	free(all);
	free(den);
	free(rep);
}

static void assert_loss(const struct got *g, uint64_t seq, uint64_t lost)
{
	assert_string_equal(g->type, "loss");
	assert_int_equal(g->seq, seq);
	assert_int_equal(g->events_lost, lost);
	assert_string_equal(g->where, "subscriber");
	assert_string_equal(g->host, "worker-1");
}

static void test_slow_subscriber(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *fast = sink_new(), *slow = sink_new();
	struct hub_sub *s;
	int i;

	assert_non_null(hub_subscribe(h, 0, false, sink_deliver, fast));
	s = hub_subscribe(h, 0, false, sink_deliver, slow);
	assert_non_null(s);
	publish_api(h, "1");
	slow->rc = -ENOBUFS;
	for (i = 0; i < 5; i++)
		publish_api(h, "x"); /* 2..6: lost for slow */
	assert_int_equal(hub_sub_lost(s), 5);
	assert_int_equal(hub_lost_subscribers(h), 5);
	assert_int_equal(hub_sub_error(s), 0);
	/* The fast one got everything, with no gap: failed loss reports gave their seq back. */
	assert_int_equal(fast->n, 6);
	assert_seqs(fast, 0, 1, 6);
	assert_int_equal(hub_seq(h), 6);
	/* Still full: no report, nothing reset. */
	hub_sub_writable(h, s);
	assert_int_equal(hub_sub_lost(s), 5);
	assert_int_equal(hub_seq(h), 6);
	/* Room again: a loss event first, with a seq of its own, then the count is reset. */
	slow->rc = 0;
	hub_sub_writable(h, s);
	assert_int_equal(slow->n, 2);
	assert_int_equal(slow->ev[0].seq, 1);
	assert_loss(&slow->ev[1], 7, 5);
	assert_int_equal(hub_sub_lost(s), 0);
	assert_int_equal(hub_seq(h), 7);
	hub_sub_writable(h, s); /* nothing more to say */
	assert_int_equal(slow->n, 2);
	/* Live again; the others see a gap at 7 (documented). */
	assert_int_equal(publish_api(h, "8"), 8);
	assert_int_equal(slow->ev[2].seq, 8);
	assert_int_equal(fast->ev[6].seq, 8);
	assert_int_equal(fast->n, 7);
	/* The total is not reset with the subscriber's count. */
	assert_int_equal(hub_lost_subscribers(h), 5);
	hub_free(h);
	free(fast);
	free(slow);
}

/* hub_publish reports the losses itself, before the event, when the subscriber has room. */
static void test_loss_reported_by_publish(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *slow = sink_new();
	struct hub_sub *s = hub_subscribe(h, 0, false, sink_deliver, slow);
	uint32_t mask = 0;

	assert_non_null(s);
	slow->rc = -ENOBUFS;
	publish_api(h, "1");
	publish_api(h, "2");
	publish_api(h, "3");
	slow->rc = 0;
	assert_int_equal(publish_api(h, "4"), 5); /* the report took 4 */
	assert_int_equal(slow->n, 2);
	assert_loss(&slow->ev[0], 4, 3);
	assert_int_equal(slow->ev[1].seq, 5);
	hub_unsubscribe(h, s);

	/* A masked subscriber loses only what matches, and is told whatever its mask. */
	memset(slow, 0, sizeof(*slow));
	assert_int_equal(telemetry_filter_add(&mask, "denial"), 0);
	s = hub_subscribe(h, mask, false, sink_deliver, slow);
	slow->rc = -ENOBUFS;
	publish_denial(h);
	publish_api(h, "x");
	publish_denial(h);
	assert_int_equal(hub_sub_lost(s), 2);
	slow->rc = 0;
	hub_sub_writable(h, s);
	assert_int_equal(slow->n, 1);
	assert_loss(&slow->ev[0], 9, 2);
	assert_int_equal(hub_lost_subscribers(h), 5);
	hub_free(h);
	free(slow);
}

static void test_replay_full_subscriber(void **state)
{
	struct hub *h = hub_make(8, NULL, 0, 0);
	struct sink *k = sink_new();
	struct hub_sub *s;
	int i;

	for (i = 0; i < 8; i++)
		publish_api(h, "x");
	k->rc = -ENOBUFS;
	s = hub_subscribe(h, 0, true, sink_deliver, k);
	assert_non_null(s);
	/* Asked once, then the rest of the window is counted without asking again. */
	assert_int_equal(k->calls, 1);
	assert_int_equal(hub_sub_lost(s), 8);
	assert_int_equal(hub_lost_subscribers(h), 8);
	k->rc = 0;
	hub_sub_writable(h, s);
	assert_int_equal(k->n, 1);
	assert_loss(&k->ev[0], 9, 8);
	hub_free(h);
	free(k);
}

static void test_broken_subscriber(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *ok = sink_new(), *bad = sink_new();
	struct hub_sub *s;

	s = hub_subscribe(h, 0, false, sink_deliver, bad);
	assert_non_null(hub_subscribe(h, 0, false, sink_deliver, ok));
	bad->rc = -EPIPE;
	publish_api(h, "1");
	publish_api(h, "2");
	assert_int_equal(hub_sub_error(s), -EPIPE);
	assert_int_equal(hub_sub_lost(s), 2);
	assert_int_equal(hub_lost_subscribers(h), 2);
	assert_int_equal(ok->n, 2);
	assert_seqs(ok, 0, 1, 2);
	/* Its owner removes it; its losses stay counted. */
	hub_unsubscribe(h, s);
	publish_api(h, "3");
	assert_int_equal(ok->n, 3);
	assert_int_equal(hub_lost_subscribers(h), 2);
	hub_free(h);
	free(ok);
	free(bad);
}

/* Forbidden by hub.h, and survived anyway (ASan checks the frees). */
static void test_unsubscribe_in_callback(void **state)
{
	struct hub *h = hub_make(0, NULL, 0, 0);
	struct sink *a = sink_new(), *b = sink_new(), *c = sink_new();

	a->h = b->h = h;
	a->self = hub_subscribe(h, 0, false, sink_deliver, a);
	b->self = hub_subscribe(h, 0, false, sink_deliver, b);
	c->self = hub_subscribe(h, 0, false, sink_deliver, c);
	a->unsub_after = 2;  /* a removes itself at its second event */
	b->victim = c->self; /* b removes c, which comes after it, at the first */
	publish_api(h, "1");
	publish_api(h, "2");
	publish_api(h, "3");
	assert_int_equal(a->n, 2);
	assert_int_equal(b->n, 3);
	assert_int_equal(c->n, 0);
	assert_int_equal(hub_lost_subscribers(h), 0);
	hub_free(h);
	free(a);
	free(b);
	free(c);
}

/* ------------------------------------------------------------- exporter */

/*
 * The exporter's lines are flat JSON objects, {"key":scalar,...}, written compactly: this checks
 * one strictly (RFC 8259 strings, numbers without exponent, literals).
 */
static const char *json_str(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;; p++) {
		if (*p == '"')
			return p + 1;
		if ((unsigned char)*p < 0x20)
			return NULL; /* a raw control character, or the end */
		if (*p != '\\')
			continue;
		p++;
		if (*p == 'u' && strspn(p + 1, "0123456789abcdefABCDEF") >= 4)
			p += 4;
		else if (!*p || !strchr("\"\\/bfnrt", *p))
			return NULL;
	}
}

static const char *json_scalar(const char *p)
{
	const char *q;

	if (*p == '"')
		return json_str(p);
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	p += *p == '-';
	q = p;
	p += strspn(p, "0123456789");
	if (p == q || (*q == '0' && p > q + 1))
		return NULL;
	if (*p == '.') {
		q = ++p;
		p += strspn(p, "0123456789");
		if (p == q)
			return NULL;
	}
	return p;
}

static bool json_flat_object(const char *p)
{
	if (*p++ != '{')
		return false;
	do {
		if (!(p = json_str(p)) || *p++ != ':' || !(p = json_scalar(p)))
			return false;
	} while (*p++ == ',');
	return p[-1] == '}' && !*p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	assert_non_null(f);
	n = getdelim(&buf, &cap, '\0', f); /* no NUL in JSON lines: the whole file */
	fclose(f);
	if (n < 0) {
		free(buf);
		buf = strdup("");
		n = 0;
	}
	*len = (size_t)n;
	return buf;
}

/*
 * Checks that @path holds whole lines, each one JSON object whose "seq" follows the previous
 * (*@next, updated). Returns the number of lines.
 */
static size_t check_lines(const char *path, uint64_t *next)
{
	size_t len, lines = 0;
	char *buf = slurp(path, &len), *line, *nl;
	const char *seq;

	assert_true(len == 0 || buf[len - 1] == '\n');
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = 0;
		assert_true(json_flat_object(line));
		seq = strstr(line, "\"seq\":");
		assert_non_null(seq);
		if (*next)
			assert_int_equal(strtoull(seq + 6, NULL, 10), *next);
		*next = strtoull(seq + 6, NULL, 10) + 1;
		assert_non_null(strstr(line, "\"host\":\"worker-1\""));
		lines++;
	}
	free(buf);
	return lines;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static char *tmpdir_new(void)
{
	char *dir = strdup("/tmp/fnguard-hub-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void tmpdir_free(char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(dir);
}

static void test_export_lines(void **state)
{
	char *dir = tmpdir_new(), path[256];
	struct hub *h;
	struct stat st;
	uint64_t next = 0;
	char *buf, *p;
	size_t len, n;

	snprintf(path, sizeof(path), "%s/events.jsonl", dir);
	h = hub_make(0, path, 0, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	publish_api(h, "a");
	publish_denial(h);
	/* Quotes, a newline, control and invalid bytes, non-ASCII: still one valid line. */
	publish_log(h, "say \"hi\"\n\tnext\x01 \xff caf\xc3\xa9 \xe2\x80\xa8");
	publish_api(h, "b");
	/* The checker itself refuses what is not JSON. */
	assert_false(json_flat_object("{\"a\":\"x\ny\"}"));
	assert_false(json_flat_object("{\"seq\":01}"));
	assert_false(json_flat_object("{\"seq\":1,}"));
	assert_true(json_flat_object("{\"a\":\"\\u00e9\\n\",\"b\":-1.5,\"c\":null}"));
	assert_int_equal(check_lines(path, &next), 4);
	assert_int_equal(next, 5);
	assert_int_equal(hub_export_errors(h), 0);
	buf = slurp(path, &len);
	assert_non_null(strstr(buf, "{\"type\":\"api_call\","));
	assert_non_null(
	    strstr(buf, "\"seq\":2,\"host\":\"worker-1\",\"pid\":7,\"comm\":\"python3\""));
	assert_non_null(strstr(buf, "\"target\":\"/etc/shadow\""));
	free(buf);
	hub_free(h);

	/* A new hub appends to the file it finds: after a restart nothing is overwritten. */
	h = hub_make(0, path, 0, 0);
	publish_api(h, "c");
	hub_free(h);
	buf = slurp(path, &len);
	for (n = 0, p = buf; (p = strchr(p, '\n')); p++)
		n++;
	assert_int_equal(n, 5);
	assert_non_null(strstr(buf, "\"seq\":4,"));
	buf[len - 1] = 0;
	assert_non_null(strstr(strrchr(buf, '\n'), "\"seq\":1,"));
	free(buf);
	tmpdir_free(dir);
}

static void test_export_rotate(void **state)
{
	const uint64_t rotate = 1000;
	const unsigned keep = 3;
	char *dir = tmpdir_new(), path[256], name[300];
	uint64_t next = 0, lines = 0;
	struct stat st;
	struct hub *h;
	unsigned i;
	int n;

	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	h = hub_make(0, path, rotate, keep);
	for (n = 0; n < 200; n++)
		publish_api(h, "some/target");
	assert_int_equal(hub_export_errors(h), 0);
	hub_free(h);

	snprintf(name, sizeof(name), "%s.%u", path, keep + 1);
	assert_int_equal(stat(name, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* Oldest first: PATH.keep .. PATH.1, PATH hold consecutive seqs ending at the last one. */
	for (n = (int)keep; n >= 0; n--) {
		i = (unsigned)n;
		if (i)
			snprintf(name, sizeof(name), "%s.%u", path, i);
		else
			snprintf(name, sizeof(name), "%s", path);
		assert_int_equal(stat(name, &st), 0);
		assert_true(st.st_size > 0);
		assert_true((uint64_t)st.st_size <= rotate);
		/* Rotated because the next line did not fit: nearly full. */
		if (i)
			assert_true((uint64_t)st.st_size > rotate - 200);
		assert_int_equal(st.st_mode & 0777, 0640);
		lines += check_lines(name, &next);
	}
	assert_int_equal(next, 201);
	/* About 150 bytes a line: 4 files of up to 1000 bytes hold 5 to 40 lines. */
	assert_in_range(lines, 5, 40);
	tmpdir_free(dir);
}

/* A rotation that cannot rename loses nothing: writing goes on in PATH, and rotation resumes. */
static void test_export_rotate_failure(void **state)
{
	char *dir = tmpdir_new(), path[256], blocker[300], inside[320];
	uint64_t next = 0;
	struct stat st;
	struct hub *h;
	int n, fd;

	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	snprintf(blocker, sizeof(blocker), "%s.1", path);
	snprintf(inside, sizeof(inside), "%s/x", blocker);
	assert_int_equal(mkdir(blocker, 0700), 0);
	fd = open(inside, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	h = hub_make(0, path, 500, 1);
	for (n = 0; n < 20; n++)
		publish_api(h, "t");
	assert_int_equal(hub_export_errors(h), 0);
	assert_int_equal(check_lines(path, &next), 20);
	assert_int_equal(stat(blocker, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	assert_int_equal(unlink(inside), 0);
	assert_int_equal(rmdir(blocker), 0);
	for (n = 0; n < 40; n++)
		publish_api(h, "t");
	assert_int_equal(hub_export_errors(h), 0);
	hub_free(h);
	assert_int_equal(stat(blocker, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	next = 0;
	check_lines(blocker, &next);
	check_lines(path, &next);
	assert_int_equal(next, 61);
	tmpdir_free(dir);
}

static void test_export_open_errors(void **state)
{
	char *dir = tmpdir_new(), path[256];
	struct hub_config cfg = {.host = "worker-1", .export_path = "/nonexistent-fng/ev.jsonl"};
	struct export *x = (struct export *)1;
	struct hub *h = (struct hub *)1;

	assert_int_equal(export_open(&x, "/nonexistent-fng/ev.jsonl", 0, 0), -ENOENT);
	assert_null(x);
	x = (struct export *)1;
	assert_int_equal(export_open(&x, dir, 0, 0), -EISDIR);
	assert_null(x);
	assert_int_equal(export_open(&x, "", 0, 0), -EINVAL);
	assert_int_equal(hub_new(&h, &cfg), -ENOENT);
	assert_null(h);
	cfg.export_path = NULL;
	cfg.host = NULL;
	assert_int_equal(hub_new(&h, &cfg), -EINVAL);
	if (geteuid()) {
		/* root ignores the mode bits */
		assert_int_equal(chmod(dir, 0500), 0);
		snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
		assert_int_equal(export_open(&x, path, 0, 0), -EACCES);
		assert_int_equal(chmod(dir, 0700), 0);
	}
	tmpdir_free(dir);
}

/* Every write fails (ENOSPC): counted, never fatal, subscribers unaffected, nothing rotated. */
static void test_export_write_errors(void **state)
{
	struct hub *h = hub_make(0, "/dev/full", 100, 1);
	struct sink *k = sink_new();
	struct stat st;
	int i;

	assert_non_null(hub_subscribe(h, 0, false, sink_deliver, k));
	for (i = 0; i < 5; i++)
		publish_api(h, "t");
	assert_int_equal(hub_export_errors(h), 5);
	assert_int_equal(k->n, 5);
	assert_int_equal(hub_seq(h), 5);
	assert_int_equal(stat("/dev/full", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(stat("/dev/full.1", &st), -1);
	hub_free(h);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seq_host),
	    cmocka_unit_test(test_replay_retain),
	    cmocka_unit_test(test_type_mask),
	    cmocka_unit_test(test_slow_subscriber),
	    cmocka_unit_test(test_loss_reported_by_publish),
	    cmocka_unit_test(test_replay_full_subscriber),
	    cmocka_unit_test(test_broken_subscriber),
	    cmocka_unit_test(test_unsubscribe_in_callback),
	    cmocka_unit_test(test_export_lines),
	    cmocka_unit_test(test_export_rotate),
	    cmocka_unit_test(test_export_rotate_failure),
	    cmocka_unit_test(test_export_open_errors),
	    cmocka_unit_test(test_export_write_errors),
	};

	umask(022); /* the modes checked are 0640 as created */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
