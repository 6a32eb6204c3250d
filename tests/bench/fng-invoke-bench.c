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
#include <sys/time.h>
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

/* A daemon that stops answering fails the benchmark instead of hanging the bench kernel. */
#define DMN_TIMEOUT_S 120

static int dmn_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = DMN_TIMEOUT_S};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
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
 * A Status round trip. The daemon runs one loop: once it answers, whatever it did after the
 * last result (recycling an environment) is over and cannot fall on the next timed run. Its
 * time, right after a result, is that work's.
 */
static int dmn_barrier(int fd, uint64_t id, long long *ns)
{
	Fnguard__V1__Request rq = FNGUARD__V1__REQUEST__INIT;
	Fnguard__V1__Status st = FNGUARD__V1__STATUS__INIT;
	Fnguard__V1__Response *rs = NULL;
	int err;

	rq.id = id;
	rq.method_case = FNGUARD__V1__REQUEST__METHOD_STATUS;
	rq.status = &st;
	*ns = now_ns();
	err = dmn_call(fd, &rq, &rs);
	*ns = now_ns() - *ns;
	if (!err)
		protobuf_c_message_free_unpacked(&rs->base, NULL);
	return err;
}

/*
 * In the first child: the new namespaces, then the handler as PID 1 of the new pid namespace.
 * @in and @out are the handler's ends of its pipes; the parent's ends are closed here, or the
 * handler would never see the end of its payload.
 */
