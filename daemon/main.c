// SPDX-License-Identifier: Apache-2.0
/*
 * fnguardd: the host daemon. Registers functions, starts their environments, runs
 * invocations, and streams telemetry (README.md, "The daemon's files", says how the files
 * divide the work).
 *
 * Start-up, in order: configuration -> signals -> telemetry hub -> what the kernel can enforce
 * -> BPF object, pinned (so enforcement outlives the daemon) -> what a killed predecessor
 * left (cleaned) -> registered functions from the state directory -> the API socket (last:
 * a client never sees a half-started daemon).
 * Shutdown on SIGTERM or SIGINT: stop taking requests, stop every environment (processes,
 * cgroups, mounts with them, BPF objects), end subscriptions, remove the socket.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "config.h"
#include "api.h"
#include "control.h"
#include "emit.h"
#include "pool.h"
#include "env_microvm.h"
#include "fnguard_api.h"
#include "kernel_support.h"
#include "fnguard_genl.h"
#include "fnguardd.h"
#include "registry.h"
#include "log.h"
#include "loop.h"

#define BPF_FS_MAGIC 0xcafe4a11

/* The one global: set by the signal watch, read by main's loop. */
static volatile int quit;

static void signal_event(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			quit = 1;
			break;
		case SIGHUP:
			log_info("SIGHUP: nothing to reload (functions are registered through the API)");
			break;
		case SIGCHLD:
			/* Agents and VMMs: their environment learns of it from the channel's end
			 * of file; the KVM probe by its status. */
			for (;;) {
				int status;
				pid_t pid = waitpid(-1, &status, WNOHANG);

				if (pid <= 0)
					break;
				env_microvm_child_exited(watch_daemon(w), pid, status);
			}
			break;
		}
	}
}

static void kernel_report_losses(struct fnguardd *d)
{
	uint64_t lost = kernel_lost_total(d);

	if (lost > d->ringbuf_lost) {
		struct telemetry_event *t = ev_scratch(d);

		telemetry_loss(t, lost - d->ringbuf_lost, "kernel ring buffer");
		emit(d, t, NULL, NULL, NULL);
		d->ringbuf_lost = lost;
	}
	/* The kprobe core skipped the module's handler: calls that ran undecided. Never silent. */
	if (d->bpf) {
		uint64_t missed = enforcer_counter(d->bpf, FNGUARD_CNT_PROBE_MISSED);

		if (missed > d->probes_missed) {
			log_warnx("kmod: %llu call(s) were NOT checked: the module's probes were "
				  "skipped by the kernel (kprobe recursion guard)",
				  (unsigned long long)(missed - d->probes_missed));
			d->probes_missed = missed;
		}
	}
}

static void tick_event(struct watch *w, uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) != sizeof(n))
		return;
	kernel_report_losses(watch_daemon(w));
	env_microvm_probe_tick(watch_daemon(w));
	envs_tick(watch_daemon(w));
}

static void kernel_event(const struct fng_event *ev, void *ctx)
{
	struct fnguardd *d = ctx;
	struct env *e = env_by_cgroup(d, ev->cgroup_id);

	if (e) {
		env_denial(e, ev);
	} else {
		struct telemetry_event *t = ev_scratch(d);

		telemetry_denial(t, ev, NULL, d->boot_to_real_ns);
		emit(d, t, NULL, NULL, NULL);
	}
}

static void kev_event(struct watch *w, uint32_t events)
{
	enforcer_events_read(watch_daemon(w)->bpf, 0);
}

