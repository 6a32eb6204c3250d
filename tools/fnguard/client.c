// SPDX-License-Identifier: Apache-2.0
/*
 * The client half of the daemon API: one blocking Unix stream connection per command, one
 * request in flight, Responses matched by id. See client.h for why it is shared.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include "client.h"
#include "cmd.h"
#include "log.h"
#include "policy.h"
#include "wire.h"

const char *client_socket_path(const char *opt)
{
	const char *env;

	if (opt && *opt)
		return opt;
	env = getenv(FNGUARD_SOCKET_ENV);
	if (env && *env)
		return env;
	return FNGUARD_SOCKET_DEFAULT;
}

/* Every failure goes through here: kept in c->err, printed once unless the caller is quiet. */
static void __attribute__((format(printf, 2, 3)))
client_fail(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	if (!c->quiet)
		log_warnx("%s", c->err);
}

int client_connect(struct client *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	c->fd = -1;
	c->path = path;
	c->id = 0;
	c->err[0] = '\0';
	/* sun_path needs its NUL here: an abstract or truncated name would be another socket. */
	if (strlen(path) >= sizeof(sa.sun_path)) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		err = -errno;
		close(fd);
		goto fail;
	}
	c->fd = fd;
	return 0;
fail:
	snprintf(c->err, sizeof(c->err), "cannot reach the daemon at %s: %s (%s)", path,
		 strerror(-err),
		 err == -EACCES || err == -EPERM ? "the socket is for root and the fnguard group"
						 : "is fnguardd running?");
	return err;
}

int client_open(struct client *c, const char *opt)
{
	int err;

	err = client_connect(c, client_socket_path(opt));
	if (err && !c->quiet)
		log_warnx("%s", c->err);
	return err;
}

int client_set_timeout(struct client *c, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* A timed-out socket says EAGAIN, which would read as "try again" to a person. */
static const char *io_strerror(int err)
{
	if (err == -EAGAIN || err == -EWOULDBLOCK)
		return "no answer in time";
	return wire_strerror(err);
}

int client_send(struct client *c, const char *what, Fnguard__V1__Request *req)
{
	int err;

	/*
	 * Ids only have to be unique on this connection, and one connection carries one
	 * command's requests: counting from 1 is enough (0 would look like "unset" in a trace).
	 */
	req->id = ++c->id;
	err = wire_write_message(c->fd, &req->base, 0);
	if (err == -EMSGSIZE)
		client_fail(c, "%s: the request is over the %u MiB frame limit", what,
			    WIRE_FRAME_MAX_DEFAULT >> 20);
	else if (err)
		client_fail(c, "%s: cannot send the request to the daemon at %s: %s", what, c->path,
			    io_strerror(err));
	return err;
}

void client_response_free(Fnguard__V1__Response *r)
{
	if (r)
		protobuf_c_message_free_unpacked(&r->base, NULL);
}

int client_recv(struct client *c, const char *what, Fnguard__V1__Response **out)
{
	ProtobufCMessage *m;
	Fnguard__V1__Response *r;
	int n;

	*out = NULL;
	for (;;) {
		n = wire_read_message(c->fd, &fnguard__v1__response__descriptor, 0, &m);
		if (n == 0) {
			client_fail(c, "%s: the daemon closed the connection before answering",
				    what);
			return -ECONNRESET;
		}
		if (n < 0) {
			client_fail(c, "%s: cannot read the daemon's answer: %s", what,
				    io_strerror(n));
			return n;
		}
		r = (Fnguard__V1__Response *)m;
		if (r->id == c->id)
			break;
		/* Not ours (a daemon may answer out of order): not an error, not an answer. */
		client_response_free(r);
	}
	*out = r;
	return 0;
}

const char *client_error_code_name(Fnguard__V1__ErrorCode code)
{
	static const char *const names[] = {
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_UNSPECIFIED] = "error",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT] = "invalid argument",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND] = "not found",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_ALREADY_EXISTS] = "already exists",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED] = "permission denied",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE] = "unavailable",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_RESOURCE_EXHAUSTED] = "resource exhausted",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE] = "too large",
	    [FNGUARD__V1__ERROR_CODE__ERROR_CODE_INTERNAL] = "internal error in the daemon",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0]))
		return names[code];
	return "unknown error";
}

/*
 * The daemon's message already reads "<what failed>: <why>", so it is printed as it is;
 * @what only stands in when the daemon said nothing.
 */
static void error_format(struct client *c, const char *what, const Fnguard__V1__Error *e)
{
	if (e->message && *e->message)
		client_fail(c, "%s", e->message);
	else
		client_fail(c, "%s: %s", what, client_error_code_name(e->code));
}

void client_error_print(const char *what, const Fnguard__V1__Error *e)
{
	struct client c = {.fd = -1};

	error_format(&c, what, e);
}

