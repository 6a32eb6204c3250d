// SPDX-License-Identifier: Apache-2.0
/*
 * The telemetry hub: sequence numbers, the retained ring for replay, the exporter and fan-out to
 * subscribers with per-subscriber loss accounting. See hub.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "hub.h"
#include "log.h"

/* One retained event, packed: the ring holds bytes, never pointers into a caller's event. */
struct hub_slot {
	uint8_t *buf;
	size_t len;
	size_t cap; /* the buffer is reused by the events that replace this one */
	uint64_t seq;
};

struct hub_sub {
	struct hub_sub *next;
	uint32_t mask;
	hub_deliver_fn fn;
	void *ctx;
	uint64_t lost; /* missed since its last loss report */
	int err;       /* first error other than -ENOBUFS */
	bool removed;  /* unsubscribed during a delivery: freed when it ends */
};

struct hub {
	char *host;
	struct export *exp;
	struct hub_slot *ring;
	size_t retain;
	size_t head; /* oldest retained event */
	size_t count;
	uint64_t seq;
	uint64_t lost;
	struct hub_sub *subs, *tail; /* in subscription order */
	unsigned depth;		     /* callbacks running: subscribers are not freed */
	bool sweep;		     /* some subscriber was unsubscribed meanwhile */
	bool retain_failing;
	/* Loss reports are built here; a nested one (from a callback) allocates its own. */
	struct telemetry_event *scratch;
	bool scratch_busy;
};

int hub_new(struct hub **out, const struct hub_config *cfg)
{
	struct hub *h;
	int err;

	*out = NULL;
	if (!cfg || !cfg->host)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->retain = cfg->retain ? cfg->retain : HUB_RETAIN_DEFAULT;
	h->host = strdup(cfg->host);
	h->ring = calloc(h->retain, sizeof(*h->ring));
	h->scratch = malloc(sizeof(*h->scratch));
	if (!h->host || !h->ring || !h->scratch) {
		err = -ENOMEM;
		goto fail;
	}
	if (cfg->export_path) {
		err = export_open(&h->exp, cfg->export_path, cfg->export_rotate_bytes,
				  cfg->export_keep);
		if (err) {
			errno = -err;
			log_warn("%s: cannot open telemetry export file", cfg->export_path);
			goto fail;
		}
	}
	*out = h;
	return 0;
fail:
	hub_free(h);
	return err;
}

void hub_free(struct hub *h)
{
	struct hub_sub *s, *next;
	size_t i;

	if (!h)
		return;
	for (s = h->subs; s; s = next) {
		next = s->next;
		free(s);
	}
	if (h->ring)
		for (i = 0; i < h->retain; i++)
			free(h->ring[i].buf);
	free(h->ring);
	export_close(h->exp);
	free(h->scratch);
	free(h->host);
	free(h);
}

uint64_t hub_seq(const struct hub *h)
{
	return h->seq;
}

uint64_t hub_lost_subscribers(const struct hub *h)
{
	return h->lost;
}

uint64_t hub_export_errors(const struct hub *h)
{
	return export_errors(h->exp);
}

uint64_t hub_sub_lost(const struct hub_sub *s)
{
	return s->lost;
}

int hub_sub_error(const struct hub_sub *s)
{
	return s->err;
}

/* ------------------------------------------------------------ the ring */

/*
 * Keeps a packed copy of @ev, dropping the oldest when full. Out of memory, the event is only
 * missing from later replays (live subscribers and the exporter still get it): logged once.
 */