/* ------------------------------------------------------------------ start-up */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fnguardd [--socket PATH] [--state-dir DIR] [--config FILE] [--foreground]\n"
		"                [-n] [-v]\n"
		"       fnguardd --check-config FILE\n"
		"\n"
		"The fnguard host daemon: registers functions, runs their invocations in confined\n"
		"execution environments, and streams telemetry (fnguard events).\n"
		"\n"
		"  --socket PATH        API socket (else $" FNGUARD_SOCKET_ENV
		", else " FNGUARD_SOCKET_DEFAULT ")\n"
		"  --state-dir DIR      registered functions are kept here "
		"(default " FNGUARD_STATE_DIR_DEFAULT ")\n"
		"  --config FILE        the settings below, from a YAML file\n"
		"  --check-config FILE  check FILE, print 'configuration OK' or every problem\n"
		"                       as FILE:LINE:COLUMN: message, exit 0 or 1\n"
		"  -n                   check the --config file the same way, and exit\n"
		"  --foreground         stay in the foreground and log to stderr\n"
		"  -v                   debug logging\n"
		"\n");
	config_help(f);
	fprintf(f, "\n"
		   "Examples:\n"
		   "  fnguardd --foreground\n"
		   "  fnguardd --socket /tmp/fng.sock --state-dir /tmp/fng-state --foreground\n"
		   "  fnguardd --check-config /etc/fnguard/fnguardd.conf\n");
}

