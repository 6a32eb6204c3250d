// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard run: run a command, and everything it starts, confined by a policy on this kernel,
 * with no daemon. A list of steps (cmd_run), in order, the first that fails ending the run:
 *   1. load the policy; 2. decide what this kernel can enforce, refuse (125) what it cannot
 *   unless --allow-partial; 3. open the events file; 4. take signals through a signalfd;
 *   5. create the environment's cgroup with its limits, load the BPF object and install the
 *   policy for the cgroup (before any process is in it); 6. fork: the child enters the cgroup,
 *   sets no_new_privs, loads the seccomp filter, hands its notification fd over and executes
 *   the command; 7. supervise: denial events, seccomp notifications, signals; then, once a
 *   command was started: kill what is left in the cgroup (a double-forked daemon must not
 *   outlive its confinement), drain events, report losses; and remove everything that was
 *   created. Steps 2, 5 and the child's are the confinement sequence of confine.h, the same
 *   as the daemon's and the guest agent's.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "enforcer.h"
#include "cgroup.h"
#include "confine.h"
#include "event_json.h"
#include "fdpass.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "seccomp_notify.h"

#define EXIT_FNGUARD 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

int cmd_run(int argc, char **argv);

struct run {
	/* The options. */
	const char *policy_path, *events_spec, *backend;
	bool audit, partial;
	char **cmd;

	struct fng_policy *policy;
	FILE *events;
	struct event_ctx ectx;
	unsigned long denials;
	int write_errors;
	struct confine cf;
	struct fng_cgroup cg;
	struct enforce_env env;
	char name[64]; /* the cgroup's */
	int sv[2], errpipe[2], notify_fd, sfd, efd, status;
	pid_t pid;
	bool forked;
	int rc;
};

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: fnguard run [--policy FILE] [--events FILE|-] [--backend auto|bpf-lsm|kmod]\n"
		"                   [--audit] [--allow-partial] -- CMD [ARG...]\n"
		"\n"
		"Run CMD, and everything it starts, confined by the policy on this kernel.\n"
		"Denials are written to --events as JSON lines (default: stderr).\n"
		"\n"
		"  --policy FILE     the policy (spec: docs/policy.md); without it, only the\n"
		"                    built-in syscall deny list applies\n"
		"  --events FILE|-   where denial events go ('-' is stdout)\n"
		"  --backend NAME    auto (default), bpf-lsm or kmod\n"
		"  --audit           block nothing, report everything the policy would deny\n"
		"  --allow-partial   run even if this kernel cannot enforce every rule,\n"
		"                    saying on stderr what is not enforced\n"
		"\n"
		"Exit status: CMD's; 125 fnguard failed (including: this kernel cannot enforce\n"
		"the policy), 126 CMD not executable, 127 CMD not found.\n"
		"\n"
		"Examples:\n"
		"  fnguard run --policy fn.yaml -- /var/task/handler\n"
		"  fnguard run --policy fn.yaml --events denials.jsonl -- python3 app.py\n"
		"  fnguard run --policy fn.yaml --audit -- ./handler    # what would be denied?\n");
}

static void on_event(const struct fng_event *e, void *ctx)
{
	struct run *r = ctx;

	r->denials++;
	if (event_json_write(r->events, &r->ectx, e))
		r->write_errors++;
}

/* Without --policy: only the built-in syscall deny list; files, exec and network are open. */
static void policy_open_all_but_syscalls(struct fng_policy *p)
{
	p->files.def = FNG_VERDICT_ALLOW;
	p->exec.def = FNG_VERDICT_ALLOW;
	p->exec.children = FNG_VERDICT_ALLOW;
	p->network.egress_default = FNG_VERDICT_ALLOW;
	p->network.loopback = FNG_VERDICT_ALLOW;
	p->network.bind = FNG_VERDICT_ALLOW;
	p->network.families = ~0ULL;
}

