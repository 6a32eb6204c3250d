// SPDX-License-Identifier: Apache-2.0
/*
 * API connections, each bounded so that no client, nor many of them, can exhaust the daemon:
 *
 *  - admission: at most CLIENTS_PER_UID connections per user and CLIENTS_MAX in all, plus
 *    CLIENTS_RESERVED that only root and the daemon's user may take, so that another user's
 *    connections never lock them out;
 *  - input: a request frame may be large only for the methods that carry a payload or a
 *    policy (invoke, register_function), which the first bytes of its body say before the body
 *    is buffered; everything else is at most REQUEST_SMALL_MAX. Large frames are charged to a
 *    budget for all connections together (DECODE_BUDGET): a frame that does not fit waits,
 *    unread, until others are done (root's and the daemon's user's never wait);
 *  - output: replies are buffered and written when the socket is writable, so a client that
 *    does not read never blocks the daemon; past CLIENT_OUT_SOFT unread bytes its requests are
 *    no longer read (back-pressure), past CLIENT_OUT_MAX it is closed. Subscriptions stop
 *    filling a buffer past CLIENT_SUB_MAX: the hub counts what that subscriber lost and tells
 *    it with a `loss` event once it reads again;
 *  - time: a connection where nothing moves for the idle timeout (IDLE_TIMEOUT_S, or
 *    $FNGUARD_TEST_IDLE_S read once at start) is closed, unless it follows the event stream or
 *    waits for an invocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "api.h"
#include "control.h"
#include "invocations.h"
#include "log.h"

#define CLIENTS_MAX 256
#define CLIENTS_RESERVED 16
#define CLIENTS_PER_UID 16

#define REQUEST_SMALL_MAX (64u << 10)
/* A payload or a policy, and a few fields (names, paths) beside it. */
#define REQUEST_SLACK (64u << 10)
#define REQUEST_INVOKE_MAX (FNGUARD_PAYLOAD_MAX + REQUEST_SLACK)
#define REQUEST_REGISTER_MAX (FNG_POLICY_MAX_SIZE + REQUEST_SLACK)
#define DECODE_BUDGET (64u << 20)
#define READ_CHUNK CONTROL_READ_CHUNK
/* A decoder keeps up to this much room between frames. */
#define DECODE_KEEP (2 * READ_CHUNK)

#define CLIENT_SUB_MAX (4u << 20)
#define CLIENT_OUT_SOFT (1u << 20)
#define CLIENT_OUT_MAX (32u << 20)

#define IDLE_TIMEOUT_S 60

static size_t client_pending(const struct client *c)
{
	return c->out_len - c->out_off;
}

static void budget_release(struct client *c)
{
	struct control *ctl = c->d->control;

	if (!c->charged)
		return;
	ctl->budget_used -= c->charged;
	c->charged = 0;
	for (struct client *o = ctl->clients; o; o = o->next)
		if (o->budget_wait) {
			o->budget_wait = false;
			loop_mod(&o->w, o->armed = o->armed | EPOLLIN);
		}
}

/* Reading while nothing holds it back; writing while there is output, or to resume. */
static void client_arm(struct client *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (!c->held && !c->budget_wait)
		ev |= EPOLLIN;
	if (client_pending(c) || c->held)
		ev |= EPOLLOUT;
	if (ev != c->armed && !loop_mod(&c->w, ev))
		c->armed = ev;
}

static void client_close(struct client *c)
{
	struct control *ctl = c->d->control;
	struct client **pp;

	for (pp = &ctl->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->sub)
		hub_unsubscribe(c->d->hub, c->sub);
	inv_client_gone(c->d, c);
	loop_del(&c->w);
	close(c->w.fd);
	budget_release(c);
	wire_decoder_free(&c->dec);
	free(c->out);
	free(c);
	ctl->n_clients--;
}

static void client_kill(struct client *c)
{
	c->dead = true;
	shutdown(c->w.fd, SHUT_RDWR); /* closed from the loop */
}

