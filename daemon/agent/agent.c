// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard-agent: runs invocations inside an environment (see agent.h). One invocation at a
 * time; everything it waits for (the control channel, the handler's pipes, seccomp
 * notifications, SIGCHLD) is one poll() loop, so a handler that stops reading stdin or floods
 * stderr cannot stall the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "agent.h"
#include "fdpass.h"
#include "fnguard/v1/agent.pb-c.h"
#include "log.h"
#include "runtime_api.h"
#include "seccomp_notify.h"
#include "wire.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Seccomp notification fds kept open: each handler's, until no process uses its filter. */
#define AGENT_MAX_NOTIFY 32

struct agent {
	const struct agent_config *cfg;
	int ctl;
	int sfd; /* signalfd: SIGCHLD */
	int notify[AGENT_MAX_NOTIFY];
	/* The invocation running, when pid > 0. */
	pid_t pid;
	uint64_t oom_kills; /* the guest cgroup's count when it started (cfg->cg) */
	char id[128];
	uint8_t *payload;
	size_t payload_len, payload_off;
	int in, out, err; /* our ends of the handler's stdin, stdout, stderr; -1 when closed */
	uint8_t *resp;
	size_t resp_len;
	bool resp_too_large;
	char line[AGENT_LOG_LINE_MAX];
	size_t line_len;
	struct timespec start;
	int64_t deadline_ms; /* Unix ms */
	bool orphaned;	     /* the daemon is gone: finish this invocation, then exit */
	bool exited;
	int status;
	struct rusage ru;
	/* A runtime (cfg->runtime): one process for many invocations, served through the
	 * Runtime API. @rt_pid is the runtime; @pid is then 0 and @busy says an invocation is
	 * assigned. */
	struct rapi *rapi;
	pid_t rt_pid;
	int rt_out, rt_err; /* its stdout and stderr: both are the function's log */
	char rt_line[AGENT_LOG_LINE_MAX];
	size_t rt_line_len;
	char rt_last[512]; /* its last log line: why it failed to start, often */
	bool busy;
	bool ready_sent;      /* the runtime asked for its first invocation */
	int64_t rt_start_ns;  /* CLOCK_MONOTONIC */
	int64_t rt_init_deadline_ns;
};

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

static uint64_t tv_ns(const struct timeval *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_usec * 1000ull;
}

static int agent_send(struct agent *a, Fnguard__V1__AgentMessage *m)
{
	int err = wire_write_message(a->ctl, &m->base, 0);

	if (err)
		log_warnx("agent: cannot write to the control channel: %s", wire_strerror(err));
	return err;
}

static int agent_send_ready(struct agent *a)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentReady r = FNGUARD__V1__AGENT_READY__INIT;

	r.agent_pid = (uint32_t)getpid();
	if (a->rt_start_ns) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		r.runtime_init_ns = ts_ns(&now) - (uint64_t)a->rt_start_ns;
	}
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_READY;
	m.ready = &r;
	return agent_send(a, &m);
}

int agent_failure_write(int fd, const char *step, int err, const char *error)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentFailure f = FNGUARD__V1__AGENT_FAILURE__INIT;

	f.step = (char *)step;
	f.error = (char *)(error ? error : strerror(-err));
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_FAILURE;
	m.failure = &f;
	return wire_write_message(fd, &m.base, 0);
}

static void agent_send_failure(struct agent *a, const char *step, int err)
{
	if (agent_failure_write(a->ctl, step, err, NULL))
		log_warnx("cannot send a failure to the daemon");
}

static void agent_send_log(struct agent *a, const char *line, size_t len)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentLog l = FNGUARD__V1__AGENT_LOG__INIT;

	l.invocation = a->id;
	l.line.data = (uint8_t *)line;
	l.line.len = len;
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_LOG;
	m.log = &l;
	agent_send(a, &m);
}

int agent_loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int agent_tmp_mount(const char *dir, uint64_t size)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "size=%llu,mode=1777", (unsigned long long)size);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ the handler process */

static void handler_fail(int errpipe, int err)
{
	if (write(errpipe, &err, sizeof(err)) != sizeof(err))
		_exit(126);
	_exit(err == -ENOENT ? 127 : 126);
}