static void policy_force_audit(struct fng_policy *p)
{
	p->mode = FNG_MODE_AUDIT;
	p->files.mode = FNG_MODE_AUDIT;
	p->exec.mode = FNG_MODE_AUDIT;
	p->network.mode = FNG_MODE_AUDIT;
	p->syscalls.mode = FNG_MODE_AUDIT;
}

/* The plan or the limits cannot enforce something: say what; refuse unless --allow-partial. */
static void run_unenforced(const struct confine *c, enum confine_step step, void *ctx)
{
	const struct fng_policy *p = c->policy;

	(void)ctx;
	fprintf(stderr, "fnguard: %s: %s on this kernel:\n", p->source,
		c->partial ? "these rules are NOT enforced" : "cannot enforce the policy");
	if (step == CONFINE_PLAN)
		enforce_plan_print_missing(p, c->backend, &c->plan, stderr);
	else
		fprintf(stderr, "  %s\n", c->why);
	if (c->partial)
		return;
	if (step == CONFINE_PLAN)
		fprintf(stderr, "fnguard: refusing to run: use --allow-partial to run with only the "
				"enforceable rules, or 'fnguard status' for what this kernel supports\n");
	else
		fprintf(stderr, "fnguard: refusing to run: use --allow-partial to run "
				"without these limits\n");
}

/* In the child: the confined process's steps (confine.h), then the command. Never returns. */
static void child_exec(struct run *r)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(r->sv[0]);
	close(r->errpipe[0]);
	r->cf.sock = r->sv[1];
	err = confine_setup(&r->cf, CONFINE_ENTER, CONFINE_SECCOMP);
	if (err) {
		err = err - 1000; /* set-up failures are told apart from exec failures */
		if (write(r->errpipe[1], &err, sizeof(err)) != sizeof(err))
			_exit(EXIT_FNGUARD);
		_exit(EXIT_FNGUARD);
	}
	close(r->sv[1]);
	execvp(r->cmd[0], r->cmd);
	err = -errno;
	if (write(r->errpipe[1], &err, sizeof(err)) != sizeof(err))
		_exit(EXIT_FNGUARD);
	_exit(err == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

static int wait_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FNGUARD;
}

static FILE *open_events(const char *spec)
{
	FILE *f;

	if (!spec)
		return stderr;
	if (!strcmp(spec, "-"))
		return stdout;
	f = fopen(spec, "ae");
	if (!f)
		log_warn("cannot open events file %s", spec);
	return f;
}

/* 1. The policy. */
static int run_policy(struct run *r)
{
	struct policy_diags diags;
	int err;

	policy_diags_init(&diags);
	if (r->policy_path)
		err = policy_load_file(r->policy_path, &r->policy, &diags);
	else
		err = policy_load_buffer("(built-in default)", "apiVersion: fnguard/v1\n", 23, NULL,
					 &r->policy, &diags);
	if (err) {
		policy_diags_print(&diags, stderr);
		fprintf(stderr, "fnguard: run: %s: invalid policy\n",
			r->policy_path ? r->policy_path : "(default)");
		policy_diags_free(&diags);
		return err;
	}
	policy_diags_free(&diags);
	if (!r->policy_path)
		policy_open_all_but_syscalls(r->policy);
	if (r->audit)
		policy_force_audit(r->policy);
	return 0;
}

/* 2. What this kernel can enforce: refused (125), or with --allow-partial said. */
static int run_plan(struct run *r)
{
	snprintf(r->name, sizeof(r->name), "run-%d", (int)getpid());
	r->cf = (struct confine){
	    .policy = r->policy,
	    .backend = r->backend,
	    .partial = r->partial,
	    .unenforced = run_unenforced,
	    .cgroup_name = r->name,
	    .cg = &r->cg,
	    /* Resource limits of a policy file (the built-in default sets none). */
	    .pids = r->policy_path ? r->policy->limits.pids : 0,
	    .memory_bytes = r->policy_path ? r->policy->limits.memory_bytes : 0,
	    .on_event = on_event,
	    .event_ctx = r,
	    .env = &r->env,
	    .sock = -1,
	};
	return confine_setup(&r->cf, CONFINE_PLAN, CONFINE_PLAN);
}

