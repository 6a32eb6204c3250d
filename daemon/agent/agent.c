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
static void handler_exec(const struct agent *a, const Fnguard__V1__AgentInvoke *inv, int fds[3],
			 int sock, int errpipe)
{
	const struct agent_config *cfg = a->cfg;
	char deadline[64], *envp[8], *argv[2];
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
	snprintf(deadline, sizeof(deadline), "FNGUARD_DEADLINE_MS=%lld",
		 (long long)inv->deadline_unix_ms);
	if (asprintf(&envp[0], "FNGUARD_FUNCTION=%s", inv->function) < 0 ||
	    asprintf(&envp[1], "FNGUARD_VERSION=%s", inv->version) < 0 ||
	    asprintf(&envp[2], "FNGUARD_INVOCATION_ID=%s", inv->invocation) < 0)
		handler_fail(errpipe, -ENOMEM);
	envp[3] = deadline;
	envp[4] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envp[5] = "HOME=/tmp";
	envp[6] = "LANG=C.UTF-8";
	envp[7] = NULL;
	argv[0] = inv->handler;
	argv[1] = NULL;
	execve(inv->handler, argv, envp);
	handler_fail(errpipe, -errno);
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

/* Start the handler. On failure, the result says why and 0 is returned all the same. */
static int invocation_start(struct agent *a, const Fnguard__V1__AgentInvoke *inv)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, sv[2] = {-1, -1};
	int ep[2] = {-1, -1}, fds[3], child_err = 0, nfd;
	ssize_t n;
	pid_t pid;

	snprintf(a->id, sizeof(a->id), "%s", inv->invocation);
	a->deadline_ms = inv->deadline_unix_ms;
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
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(ep, O_CLOEXEC) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		child_err = -errno;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &a->start);
	pid = fork();
	if (pid < 0) {
		child_err = -errno;
		goto fail;
	}
	if (pid == 0) {
		fds[0] = in[0];
		fds[1] = out[1];
		fds[2] = err[1];
		handler_exec(a, inv, fds, sv[1], ep[1]);
	}
	a->pid = pid;
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(sv[1]);
	close(ep[1]);
	a->in = in[1];
	a->out = out[0];
	a->err = err[0];
	fcntl(a->in, F_SETFL, O_NONBLOCK);
	fcntl(a->out, F_SETFL, O_NONBLOCK);
	fcntl(a->err, F_SETFL, O_NONBLOCK);
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
	if (!a->payload_len)
		fd_close(&a->in);
	return child_err;
fail:
	for (int i = 0; i < 2; i++) {
		fd_close(&in[i]);
		fd_close(&out[i]);
		fd_close(&err[i]);
		fd_close(&sv[i]);
		fd_close(&ep[i]);
	}
	return child_err;
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
		if (pid == a->pid && !a->exited) {
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
		if (a->pid > 0) {
			agent_send_failure(a, "invoke while busy", -EBUSY);
			err = -EPROTO;
			break;
		}
		r = invocation_start(a, req->invoke);
		if (r) {
			err = invocation_finish(a, r);
			break;
		}
		break;
	case FNGUARD__V1__AGENT_REQUEST__MSG_RESET:
		if (a->pid > 0) {
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
	struct agent a = {.cfg = cfg, .ctl = ctl, .in = -1, .out = -1, .err = -1};
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
	err = agent_send_ready(&a);
	while (!err) {
		int timeout = -1;

		struct pollfd p[6 + AGENT_MAX_NOTIFY];
		int n = 0, ictl, isfd, iin = -1, iout = -1, ierr = -1, ievents = -1, inotify;

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
		if (p[isfd].revents)
			agent_reap(&a);
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
	close(a.sfd);
	return err == 1 ? 0 : err;
}