/* Write what can be written now; the rest waits for EPOLLOUT. Never calls into the hub. */
static void client_write(struct client *c)
{
	while (client_pending(c)) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, client_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			client_kill(c);
			return;
		}
		c->out_off += (size_t)n;
		c->active_mono = mono_ns();
	}
	if (!client_pending(c))
		c->out_off = c->out_len = 0;
	client_arm(c);
}

/* client_write(), then a subscriber with room again hears of what it lost. */
void client_flush(struct client *c)
{
	client_write(c);
	if (c->sub && !c->dead && client_pending(c) < CLIENT_SUB_MAX / 2)
		hub_sub_writable(c->d->hub, c->sub);
}

static int client_queue(struct client *c, const uint8_t *buf, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (client_pending(c) + len > CLIENT_OUT_MAX) {
		log_warnx("client pid %d uid %u: %zu bytes of replies not read, over the limit of "
			  "%u MiB: closed",
			  c->cred.pid, c->cred.uid, client_pending(c) + len, CLIENT_OUT_MAX >> 20);
		client_kill(c);
		return -ENOBUFS;
	}
	if (c->out_off && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 65536;
		uint8_t *p;

		/* Drop what was sent before growing. */
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, client_pending(c));
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

int client_send(struct client *c, Fnguard__V1__Response *r)
{
	uint8_t *buf;
	size_t len;
	int err = wire_frame_pack(&r->base, 0, &buf, &len);

	if (err)
		return err;
	err = client_queue(c, buf, len);
	free(buf);
	if (!err)
		client_flush(c);
	return err;
}

void client_send_error(struct client *c, uint64_t id, Fnguard__V1__ErrorCode code, const char *fmt,
		       ...)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__Error e = FNGUARD__V1__ERROR__INIT;
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e.code = code;
	e.message = msg;
	r.id = id;
	r.error = &e;
	client_send(c, &r);
}

void client_invoke_done(struct client *c, uint64_t req_id, const struct inv *inv,
			Fnguard__V1__InvokeResult *res)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;

	r.id = req_id;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_INVOKE;
	r.invoke = res;
	client_send(c, &r);
}

int client_deliver(void *ctx, const Fnguard__V1__Event *ev)
{
	struct client *c = ctx;
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	uint8_t *buf;
	size_t len;
	int err;

	if (c->dead)
		return -EPIPE;
	if (client_pending(c) >= CLIENT_SUB_MAX)
		return -ENOBUFS;
	r.id = c->sub_id;
	r.more = true;
	r.result_case = FNGUARD__V1__RESPONSE__RESULT_EVENT;
	r.event = (Fnguard__V1__Event *)ev;
	err = wire_frame_pack(&r.base, 0, &buf, &len);
	if (err)
		return err;
	err = client_queue(c, buf, len);
	free(buf);
	if (!err)
		client_write(c);
	return err;
}

/* ------------------------------------------------------------------ input */

/*
 * The method of a Request from the first bytes of its body, as every encoder writes it: the
 * id (field 1) if not 0, then the oneof field (16-22). 0 for anything else, -EAGAIN when more
 * bytes are needed to tell.
 */
static int request_method_peek(const uint8_t *p, size_t n)
{
	size_t i = 0;
	uint32_t key;

	if (n && p[0] == 0x08) {
		for (i = 1; i < n && i <= WIRE_VARINT_MAX && (p[i] & 0x80); i++)
			;
		if (i > WIRE_VARINT_MAX)
			return 0;
		i++;
	}
	if (i + 2 > n)
		return -EAGAIN;
	/* Field numbers 16-22 with wire type 2 are two-byte keys: 0x82..0xb2, 0x01. */
	key = (p[i] & 0x7fu) | (uint32_t)p[i + 1] << 7;
	if (!(p[i] & 0x80) || (p[i + 1] & 0x80) || (key & 7) != 2)
		return 0;
	return (int)(key >> 3);
}

/*
 * Before reading more of the frame at the front: refuses it when it is over what its method
 * may send (-EMSGSIZE, the client told why), and charges a large one to the budget (1: it
 * waits for room). 0: go on reading.
 */