/*
 * In the forked child: from the agent's privileges to the handler's, in the order that makes
 * each step possible (the bounding set needs CAP_SETPCAP, so before the uid change; seccomp
 * last, so the deny list cannot break the steps before it). Never returns.
 */
static void handler_exec(const struct agent *a, char *const argv[], char *const envp[], int fds[3],
			 int sock, int errpipe)
{
	const struct agent_config *cfg = a->cfg;
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* First: the policy applies to the handler from its first step of its own. */
	if (cfg->cg) {
		err = confine_setup(cfg->confine, CONFINE_ENTER, CONFINE_ENTER);
		if (err)
			handler_fail(errpipe, err);
	}
	setsid();
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			handler_fail(errpipe, -errno);
	/* Nothing of the agent's leaks into the handler (the two set-up fds are CLOEXEC). */
	syscall(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
	if (chdir("/var/task") && chdir("/"))
		handler_fail(errpipe, -errno);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			handler_fail(errpipe, -errno);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* Leaving uid 0 without SECBIT_KEEP_CAPS clears the permitted and effective sets. */
	if (setgroups(0, NULL) || setresgid(cfg->gid, cfg->gid, cfg->gid) ||
	    setresuid(cfg->uid, cfg->uid, cfg->uid))
		handler_fail(errpipe, -errno);
	/* Last: no_new_privs and the filter (confine.h), whose fd goes to the agent. */
	cfg->confine->sock = sock;
	err = confine_setup(cfg->confine, CONFINE_NO_NEW_PRIVS, CONFINE_SECCOMP);
	if (err)
		handler_fail(errpipe, err);
	execve(argv[0], argv, envp);
	handler_fail(errpipe, -errno);
}

/*
 * Fork the handler (or a runtime) as @argv with @envp, its stdin, stdout and stderr pipes
 * ours (@in: -1 for /dev/null). Its seccomp listener is added; 0 once it executed, else the
 * -errno of the step that failed (and @pid is still set when it forked).
 */
static void notify_add(struct agent *a, int fd);

static int handler_spawn(struct agent *a, char *const argv[], char *const envp[], int *in_fd,
			 int *out_fd, int *err_fd, pid_t *pid_out)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, sv[2] = {-1, -1};
	int ep[2] = {-1, -1}, fds[3], child_err = 0, nfd;
	ssize_t n;
	pid_t pid;

	*pid_out = 0;
	if ((in_fd && pipe2(in, O_CLOEXEC)) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(ep, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		child_err = -errno;
		goto fail;
	}
	if (!in_fd) {
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in[0] < 0) {
			child_err = -errno;
			goto fail;
		}
	}
	pid = fork();
	if (pid < 0) {
		child_err = -errno;
		goto fail;
	}
	if (pid == 0) {
		fds[0] = in[0];
		fds[1] = out[1];
		fds[2] = err[1];
		handler_exec(a, argv, envp, fds, sv[1], ep[1]);
	}
	*pid_out = pid;
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(sv[1]);
	close(ep[1]);
	if (in_fd) {
		*in_fd = in[1];
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	*out_fd = out[0];
	*err_fd = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	if (a->cfg->confine->plan.seccomp) {
		nfd = fd_recv(sv[0]);
		if (nfd >= 0)
			notify_add(a, nfd);
	}
	close(sv[0]);
	/* Closes on a successful exec, or carries the error. */
	n = read(ep[0], &child_err, sizeof(child_err));
	close(ep[0]);
	if (n != sizeof(child_err))
		child_err = 0;
	return child_err;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (sv[i] >= 0)
			close(sv[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return child_err;
}

static void notify_add(struct agent *a, int fd)
{
	for (int i = 0; i < AGENT_MAX_NOTIFY; i++) {
		if (a->notify[i] < 0) {
			a->notify[i] = fd;
			return;
		}
	}
	/* Fail closed: without a listener, the filter's calls fail with ENOSYS. */
	log_warnx("agent: too many seccomp listeners; denials of the oldest go unreported");
	close(a->notify[0]);
	memmove(a->notify, a->notify + 1, sizeof(int) * (AGENT_MAX_NOTIFY - 1));
	a->notify[AGENT_MAX_NOTIFY - 1] = fd;
}

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void invocation_clear(struct agent *a)
{
	fd_close(&a->in);
	fd_close(&a->out);
	fd_close(&a->err);
	free(a->payload);
	free(a->resp);
	a->payload = a->resp = NULL;
	a->payload_len = a->payload_off = a->resp_len = a->line_len = 0;
	a->resp_too_large = a->exited = false;
	a->pid = 0;
}

static int runtime_invoke(struct agent *a, const Fnguard__V1__AgentInvoke *inv);

/* Start the handler. On failure, the result says why and 0 is returned all the same. */
static int invocation_start(struct agent *a, const Fnguard__V1__AgentInvoke *inv)
{
	char deadline[64], *envp[8] = {0}, *argv[2];
	int err;

	snprintf(a->id, sizeof(a->id), "%s", inv->invocation);
	a->deadline_ms = inv->deadline_unix_ms;
	if (a->cfg->runtime)
		return runtime_invoke(a, inv);
	if (inv->payload.len > FNGUARD_PAYLOAD_MAX || !inv->handler || inv->handler[0] != '/')
		return -EINVAL;
	a->payload = malloc(inv->payload.len ? inv->payload.len : 1);
	if (!a->payload)
		return -ENOMEM;
	memcpy(a->payload, inv->payload.data, inv->payload.len);
	a->payload_len = inv->payload.len;
	if (a->cfg->start_fn)
		a->cfg->start_fn(a->cfg->hook_ctx);
	if (a->cfg->cg) {
		a->oom_kills = cgroup_env_oom_kills(a->cfg->cg);
		cgroup_env_memory_peak_reset(a->cfg->cg);
	}
	snprintf(deadline, sizeof(deadline), "FNGUARD_DEADLINE_MS=%lld",
		 (long long)inv->deadline_unix_ms);
	if (asprintf(&envp[0], "FNGUARD_FUNCTION=%s", inv->function) < 0 ||
	    asprintf(&envp[1], "FNGUARD_VERSION=%s", inv->version) < 0 ||
	    asprintf(&envp[2], "FNGUARD_INVOCATION_ID=%s", inv->invocation) < 0) {
		err = -ENOMEM;
		goto out;
	}
	envp[3] = deadline;
	envp[4] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envp[5] = "HOME=/tmp";
	envp[6] = "LANG=C.UTF-8";
	envp[7] = NULL;
	argv[0] = inv->handler;
	argv[1] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a->start);
	err = handler_spawn(a, argv, envp, &a->in, &a->out, &a->err, &a->pid);
	if (!a->payload_len)
		fd_close(&a->in);
out:
	for (int i = 0; i < 3; i++)
		free(envp[i]);
	return err;
}

/* ------------------------------------------------------------------ a runtime's process */

/*
 * A runtime (docs/runtime.md) is one process per environment: started once (again after each
 * reset with isolate_invocations), it asks the Runtime API for invocations. The agent says
 * ready only when it first asks: until then the environment is starting, and a runtime that
 * exits, reports an init error or never asks within limits.timeout fails it, with the reason.
 */
static void rt_line_flush(struct agent *a)
{
	if (a->rt_line_len) {
		agent_send_log(a, a->rt_line, a->rt_line_len);
		snprintf(a->rt_last, sizeof(a->rt_last), "%.*s", (int)a->rt_line_len, a->rt_line);
	}
	a->rt_line_len = 0;
}

/* stdout and stderr of the runtime are both its log, line by line. */
static void runtime_output(struct agent *a, int *fd)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(*fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				rt_line_flush(a);
				continue;
			}
			a->rt_line[a->rt_line_len++] = buf[i];
			if (a->rt_line_len == sizeof(a->rt_line))
				rt_line_flush(a);
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		rt_line_flush(a);
		fd_close(fd);
	}
}