/* 3. Where denials go. */
static int run_events(struct run *r)
{
	r->events = open_events(r->events_spec);
	if (!r->events)
		return -EIO;
	event_ctx_init(&r->ectx, r->policy, NULL);
	return 0;
}

/* 4. Signals arrive through a signalfd; the child gets the default mask back. */
static int run_signals(struct run *r)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sfd < 0) {
		log_warn("run: signalfd");
		return -EIO;
	}
	return 0;
}

/* 5. The environment's cgroup and its limits, and the policy in force for it before any
 * process is in it. */
static int run_confine(struct run *r)
{
	int err = confine_setup(&r->cf, CONFINE_CGROUP, CONFINE_PIN);

	/* Limits it cannot apply were told by run_unenforced. */
	if (err && r->cf.failed != CONFINE_LIMITS)
		fprintf(stderr, "fnguard: run: %s: %s\n", confine_step_cannot(r->cf.failed),
			strerror(-err));
	return err;
}

/* 6. The command, in a child that confines itself first (child_exec). */
static int run_spawn(struct run *r)
{
	int child_err = 0;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->sv) ||
	    pipe2(r->errpipe, O_CLOEXEC)) {
		log_warn("run: socketpair");
		return -EIO;
	}
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0) {
		log_warn("run: fork");
		return -EIO;
	}
	if (r->pid == 0)
		child_exec(r);
	r->forked = true;
	close(r->sv[1]);
	r->sv[1] = -1;
	close(r->errpipe[1]);
	r->errpipe[1] = -1;
	if (r->cf.plan.seccomp) {
		r->notify_fd = fd_recv(r->sv[0]);
		if (r->notify_fd < 0)
			r->notify_fd = -1; /* the child failed before: its error comes through errpipe */
	}
	/* The pipe closes on a successful exec, or carries the error. */
	n = read(r->errpipe[0], &child_err, sizeof(child_err));
	if (n != sizeof(child_err))
		return 0;
	waitpid(r->pid, &r->status, 0);
	if (child_err <= -1000) {
		fprintf(stderr, "fnguard: run: setting up the confined process failed: %s\n",
			strerror(-(child_err + 1000)));
		r->rc = EXIT_FNGUARD;
	} else {
		fprintf(stderr, "fnguard: run: %s: %s\n", r->cmd[0], strerror(-child_err));
		r->rc = child_err == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	return child_err;
}

/* 7. Supervise until the command exits: denial events, seccomp notifications, signals. */
static int run_supervise(struct run *r)
{
	struct epoll_event ev = {.events = EPOLLIN};
	bool child_done = false;

	r->efd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u32 = 1;
	epoll_ctl(r->efd, EPOLL_CTL_ADD, r->sfd, &ev);
	if (r->notify_fd >= 0) {
		ev.data.u32 = 2;
		epoll_ctl(r->efd, EPOLL_CTL_ADD, r->notify_fd, &ev);
	}
	if (r->cf.bpf) {
		ev.data.u32 = 3;
		epoll_ctl(r->efd, EPOLL_CTL_ADD, enforcer_events_fd(r->cf.bpf), &ev);
	}
	while (!child_done) {
		struct epoll_event evs[4];
		int nev = epoll_wait(r->efd, evs, 4, 1000);

		for (int i = 0; i < nev; i++) {
			if (evs[i].data.u32 == 1) {
				struct signalfd_siginfo si;

				while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGCHLD)
						kill(r->pid, si.ssi_signo);
				}
				if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
					child_done = true;
			} else if (evs[i].data.u32 == 2) {
				struct fng_event e;

				if (seccomp_notify_handle(r->notify_fd, r->policy, &e) == 1) {
					e.cgroup_id = r->cg.id;
					on_event(&e, r);
				}
			} else if (evs[i].data.u32 == 3) {
				enforcer_events_read(r->cf.bpf, 0);
			}
		}
	}
	r->rc = wait_status_code(r->status);
	return 0;
}