/* Pinned enforcement needs bpffs; mount it where it is expected if nobody did. */
static bool bpffs_ready(const char *dir)
{
	struct statfs sf;

	if (!statfs("/sys/fs/bpf", &sf) && (uint32_t)sf.f_type == BPF_FS_MAGIC)
		return true;
	if (!strncmp(dir, "/sys/fs/bpf/", 12) && !mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return true;
	return false;
}

static int start(struct fnguardd *d)
{
	const struct backend_status *st = backend_status_get();
	struct hub_config hc = {0};
	struct itimerspec its = {{1, 0}, {1, 0}};
	struct timespec rt, bt;
	sigset_t mask;
	int err;

	d->started_mono = mono_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	d->boot_to_real_ns = ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000 + (rt.tv_nsec - bt.tv_nsec);
	gethostname(d->host, sizeof(d->host) - 1);
	if (loop_open(&d->loop))
		fatal("epoll_create1");
	/* Orphans of our environments come back to us, not to the host's init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_watch.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->sig_watch.fn = signal_event;
	if (d->sig_watch.fd < 0 || loop_add(&d->loop, &d->sig_watch, EPOLLIN))
		fatal("signalfd");
	d->tick_watch.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->tick_watch.fn = tick_event;
	if (d->tick_watch.fd < 0 || timerfd_settime(d->tick_watch.fd, 0, &its, NULL) ||
	    loop_add(&d->loop, &d->tick_watch, EPOLLIN))
		fatal("timerfd");

	hc.host = d->host;
	hc.export_path = d->cfg.export_path;
	hc.export_rotate_bytes = d->cfg.export_rotate_bytes;
	hc.export_keep = d->cfg.export_keep;
	err = hub_new(&d->hub, &hc);
	if (err) {
		log_warnx("telemetry: %s", strerror(-err));
		return err;
	}

	/* What this kernel enforces, said once, plainly. */
	log_info("bpf-lsm: %s", st->bpf_lsm.ok ? "available" : st->bpf_lsm.why);
	log_info("cgroup network programs: %s", st->cgroup_net.ok ? "available" : st->cgroup_net.why);
	log_info("kmod: %s", st->kmod.ok ? (st->bpf_lsm.ok ? "available (bpf-lsm preferred)"
							 : "available, in use for files, exec and "
							   "families")
					 : st->kmod.why);
	log_info("seccomp: %s", st->seccomp.ok ? "available" : st->seccomp.why);
	if (st->cgroup_net.ok || st->bpf_lsm.ok) {
		int mode = st->bpf_lsm.ok ? BPF_LSM_PROGS : st->kmod.ok ? BPF_LSM_KMOD : BPF_LSM_NONE;

		err = enforcer_open(&d->bpf, mode, kernel_event, d);
		if (err) {
			log_warnx("cannot load the BPF programs: %s", strerror(-err));
			return err;
		}
		d->kev_watch.fd = enforcer_events_fd(d->bpf);
		d->kev_watch.fn = kev_event;
		if (loop_add(&d->loop, &d->kev_watch, EPOLLIN))
			fatal("epoll");
	}
	/* A predecessor's leftovers go before we pin anything of ours. */
	envs_cleanup_stale();
	/* The environments' ids: nobody else's, and none a live process (a leftover VMM that
	 * survived the clean-up, say) still runs as. */
	{
		char why[300];
		int n;

		err = uid_range_init(&d->uids, NULL, NULL, why, sizeof(why));
		if (err) {
			log_warnx("uid_range: %s", why);
			return err;
		}
		n = uid_range_mark_running(&d->uids, NULL);
		if (n)
			log_warnx("uid_range: %d id(s) of the range are in use by running processes: "
				  "they are not handed out",
				  n);
	}
	if (d->bpf) {
		enforcer_unpin(d->cfg.pin_dir);
		if (bpffs_ready(d->cfg.pin_dir) && !enforcer_pin(d->bpf, d->cfg.pin_dir))
			d->bpf_pinned = true;
		else
			log_warnx("%s: enforcement is not pinned: it ends if the daemon is killed "
				  "(environments die with it)",
				  d->cfg.pin_dir);
	}
	err = functions_load(d);
	if (err)
		log_warnx("state: %s: %s", d->cfg.state_dir, strerror(-err));
	err = control_open(d);
	if (err)
		return err;
	/* Off the loop: microVM environments wait for its answer, nothing else does. */
	env_microvm_probe_start(d, envs_dispatch_all);
	envs_tick(d); /* provisioned environments */
	log_info("listening on %s (state in %s)", d->cfg.socket_path, d->cfg.state_dir);
	return 0;
}

static void stop(struct fnguardd *d)
{
	d->stopping = true;
	log_info("stopping: %u environment(s)", d->n_envs);
	envs_stop_all(d, "daemon stopping");
	env_microvm_probe_stop(d);
	kernel_report_losses(d);
	control_close(d);
	if (d->bpf) {
		if (d->bpf_pinned)
			enforcer_unpin(d->cfg.pin_dir);
		enforcer_close(d->bpf);
		d->bpf = NULL;
	}
	while (d->fns) {
		struct fn *f = d->fns;

		d->fns = f->next;
		function_free(f);
	}
	hub_free(d->hub);
	uid_range_free(&d->uids);
	loop_close(&d->loop);
	log_info("stopped");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"state-dir", required_argument, NULL, 'd'},
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", required_argument, NULL, 'C'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* The daemon's state: every function that needs it gets it as a parameter. */
	struct fnguardd daemon_state = {
	    .sig_watch = {.fd = -1}, .tick_watch = {.fd = -1}, .kev_watch = {.fd = -1}};
	struct fnguardd *d = &daemon_state;
	bool foreground = false, check = false;
	const char *config = NULL;
	int c, verbose = 0;

	d->cfg.socket_path =
	    getenv(FNGUARD_SOCKET_ENV) ? getenv(FNGUARD_SOCKET_ENV) : FNGUARD_SOCKET_DEFAULT;
	d->cfg.state_dir = FNGUARD_STATE_DIR_DEFAULT;
	config_defaults(&d->cfg, &d->uids);
	log_init("fnguardd", 0);
	while ((c = getopt_long(argc, argv, "s:d:c:fnvh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			d->cfg.socket_path = optarg;
			break;
		case 'd':
			d->cfg.state_dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'C':
			config = optarg;
			/* fall through */
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "fnguardd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (config) {
		struct policy_diags diags;
		int err;

		policy_diags_init(&diags);
		err = config_load(&d->cfg, &d->uids, config, &diags);
		policy_diags_print(&diags, stderr);
		policy_diags_free(&diags);
		if (err)
			return 1;
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	log_set_verbose(verbose);
	if (geteuid() != 0) {
		fprintf(stderr, "fnguardd: must run as root (it creates cgroups, namespaces and BPF "
				"programs)\n");
		return 1;
	}
	if (!foreground) {
		if (daemon(0, 0))
			fatal("daemon");
		log_use_syslog(LOG_DAEMON);
	}
	if (start(d)) {
		log_warnx("start-up failed");
		stop(d);
		return 1;
	}
	while (!quit)
		if (loop_run_once(&d->loop, -1, &quit))
			fatal("epoll_wait");
	stop(d);
	return 0;
}
