// SPDX-License-Identifier: Apache-2.0
/*
 * The Lambda Runtime API (runtime_api.h). Why not libmicrohttpd: Debian's is built with
 * GnuTLS, which adds about 7 MiB of libraries to every guest's initramfs (unpacked into each
 * guest's RAM) and cannot be linked statically (no static p11-kit), as the kernel test bench's
 * daemon is. The HTTP parsing is Debian's http-parser (Node.js's parser, with chunked bodies,
 * keep-alive and pipelining); what is here is the routing, the connection bookkeeping and the
 * few fixed answers, with every size bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "fnguard_api.h"
#include "runtime_api.h"

#define RAPI_PREFIX "/2018-06-01/runtime/"
#define RAPI_READ_CHUNK 65536
#define RAPI_HEADER_MAX 256	  /* bytes of a header value we keep (the error type) */
#define RAPI_IDLE_MS 600000	  /* an idle connection (not waiting for next) is closed after */
#define RAPI_HEADERS_MAX (64 << 10) /* bytes of request line and headers */

struct rapi_conn {
	int fd; /* -1: free */
	http_parser hp;
	char url[RAPI_URL_MAX];
	size_t url_len;
	bool url_too_long;
	size_t header_bytes;
	/* The header being read, and the one value we want. */
	char hname[64];
	size_t hname_len;
	bool in_error_type;
	char error_type[RAPI_HEADER_MAX];
	size_t error_type_len;
	bool last_was_value;
	/* The body, up to the limit; past it only counted. */
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	/* A complete request waits to be answered (GET next, until there is an invocation). */
	bool complete;
	bool waiting;
	/* Bytes read but not parsed: the parser paused after a complete request. */
	char *pending;
	size_t pending_len;
	/* The answer being written. */
	char *out;
	size_t out_len, out_off;
	bool close_after;
	int64_t last_ms;
};

