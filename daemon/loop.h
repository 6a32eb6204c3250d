/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's one epoll loop: every file descriptor it waits on is a struct watch, and
 * nothing blocks but epoll_wait(). The loop knows nothing of the daemon: a watch's callback
 * finds the daemon that owns the loop from w->loop (watch_daemon() in fnguardd.h).
 */
#ifndef FNGUARD_LOOP_H
#define FNGUARD_LOOP_H

#include <stdint.h>

struct loop {
	int epfd;
};

struct watch {
	int fd;
	void (*fn)(struct watch *w, uint32_t events);
	struct loop *loop; /* set by loop_add() */
};

int loop_open(struct loop *l);
void loop_close(struct loop *l);
int loop_add(struct loop *l, struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
/* Nothing for a watch never added. */
void loop_del(struct watch *w);
/* Waits up to @timeout_ms (-1: until something happens) and calls the ready watches' callbacks
 * while *@stop is 0; -errno on an epoll failure, else 0. */
int loop_run_once(struct loop *l, int timeout_ms, volatile int *stop);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t mono_ns(void);

#endif