static void hub_ring_put(struct hub *h, const Fnguard__V1__Event *ev)
{
	size_t len = fnguard__v1__event__get_packed_size(ev);
	size_t idx = h->count < h->retain ? (h->head + h->count) % h->retain : h->head;
	struct hub_slot *slot = &h->ring[idx];
	uint8_t *buf;

	if (slot->cap < len) {
		buf = realloc(slot->buf, len);
		if (!buf) {
			if (!h->retain_failing)
				log_warnx("telemetry: no memory, event %llu not kept for replay",
					  (unsigned long long)ev->seq);
			h->retain_failing = true;
			return;
		}
		slot->buf = buf;
		slot->cap = len;
	}
	h->retain_failing = false;
	slot->len = fnguard__v1__event__pack(ev, slot->buf);
	slot->seq = ev->seq;
	if (h->count < h->retain)
		h->count++;
	else
		h->head = (h->head + 1) % h->retain;
}

/* Called with each retained event matching @mask, or NULL for one that could not be unpacked. */
typedef int (*hub_walk_fn)(struct hub *h, void *arg, const Fnguard__V1__Event *ev);

static int hub_ring_walk(struct hub *h, uint32_t mask, hub_walk_fn cb, void *arg)
{
	Fnguard__V1__Event *ev;
	struct hub_slot *slot;
	uint64_t last = 0;
	size_t i;
	int rc;

	/*
	 * Each event is unpacked into memory of its own, so a callback that (wrongly) publishes
	 * cannot pull the bytes from under it; the seq check keeps the walk in order then.
	 */
	for (i = 0; i < h->count; i++) {
		slot = &h->ring[(h->head + i) % h->retain];
		if (slot->seq <= last)
			continue;
		last = slot->seq;
		ev = fnguard__v1__event__unpack(NULL, slot->len, slot->buf);
		if (ev && !telemetry_filter_match(mask, ev)) {
			fnguard__v1__event__free_unpacked(ev, NULL);
			continue;
		}
		rc = cb(h, arg, ev);
		if (ev)
			fnguard__v1__event__free_unpacked(ev, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

struct hub_replay_arg {
	hub_deliver_fn fn;
	void *ctx;
};

static int hub_replay_one(struct hub *h, void *arg, const Fnguard__V1__Event *ev)
{
	struct hub_replay_arg *a = arg;

	return ev ? a->fn(a->ctx, ev) : -ENOMEM;
}

int hub_replay(struct hub *h, uint32_t mask, hub_deliver_fn fn, void *ctx)
{
	struct hub_replay_arg a = {.fn = fn, .ctx = ctx};

	return hub_ring_walk(h, mask, hub_replay_one, &a);
}

/* ----------------------------------------------------------- subscribers */

static void hub_sub_unlink(struct hub *h, struct hub_sub *s)
{
	struct hub_sub **pp, *prev = NULL;

	for (pp = &h->subs; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp != s)
			continue;
		*pp = s->next;
		if (h->tail == s)
			h->tail = prev;
		return;
	}
}

/* Leaves a delivery: the outermost one frees the subscribers unsubscribed meanwhile. */
static void hub_depth_put(struct hub *h)
{
	struct hub_sub *s, *next;

	if (--h->depth || !h->sweep)
		return;
	h->sweep = false;
	for (s = h->subs; s; s = next) {
		next = s->next;
		if (s->removed) {
			hub_sub_unlink(h, s);
			free(s);
		}
	}
}

void hub_unsubscribe(struct hub *h, struct hub_sub *s)
{
	if (!s || s->removed)
		return;
	if (h->depth) {
		/* Inside a callback: the delivery loop still holds s (or its neighbours). */
		s->removed = true;
		h->sweep = true;
		return;
	}
	hub_sub_unlink(h, s);
	free(s);
}

static void hub_sub_count_loss(struct hub *h, struct hub_sub *s, int err)
{
	s->lost++;
	h->lost++;
	if (err != -ENOBUFS && !s->err)
		s->err = err;
}

static int hub_sub_deliver(struct hub *h, struct hub_sub *s, const Fnguard__V1__Event *ev)
{
	int rc = s->fn(s->ctx, ev);

	if (rc)
		hub_sub_count_loss(h, s, rc);
	return rc;
}

void hub_sub_writable(struct hub *h, struct hub_sub *s)
{
	const struct telemetry_origin o = {.host = h->host};
	struct telemetry_event *t = h->scratch;
	uint64_t seq;
	int rc;

	if (!s || s->removed || !s->lost)
		return;
	if (h->scratch_busy) {
		t = malloc(sizeof(*t));
		if (!t)
			return; /* the count stays: reported at the next chance */
	}
	h->scratch_busy = true;
	telemetry_loss(t, s->lost, "subscriber");
	seq = ++h->seq;
	telemetry_stamp(t, &o, seq);
	h->depth++;
	rc = s->fn(s->ctx, &t->ev);
	if (!rc) {
		s->lost = 0;
	} else {
		/*
		 * Nobody got this seq: give it back, or a stalled subscriber would put a gap in
		 * everyone else's stream at each event it misses.
		 */
		if (h->seq == seq)
			h->seq--;
		if (rc != -ENOBUFS && !s->err)
			s->err = rc;
	}
	if (t == h->scratch)
		h->scratch_busy = false;
	else
		free(t);
	hub_depth_put(h); /* last: it may free s */
}

static int hub_replay_sub(struct hub *h, void *arg, const Fnguard__V1__Event *ev)
{
	struct hub_sub *s = arg;

	if (s->removed)
		return 1;
	/*
	 * Once it is full, the rest of the replay is counted lost without asking again: a loss
	 * report here would come between replayed events with a seq out of their order. It gets
	 * the report at its next hub_sub_writable() or event.
	 */
	if (!ev || s->lost)
		hub_sub_count_loss(h, s, -ENOBUFS);
	else
		hub_sub_deliver(h, s, ev);
	return 0;
}

struct hub_sub *hub_subscribe(struct hub *h, uint32_t type_mask, bool replay, hub_deliver_fn fn,
			      void *ctx)
{
	struct hub_sub *s = calloc(1, sizeof(*s));
	bool gone;

	if (!s)
		return NULL;
	s->mask = type_mask;
	s->fn = fn;
	s->ctx = ctx;
	if (h->tail)
		h->tail->next = s;
	else
		h->subs = s;
	h->tail = s;
	if (!replay)
		return s;
	h->depth++;
	hub_ring_walk(h, type_mask, hub_replay_sub, s);
	gone = s->removed;
	hub_depth_put(h);
	return gone ? NULL : s;
}

/* ------------------------------------------------------------ publishing */

static void hub_publish_to(struct hub *h, struct hub_sub *s, const Fnguard__V1__Event *ev)
{
	if (s->removed || !telemetry_filter_match(s->mask, ev))
		return;
	if (s->lost) {
		/* No room even for its loss report: this event is lost as well. */
		hub_sub_count_loss(h, s, -ENOBUFS);
		return;
	}
	hub_sub_deliver(h, s, ev);
}

uint64_t hub_publish(struct hub *h, struct telemetry_event *t, const struct telemetry_origin *o)
{
	struct telemetry_origin org = {0};
	struct hub_sub *s;
	uint64_t seq;

	/*
	 * Subscribers unsubscribed by a callback stay linked (marked) until the loops end, so
	 * s->next is always valid; one subscribed by a callback is appended and gets this event.
	 */
	h->depth++;
	/*
	 * Pending losses are reported first, to the subscribers this event is for, so that the
	 * report comes before the event both in their stream and in seq order.
	 */
	for (s = h->subs; s; s = s->next)
		if (s->lost && !s->removed && telemetry_filter_match(s->mask, &t->ev))
			hub_sub_writable(h, s);
	if (o)
		org = *o;
	org.host = h->host;
	seq = ++h->seq;
	telemetry_stamp(t, &org, seq);
	hub_ring_put(h, &t->ev);
	/* export_write() counts and logs its failures: the event still goes to subscribers. */
	if (h->exp)
		export_write(h->exp, &t->ev);
	for (s = h->subs; s; s = s->next)
		hub_publish_to(h, s, &t->ev);
	hub_depth_put(h);
	return seq;
}