static int client_admit(struct client *c)
{
	struct control *ctl = c->d->control;
	const uint8_t *body;
	uint64_t len;
	size_t avail, max, need;
	int r = wire_decoder_peek(&c->dec, &len, &body, &avail), m;
	const char *what;

	if (r <= 0 || c->charged || len <= REQUEST_SMALL_MAX)
		return 0;
	m = request_method_peek(body, avail);
	if (m == -EAGAIN)
		return 0; /* a few bytes more: the read after this one is bounded too */
	if (m == FNGUARD__V1__REQUEST__METHOD_INVOKE) {
		max = REQUEST_INVOKE_MAX;
		what = "invoke";
	} else if (m == FNGUARD__V1__REQUEST__METHOD_REGISTER_FUNCTION) {
		max = REQUEST_REGISTER_MAX;
		what = "register_function";
	} else {
		max = REQUEST_SMALL_MAX;
		what = m ? "this" : "an unrecognised";
	}
	if (len > max) {
		client_send_error(c, 0, FNGUARD__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE,
				  "request of %llu bytes: over the limit of %zu bytes for %s "
				  "request (only invoke and register_function may be larger than "
				  "%u bytes)",
				  (unsigned long long)len, max, what, REQUEST_SMALL_MAX);
		log_info("client pid %d uid %u: request of %llu bytes refused (over %zu)",
			 c->cred.pid, c->cred.uid, (unsigned long long)len, max);
		c->dead = true;
		return -EMSGSIZE;
	}
	/* What the decoder grows to, doubling from 4 KiB, to hold the whole frame. */
	for (need = 4096; need < len + WIRE_VARINT_MAX; need *= 2)
		;
	if (!c->privileged && ctl->budget_used + need > DECODE_BUDGET) {
		c->budget_wait = true;
		return 1;
	}
	ctl->budget_used += need;
	c->charged = need;
	return 0;
}

static void client_framing_error(struct client *c)
{
	client_send_error(c, 0, FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT, "framing: %s",
			  wire_decoder_error(&c->dec));
	c->dead = true;
}

/* Handles the complete frames, until the output is over CLIENT_OUT_SOFT. */
static void client_process(struct client *c)
{
	const uint8_t *frame;
	size_t len;
	int r = 0;

	while (!c->dead) {
		struct ucred from;
		Fnguard__V1__Request *rq;

		if (client_pending(c) >= CLIENT_OUT_SOFT) {
			c->held = true;
			return;
		}
		r = wire_decoder_next(&c->dec, &frame, &len);
		if (r <= 0)
			break;
		/* The frame at the front is done; the next begins in the last bytes read. */
		from = c->front;
		c->front = c->last;
		c->active_mono = mono_ns();
		rq = fnguard__v1__request__unpack(NULL, len, frame);
		if (!rq) {
			client_send_error(c, 0,
					  FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT,
					  "malformed request: not a fnguard.v1.Request");
			control_record(c->d, &from, "unknown", "", "malformed request", false);
			c->dead = true;
			break;
		}
		control_request(c, rq, &from);
		fnguard__v1__request__free_unpacked(rq, NULL);
		budget_release(c);
	}
	if (r < 0)
		client_framing_error(c);
	if (!c->dead)
		wire_decoder_shrink(&c->dec, DECODE_KEEP);
}

static void client_read(struct client *c)
{
	struct control *ctl = c->d->control;
	uint8_t *buf = ctl->read_buf;
	size_t want = sizeof(ctl->read_buf), before = wire_decoder_pending(&c->dec);
	const uint8_t *body;
	struct ucred from;
	uint64_t flen;
	size_t avail;
	long n;

	if (client_admit(c))
		return;
	/* A charged frame is read up to its end, so that the decoder stays within the charge. */
	if (c->charged && wire_decoder_peek(&c->dec, &flen, &body, &avail) == 1 &&
	    flen - avail < want)
		want = (size_t)(flen - avail);
	n = control_recv(c->w.fd, buf, want ? want : 1, &from);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		if (n < 0 && n != -ECONNRESET)
			log_debug("client pid %d: %s", c->cred.pid, strerror((int)-n));
		c->dead = true;
		return;
	}
	c->active_mono = mono_ns();
	c->front = before ? control_cred_least(&c->front, &from) : from;
	c->last = from;
	if (wire_decoder_feed(&c->dec, buf, (size_t)n) < 0) {
		if (wire_decoder_error(&c->dec)[0])
			client_framing_error(c);
		else
			c->dead = true;
		return;
	}
	client_process(c);
	if (!c->dead && !c->held)
		client_admit(c); /* an oversized frame is refused at once, a large one charged */
}