static void __attribute__((noreturn))
bare_child(const char *handler, const int in[2], const int out[2])
{
	char *argv[] = {(char *)handler, NULL};
	int status;
	pid_t pid;

	close(in[1]);
	close(out[0]);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS))
		_exit(125);
	pid = fork();
	if (pid < 0)
		_exit(125);
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
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
	int in[2], out[2], status = 0, fork_err;
	char buf[64];
	size_t got = 0;
	ssize_t n;
	long long t0;
	pid_t pid;

	t->runs++;
	if (pipe2(in, O_CLOEXEC)) {
		tally_fail(t, "pipe: %s", strerror(errno));
		return -EMFILE;
	}
	if (pipe2(out, O_CLOEXEC)) {
		tally_fail(t, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -EMFILE;
	}
	t0 = now_ns();
	pid = fork();
	fork_err = errno;
	if (pid == 0)
		bare_child(handler, in, out);
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
		tally_fail(t, "fork: %s", strerror(fork_err));
		return -fork_err;
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

/* The runs of one benchmark and what they measured (times in ns). */
struct bench {
	int fd;
	uint64_t id;
	const char *warm, *cold, *handler;
	unsigned rounds, per_round;
	struct tally tw, tc, tb;
	unsigned not_warm, not_cold; /* invocations that were not what they were meant to be */
	unsigned nw, nc;	     /* pairs in which both runs worked */
	long long *w, *wb, *wd;	     /* warm round trip, bare, the record's duration_ns */
	long long *c, *cb, *ci;	     /* cold round trip, bare, the record's init_ns */
	long long *cr;		     /* recycling the cold environment (dmn_barrier) */
	struct sample last_cold;
};

/* One warm invocation and one bare run, in the order given. */
static void bench_warm_pair(struct bench *b, bool daemon_first)
{
	struct sample sd = {0}, sb = {0};
	int ed = 0, eb;

	if (daemon_first)
		ed = dmn_invoke(b->fd, ++b->id, b->warm, &sd, &b->tw);
	eb = bare_run(b->handler, &sb, &b->tb);
	if (!daemon_first)
		ed = dmn_invoke(b->fd, ++b->id, b->warm, &sd, &b->tw);
	if (!ed && sd.cold)
		b->not_warm++;
	if (ed || eb)
		return;
	b->w[b->nw] = sd.rtt_ns;
	b->wb[b->nw] = sb.rtt_ns;
	b->wd[b->nw++] = (long long)sd.duration_ns;
}

/* One invocation in a fresh environment (reuse: false) and one bare run, in the order given. */
static void bench_cold_pair(struct bench *b, bool daemon_first)
{
	struct sample sd = {0}, sb = {0};
	long long recycle = 0;
	int ed = 0, eb;

	if (daemon_first) {
		ed = dmn_invoke(b->fd, ++b->id, b->cold, &sd, &b->tc);
		ed = ed ? ed : dmn_barrier(b->fd, ++b->id, &recycle);
	}
	eb = bare_run(b->handler, &sb, &b->tb);
	if (!daemon_first) {
		ed = dmn_invoke(b->fd, ++b->id, b->cold, &sd, &b->tc);
		ed = ed ? ed : dmn_barrier(b->fd, ++b->id, &recycle);
	}
	if (!ed && (!sd.cold || !sd.init_ns))
		b->not_cold++;
	if (ed || eb)
		return;
	b->c[b->nc] = sd.rtt_ns;
	b->cb[b->nc] = sb.rtt_ns;
	b->cr[b->nc] = recycle;
	b->ci[b->nc++] = (long long)sd.init_ns;
	b->last_cold = sd;
}

/* Rounds of warm pairs then one cold pair, each pair's order alternating. */
static void bench_run(struct bench *b)
{
	for (unsigned r = 0; r < b->rounds; r++) {
		unsigned start = b->nw;

		for (unsigned i = 0; i < b->per_round; i++)
			bench_warm_pair(b, (i + r) % 2 == 0);
		/* Sorting this round's slice in place does not change the pooled percentiles. */
		printf("# round %u: warm p50 %lld us, bare p50 %lld us\n", r + 1,
		       pct(b->w + start, b->nw - start, 50) / 1000,
		       pct(b->wb + start, b->nw - start, 50) / 1000);
		bench_cold_pair(b, r % 2 == 0);
	}
}

/* The result lines, then TAP lines that say whether every run worked; 0 when they all did. */
static int bench_report(struct bench *b)
{
	long long wp50 = pct(b->w, b->nw, 50), wp99 = pct(b->w, b->nw, 99);
	long long bp50 = pct(b->wb, b->nw, 50), bp99 = pct(b->wb, b->nw, 99);
	long long cp50 = pct(b->c, b->nc, 50), cp99 = pct(b->c, b->nc, 99);
	long long ip50 = pct(b->ci, b->nc, 50), ip99 = pct(b->ci, b->nc, 99);
	long long cbp50 = pct(b->cb, b->nc, 50), rp50 = pct(b->cr, b->nc, 50);
	bool warm_ok = !b->tw.failed && !b->not_warm && b->nw;
	bool cold_ok = !b->tc.failed && !b->not_cold && b->nc;

	printf("# warm: %u pairs, %u rounds of %u; handler duration in the agent (record "
	       "duration_ns) p50 %lld us; ratio p99 %.2f\n",
	       b->nw, b->rounds, b->per_round, pct(b->wd, b->nw, 50) / 1000, ratio(wp99, bp99));
	printf("daemon: warm p50 %lld us p99 %lld us; bare unshare+exec p50 %lld us p99 %lld us; "
	       "ratio p50 %.2f\n",
	       wp50 / 1000, wp99 / 1000, bp50 / 1000, bp99 / 1000, ratio(wp50, bp50));
	printf("# cold: %u pairs (one a round); cold start p99 %.1f ms, init_ns p99 %.1f ms; "
	       "recycling the environment after its answer p50 %.1f ms\n",
	       b->nc, cp99 / 1e6, ip99 / 1e6, rp50 / 1e6);
	printf(
	    "daemon: cold start p50 %.1f ms (init_ns p50 %.1f ms); bare p50 %.1f ms; ratio %.2f\n",
	    cp50 / 1e6, ip50 / 1e6, cbp50 / 1e6, ratio(cp50, cbp50));
	if (b->last_cold.invocation[0])
		printf("# last cold invocation %s init_ns %llu\n", b->last_cold.invocation,
		       b->last_cold.init_ns);
	printf("%s - daemon bench: %u warm invocations returned \"ok\" with outcome ok, none a "
	       "cold start (%u failed, %u cold)\n",
	       warm_ok ? "ok" : "not ok", b->tw.runs, b->tw.failed, b->not_warm);
	printf("%s - daemon bench: %u cold invocations returned \"ok\" with outcome ok, each a "
	       "cold start with init_ns (%u failed, %u not)\n",
	       cold_ok ? "ok" : "not ok", b->tc.runs, b->tc.failed, b->not_cold);
	printf("%s - daemon bench: %u bare unshare+exec runs returned \"ok\" (%u failed)\n",
	       b->tb.failed ? "not ok" : "ok", b->tb.runs, b->tb.failed);
	return warm_ok && cold_ok && !b->tb.failed ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fng-invoke-bench [-s SOCKET] -w WARM_FN -c COLD_FN -x HANDLER "
		   "[-r ROUNDS] [-n PER_ROUND]\n");
}

