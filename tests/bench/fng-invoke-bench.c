// SPDX-License-Identifier: Apache-2.0
/*
 * fng-invoke-bench: the timed half of the daemon benchmark (daemon.sh). It measures, side by
 * side and interleaved, what an invocation costs through fnguardd and what the same handler
 * costs run bare in fresh namespaces, so that the result is a ratio taken on one machine at
 * one moment (a TCG guest's absolute times mean little):
 *
 *   warm   Invoke of a function whose environment is kept warm, round trip on the API socket
 *          (one connection, one request in flight: the CLI's own start-up is not counted)
 *   cold   Invoke of a function with reuse: false, so that each one starts an environment;
 *          the record's init_ns says how much of it was the environment's start
 *   bare   fork + unshare(NEWNS|NEWPID|NEWIPC|NEWUTS) + fork + exec of the handler, payload
 *          on its stdin, stdout read back: the namespaces a process environment has, without
 *          its cgroup, policy, agent or daemon
 *
 *   fng-invoke-bench [-s SOCKET] -w WARM_FN -c COLD_FN -x HANDLER [-r ROUNDS] [-n PER_ROUND]
 *
 * Each round runs PER_ROUND warm/bare pairs and one cold/bare pair, the order of each pair
 * alternating, so that drift of the machine (other guests, the host's load) falls on both.
 * Prints "daemon: ..." result lines and TAP lines that assert only that every run worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fnguard/v1/api.pb-c.h"
#include "wire.h"

#define PAYLOAD "fnguard-bench"
#define ANSWER "ok"

struct sample {
	long long rtt_ns;
	bool cold;
	unsigned long long init_ns, duration_ns;
	char invocation[64];
};

/* Failures are counted per kind; the first of each kind is shown. */
struct tally {
	const char *what;
	unsigned runs, failed;
};