static void client_event(struct watch *w, uint32_t events)
{
	struct client *c = (struct client *)((char *)w - offsetof(struct client, w));

	if (events & EPOLLOUT)
		client_flush(c);
	if (!c->dead && c->held && client_pending(c) < CLIENT_OUT_SOFT / 2) {
		c->held = false;
		client_process(c);
		if (!c->dead && !c->held)
			client_admit(c);
	}
	if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && (c->held || c->budget_wait))
		c->dead = true; /* gone while it was not read */
	else if (!c->dead && !c->held && !c->budget_wait &&
		 (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		client_read(c);
	if (c->dead) {
		/* Say why before closing (best effort), then close. */
		client_write(c);
		client_close(c);
		return;
	}
	client_arm(c);
}

/* ------------------------------------------------------------------ admission */

static bool uid_privileged(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Why a new connection of @uid is refused, or NULL. */
static const char *admission_refusal(const struct control *ctl, uid_t uid)
{
	unsigned mine = 0;

	if (uid_privileged(uid))
		return ctl->n_clients >= CLIENTS_MAX + CLIENTS_RESERVED ? "too many connections" : NULL;
	if (ctl->n_clients >= CLIENTS_MAX)
		return "too many connections";
	for (struct client *c = ctl->clients; c; c = c->next)
		mine += c->cred.uid == uid;
	return mine >= CLIENTS_PER_UID ? "too many connections of this user" : NULL;
}

/* Tells a refused client why (best effort: it may not be reading yet) and closes it. */
static void admission_refuse(struct control *ctl, int fd, const struct ucred *cr, const char *why)
{
	Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;
	Fnguard__V1__Error e = FNGUARD__V1__ERROR__INIT;
	char msg[160];
	int64_t now = mono_ns();
	uint8_t *buf;
	size_t len;

	snprintf(msg, sizeof(msg), "connection refused: %s (%u in all, %u per user)", why,
		 CLIENTS_MAX, CLIENTS_PER_UID);
	e.code = FNGUARD__V1__ERROR_CODE__ERROR_CODE_RESOURCE_EXHAUSTED;
	e.message = msg;
	r.error = &e;
	if (!wire_frame_pack(&r.base, 0, &buf, &len)) {
		(void)!send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		free(buf);
	}
	close(fd);
	/* One line a second at most: refusals come in floods. */
	if (now - ctl->refusal_logged < 1000000000LL) {
		ctl->refusals_quiet++;
		return;
	}
	log_warnx("client pid %d uid %u: %s%s", cr->pid, cr->uid, msg,
		  ctl->refusals_quiet ? " (and earlier ones not logged)" : "");
	ctl->refusal_logged = now;
	ctl->refusals_quiet = 0;
}

static void listener_event(struct watch *w, uint32_t events)
{
	struct control *ctl = watch_daemon(w)->control;

	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		socklen_t sl = sizeof(struct ucred);
		struct ucred cr;
		const char *why;
		struct client *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept");
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) ||
		    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one))) {
			log_warn("client credentials");
			close(fd);
			continue;
		}
		why = admission_refusal(ctl, cr.uid);
		if (why) {
			admission_refuse(ctl, fd, &cr, why);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			log_warn("client");
			close(fd);
			continue;
		}
		c->d = watch_daemon(w);
		c->cred = c->front = c->last = cr;
		c->privileged = uid_privileged(cr.uid);
		c->active_mono = mono_ns();
		c->w.fd = fd;
		c->w.fn = client_event;
		wire_decoder_init(&c->dec, REQUEST_INVOKE_MAX);
		c->armed = EPOLLIN;
		if (loop_add(&c->d->loop, &c->w, EPOLLIN)) {
			log_warn("epoll");
			free(c);
			close(fd);
			continue;
		}
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->n_clients++;
	}
}

