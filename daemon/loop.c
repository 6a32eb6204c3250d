// SPDX-License-Identifier: Apache-2.0
/* The daemon's epoll loop (loop.h). */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "loop.h"

int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int loop_open(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int loop_add(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	w->loop = l;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int loop_mod(struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	return epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void loop_del(struct watch *w)
{
	/* A watch never added has no loop yet: nothing to remove. */
	if (w->fd >= 0 && w->loop)
		epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int loop_run_once(struct loop *l, int timeout_ms, volatile int *stop)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, 32, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !*stop; i++) {
		struct watch *w = evs[i].data.ptr;

		w->fn(w, evs[i].events);
	}
	return 0;
}