int client_call(struct client *c, const char *what, Fnguard__V1__Request *req,
		Fnguard__V1__Response__ResultCase expect, Fnguard__V1__Response **out)
{
	Fnguard__V1__Response *r;
	int err;

	*out = NULL;
	err = client_send(c, what, req);
	if (err)
		return err;
	err = client_recv(c, what, &r);
	if (err)
		return err;
	if (r->error) {
		error_format(c, what, r->error);
		client_response_free(r);
		return -EREMOTEIO;
	}
	if (r->result_case != expect) {
		client_fail(c,
			    "%s: the daemon answered with something else (result %d, expected %d)",
			    what, (int)r->result_case, (int)expect);
		client_response_free(r);
		return -EPROTO;
	}
	*out = r;
	return 0;
}

/* ------------------------------------------------------------------ command-line helpers */

int client_option_error(const char *cmd, int c, char **argv)
{
	/* with opterr = 0, optopt is the short option; 0 for a long one, then argv names it */
	const char *arg = argv[optind - 1];
	char shortopt[3] = {'-', (char)optopt, '\0'};

	if (optopt && (arg[0] != '-' || arg[1] != '-'))
		arg = shortopt;
	if (c == ':')
		log_warnx("%s: option '%s' needs an argument (see 'fnguard %s --help')", cmd, arg,
			  cmd);
	else
		log_warnx("%s: unknown option '%s' (see 'fnguard %s --help')", cmd, arg, cmd);
	return EXIT_USAGE;
}

int client_ref_parse(const char *cmd, const char *s, struct client_ref *ref)
{
	const char *colon = strchr(s, ':');
	size_t nlen = colon ? (size_t)(colon - s) : strlen(s);

	memset(ref, 0, sizeof(*ref));
	if (nlen > CLIENT_NAME_MAX || !policy_function_name_valid(s, nlen)) {
		log_warnx("%s: bad function name '%.*s' (1-63 characters a-z, 0-9 and '-', "
			  "starting with a letter or digit)",
			  cmd, (int)nlen, s);
		return -EINVAL;
	}
	memcpy(ref->name, s, nlen);
	if (!colon)
		return 0;
	if (strlen(colon + 1) > CLIENT_VERSION_MAX ||
	    !policy_version_valid(colon + 1, strlen(colon + 1))) {
		log_warnx("%s: bad version '%s' (1-64 characters A-Z, a-z, 0-9, '.', '_' and '-', "
			  "starting with a letter or digit)",
			  cmd, colon + 1);
		return -EINVAL;
	}
	memcpy(ref->version, colon + 1, strlen(colon + 1));
	return 0;
}

void client_ref_format(const struct client_ref *ref, char buf[CLIENT_REF_LEN])
{
	snprintf(buf, CLIENT_REF_LEN, "%s%s%s", ref->name, ref->version[0] ? ":" : "",
		 ref->version);
}

void client_duration_format(uint64_t ns, char *buf, size_t len)
{
	const uint64_t us = 1000, ms = 1000 * us, s = 1000 * ms, m = 60 * s, h = 60 * m, d = 24 * h;

	if (ns < us)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < ms)
		snprintf(buf, len, "%.1fus", (double)ns / (double)us);
	else if (ns < s)
		snprintf(buf, len, "%.1fms", (double)ns / (double)ms);
	else if (ns < m)
		snprintf(buf, len, "%.1fs", (double)ns / (double)s);
	else if (ns < h)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ns / m),
			 (unsigned long long)(ns % m / s));
	else if (ns < d)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ns / h),
			 (unsigned long long)(ns % h / m));
	else
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)(ns / d),
			 (unsigned long long)(ns % d / h));
}

void client_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f%s", v, units[i]);
}

void client_text_print(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	/*
	 * Paths, log lines and comm come from the function: an escape sequence in them must
	 * not drive the terminal of whoever reads the events. C1 controls are U+0080-U+009F,
	 * in UTF-8 0xC2 0x80-0x9F.
	 */
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(f, "\\x%02x", *++p);
		else
			fputc(*p, f);
	}
}

void client_stdout_prepare(void)
{
	signal(SIGPIPE, SIG_IGN);
}

int client_stdout_finish(const char *what)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return EXIT_OK;
	if (errno == EPIPE)
		return EXIT_OK;
	log_warn("%s: cannot write to standard output", what);
	return EXIT_FAIL;
}

int client_read_all(int fd, size_t max, char **buf, size_t *len)
{
	size_t cap = 64 * 1024, got = 0;
	struct stat st;
	char *b, *nb;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	/* A regular file says its size: no need to read 7 MiB to refuse it. */
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
			return -EFBIG;
	}
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	for (;;) {
		if (got == cap) {
			/* one byte past @max is enough to know there was more */
			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max + 1 : cap * 2;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		n = read(fd, b + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			free(b);
			return err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max) {
		free(b);
		return -EFBIG;
	}
	*buf = b;
	*len = got;
	return 0;
}
