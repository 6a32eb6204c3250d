// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard run: run a command, and everything it starts, confined by a policy on this kernel,
 * with no daemon. The steps, in order:
 *   1. load the policy; 2. decide what this kernel can enforce, refuse (125) what it cannot
 *   unless --allow-partial; 3. create the environment's cgroup; 4. load the BPF object and
 *   install the policy for the cgroup (before any process is in it); 5. fork: the child enters
 *   the cgroup, sets no_new_privs, loads the seccomp filter, hands its notification fd over and
 *   executes the command; 6. supervise: denial events, seccomp notifications, signals; 7. when
 *   the command exits: kill what is left in the cgroup (a double-forked daemon must not outlive
 *   its confinement), drain events, report losses, remove everything that was created.
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

#include "kernel_support.h"
#include "bpf_backend.h"
#include "cgroup.h"
#include "event_json.h"
#include "fdpass.h"
#include "log.h"
#include "plan.h"
#include "fnguard_genl.h"
#include "policy.h"
#include "seccomp_notify.h"

#define EXIT_FNGUARD 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

int cmd_run(int argc, char **argv);

struct run {
	struct fng_policy *policy;
	FILE *events;
	struct event_ctx ectx;
	unsigned long denials;
	int write_errors;
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

/* Step 2: refuse, or with --allow-partial say what will not be enforced. */
static int check_enforceable(const struct fng_policy *p, const char *backend, bool partial,
			     struct enforce_plan *plan)
{
	enforce_plan_make(p, backend, plan);
	if (!plan->missing)
		return 0;
	fprintf(stderr, "fnguard: %s: %s on this kernel:\n", p->source,
		partial ? "these rules are NOT enforced" : "cannot enforce the policy");
	enforce_plan_print_missing(p, backend, plan, stderr);
	if (partial)
		return 0;
	fprintf(stderr, "fnguard: refusing to run: use --allow-partial to run with only the "
			"enforceable rules, or 'fnguard status' for what this kernel supports\n");
	return -EOPNOTSUPP;
}

/* Step 5, in the child: never returns. */
static void child_exec(struct fng_cgroup *cg, const struct fng_policy *p,
		       const struct enforce_plan *plan, int sock, int errpipe, char **cmd)
{
	sigset_t none;
	int fd, err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The cgroup first: the policy is keyed by it, and every later step runs confined. */
	err = cgroup_enter(cg);
	if (err)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err = -errno;
		goto fail;
	}
	if (plan->seccomp) {
		fd = seccomp_policy_load(p, plan->socket_rules);
		if (fd < 0) {
			err = fd;
			goto fail;
		}
		/* The supervisor answers; the confined side must not keep the fd. */
		err = fd_send(sock, fd);
		close(fd);
		if (err)
			goto fail;
	}
	if (sock >= 0)
		close(sock);
	execvp(cmd[0], cmd);
	err = -errno;
	if (write(errpipe, &err, sizeof(err)) != sizeof(err))
		_exit(EXIT_FNGUARD);
	_exit(err == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
fail:
	err = err - 1000; /* set-up failures are told apart from exec failures */
	if (write(errpipe, &err, sizeof(err)) != sizeof(err))
		_exit(EXIT_FNGUARD);
	_exit(EXIT_FNGUARD);
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

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"policy", required_argument, NULL, 'p'}, {"events", required_argument, NULL, 'e'},
		{"backend", required_argument, NULL, 'b'}, {"audit", no_argument, NULL, 'a'},
		{"allow-partial", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *events_spec = NULL, *backend = "auto";
	bool audit = false, partial = false;
	struct policy_diags diags;
	struct run r = {0};
	struct fng_cgroup cg = {.fd = -1};
	struct bpf_backend *bpf = NULL;
	struct bpf_env env = {0};
	int c, rc = EXIT_FNGUARD, err, sv[2] = {-1, -1}, errpipe[2] = {-1, -1};
	int notify_fd = -1, sfd = -1, efd = -1, status = 0, child_err = 0;
	struct enforce_plan plan = {0};
	bool child_done = false;
	char name[64];
	sigset_t mask;
	pid_t pid = -1;
	ssize_t n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:e:b:aPh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'e':
			events_spec = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'a':
			audit = true;
			break;
		case 'P':
			partial = true;
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
	if (strcmp(backend, "auto") && strcmp(backend, "bpf-lsm") && strcmp(backend, "kmod")) {
		fprintf(stderr, "fnguard: run: unknown backend '%s' (auto, bpf-lsm or kmod)\n",
			backend);
		return EXIT_FNGUARD;
	}

	/* 1. The policy. */
	policy_diags_init(&diags);
	if (policy_path)
		err = policy_load_file(policy_path, &r.policy, &diags);
	else
		err = policy_load_buffer("(built-in default)", "apiVersion: fnguard/v1\n", 23, NULL,
					 &r.policy, &diags);
	if (!err && !policy_path)
		policy_open_all_but_syscalls(r.policy);
	if (err) {
		policy_diags_print(&diags, stderr);
		fprintf(stderr, "fnguard: run: %s: invalid policy\n",
			policy_path ? policy_path : "(default)");
		policy_diags_free(&diags);
		return EXIT_FNGUARD;
	}
	policy_diags_free(&diags);
	if (audit)
		policy_force_audit(r.policy);

	/* 2. What this kernel can enforce. */
	if (check_enforceable(r.policy, backend, partial, &plan))
		goto out;

	r.events = open_events(events_spec);
	if (!r.events)
		goto out;
	event_ctx_init(&r.ectx, r.policy, NULL);

	/* Signals arrive through a signalfd; the child gets the default mask back. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_warn("run: signalfd");
		goto out;
	}

	/* 3. The environment's cgroup. */
	snprintf(name, sizeof(name), "run-%d", (int)getpid());
	err = cgroup_env_create(name, &cg);
	if (err) {
		fprintf(stderr, "fnguard: run: cannot create the cgroup: %s\n", strerror(-err));
		goto out;
	}

	/* Resource limits of a policy file (the built-in default sets none). */
	if (policy_path) {
		char why[256];

		err = cgroup_env_limits(&cg, r.policy->limits.pids, r.policy->limits.memory_bytes,
					why, sizeof(why));
		if (err) {
			fprintf(stderr, "fnguard: %s: %s on this kernel:\n  %s\n", r.policy->source,
				partial ? "these rules are NOT enforced" : "cannot enforce the policy",
				why);
			if (!partial) {
				fprintf(stderr, "fnguard: refusing to run: use --allow-partial to run "
						"without these limits\n");
				goto out;
			}
		}
	}

	/* 4. The policy in force for the cgroup before anything runs in it. */
	if (plan.bpf) {
		err = bpf_backend_open(&bpf, plan.lsm_mode, on_event, &r);
		if (err) {
			fprintf(stderr, "fnguard: run: cannot load the BPF programs: %s\n",
				strerror(-err));
			goto out;
		}
		env.cgroup_fd = cg.fd;
		env.cgroup_id = cg.id;
		err = bpf_backend_env_install(bpf, &env, r.policy, plan.bpf_sections);
		if (err) {
			fprintf(stderr, "fnguard: run: cannot install the policy: %s\n",
				strerror(-err));
			goto out;
		}
	}

	/* 5. The command. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) || pipe2(errpipe, O_CLOEXEC)) {
		log_warn("run: socketpair");
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_warn("run: fork");
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		close(errpipe[0]);
		child_exec(&cg, r.policy, &plan, sv[1], errpipe[1], &argv[optind]);
	}
	close(sv[1]);
	sv[1] = -1;
	close(errpipe[1]);
	errpipe[1] = -1;
	if (plan.seccomp) {
		notify_fd = fd_recv(sv[0]);
		if (notify_fd < 0)
			notify_fd = -1; /* the child failed before: its error comes through errpipe */
	}
	/* The pipe closes on a successful exec, or carries the error. */
	n = read(errpipe[0], &child_err, sizeof(child_err));
	if (n == sizeof(child_err)) {
		waitpid(pid, &status, 0);
		child_done = true;
		if (child_err <= -1000) {
			fprintf(stderr, "fnguard: run: setting up the confined process failed: %s\n",
				strerror(-(child_err + 1000)));
			rc = EXIT_FNGUARD;
		} else {
			fprintf(stderr, "fnguard: run: %s: %s\n", argv[optind], strerror(-child_err));
			rc = child_err == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		}
		goto drain;
	}