/* 8. Nothing of the environment outlives it; what the kernel could not report is said. */
static void run_report(struct run *r)
{
	struct confine_counters n;
	int left = confine_kill(&r->cf);

	if (left > 0)
		fprintf(stderr, "fnguard: run: %d process(es) of the environment survived "
				"SIGKILL\n", left);
	confine_counters(&r->cf, &n);
	if (n.lost)
		event_json_write_loss(r->events, &r->ectx, n.lost, "kernel ring buffer");
	/* Decisions that failed closed are not lost events, but they must not be silent. */
	if (n.missed)
		fprintf(stderr, "fnguard: run: %llu call(s) were NOT checked: the fnguard "
				"module's probes were skipped by the kernel (kprobe "
				"recursion guard)\n",
			(unsigned long long)n.missed);
	if (n.map_fail)
		fprintf(stderr, "fnguard: run: %llu decision(s) denied because the policy "
				"maps could not be read (failed closed)\n",
			(unsigned long long)n.map_fail);
	if (n.too_deep)
		fprintf(stderr, "fnguard: run: %llu path(s) deeper than %d levels were denied "
				"(failed closed)\n",
			(unsigned long long)n.too_deep, FNG_MAX_PATH_DEPTH);
	if (r->write_errors)
		fprintf(stderr, "fnguard: run: %d event(s) could not be written\n", r->write_errors);
}

static void run_cleanup(struct run *r)
{
	if (r->cf.cg)
		confine_end(&r->cf);
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	for (int i = 0; i < 2; i++) {
		if (r->sv[i] >= 0)
			close(r->sv[i]);
		if (r->errpipe[i] >= 0)
			close(r->errpipe[i]);
	}
	if (r->efd >= 0)
		close(r->efd);
	if (r->sfd >= 0)
		close(r->sfd);
	if (r->events && r->events != stderr && r->events != stdout)
		fclose(r->events);
	policy_free(r->policy);
}

static int run_options(struct run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'}, {"events", required_argument, NULL, 'e'},
		{"backend", required_argument, NULL, 'b'}, {"audit", no_argument, NULL, 'a'},
		{"allow-partial", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:e:b:aPh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			r->policy_path = optarg;
			break;
		case 'e':
			r->events_spec = optarg;
			break;
		case 'b':
			r->backend = optarg;
			break;
		case 'a':
			r->audit = true;
			break;
		case 'P':
			r->partial = true;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return EXIT_FNGUARD;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "fnguard: run: no command given (fnguard run [OPTIONS] -- CMD)\n");
		return EXIT_FNGUARD;
	}
	if (strcmp(r->backend, "auto") && strcmp(r->backend, "bpf-lsm") &&
	    strcmp(r->backend, "kmod")) {
		fprintf(stderr, "fnguard: run: unknown backend '%s' (auto, bpf-lsm or kmod)\n",
			r->backend);
		return EXIT_FNGUARD;
	}
	r->cmd = &argv[optind];
	return -1;
}

int cmd_run(int argc, char **argv)
{
	/* In order; the first that fails ends the run with 125 (it says why), or with the
	 * command's exec failure (126, 127). */
	static int (*const steps[])(struct run *r) = {
	    run_policy, run_plan, run_events, run_signals, run_confine, run_spawn, run_supervise,
	};
	struct run r = {
	    .backend = "auto",
	    .cg = {.fd = -1},
	    .sv = {-1, -1},
	    .errpipe = {-1, -1},
	    .notify_fd = -1,
	    .sfd = -1,
	    .efd = -1,
	    .rc = EXIT_FNGUARD,
	};
	int rc = run_options(&r, argc, argv);

	if (rc >= 0)
		return rc;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i](&r))
			break;
	if (r.forked)
		run_report(&r);
	run_cleanup(&r);
	return r.rc;
}