static int runtime_start(struct agent *a)
{
	const struct agent_config *cfg = a->cfg;
	struct timespec now;
	int err;

	if (cfg->start_fn)
		cfg->start_fn(cfg->hook_ctx); /* the runtime is the environment's first exec */
	clock_gettime(CLOCK_MONOTONIC, &now);
	a->rt_start_ns = (int64_t)ts_ns(&now);
	a->rt_init_deadline_ns = a->rt_start_ns + (int64_t)cfg->runtime_init_timeout_ms * 1000000;
	a->ready_sent = false;
	a->id[0] = 0;
	err = handler_spawn(a, cfg->runtime_argv, cfg->runtime_envp, NULL, &a->rt_out, &a->rt_err,
			    &a->rt_pid);
	if (err) {
		char why[300];

		snprintf(why, sizeof(why), "cannot execute the runtime %s: %s",
			 cfg->runtime_argv[0], strerror(-err));
		agent_failure_write(a->ctl, "starting the runtime", err, why);
		return err;
	}
	return 0;
}

/* The result of the invocation the runtime has, with @resp as its response. */
static int runtime_result(struct agent *a, const void *resp, size_t len, bool too_large,
			  const char *error_type, const char *error_message, int exit_status,
			  bool signaled)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentResult r = FNGUARD__V1__AGENT_RESULT__INIT;
	struct timespec now;

	if (a->cfg->events_fn)
		a->cfg->events_fn(a->cfg->hook_ctx, a->id);
	clock_gettime(CLOCK_MONOTONIC, &now);
	r.invocation = a->id;
	r.response.data = (uint8_t *)resp;
	r.response.len = len;
	r.response_too_large = too_large;
	r.duration_ns = ts_ns(&now) - ts_ns(&a->start);
	if (a->cfg->cg) {
		r.memory_peak_bytes = cgroup_env_memory_peak(a->cfg->cg);
		r.oom = cgroup_env_oom_kills(a->cfg->cg) > a->oom_kills;
	}
	r.error_type = (char *)(error_type ? error_type : "");
	r.error_message = (char *)(error_message ? error_message : "");
	r.exit_status = exit_status;
	r.signaled = signaled;
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_RESULT;
	m.result = &r;
	a->busy = false;
	return agent_send(a, &m);
}

