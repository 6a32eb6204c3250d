/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The telemetry hub of fnguardd (docs/telemetry.md): every event the daemon produces goes
 * through hub_publish(), which gives it its seq and host, keeps it for replay, writes it to the
 * file exporter and hands it to each subscriber (Subscribe streams, `fnguard events`).
 *
 * The hub never blocks on a subscriber: one that has no room loses the event, the loss is
 * counted for it, and when it has room again it first gets a `loss` event (where "subscriber")
 * saying how many it missed. A slow subscriber therefore costs only itself.
 *
 * Sequence numbers: each published event takes the next seq. A subscriber's `loss` event takes
 * one too, from the same sequence, so that every event a client sees has a seq no other event
 * has; the other subscribers (and the exporter, and replay) then see a gap of one at that seq
 * that is not a loss of theirs. That is the one exception to "a gap means loss", and the `loss`
 * event that caused it says where it went. A loss report that could not be delivered gives its
 * seq back, so a stalled subscriber does not fill everyone else's stream with gaps.
 *
 * The hub is not thread-safe: the daemon drives it from its event loop. A deliver callback must
 * not call hub_unsubscribe(), hub_publish() or hub_free(): it returns an error instead and its
 * owner removes it afterwards. (hub_unsubscribe() from inside a callback is tolerated anyway:
 * the subscriber is only marked and freed when the outermost delivery loop ends.)
 */
#ifndef FNGUARD_HUB_H
#define FNGUARD_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "telemetry.h"

#define HUB_RETAIN_DEFAULT 1024u

struct hub_config {
	const char *host;	 /* Event.host of every event */
	size_t retain;		 /* events kept for Subscribe without follow (replay); 0: 1024 */
	const char *export_path; /* JSON-lines file exporter; NULL: none */
	uint64_t export_rotate_bytes; /* rotate when the file would pass this; 0: 64 MiB */
	unsigned export_keep;	      /* rotated files kept: PATH.1 .. PATH.N; 0: 5 */
};

struct hub;
struct hub_sub;

/*
 * Delivers one event to a subscriber: 0 delivered, -ENOBUFS the subscriber has no room (the hub
 * counts the loss and never blocks), other -errno: the subscriber is broken (counted as lost
 * too; hub_sub_error() keeps the first such error for its owner). @ev is valid only during the
 * call: a subscriber that keeps it packs or copies it.
 */
typedef int (*hub_deliver_fn)(void *ctx, const Fnguard__V1__Event *ev);

/* 0, -EINVAL (no host), -ENOMEM, or export_open()'s error for cfg->export_path. */
int hub_new(struct hub **out, const struct hub_config *cfg);
void hub_free(struct hub *h);

/*
 * Stamps @t (telemetry_stamp with @o, whose host is replaced by the hub's, and the next seq;
 * time now unless set), keeps a copy in the retained ring (packed protobuf bytes, so the ring
 * holds no pointers into @t), writes it to the exporter, and delivers it to every subscriber
 * whose type mask matches. @o may be NULL (host only). Never blocks. Returns the seq given.
 */
uint64_t hub_publish(struct hub *h, struct telemetry_event *t, const struct telemetry_origin *o);

/*
 * A subscriber with a type mask (telemetry_filter_*; 0 = all). With @replay, the retained events
 * that match are delivered first (in seq order), inside this call; those it has no room for are
 * counted as its losses. Its `loss` events are delivered whatever its mask: losses are never
 * silent. NULL when out of memory (or when its callback unsubscribed it during the replay).
 */
struct hub_sub *hub_subscribe(struct hub *h, uint32_t type_mask, bool replay, hub_deliver_fn fn,
			      void *ctx);
/* Removes and frees @s (NULL is ignored); its losses stay in hub_lost_subscribers(). */
void hub_unsubscribe(struct hub *h, struct hub_sub *s);

/*
 * The subscriber has room again: if it lost events, first deliver it a `loss` event
 * (telemetry_loss, where "subscriber", events_lost = how many it missed since its last loss
 * report), stamped with a seq of its own from the hub's sequence (see above), then reset its
 * count. Also called by hub_publish before delivering to a subscriber that has pending losses
 * (before the event takes its seq, so the report's seq comes first in that stream too).
 * The loss event is neither retained nor exported: it is about this subscriber only.
 */
void hub_sub_writable(struct hub *h, struct hub_sub *s);
/* Events @s missed and was not told about yet. */
uint64_t hub_sub_lost(const struct hub_sub *s);
/* The first error other than -ENOBUFS its callback returned, else 0: the owner drops it. */
int hub_sub_error(const struct hub_sub *s);

/* Totals, for `fnguard status` and tests. */
uint64_t hub_seq(const struct hub *h);		    /* last seq given */
uint64_t hub_lost_subscribers(const struct hub *h); /* events not delivered to some subscriber */
uint64_t hub_export_errors(const struct hub *h);    /* events the exporter failed to write */

/*
 * Iterate the retained events matching @mask, oldest first: calls fn for each; stops at a
 * non-zero return and returns it. -ENOMEM when an event could not be unpacked.
 */
int hub_replay(struct hub *h, uint32_t mask, hub_deliver_fn fn, void *ctx);

#endif