/* ------------------------------------------------------------------ the idle timeout */

/* Whether an invocation, queued or running, will answer @c. */
static bool client_awaited(const struct client *c)
{
	const struct fnguardd *d = c->d;

	for (struct fn *fn = d->fns; fn; fn = fn->next)
		for (struct inv *inv = fn->queue; inv; inv = inv->next)
			if (inv->client == c)
				return true;
	for (struct env *e = d->envs; e; e = e->next)
		if (e->cur && e->cur->client == c)
			return true;
	return false;
}

static void idle_event(struct watch *w, uint32_t events)
{
	struct control *ctl = watch_daemon(w)->control;
	int64_t now = mono_ns();
	struct client *c, *next;
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	for (c = ctl->clients; c; c = next) {
		next = c->next;
		if (c->sub || now - c->active_mono < ctl->idle_ns || client_awaited(c))
			continue;
		log_info("client pid %d uid %u: nothing for %lld s: closed", c->cred.pid,
			 c->cred.uid, (long long)(ctl->idle_ns / 1000000000));
		client_close(c);
	}
	control_record_flush(watch_daemon(w), false);
}

int control_listener_add(struct fnguardd *d, int fd)
{
	struct control *ctl = d->control;
	int one = 1;

	/* Accepted sockets inherit it: bytes sent before accept() carry credentials too. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		log_warn("SO_PASSCRED");
	ctl->listener.fd = fd;
	ctl->listener.fn = listener_event;
	return loop_add(&d->loop, &ctl->listener, EPOLLIN) ? -errno : 0;
}

int control_conn_init(struct fnguardd *d)
{
	struct control *ctl = d->control;
	const char *env = getenv("FNGUARD_TEST_IDLE_S");
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
	long s = IDLE_TIMEOUT_S;

	if (env && *env) {
		char *end;
		long v = strtol(env, &end, 10);

		if (*end || v < 1 || v > 86400)
			log_warnx("FNGUARD_TEST_IDLE_S=%s is not 1-86400 seconds: ignored", env);
		else
			s = v;
	}
	ctl->idle_ns = s * 1000000000LL;
	ctl->idle_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ctl->idle_timer.fn = idle_event;
	if (ctl->idle_timer.fd < 0 || timerfd_settime(ctl->idle_timer.fd, 0, &its, NULL) ||
	    loop_add(&d->loop, &ctl->idle_timer, EPOLLIN)) {
		log_warn("idle timer");
		if (ctl->idle_timer.fd >= 0)
			close(ctl->idle_timer.fd);
		ctl->idle_timer.fd = -1;
		return -EIO;
	}
	return 0;
}

void control_conn_exit(struct fnguardd *d)
{
	struct control *ctl = d->control;
	struct timeval tv = {.tv_usec = 200000};

	while (ctl->clients) {
		struct client *c = ctl->clients;

		/* Followers get the end of their stream. */
		if (c->sub) {
			Fnguard__V1__Response r = FNGUARD__V1__RESPONSE__INIT;

			r.id = c->sub_id;
			client_send(c, &r);
		}
		/* What is left, waiting a moment at most for a client that does not read. */
		fcntl(c->w.fd, F_SETFL, 0);
		setsockopt(c->w.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (client_pending(c) && !c->dead)
			(void)!write(c->w.fd, c->out + c->out_off, client_pending(c));
		client_close(c);
	}
	control_record_flush(d, true);
	if (ctl->listener.fd >= 0) {
		loop_del(&ctl->listener);
		close(ctl->listener.fd);
		ctl->listener.fd = -1;
	}
	if (ctl->idle_timer.fd >= 0) {
		loop_del(&ctl->idle_timer);
		close(ctl->idle_timer.fd);
		ctl->idle_timer.fd = -1;
	}
}