static void rapi_on_next(void *ctx)
{
	struct agent *a = ctx;

	if (!a->ready_sent) {
		a->ready_sent = true;
		agent_send_ready(a);
	}
}

static void rapi_on_response(void *ctx, const char *id, const void *body, size_t len)
{
	struct agent *a = ctx;

	if (a->busy && !strcmp(id, a->id))
		runtime_result(a, body, len, false, NULL, NULL, 0, false);
}

/* The string value of @key ("errorMessage", with its quotes) in an error body, for the record
 * (at most @outlen - 1 bytes; "" when it has none). Not a JSON parser: the runtime's word. */
static void error_field_of(const void *body, size_t len, const char *key, char *out,
			   size_t outlen)
{
	size_t klen = strlen(key);
	const char *b = body, *k = len ? memmem(b, len, key, klen) : NULL;
	size_t o = 0, i;

	out[0] = 0;
	if (!k)
		return;
	i = (size_t)(k - b) + klen;
	while (i < len && (b[i] == ' ' || b[i] == ':' || b[i] == '\t'))
		i++;
	if (i >= len || b[i] != '"')
		return;
	for (i++; i < len && b[i] != '"' && o + 2 < outlen; i++) {
		if (b[i] == '\\' && i + 1 < len)
			i++;
		out[o++] = (unsigned char)b[i] < 0x20 ? ' ' : b[i];
	}
	out[o] = 0;
}

static void rapi_on_error(void *ctx, const char *id, const char *error_type, const void *body,
			  size_t len)
{
	struct agent *a = ctx;
	char msg[1024], type[128];

	if (!a->busy || strcmp(id, a->id))
		return;
	error_field_of(body, len, "\"errorMessage\"", msg, sizeof(msg));
	/* The body's errorType (ValueError), else the header's (Unhandled). */
	error_field_of(body, len, "\"errorType\"", type, sizeof(type));
	runtime_result(a, body, len, false,
		       type[0] ? type : error_type && *error_type ? error_type : "Unhandled", msg,
		       1, false);
}

static void rapi_on_too_large(void *ctx, const char *id)
{
	struct agent *a = ctx;

	if (a->busy && !strcmp(id, a->id))
		runtime_result(a, NULL, 0, true, "Function.ResponseSizeTooLarge",
			       "response over 6 MiB: discarded", 1, false);
}