struct rapi {
	int lfd, epfd;
	uint16_t port;
	const struct rapi_ops *ops;
	void *ctx;
	http_parser_settings hs;
	struct rapi_conn conns[RAPI_MAX_CONNS];
	/* The current invocation. */
	bool cur;
	bool given; /* handed to a GET next */
	char id[RAPI_ID_MAX];
	char *payload;
	size_t payload_len;
	int64_t deadline_ms;
	char *arn, *trace, *client_context, *cognito;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- parser callbacks */

static int on_message_begin(http_parser *hp)
{
	struct rapi_conn *c = hp->data;

	c->url_len = 0;
	c->url_too_long = false;
	c->header_bytes = 0;
	c->hname_len = 0;
	c->in_error_type = false;
	c->error_type_len = 0;
	c->last_was_value = false;
	c->body_len = 0;
	c->too_large = false;
	c->complete = false;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	struct rapi_conn *c = hp->data;

	if (c->url_len + len >= sizeof(c->url)) {
		c->url_too_long = true;
		return 0;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = 0;
	return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct rapi_conn *c = hp->data;

	c->header_bytes += len;
	if (c->header_bytes > RAPI_HEADERS_MAX)
		return 1;
	if (c->last_was_value) {
		c->hname_len = 0;
		c->last_was_value = false;
	}
	if (c->hname_len + len < sizeof(c->hname)) {
		memcpy(c->hname + c->hname_len, at, len);
		c->hname_len += len;
	} else {
		c->hname_len = sizeof(c->hname); /* longer than any name we want */
	}
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct rapi_conn *c = hp->data;
	static const char want[] = "Lambda-Runtime-Function-Error-Type";

	c->header_bytes += len;
	if (c->header_bytes > RAPI_HEADERS_MAX)
		return 1;
	if (!c->last_was_value) {
		c->last_was_value = true;
		c->in_error_type = c->hname_len == sizeof(want) - 1 &&
				   !strncasecmp(c->hname, want, sizeof(want) - 1);
		if (c->in_error_type)
			c->error_type_len = 0;
	}
	if (c->in_error_type) {
		size_t room = sizeof(c->error_type) - 1 - c->error_type_len;
		size_t take = len < room ? len : room;

		memcpy(c->error_type + c->error_type_len, at, take);
		c->error_type_len += take;
		c->error_type[c->error_type_len] = 0;
	}
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct rapi_conn *c = hp->data;

	if (c->too_large)
		return 0;
	if (c->body_len + len > FNGUARD_PAYLOAD_MAX) {
		c->too_large = true;
		return 0;
	}
	if (c->body_len + len > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 4096;
		char *p;

		while (cap < c->body_len + len)
			cap *= 2;
		if (cap > FNGUARD_PAYLOAD_MAX)
			cap = FNGUARD_PAYLOAD_MAX;
		p = realloc(c->body, cap);
		if (!p) {
			c->too_large = true;
			return 0;
		}
		c->body = p;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, at, len);
	c->body_len += len;
	return 0;
}

/* One request at a time: the parser pauses here until it is answered. */
static int on_message_complete(http_parser *hp)
{
	struct rapi_conn *c = hp->data;

	c->complete = true;
	http_parser_pause(hp, 1);
	return 0;
}

/* ---------------------------------------------------------------- connections */

static void conn_close(struct rapi *r, struct rapi_conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->body);
	free(c->pending);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void conn_events(struct rapi *r, struct rapi_conn *c)
{
	struct epoll_event ev = {.data.ptr = c};

	/* While an answer is written, or a request waits to be answered, nothing more is read:
	 * a client cannot make us buffer without bound. */
	ev.events = c->out ? EPOLLOUT : (c->complete ? 0 : EPOLLIN);
	epoll_ctl(r->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static int buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int buf_printf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		char *p = realloc(*buf, *cap * 2 + (size_t)n);

		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = *cap * 2 + (size_t)n;
	}
}

/* Queue an answer: @status, extra header lines @headers ("" or lines ending in CRLF), body. */
static void conn_answer(struct rapi *r, struct rapi_conn *c, int status, const char *reason,
			const char *headers, const void *body, size_t len)
{
	size_t cap = 512 + len, out_len = 0;
	char *out = malloc(cap);

	c->close_after = c->close_after || !http_should_keep_alive(&c->hp) || c->too_large;
	if (!out || buf_printf(&out, &out_len, &cap,
			       "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			       "Content-Length: %zu\r\n%s%s\r\n",
			       status, reason, len, headers, c->close_after ? "Connection: close\r\n" : "")) {
		free(out);
		conn_close(r, c);
		return;
	}
	if (out_len + len > cap) {
		char *p = realloc(out, out_len + len);

		if (!p) {
			free(out);
			conn_close(r, c);
			return;
		}
		out = p;
	}
	memcpy(out + out_len, body, len);
	c->out = out;
	c->out_len = out_len + len;
	c->out_off = 0;
	c->complete = false;
	c->waiting = false;
	conn_events(r, c);
}

/* An error answer with a JSON body in Lambda's shape. */
static void conn_error(struct rapi *r, struct rapi_conn *c, int status, const char *reason,
		       const char *type, const char *message)
{
	char body[512];
	int n = snprintf(body, sizeof(body), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}",
			 message, type);

	conn_answer(r, c, status, reason, "", body, n > 0 ? (size_t)n : 0);
}

static void conn_accepted(struct rapi *r, struct rapi_conn *c)
{
	conn_answer(r, c, 202, "Accepted", "", "{\"status\":\"OK\"}", 15);
}

/* The current invocation, to the connection waiting on next. */
static void give(struct rapi *r, struct rapi_conn *c)
{
	char hdr[4096];
	int n;

	n = snprintf(hdr, sizeof(hdr),
		     "Lambda-Runtime-Aws-Request-Id: %s\r\n"
		     "Lambda-Runtime-Deadline-Ms: %lld\r\n"
		     "Lambda-Runtime-Invoked-Function-Arn: %s\r\n"
		     "Lambda-Runtime-Trace-Id: %s\r\n"
		     "%s%s%s%s%s%s",
		     r->id, (long long)r->deadline_ms, r->arn ? r->arn : "", r->trace,
		     r->client_context ? "Lambda-Runtime-Client-Context: " : "",
		     r->client_context ? r->client_context : "", r->client_context ? "\r\n" : "",
		     r->cognito ? "Lambda-Runtime-Cognito-Identity: " : "",
		     r->cognito ? r->cognito : "", r->cognito ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(hdr)) {
		conn_error(r, c, 500, "Internal Server Error", "ServiceException",
			   "the invocation's headers are too long");
		return;
	}
	r->given = true;
	conn_answer(r, c, 200, "OK", hdr, r->payload, r->payload_len);
}

static struct rapi_conn *waiting_conn(struct rapi *r)
{
	for (int i = 0; i < RAPI_MAX_CONNS; i++)
		if (r->conns[i].fd >= 0 && r->conns[i].waiting)
			return &r->conns[i];
	return NULL;
}

/* "invocation/ID/response" -> ID and "response"; false if @path is not of that form. */
static bool invocation_path(const char *path, char *id, size_t idlen, const char **what)
{
	const char *p = path + strlen("invocation/"), *slash;
	size_t n;

	if (strncmp(path, "invocation/", 11))
		return false;
	slash = strchr(p, '/');
	if (!slash || slash == p)
		return false;
	n = (size_t)(slash - p);
	if (n >= idlen)
		return false;
	memcpy(id, p, n);
	id[n] = 0;
	*what = slash + 1;
	return !strcmp(*what, "response") || !strcmp(*what, "error");
}

static void route(struct rapi *r, struct rapi_conn *c)
{
	bool get = c->hp.method == HTTP_GET, post = c->hp.method == HTTP_POST;
	char id[RAPI_ID_MAX], *q;
	const char *path, *what;

	if (c->url_too_long) {
		conn_error(r, c, 414, "URI Too Long", "InvalidRequest", "the URL is too long");
		return;
	}
	q = strchr(c->url, '?');
	if (q)
		*q = 0;
	if (strncmp(c->url, RAPI_PREFIX, strlen(RAPI_PREFIX))) {
		conn_error(r, c, 404, "Not Found", "NotFound", "unknown path");
		return;
	}
	path = c->url + strlen(RAPI_PREFIX);
	if (!strcmp(path, "invocation/next")) {
		if (!get) {
			conn_error(r, c, 405, "Method Not Allowed", "MethodNotAllowed",
				   "invocation/next takes GET");
			return;
		}
		if (waiting_conn(r)) {
			conn_error(r, c, 400, "Bad Request", "InvalidRequest",
				   "another request for the next invocation is waiting");
			return;
		}
		if (r->ops->next)
			r->ops->next(r->ctx);
		if (r->cur && !r->given) {
			give(r, c);
			return;
		}
		/* Blocks until an invocation is assigned (the previous one, if it was handed
		 * out and not answered, is over: the runtime moved on). */
		c->waiting = true;
		conn_events(r, c);
		return;
	}
	if (!strcmp(path, "init/error")) {
		if (!post) {
			conn_error(r, c, 405, "Method Not Allowed", "MethodNotAllowed",
				   "init/error takes POST");
			return;
		}
		conn_accepted(r, c);
		if (r->ops->init_error)
			r->ops->init_error(r->ctx, c->error_type_len ? c->error_type : NULL,
					   c->body, c->too_large ? 0 : c->body_len);
		return;
	}
	if (invocation_path(path, id, sizeof(id), &what)) {
		if (!post) {
			conn_error(r, c, 405, "Method Not Allowed", "MethodNotAllowed",
				   "invocation/{id}/response and /error take POST");
			return;
		}
		if (!r->cur || !r->given || strcmp(id, r->id)) {
			conn_error(r, c, 400, "Bad Request", "InvalidRequestID",
				   "unknown or finished invocation id");
			return;
		}
		if (c->too_large) {
			conn_error(r, c, 413, "Payload Too Large", "RequestEntityTooLarge",
				   "over 6 MiB: the invocation failed");
			rapi_finish(r);
			if (r->ops->too_large)
				r->ops->too_large(r->ctx, id);
			return;
		}
		conn_accepted(r, c);
		rapi_finish(r);
		if (!strcmp(what, "response")) {
			if (r->ops->response)
				r->ops->response(r->ctx, id, c->body ? c->body : "", c->body_len);
		} else if (r->ops->error) {
			r->ops->error(r->ctx, id, c->error_type_len ? c->error_type : NULL,
				      c->body ? c->body : "", c->body_len);
		}
		return;
	}
	conn_error(r, c, 404, "Not Found", "NotFound", "unknown path");
}

/* Feed @buf to the parser; a complete request is routed. */
static void conn_parse(struct rapi *r, struct rapi_conn *c, const char *buf, size_t len)
{
	size_t n;

	if (HTTP_PARSER_ERRNO(&c->hp) == HPE_PAUSED)
		http_parser_pause(&c->hp, 0);
	n = http_parser_execute(&c->hp, &r->hs, buf, len);
	if (HTTP_PARSER_ERRNO(&c->hp) != HPE_OK && HTTP_PARSER_ERRNO(&c->hp) != HPE_PAUSED) {
		c->close_after = true;
		c->complete = true;
		conn_error(r, c, 400, "Bad Request", "InvalidRequest", "malformed HTTP request");
		return;
	}
	if (n < len) {
		/* Pipelined: what follows the complete request waits for its answer. */
		char *p = malloc(len - n);

		if (!p) {
			conn_close(r, c);
			return;
		}
		memcpy(p, buf + n, len - n);
		free(c->pending);
		c->pending = p;
		c->pending_len = len - n;
	}
	if (c->complete)
		route(r, c);
}

static void conn_read(struct rapi *r, struct rapi_conn *c)
{
	char buf[RAPI_READ_CHUNK];
	ssize_t n = read(c->fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The runtime hung up: a waiting next is no longer waiting. */
		conn_close(r, c);
		return;
	}
	c->last_ms = mono_ms();
	conn_parse(r, c, buf, (size_t)n);
}

static void conn_write(struct rapi *r, struct rapi_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(r, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->last_ms = mono_ms();
	if (c->close_after) {
		conn_close(r, c);
		return;
	}
	conn_events(r, c);
	if (c->pending) {
		char *p = c->pending;
		size_t len = c->pending_len;

		c->pending = NULL;
		c->pending_len = 0;
		conn_parse(r, c, p, len);
		free(p);
	}
}

static void accept_all(struct rapi *r)
{
	for (;;) {
		int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0)
			return;
		for (i = 0; i < RAPI_MAX_CONNS && r->conns[i].fd >= 0; i++)
			;
		if (i == RAPI_MAX_CONNS) {
			static const char busy[] =
			    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n";

			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		struct rapi_conn *c = &r->conns[i];

		memset(c, 0, sizeof(*c));
		c->fd = fd;
		http_parser_init(&c->hp, HTTP_REQUEST);
		c->hp.data = c;
		c->last_ms = mono_ms();
		ev.data.ptr = c;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->fd = -1;
		}
	}
}

/* ---------------------------------------------------------------- the server */

int rapi_start(struct rapi **out, const char *ip, uint16_t port, const struct rapi_ops *ops,
	       void *ctx, char *why, size_t whylen)
{
	struct rapi *r = calloc(1, sizeof(*r));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t salen = sizeof(sa);
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->ops = ops;
	r->ctx = ctx;
	r->lfd = r->epfd = -1;
	for (int i = 0; i < RAPI_MAX_CONNS; i++)
		r->conns[i].fd = -1;
	r->hs.on_message_begin = on_message_begin;
	r->hs.on_url = on_url;
	r->hs.on_header_field = on_header_field;
	r->hs.on_header_value = on_header_value;
	r->hs.on_body = on_body;
	r->hs.on_message_complete = on_message_complete;
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		snprintf(why, whylen, "not an IPv4 address: %s", ip);
		free(r);
		return -EINVAL;
	}
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0 || setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(r->lfd, RAPI_MAX_CONNS) ||
	    getsockname(r->lfd, (struct sockaddr *)&sa, &salen)) {
		err = -errno;
		snprintf(why, whylen, "listening on %s:%u: %s", ip, (unsigned)port, strerror(errno));
		rapi_stop(r);
		return err;
	}
	r->port = ntohs(sa.sin_port);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL; /* the listener */
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->lfd, &ev)) {
		err = -errno;
		snprintf(why, whylen, "epoll: %s", strerror(errno));
		rapi_stop(r);
		return err;
	}
	*out = r;
	return 0;
}