	/* 6. Supervise. */
	efd = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = {.events = EPOLLIN};

		ev.data.u32 = 1;
		epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev);
		if (notify_fd >= 0) {
			ev.data.u32 = 2;
			epoll_ctl(efd, EPOLL_CTL_ADD, notify_fd, &ev);
		}
		if (bpf) {
			ev.data.u32 = 3;
			epoll_ctl(efd, EPOLL_CTL_ADD, bpf_backend_events_fd(bpf), &ev);
		}
	}
	while (!child_done) {
		struct epoll_event evs[4];
		int nev = epoll_wait(efd, evs, 4, 1000);

		for (int i = 0; i < nev; i++) {
			if (evs[i].data.u32 == 1) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGCHLD)
						kill(pid, si.ssi_signo);
				}
				if (waitpid(pid, &status, WNOHANG) == pid)
					child_done = true;
			} else if (evs[i].data.u32 == 2) {
				struct fng_event e;

				if (seccomp_notify_handle(notify_fd, r.policy, &e) == 1) {
					e.cgroup_id = cg.id;
					on_event(&e, &r);
				}
			} else if (evs[i].data.u32 == 3) {
				bpf_backend_events_read(bpf, 0);
			}
		}
	}
	rc = wait_status_code(status);

drain:
	/* 7. Nothing of the environment outlives it. */
	if (cg.fd >= 0) {
		int left = cgroup_kill_all(&cg);

		if (left > 0)
			fprintf(stderr, "fnguard: run: %d process(es) of the environment survived "
					"SIGKILL\n", left);
	}
	if (bpf) {
		uint64_t lost, n_fail, n_deep, n_missed;

		bpf_backend_events_read(bpf, 0);
		lost = bpf_backend_counter(bpf, FNG_CNT_RINGBUF_FULL);
		if (lost)
			event_json_write_loss(r.events, &r.ectx, lost, "kernel ring buffer");
		/* Decisions that failed closed are not lost events, but they must not be silent. */
		n_fail = bpf_backend_counter(bpf, FNG_CNT_MAP_FAIL);
		n_deep = bpf_backend_counter(bpf, FNG_CNT_PATH_TOO_DEEP);
		/* The kprobe core skipped the module's handler (recursion guard): calls undecided. */
		n_missed = bpf_backend_counter(bpf, FNGUARD_CNT_PROBE_MISSED);
		if (n_missed)
			fprintf(stderr, "fnguard: run: %llu call(s) were NOT checked: the fnguard "
					"module's probes were skipped by the kernel (kprobe "
					"recursion guard)\n",
				(unsigned long long)n_missed);
		if (n_fail)
			fprintf(stderr, "fnguard: run: %llu decision(s) denied because the policy "
					"maps could not be read (failed closed)\n",
				(unsigned long long)n_fail);
		if (n_deep)
			fprintf(stderr, "fnguard: run: %llu path(s) deeper than %d levels were denied "
					"(failed closed)\n",
				(unsigned long long)n_deep, FNG_MAX_PATH_DEPTH);
	}
	if (r.write_errors)
		fprintf(stderr, "fnguard: run: %d event(s) could not be written\n", r.write_errors);
out:
	if (bpf) {
		bpf_backend_env_remove(bpf, &env);
		bpf_backend_close(bpf);
	}
	if (cg.path[0])
		cgroup_env_destroy(&cg);
	if (notify_fd >= 0)
		close(notify_fd);
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (errpipe[i] >= 0)
			close(errpipe[i]);
	}
	if (efd >= 0)
		close(efd);
	if (sfd >= 0)
		close(sfd);
	if (r.events && r.events != stderr && r.events != stdout)
		fclose(r.events);
	policy_free(r.policy);
	return rc;
}