static void rapi_on_init_error(void *ctx, const char *error_type, const void *body, size_t len)
{
	struct agent *a = ctx;
	char msg[1024], why[1400];

	error_field_of(body, len, "\"errorMessage\"", msg, sizeof(msg));
	snprintf(why, sizeof(why), "the runtime failed to initialise: %s: %s",
		 error_type && *error_type ? error_type : "Runtime.Unknown", msg);
	if (a->busy)
		runtime_result(a, body, len, false,
			       error_type && *error_type ? error_type : "Runtime.Unknown", msg, 1,
			       false);
	agent_failure_write(a->ctl, "runtime init", -EIO, why);
	/* The environment is recycled: the daemon stops it on this failure. */
	kill(a->rt_pid, SIGKILL);
}

static const struct rapi_ops rapi_ops = {
    .response = rapi_on_response,
    .error = rapi_on_error,
    .init_error = rapi_on_init_error,
    .too_large = rapi_on_too_large,
    .next = rapi_on_next,
};

static int runtime_invoke(struct agent *a, const Fnguard__V1__AgentInvoke *inv)
{
	struct rapi_invocation ri = {0};
	int err;

	if (inv->payload.len > FNGUARD_PAYLOAD_MAX)
		return -EINVAL;
	if (a->cfg->cg) {
		a->oom_kills = cgroup_env_oom_kills(a->cfg->cg);
		cgroup_env_memory_peak_reset(a->cfg->cg);
	}
	ri.id = inv->invocation;
	ri.payload = inv->payload.data;
	ri.len = inv->payload.len;
	ri.deadline_ms = inv->deadline_unix_ms;
	ri.function_arn = a->cfg->function_arn;
	ri.trace_id = "";
	clock_gettime(CLOCK_MONOTONIC, &a->start);
	err = rapi_invoke(a->rapi, &ri);
	if (err)
		return err;
	a->busy = true;
	return 0;
}

/* The runtime is gone: mid-invocation that is a crash; either way the environment ends. */
static int runtime_exited(struct agent *a)
{
	char why[900];
	int st = a->status;

	if (a->rt_out >= 0)
		runtime_output(a, &a->rt_out);
	if (a->rt_err >= 0)
		runtime_output(a, &a->rt_err);
	if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "the runtime was killed by signal %d%s%s%s", WTERMSIG(st),
			 a->ready_sent ? "" : " before it asked for an invocation",
			 a->rt_last[0] ? "; its last log line: " : "", a->rt_last);
	else
		snprintf(why, sizeof(why), "the runtime exited with status %d%s%s%s",
			 WEXITSTATUS(st), a->ready_sent ? "" : " before it asked for an invocation",
			 a->rt_last[0] ? "; its last log line: " : "", a->rt_last);
	if (a->busy)
		runtime_result(a, NULL, 0, false, "Runtime.ExitError", why,
			       WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st), true);
	rapi_finish(a->rapi);
	a->rt_pid = 0;
	agent_failure_write(a->ctl, a->ready_sent ? "runtime" : "runtime init", -EIO, why);
	return -ECHILD;
}

static void invocation_stdin(struct agent *a)
{
	ssize_t n = write(a->in, a->payload + a->payload_off, a->payload_len - a->payload_off);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0) { /* EPIPE: the handler does not read its payload; that is its business */
		fd_close(&a->in);
		return;
	}
	a->payload_off += (size_t)n;
	if (a->payload_off == a->payload_len)
		fd_close(&a->in);
}

/* Read what stdout has; past the limit, the rest is read and dropped. */
static void invocation_stdout(struct agent *a)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(a->out, buf, sizeof(buf))) > 0) {
		size_t room = FNGUARD_PAYLOAD_MAX - a->resp_len, take = (size_t)n < room ? (size_t)n : room;
		uint8_t *p;

		if ((size_t)n > room)
			a->resp_too_large = true;
		if (!take)
			continue;
		p = realloc(a->resp, a->resp_len + take);
		if (!p) {
			a->resp_too_large = true;
			continue;
		}
		a->resp = p;
		memcpy(a->resp + a->resp_len, buf, take);
		a->resp_len += take;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		fd_close(&a->out);
}