int rapi_fd(const struct rapi *r)
{
	return r->epfd;
}

uint16_t rapi_port(const struct rapi *r)
{
	return r->port;
}

int rapi_timeout_ms(const struct rapi *r)
{
	int64_t now = mono_ms(), next = -1;

	for (int i = 0; i < RAPI_MAX_CONNS; i++) {
		const struct rapi_conn *c = &r->conns[i];
		int64_t left;

		if (c->fd < 0 || c->waiting)
			continue;
		left = c->last_ms + RAPI_IDLE_MS - now;
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next < 0 ? -1 : next > 60000 ? 60000 : (int)next;
}

void rapi_run(struct rapi *r)
{
	struct epoll_event evs[RAPI_MAX_CONNS + 1];
	int64_t now;
	int n = epoll_wait(r->epfd, evs, RAPI_MAX_CONNS + 1, 0);

	for (int i = 0; i < n; i++) {
		struct rapi_conn *c = evs[i].data.ptr;

		if (!c) {
			accept_all(r);
			continue;
		}
		if (c->fd < 0)
			continue;
		if (c->out && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			conn_write(r, c);
		else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_read(r, c);
	}
	now = mono_ms();
	for (int i = 0; i < RAPI_MAX_CONNS; i++) {
		struct rapi_conn *c = &r->conns[i];

		if (c->fd >= 0 && !c->waiting && now - c->last_ms > RAPI_IDLE_MS)
			conn_close(r, c);
	}
}

int rapi_invoke(struct rapi *r, const struct rapi_invocation *inv)
{
	struct rapi_conn *c;
	size_t idlen = inv->id ? strlen(inv->id) : 0;

	if (r->cur)
		return -EBUSY;
	if (!idlen || idlen >= sizeof(r->id) || strpbrk(inv->id, "/\r\n ") ||
	    inv->len > FNGUARD_PAYLOAD_MAX)
		return -EINVAL;
	memcpy(r->id, inv->id, idlen + 1);
	r->payload = malloc(inv->len ? inv->len : 1);
	if (!r->payload)
		return -ENOMEM;
	memcpy(r->payload, inv->payload, inv->len);
	r->payload_len = inv->len;
	r->deadline_ms = inv->deadline_ms;
	r->arn = inv->function_arn ? strdup(inv->function_arn) : NULL;
	if (inv->trace_id && *inv->trace_id)
		r->trace = strdup(inv->trace_id);
	else if (asprintf(&r->trace, "Root=1-%08llx-%.24s;Sampled=0",
			  (unsigned long long)(time(NULL)), r->id) < 0)
		r->trace = NULL;
	r->client_context = inv->client_context ? strdup(inv->client_context) : NULL;
	r->cognito = inv->cognito_identity ? strdup(inv->cognito_identity) : NULL;
	r->cur = true;
	r->given = false;
	if (!r->trace || strpbrk(r->trace, "\r\n") ||
	    (r->arn && strpbrk(r->arn, "\r\n")) ||
	    (r->client_context && strpbrk(r->client_context, "\r\n")) ||
	    (r->cognito && strpbrk(r->cognito, "\r\n"))) {
		rapi_finish(r);
		return -EINVAL;
	}
	c = waiting_conn(r);
	if (c)
		give(r, c);
	return 0;
}

void rapi_finish(struct rapi *r)
{
	if (!r)
		return;
	free(r->payload);
	free(r->arn);
	free(r->trace);
	free(r->client_context);
	free(r->cognito);
	r->payload = r->arn = r->trace = r->client_context = r->cognito = NULL;
	r->payload_len = 0;
	r->id[0] = 0;
	r->cur = r->given = false;
}

void rapi_reset(struct rapi *r)
{
	if (!r)
		return;
	rapi_finish(r);
	for (int i = 0; i < RAPI_MAX_CONNS; i++)
		conn_close(r, &r->conns[i]);
}

void rapi_stop(struct rapi *r)
{
	if (!r)
		return;
	for (int i = 0; i < RAPI_MAX_CONNS; i++)
		conn_close(r, &r->conns[i]);
	rapi_finish(r);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}
