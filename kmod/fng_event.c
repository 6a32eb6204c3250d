// SPDX-License-Identifier: GPL-2.0
/*
 * Events: the probe handlers run in atomic context, so they copy each event into a bounded,
 * preallocated ring (FNG_EVENT_QUEUE slots) and a work item multicasts them to the generic
 * netlink group "events". A full ring, or a send that fails for any reason but "nobody is
 * listening" (-ESRCH), counts FNGUARD_CNT_EVENTS_DROPPED: events are never lost silently.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/sched.h>

#include "fng.h"

#define FNG_EVENT_QUEUE 4096

static struct fng_event *fng_ring;
static unsigned int fng_head, fng_tail; /* free-running; slot = index % FNG_EVENT_QUEUE */
static DEFINE_SPINLOCK(fng_ring_lock);
static bool fng_events_live;

static void fng_event_work_fn(struct work_struct *w);
static DECLARE_WORK(fng_event_work, fng_event_work_fn);

void fng_event_queue(const struct fng_event *e)
{
	unsigned long flags;
	bool queued = false;

	spin_lock_irqsave(&fng_ring_lock, flags);
	if (fng_events_live && fng_head - fng_tail < FNG_EVENT_QUEUE) {
		fng_ring[fng_head % FNG_EVENT_QUEUE] = *e;
		fng_head++;
		queued = true;
	}
	spin_unlock_irqrestore(&fng_ring_lock, flags);
	if (!queued) {
		fng_count(FNGUARD_CNT_EVENTS_DROPPED);
		return;
	}
	schedule_work(&fng_event_work);
}

static void fng_event_work_fn(struct work_struct *w)
{
	struct fng_event e;

	for (;;) {
		unsigned long flags;
		bool have = false;
		int err;

		spin_lock_irqsave(&fng_ring_lock, flags);
		if (fng_tail != fng_head) {
			e = fng_ring[fng_tail % FNG_EVENT_QUEUE];
			fng_tail++;
			have = true;
		}
		spin_unlock_irqrestore(&fng_ring_lock, flags);
		if (!have)
			break;
		err = fng_genl_multicast_event(&e);
		if (err && err != -ESRCH)
			fng_count(FNGUARD_CNT_EVENTS_DROPPED);
		cond_resched();
	}
}

void fng_events_flush(void)
{
	flush_work(&fng_event_work);
}

int fng_events_init(void)
{
	fng_ring = vzalloc(array_size(FNG_EVENT_QUEUE, sizeof(*fng_ring)));
	if (!fng_ring)
		return -ENOMEM;
	fng_events_live = true;
	return 0;
}

/* After the probes are unregistered: nothing queues any more; what is queued is sent. */
void fng_events_exit(void)
{
	unsigned long flags;

	flush_work(&fng_event_work);
	spin_lock_irqsave(&fng_ring_lock, flags);
	fng_events_live = false;
	spin_unlock_irqrestore(&fng_ring_lock, flags);
	cancel_work_sync(&fng_event_work);
	vfree(fng_ring);
	fng_ring = NULL;
}