static void invocation_stderr(struct agent *a)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(a->err, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				agent_send_log(a, a->line, a->line_len);
				a->line_len = 0;
				continue;
			}
			a->line[a->line_len++] = buf[i];
			if (a->line_len == sizeof(a->line)) {
				agent_send_log(a, a->line, a->line_len);
				a->line_len = 0;
			}
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		if (a->line_len)
			agent_send_log(a, a->line, a->line_len);
		a->line_len = 0;
		fd_close(&a->err);
	}
}

static int invocation_finish(struct agent *a, int start_err)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentResult r = FNGUARD__V1__AGENT_RESULT__INIT;
	struct timespec now;
	char why[256] = "";
	int err;

	/* What the handler wrote before it exited is still in the pipes. Processes it left
	 * behind may hold them open: take what is there and stop. */
	if (a->out >= 0)
		invocation_stdout(a);
	if (a->err >= 0)
		invocation_stderr(a);
	if (a->line_len)
		agent_send_log(a, a->line, a->line_len);
	a->line_len = 0;
	if (a->cfg->events_fn)
		a->cfg->events_fn(a->cfg->hook_ctx, a->id);
	clock_gettime(CLOCK_MONOTONIC, &now);
	r.invocation = a->id;
	r.response.data = a->resp;
	r.response.len = a->resp_len;
	r.response_too_large = a->resp_too_large;
	r.duration_ns = ts_ns(&now) - ts_ns(&a->start);
	r.cpu_user_ns = tv_ns(&a->ru.ru_utime);
	r.cpu_system_ns = tv_ns(&a->ru.ru_stime);
	if (a->cfg->cg) {
		r.memory_peak_bytes = cgroup_env_memory_peak(a->cfg->cg);
		r.oom = cgroup_env_oom_kills(a->cfg->cg) > a->oom_kills;
	}
	if (start_err) {
		snprintf(why, sizeof(why), "cannot execute the handler: %s", strerror(-start_err));
		r.error = why;
		r.exit_status = start_err == -ENOENT ? 127 : 126;
	} else if (WIFSIGNALED(a->status)) {
		r.signaled = true;
		r.exit_status = 128 + WTERMSIG(a->status);
	} else {
		r.exit_status = WEXITSTATUS(a->status);
	}
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_RESULT;
	m.result = &r;
	err = agent_send(a, &m);
	invocation_clear(a);
	return err;
}

/* PID 1 reaps every orphan; the handler's status is kept. */
static void agent_reap(struct agent *a)
{
	struct signalfd_siginfo si;
	struct rusage ru;
	int status;
	pid_t pid;

	while (read(a->sfd, &si, sizeof(si)) == sizeof(si))
		;
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		if ((pid == a->pid || pid == a->rt_pid) && !a->exited) {
			a->exited = true;
			a->status = status;
			a->ru = ru;
		}
	}
}

static void agent_notify(struct agent *a, int idx)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentDenial d = FNGUARD__V1__AGENT_DENIAL__INIT;
	struct fng_event e;
	int r = seccomp_notify_handle(a->notify[idx], a->cfg->policy, &e);

	if (r != 1)
		return;
	d.invocation = a->id;
	d.event.data = (uint8_t *)&e;
	d.event.len = sizeof(e);
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_DENIAL;
	m.denial = &d;
	agent_send(a, &m);
}

/* Kill every process of the environment but the agent, and wait until they are gone. */
static void agent_kill_others(struct agent *a)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	/* As PID 1 of the namespace, kill(-1) reaches every other process in it. */
	kill(-1, SIGKILL);
	for (int i = 0; i < 500; i++) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0 && errno == ECHILD)
			break;
		if (pid == 0)
			nanosleep(&ts, NULL);
	}
	for (int i = 0; i < AGENT_MAX_NOTIFY; i++)
		fd_close(&a->notify[i]);
}