int main(int argc, char **argv)
{
	struct bench b = {
	    .fd = -1,
	    .rounds = 40,
	    .per_round = 10,
	    .tw = {.what = "warm"},
	    .tc = {.what = "cold"},
	    .tb = {.what = "bare"},
	};
	const char *sock = "/run/fnguard/fnguard.sock";
	struct sample s;
	long long ns;
	int opt, status = 1;

	while ((opt = getopt(argc, argv, "s:w:c:x:r:n:h")) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'w':
			b.warm = optarg;
			break;
		case 'c':
			b.cold = optarg;
			break;
		case 'x':
			b.handler = optarg;
			break;
		case 'r':
			b.rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			b.per_round = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!b.warm || !b.cold || !b.handler || !b.rounds || !b.per_round || b.rounds > 10000 ||
	    b.per_round > 10000) {
		usage(stderr);
		return 2;
	}
	/* A handler that exits before reading its payload must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	b.w = calloc(b.rounds * b.per_round, sizeof(*b.w));
	b.wb = calloc(b.rounds * b.per_round, sizeof(*b.wb));
	b.wd = calloc(b.rounds * b.per_round, sizeof(*b.wd));
	b.c = calloc(b.rounds, sizeof(*b.c));
	b.cb = calloc(b.rounds, sizeof(*b.cb));
	b.ci = calloc(b.rounds, sizeof(*b.ci));
	b.cr = calloc(b.rounds, sizeof(*b.cr));
	if (!b.w || !b.wb || !b.wd || !b.c || !b.cb || !b.ci || !b.cr) {
		printf("not ok - daemon bench: out of memory\n");
		goto out;
	}
	b.fd = dmn_connect(sock);
	if (b.fd < 0) {
		printf("not ok - daemon bench: cannot connect to %s: %s\n", sock, strerror(-b.fd));
		goto out;
	}
	/* Untimed: the warm function's environment is started here (its cold start), and the
	 * page cache holds the handler and the daemon's code paths before anything is timed. */
	if (dmn_invoke(b.fd, ++b.id, b.warm, &s, &b.tw) || bare_run(b.handler, &s, &b.tb) ||
	    dmn_invoke(b.fd, ++b.id, b.cold, &s, &b.tc) || dmn_barrier(b.fd, ++b.id, &ns)) {
		printf("not ok - daemon bench: the first (untimed) runs failed\n");
		goto out;
	}
	b.tw.runs = b.tb.runs = b.tc.runs = 0;
	bench_run(&b);
	status = bench_report(&b);
out:
	if (b.fd >= 0)
		close(b.fd);
	free(b.w);
	free(b.wb);
	free(b.wd);
	free(b.c);
	free(b.cb);
	free(b.ci);
	free(b.cr);
	return status;
}