static void tally_fail(struct tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tally_fail(struct tally *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->failed++) {
		printf("# %s: ", t->what);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int dmn_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* One request, its one answer: 0 with *out set (free it), or -errno. */
static int dmn_call(int fd, Fnguard__V1__Request *rq, Fnguard__V1__Response **out)
{
	ProtobufCMessage *m = NULL;
	int r = wire_write_message(fd, &rq->base, 0);

	if (r)
		return r;
	r = wire_read_message(fd, &fnguard__v1__response__descriptor, 0, &m);
	if (r <= 0)
		return r ? r : -ECONNRESET;
	*out = (Fnguard__V1__Response *)m;
	if ((*out)->id != rq->id) {
		protobuf_c_message_free_unpacked(m, NULL);
		return -EPROTO;
	}
	return 0;
}

/* Invoke @fn once, timed; checks that it answered "ok" with outcome ok. */
static int dmn_invoke(int fd, uint64_t id, const char *fn, struct sample *s, struct tally *t)
{
	Fnguard__V1__Request rq = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Invoke inv = FNGUARD__V1__INVOKE__INIT;
	Fnguard__V1__Response *rs = NULL;
	const Fnguard__V1__InvokeResult *ir;
	long long t0;
	int err;

	inv.name = (char *)fn;
	inv.payload.data = (uint8_t *)PAYLOAD;
	inv.payload.len = strlen(PAYLOAD);
	rq.id = id;
	rq.method_case = FNGUARD__V1__REQUEST__METHOD_INVOKE;
	rq.invoke = &inv;
	t->runs++;
	t0 = now_ns();
	err = dmn_call(fd, &rq, &rs);
	s->rtt_ns = now_ns() - t0;
	if (err) {
		tally_fail(t, "invoke %s: %s", fn, wire_strerror(err));
		return err;
	}
	ir = rs->invoke;
	if (rs->error || rs->result_case != FNGUARD__V1__RESPONSE__RESULT_INVOKE || !ir) {
		tally_fail(t, "invoke %s: the daemon refused: %s", fn,
			   rs->error ? rs->error->message : "no invoke result");
		err = -EPROTO;
	} else if (ir->outcome != FNGUARD__V1__OUTCOME__OUTCOME_OK || !ir->record ||
		   ir->response.len != strlen(ANSWER) ||
		   memcmp(ir->response.data, ANSWER, strlen(ANSWER))) {
		tally_fail(t, "invoke %s: outcome %d, exit status %d, %zu response bytes", fn,
			   (int)ir->outcome, ir->exit_status, ir->response.len);
		err = -EPROTO;
	} else {
		s->cold = ir->record->cold_start;
		s->init_ns = ir->record->init_ns;
		s->duration_ns = ir->record->duration_ns;
		snprintf(s->invocation, sizeof(s->invocation), "%s", ir->invocation);
	}
	protobuf_c_message_free_unpacked(&rs->base, NULL);
	return err;
}

/*
 * A Status round trip, untimed. The daemon runs one loop: once it answers, whatever it did
 * after the last result (recycling an environment) is over and cannot fall on the next
 * timed run.
 */
static int dmn_barrier(int fd, uint64_t id)
{
	Fnguard__V1__Request rq = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Status st = FNGUARD__V1__STATUS__INIT;
	Fnguard__V1__Response *rs = NULL;
	int err;

	rq.id = id;
	rq.method_case = FNGUARD__V1__REQUEST__METHOD_STATUS;
	rq.status = &st;
	err = dmn_call(fd, &rq, &rs);
	if (!err)
		protobuf_c_message_free_unpacked(&rs->base, NULL);
	return err;
}

/* In the first child: the new namespaces, then the handler as PID 1 of the new pid namespace. */
static void __attribute__((noreturn)) bare_child(const char *handler, int in, int out)
{
	char *argv[] = {(char *)handler, NULL};
	int status;
	pid_t pid;

	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS))
		_exit(125);
	pid = fork();
	if (pid < 0)
		_exit(125);
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(126);
		execv(handler, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The handler run bare once, timed from the first fork to the last wait. */
static int bare_run(const char *handler, struct sample *s, struct tally *t)
{
	int in[2], out[2], status = 0;
	char buf[64];
	size_t got = 0;
	ssize_t n;
	long long t0;
	pid_t pid;

	t->runs++;
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		tally_fail(t, "pipe: %s", strerror(errno));
		return -errno;
	}
	t0 = now_ns();
	pid = fork();
	if (pid == 0)
		bare_child(handler, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid > 0 && write(in[1], PAYLOAD, strlen(PAYLOAD)) < 0 && errno != EPIPE)
		tally_fail(t, "writing the payload: %s", strerror(errno));
	close(in[1]);
	while (pid > 0 && (n = read(out[0], buf + got, sizeof(buf) - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (got += (size_t)n) == sizeof(buf))
			break;
	}
	close(out[0]);
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	s->rtt_ns = now_ns() - t0;
	if (pid < 0) {
		tally_fail(t, "fork: %s", strerror(errno));
		return -EAGAIN;
	}
	if (status || got != strlen(ANSWER) || memcmp(buf, ANSWER, got)) {
		tally_fail(t, "%s: wait status %#x, %zu response bytes", handler, status, got);
		return -EPROTO;
	}
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of @n values (sorted in place); 0 when there are none. */
static long long pct(long long *v, size_t n, unsigned p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_ll);
	rank = (p * n + 99) / 100; /* ceil(p% of n) */
	return v[rank ? rank - 1 : 0];
}

static double ratio(long long a, long long b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fng-invoke-bench [-s SOCKET] -w WARM_FN -c COLD_FN -x HANDLER "
		   "[-r ROUNDS] [-n PER_ROUND]\n");
}

int main(int argc, char **argv)
{
	const char *sock = "/run/fnguard/fnguard.sock", *warm = NULL, *cold = NULL, *handler = NULL;
	unsigned rounds = 10, per_round = 20, nw = 0, nc = 0;
	struct tally tw = {.what = "warm"}, tc = {.what = "cold"}, tb = {.what = "bare"};
	long long *w, *wb, *wd, *c, *cb, *ci;
	struct sample s, last_cold = {0};
	uint64_t id = 0;
	unsigned not_warm = 0, not_cold = 0;
	int fd, opt, fail;

	while ((opt = getopt(argc, argv, "s:w:c:x:r:n:h")) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'w':
			warm = optarg;
			break;
		case 'c':
			cold = optarg;
			break;
		case 'x':
			handler = optarg;
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			per_round = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!warm || !cold || !handler || !rounds || !per_round || rounds > 10000 ||
	    per_round > 10000) {
		usage(stderr);
		return 2;
	}
	/* A handler that exits before reading its payload must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = dmn_connect(sock);
	if (fd < 0) {
		printf("not ok - daemon bench: cannot connect to %s: %s\n", sock, strerror(-fd));
		return 1;
	}
	w = calloc(rounds * per_round, sizeof(*w));
	wb = calloc(rounds * per_round, sizeof(*wb));
	wd = calloc(rounds * per_round, sizeof(*wd));
	c = calloc(rounds, sizeof(*c));
	cb = calloc(rounds, sizeof(*cb));
	ci = calloc(rounds, sizeof(*ci));
	if (!w || !wb || !wd || !c || !cb || !ci) {
		printf("not ok - daemon bench: out of memory\n");
		return 1;
	}

	/* Untimed: the warm function's environment is started here (its cold start), and the
	 * page cache holds the handler and the daemon's code paths before anything is timed. */
	if (dmn_invoke(fd, ++id, warm, &s, &tw) || bare_run(handler, &s, &tb) ||
	    dmn_invoke(fd, ++id, cold, &s, &tc) || dmn_barrier(fd, ++id)) {
		printf("not ok - daemon bench: the untimed first runs failed\n");
		return 1;
	}
	tw.runs = tb.runs = tc.runs = 0;

	for (unsigned r = 0; r < rounds; r++) {
		long long rw[10000], rb[10000];

		for (unsigned i = 0; i < per_round; i++) {
			struct sample sd = {0}, sb = {0};
			bool daemon_first = (i + r) % 2 == 0;
			int ed = 0, eb = 0;

			if (daemon_first)
				ed = dmn_invoke(fd, ++id, warm, &sd, &tw);
			eb = bare_run(handler, &sb, &tb);
			if (!daemon_first)
				ed = dmn_invoke(fd, ++id, warm, &sd, &tw);
			if (!ed && sd.cold)
				not_warm++;
			if (!ed && !eb) {
				rw[i] = w[nw] = sd.rtt_ns;
				rb[i] = wb[nw] = sb.rtt_ns;
				wd[nw++] = (long long)sd.duration_ns;
			} else {
				rw[i] = rb[i] = 0;
			}
		}
		printf("# round %u: warm p50 %lld us, bare p50 %lld us\n", r + 1,
		       pct(rw, per_round, 50) / 1000, pct(rb, per_round, 50) / 1000);

		/* The cold pair: a fresh environment (reuse: false) against one bare run. */
		{
			struct sample sd = {0}, sb = {0};
			int ed, eb;

			if (r % 2 == 0) {
				ed = dmn_invoke(fd, ++id, cold, &sd, &tc);
				dmn_barrier(fd, ++id);
				eb = bare_run(handler, &sb, &tb);
			} else {
				eb = bare_run(handler, &sb, &tb);
				ed = dmn_invoke(fd, ++id, cold, &sd, &tc);
				dmn_barrier(fd, ++id);
			}
			if (!ed && (!sd.cold || !sd.init_ns))
				not_cold++;
			if (!ed && !eb) {
				c[nc] = sd.rtt_ns;
				cb[nc] = sb.rtt_ns;
				ci[nc++] = (long long)sd.init_ns;
				last_cold = sd;
			}
		}
	}
	close(fd);

	{
		long long wp50 = pct(w, nw, 50), wp99 = pct(w, nw, 99);
		long long bp50 = pct(wb, nw, 50), bp99 = pct(wb, nw, 99);
		long long cp50 = pct(c, nc, 50), cp99 = pct(c, nc, 99), ip50 = pct(ci, nc, 50);
		long long cbp50 = pct(cb, nc, 50);

		printf("# warm: %u invocations, %u rounds of %u; the agent's handler duration "
		       "(record duration_ns) p50 %lld us\n",
		       nw, rounds, per_round, pct(wd, nw, 50) / 1000);
		printf("daemon: warm p50 %lld us p99 %lld us; bare unshare+exec p50 %lld us p99 %lld "
		       "us; ratio p50 %.2f\n",
		       wp50 / 1000, wp99 / 1000, bp50 / 1000, bp99 / 1000, ratio(wp50, bp50));
		printf("# warm ratio p99 %.2f\n", ratio(wp99, bp99));
		printf("# cold: %u invocations (one a round), p99 %.1f ms, init_ns p99 %.1f ms\n", nc,
		       cp99 / 1e6, pct(ci, nc, 99) / 1e6);
		printf("daemon: cold start p50 %.1f ms (init_ns p50 %.1f ms); bare p50 %.1f ms; ratio "
		       "%.2f\n",
		       cp50 / 1e6, ip50 / 1e6, cbp50 / 1e6, ratio(cp50, cbp50));
		if (last_cold.invocation[0])
			printf("# last cold invocation %s init_ns %llu\n", last_cold.invocation,
			       last_cold.init_ns);
	}

	fail = tw.failed || tc.failed || tb.failed || not_warm || not_cold;
	printf("%s - daemon bench: %u warm invocations returned \"ok\" with outcome ok, none of "
	       "them a cold start (%u failed, %u cold)\n",
	       tw.failed || not_warm || !nw ? "not ok" : "ok", tw.runs, tw.failed, not_warm);
	printf("%s - daemon bench: %u cold invocations returned \"ok\" with outcome ok, each a "
	       "cold start with init_ns (%u failed, %u not)\n",
	       tc.failed || not_cold || !nc ? "not ok" : "ok", tc.runs, tc.failed, not_cold);
	printf("%s - daemon bench: %u bare unshare+exec runs returned \"ok\" (%u failed)\n",
	       tb.failed ? "not ok" : "ok", tb.runs, tb.failed);
	free(w);
	free(wb);
	free(wd);
	free(c);
	free(cb);
	free(ci);
	return fail || !nw || !nc ? 1 : 0;
}