static int agent_reset(struct agent *a)
{
	int err;

	agent_kill_others(a);
	/* A fresh tmpfs instead of deleting files: nothing is left, whatever the handler did
	 * with permissions, and the policy's /tmp rules do not apply to the agent's work. */
	if (umount2("/tmp", MNT_DETACH) && errno != EINVAL) {
		err = -errno;
		agent_send_failure(a, "unmounting /tmp", err);
		return err;
	}
	err = agent_tmp_mount("/tmp", a->cfg->tmp_size);
	if (err) {
		agent_send_failure(a, "mounting a fresh /tmp", err);
		return err;
	}
	if (a->cfg->runtime) {
		/* A new runtime process: ready once it asks for its first invocation. */
		a->rt_pid = 0;
		a->exited = false;
		fd_close(&a->rt_out);
		fd_close(&a->rt_err);
		rapi_reset(a->rapi);
		return runtime_start(a);
	}
	return agent_send_ready(a);
}

/* One control message. 1: shut down, 0: go on, -errno: broken channel. */
static int agent_control(struct agent *a)
{
	ProtobufCMessage *msg = NULL;
	Fnguard__V1__AgentRequest *req;
	int r, err = 0;

	r = wire_read_message(a->ctl, &fnguard__v1__agent_request__descriptor, 0, &msg);
	if (r == 0 && a->pid > 0) {
		/* The daemon died mid-invocation. The policy is pinned and stays in force: let
		 * the handler finish (by its deadline), then end the environment. */
		a->orphaned = true;
		return 0;
	}
	if (r <= 0)
		return r == 0 ? 1 : r;
	req = (Fnguard__V1__AgentRequest *)msg;
	switch (req->msg_case) {
	case FNGUARD__V1__AGENT_REQUEST__MSG_INVOKE:
		if (a->pid > 0 || a->busy || (a->cfg->runtime && !a->ready_sent)) {
			agent_send_failure(a, "invoke while busy", -EBUSY);
			err = -EPROTO;
			break;
		}
		r = invocation_start(a, req->invoke);
		if (r && a->cfg->runtime) {
			char why[200];

			snprintf(why, sizeof(why), "cannot hand the invocation to the runtime: %s",
				 strerror(-r));
			err = runtime_result(a, NULL, 0, false, "Runtime.Unavailable", why, 1, false);
		} else if (r) {
			err = invocation_finish(a, r);
		}
		break;
	case FNGUARD__V1__AGENT_REQUEST__MSG_RESET:
		if (a->pid > 0 || a->busy) {
			agent_send_failure(a, "reset while busy", -EBUSY);
			err = -EPROTO;
			break;
		}
		err = agent_reset(a);
		break;
	case FNGUARD__V1__AGENT_REQUEST__MSG_SHUTDOWN:
		err = 1;
		break;
	default:
		agent_send_failure(a, "unknown request", -EPROTO);
		err = -EPROTO;
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return err;
}

int agent_serve(const struct agent_config *cfg, int ctl)
{
	struct agent a = {.cfg = cfg, .ctl = ctl, .in = -1, .out = -1, .err = -1,
			  .rt_out = -1, .rt_err = -1};
	sigset_t mask;
	int err = 0;

	for (int i = 0; i < AGENT_MAX_NOTIFY; i++)
		a.notify[i] = -1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a.sfd < 0) {
		err = -errno;
		agent_send_failure(&a, "signalfd", err);
		return err;
	}
	if (cfg->runtime) {
		char why[300] = "";

		/* The Runtime API first: the runtime may ask for its invocation at once. */
		err = rapi_start(&a.rapi, "127.0.0.1", cfg->runtime_api_port, &rapi_ops, &a, why,
				 sizeof(why));
		if (err) {
			agent_failure_write(ctl, "starting the Runtime API", err, why[0] ? why : NULL);
			close(a.sfd);
			return err;
		}
		err = runtime_start(&a);
	} else {
		err = agent_send_ready(&a);
	}
	while (!err) {
		int timeout = -1;

		struct pollfd p[9 + AGENT_MAX_NOTIFY];
		int n = 0, ictl, isfd, iin = -1, iout = -1, ierr = -1, ievents = -1, inotify;
		int irapi = -1, irout = -1, irerr = -1;

		ictl = n;
		p[n++] = (struct pollfd){.fd = a.orphaned ? -1 : ctl, .events = POLLIN};
		if (a.orphaned) {
			struct timespec now;
			int64_t left;

			clock_gettime(CLOCK_REALTIME, &now);
			left = a.deadline_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
			if (left <= 0)
				break; /* past the deadline: everything is killed below */
			timeout = left > 1000 ? 1000 : (int)left;
		}
		isfd = n;
		p[n++] = (struct pollfd){.fd = a.sfd, .events = POLLIN};
		if (a.in >= 0) {
			iin = n;
			p[n++] = (struct pollfd){.fd = a.in, .events = POLLOUT};
		}
		if (a.out >= 0) {
			iout = n;
			p[n++] = (struct pollfd){.fd = a.out, .events = POLLIN};
		}
		if (a.err >= 0) {
			ierr = n;
			p[n++] = (struct pollfd){.fd = a.err, .events = POLLIN};
		}
		if (cfg->events_fn) {
			ievents = n;
			p[n++] = (struct pollfd){.fd = cfg->events_fd, .events = POLLIN};
		}
		if (a.rapi) {
			int t = rapi_timeout_ms(a.rapi);

			irapi = n;
			p[n++] = (struct pollfd){.fd = rapi_fd(a.rapi), .events = POLLIN};
			if (t >= 0 && (timeout < 0 || t < timeout))
				timeout = t;
			if (a.rt_pid && !a.ready_sent) {
				struct timespec now;
				int64_t left;

				clock_gettime(CLOCK_MONOTONIC, &now);
				left = (a.rt_init_deadline_ns - (int64_t)ts_ns(&now)) / 1000000;
				if (left <= 0) {
					char why[200];

					snprintf(why, sizeof(why),
						 "the runtime did not ask for an invocation within "
						 "%llu ms of its start",
						 (unsigned long long)cfg->runtime_init_timeout_ms);
					agent_failure_write(ctl, "runtime init", -ETIMEDOUT, why);
					err = -ETIMEDOUT;
					break;
				}
				if (timeout < 0 || left < timeout)
					timeout = (int)left;
			}
		}
		if (a.rt_out >= 0) {
			irout = n;
			p[n++] = (struct pollfd){.fd = a.rt_out, .events = POLLIN};
		}
		if (a.rt_err >= 0) {
			irerr = n;
			p[n++] = (struct pollfd){.fd = a.rt_err, .events = POLLIN};
		}
		inotify = n;
		for (int i = 0; i < AGENT_MAX_NOTIFY; i++)
			p[n++] = (struct pollfd){.fd = a.notify[i], .events = POLLIN};
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (int i = 0; i < AGENT_MAX_NOTIFY; i++) {
			short re = p[inotify + i].revents;

			if (re & POLLIN)
				agent_notify(&a, i);
			else if (re & (POLLHUP | POLLERR | POLLNVAL))
				fd_close(&a.notify[i]); /* no process uses this filter any more */
		}
		if (ievents >= 0 && p[ievents].revents)
			cfg->events_fn(cfg->hook_ctx, a.pid > 0 ? a.id : "");
		if (iin >= 0 && p[iin].revents)
			invocation_stdin(&a);
		if (iout >= 0 && p[iout].revents)
			invocation_stdout(&a);
		if (ierr >= 0 && p[ierr].revents)
			invocation_stderr(&a);
		if (irout >= 0 && p[irout].revents)
			runtime_output(&a, &a.rt_out);
		if (irerr >= 0 && p[irerr].revents)
			runtime_output(&a, &a.rt_err);
		if (irapi >= 0)
			rapi_run(a.rapi);
		if (p[isfd].revents)
			agent_reap(&a);
		if (a.rt_pid > 0 && a.exited) {
			err = runtime_exited(&a);
			break;
		}
		if (a.pid > 0 && a.exited) {
			if (a.orphaned)
				break;
			err = invocation_finish(&a, 0);
		}
		if (!err && p[ictl].revents)
			err = agent_control(&a);
	}
	agent_kill_others(&a);
	invocation_clear(&a);
	fd_close(&a.rt_out);
	fd_close(&a.rt_err);
	if (a.rapi)
		rapi_stop(a.rapi);
	close(a.sfd);
	return err == 1 ? 0 : err;
}
