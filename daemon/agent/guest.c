// SPDX-License-Identifier: Apache-2.0
/*
 * fnguard-agent as PID 1 (/init) of a microVM guest. The guest kernel enforces the policy:
 * this sets the guest up in one ordered function, one step per call, one error per step
 * (Firecracker's jailer), then serves the control channel with agent_serve():
 *
 *   file systems -> console -> kernel modules -> control port -> policy -> confinement
 *   (confine.h: plan -> cgroup -> limits -> BPF backend -> policy in force) -> /tmp -> serve
 *   (each handler joins the cgroup before it is executed; the agent stays outside, unconfined
 *   by the policy)
 *
 * Everything before the control port can only be reported on the serial console; everything
 * after it is reported to the daemon as AgentFailure. Either way the guest powers off: PID 1
 * must never exit (the kernel would panic) and a half set-up guest must never run a handler.
 * Denials the guest kernel makes (the backend's ring buffer) go to the daemon as AgentDenial.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libkmod.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "agent.h"
#include "enforcer.h"
#include "cgroup.h"
#include "confine.h"
#include "fnguard/v1/agent.pb-c.h"
#include "log.h"
#include "policy.h"
#include "runtime_cmd.h"
#include "wire.h"

#define GUEST_MODULES "/fnguard/modules"
#define GUEST_MODULES_RUNTIME "/fnguard/modules-runtime"
#define GUEST_NEWROOT "/fnguard/root"
#define GUEST_DRIVE_WAIT_MS 5000
#define GUEST_KMOD "/fnguard/fnguard.ko"
#define GUEST_POLICY "/fnguard/policy.yaml"
#define GUEST_PORT_NAME "fnguard.ctl"
#define GUEST_PORT_WAIT_MS 5000
#define GUEST_HOST_WAIT_MS 30000
/* The handler's user: nobody, as in /etc/passwd of the initramfs. */
#define GUEST_UID 65534
#define GUEST_GID 65534

struct guest {
	int ctl; /* the control port; -1 until it is open */
	struct fng_policy *policy;
	struct confine cf; /* plan, backend (cf.bpf), the policy in force */
	struct fng_cgroup cg;
	struct enforce_env env;
	const char *runtime;	/* NULL: stdio; else the root is the runtime's image */
	struct runtime_cmd rt;	/* what a runtime's environment starts */
	const char *invocation; /* for denials read now */
	/* The failed step, and its error: why[] when set, else strerror(-err). */
	const char *step;
	int err;
	char why[1024];
};

#define STEP(s, expr)                                                                              \
	do {                                                                                       \
		int __e = (expr);                                                                  \
		if (__e) {                                                                         \
			g->step = (s);                                                             \
			g->err = __e < 0 ? __e : -EIO;                                             \
			return g->err;                                                             \
		}                                                                                  \
	} while (0)


/* The runtime the function names, NULL for stdio (today's image is then the root). */
static const char *guest_runtime(const struct fng_policy *p)
{
	return p->function.runtime == FNG_RUNTIME_STDIO ? NULL
							: fng_runtime_name(p->function.runtime);
}

static int mount_fs(const char *type, const char *dir, unsigned long flags, const char *opts)
{
	return errno_or(mount(type, dir, type, flags, opts));
}

/* PID 1's stdio is /dev/console only if the initramfs has the node: take it from devtmpfs. */
static int console_open(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -errno;
	if (fd > 2)
		close(fd);
	return 0;
}

/* The modules listed in @list, dependencies first (from modules.dep). */
static int modules_load(struct guest *g, const char *names)
{
	char dir[300], line[128];
	struct kmod_module *mod;
	struct kmod_list *list;
	struct kmod_ctx *ctx;
	struct utsname u;
	FILE *f;
	int err = 0;

	if (uname(&u))
		return -errno;
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	ctx = kmod_new(dir, NULL);
	if (!ctx)
		return -ENOMEM;
	f = fopen(names, "re");
	if (!f) {
		err = -errno;
		goto out;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		list = NULL;
		err = kmod_module_new_from_lookup(ctx, line, &list);
		if (!err && !list)
			err = -ENOENT;
		if (err) {
			snprintf(g->why, sizeof(g->why), "%s: %s", line, strerror(-err));
			break;
		}
		mod = kmod_module_get_module(list);
		err = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
		if (err == -EEXIST)
			err = 0;
		if (err)
			snprintf(g->why, sizeof(g->why), "%s: %s", line, strerror(-err));
		kmod_module_unref(mod);
		kmod_module_unref_list(list);
	}
	fclose(f);
out:
	kmod_unref(ctx);
	return err;
}

/*
 * The fallback backend: a guest kernel booted without BPF LSM gets the fnguard module, when the
 * image has one (tools/mkguest adds it when it is built). Loaded before the plan is made, so
 * the plan sees it; with BPF LSM active it is not loaded at all (bpf-lsm is preferred).
 */
static int kmod_fallback(struct guest *g)
{
	char lsm[256] = "";
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	FILE *f;
	int err;

	f = fopen("/sys/kernel/security/lsm", "re");
	if (f) {
		if (!fgets(lsm, sizeof(lsm), f))
			lsm[0] = 0;
		fclose(f);
	}
	lsm[strcspn(lsm, "\n")] = 0;
	if (strstr(lsm, "bpf") || access(GUEST_KMOD, F_OK))
		return 0;
	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	err = kmod_module_new_from_path(ctx, GUEST_KMOD, &mod);
	if (!err) {
		err = kmod_module_insert_module(mod, 0, NULL);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	if (err == -EEXIST)
		err = 0;
	/* Not fatal here: the plan then says what cannot be enforced, and why. */
	if (err)
		log_warnx("guest: loading %s: %s", GUEST_KMOD, strerror(-err));
	return 0;
}

/*
 * /dev/NAME of the entry NAME of @base (named @prefix...) whose attribute file @attr holds
 * @want (a virtio-serial port's name, a virtio-blk drive's serial): 0, or -ENOENT.
 */
static int sys_find(const char *base, const char *prefix, const char *attr, const char *want,
		    char *dev, size_t len)
{
	char path[512], buf[64];
	struct dirent *de;
	DIR *d = opendir(base);
	int fd, err = -ENOENT;
	ssize_t n;

	if (!d)
		return -ENOENT;
	while (err && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", base, de->d_name, attr);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (!strcmp(buf, want)) {
			snprintf(dev, len, "/dev/%s", de->d_name);
			err = access(dev, F_OK) ? -ENOENT : 0;
		}
	}
	closedir(d);
	return err;
}

static int port_find(char *dev, size_t len)
{
	return sys_find("/sys/class/virtio-ports", "", "name", GUEST_PORT_NAME, dev, len);
}

/* The port appears when virtio_console has probed it: wait for it (and for its /dev node). */
static int port_wait(struct guest *g, char *dev, size_t len)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	for (int waited = 0; waited < GUEST_PORT_WAIT_MS; waited += 20) {
		if (!port_find(dev, len))
			return 0;
		nanosleep(&ts, NULL);
	}
	snprintf(g->why, sizeof(g->why), "no virtio-serial port named %s after %d ms",
		 GUEST_PORT_NAME, GUEST_PORT_WAIT_MS);
	return -ENOENT;
}

static int port_open(struct guest *g, const char *dev)
{
	g->ctl = open(dev, O_RDWR | O_CLOEXEC);
	return g->ctl < 0 ? -errno : 0;
}

/* Until the host opens its end, the port reads as end of file and writes block. */
static int port_wait_host(struct guest *g)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct pollfd p = {.fd = g->ctl, .events = POLLOUT};

	for (int waited = 0; waited < GUEST_HOST_WAIT_MS; waited += 10) {
		if (poll(&p, 1, 0) < 0)
			return -errno;
		if (!(p.revents & POLLHUP))
			return 0;
		nanosleep(&ts, NULL);
	}
	snprintf(g->why, sizeof(g->why), "the host did not open its end within %d ms",
		 GUEST_HOST_WAIT_MS);
	return -ETIMEDOUT;
}

static int drive_mount(struct guest *g, const char *serial, const char *dir)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	char dev[300];
	int err = -ENOENT;

	for (int waited = 0; err && waited < GUEST_DRIVE_WAIT_MS; waited += 20) {
		/* The daemon names the drives by their serial numbers. */
		err = sys_find("/sys/block", "vd", "serial", serial, dev, sizeof(dev));
		if (err)
			nanosleep(&ts, NULL);
	}
	if (err) {
		snprintf(g->why, sizeof(g->why), "no drive with serial %s after %d ms", serial,
			 GUEST_DRIVE_WAIT_MS);
		return err;
	}
	if (mount(dev, dir, "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL)) {
		err = -errno;
		snprintf(g->why, sizeof(g->why), "mounting %s (%s) on %s: %s", dev, serial, dir,
			 strerror(errno));
		return err;
	}
	return 0;
}

/*
 * A runtime's file system (docs/runtime.md): its root image as /, the code at /var/task, both
 * read-only drives, and the layers at /opt; /proc, /sys and /dev moved into it; then the new root replaces the
 * initramfs as everyone's root (switch_root's way: an initramfs cannot be pivoted away). The
 * agent keeps running: its binary and libraries are mapped already.
 */
static int runtime_root(struct guest *g)
{
	static const char *const moved[] = {"/proc", "/sys", "/dev"};
	char dst[300];
	int err;

	if (mkdir(GUEST_NEWROOT, 0755) && errno != EEXIST)
		return -errno;
	err = drive_mount(g, "fnguard-root", GUEST_NEWROOT);
	if (!err)
		err = drive_mount(g, "fnguard-code", GUEST_NEWROOT "/var/task");
	/* The layers, merged into one image at registration. */
	if (!err && g->policy->function.n_layers)
		err = drive_mount(g, "fnguard-opt", GUEST_NEWROOT "/opt");
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(dst, sizeof(dst), "%s%s", GUEST_NEWROOT, moved[i]);
		if (mount(moved[i], dst, NULL, MS_MOVE, NULL)) {
			err = -errno;
			snprintf(g->why, sizeof(g->why), "moving %s into the runtime's root: %s",
				 moved[i], strerror(errno));
			return err;
		}
	}
	if (chdir(GUEST_NEWROOT) || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") ||
	    chdir("/")) {
		err = -errno;
		snprintf(g->why, sizeof(g->why), "switching to the runtime's root: %s",
			 strerror(errno));
		return err;
	}
	return 0;
}

static int runtime_prepare(struct guest *g)
{
	int err = runtime_cmd_make(g->policy, g->runtime, &g->rt, g->why, sizeof(g->why));

	return err;
}

static int policy_load(struct guest *g)
{
	struct policy_diags diags;
	int err;

	policy_diags_init(&diags);
	err = policy_load_file(GUEST_POLICY, &g->policy, &diags);
	if (err) {
		/* The first problem is enough for the daemon's message; all go to the console. */
		policy_diags_print(&diags, stderr);
		if (diags.n)
			snprintf(g->why, sizeof(g->why), "%s:%u:%u: %s", diags.v[0].file,
				 diags.v[0].line, diags.v[0].col, diags.v[0].msg);
	}
	policy_diags_free(&diags);
	return err;
}

static void on_event(const struct fng_event *e, void *ctx)
{
	Fnguard__V1__AgentMessage m = FNGUARD__V1__AGENT_MESSAGE__INIT;
	Fnguard__V1__AgentDenial d = FNGUARD__V1__AGENT_DENIAL__INIT;
	struct guest *g = ctx;
	int err;

	d.invocation = (char *)(g->invocation ? g->invocation : "");
	d.event.data = (uint8_t *)e;
	d.event.len = sizeof(*e);
	m.msg_case = FNGUARD__V1__AGENT_MESSAGE__MSG_DENIAL;
	m.denial = &d;
	err = wire_write_message(g->ctl, &m.base, 0);
	if (err)
		log_warnx("guest: cannot send a denial: %s", wire_strerror(err));
}

/* agent_serve's events hook: the ring buffer has events, or a result is about to be sent. */
static void events_ready(void *ctx, const char *invocation)
{
	struct guest *g = ctx;

	g->invocation = invocation;
	enforcer_events_read(g->cf.bpf, 0);
	g->invocation = NULL;
}

/* agent_serve's start hook: this handler is the environment's first exec again. */
static void invocation_starts(void *ctx)
{
	struct guest *g = ctx;
	int err = enforcer_env_reset_execs(g->cf.bpf, &g->env);

	/* Fails closed: the handler's exec is then counted as a child's. */
	if (err)
		log_warnx("guest: cannot reset the exec count: %s", strerror(-err));
}

/*
 * Exactly the confinement `fnguard run` and the daemon do (confine.h), failing closed on any
 * section the guest kernel cannot enforce: plan -> cgroup -> limits -> BPF backend -> policy
 * in force. The agent stays outside the cgroup, unconfined by the function's policy (it reads
 * its cgroup's counters, resets /tmp): each handler joins it before it is executed. Rule paths
 * are the guest's own (/var/task is the code in the initramfs): root_fd 0.
 */
static int guest_confine(struct guest *g)
{
	int err;

	g->cf = (struct confine){
	    .policy = g->policy,
	    .kernel = "the guest kernel",
	    .cgroup_name = "env",
	    .cg = &g->cg,
	    /*
	     * The function's memory: the host gives the VM limits.memory and what this
	     * kernel and the agent need beyond it, so the function's OOM is its own cgroup's
	     * (counted in memory.events, reported in each result), never the guest's.
	     */
	    .pids = g->policy->limits.pids,
	    .memory_bytes = g->policy->limits.memory_bytes,
	    .on_event = on_event,
	    .event_ctx = g,
	    .env = &g->env,
	    .sock = -1,
	};
	err = confine_setup(&g->cf, CONFINE_PLAN, CONFINE_PIN);
	if (err) {
		g->step = g->cf.step;
		snprintf(g->why, sizeof(g->why), "%s", g->cf.why);
	}
	return err;
}

static int guest_setup(struct guest *g)
{
	char port[300];
	int err;

	/* The kernel gave us an empty rootfs with the initramfs in it, and nothing mounted. */
	STEP("mounting /proc", mount_fs("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	STEP("mounting /sys", mount_fs("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	STEP("mounting /dev", mount_fs("devtmpfs", "/dev", MS_NOSUID | MS_NOEXEC, "mode=0755"));
	/* Early, so that every later failure can at least be read on the serial console. */
	STEP("opening the console", console_open());
	/* cgroup2, bpf and securityfs live in /sys: after it. backend_status_get() reads the
	 * active LSMs from securityfs and finds cgroup2 in /proc/mounts. */
	STEP("mounting /sys/fs/cgroup",
	     mount_fs("cgroup2", "/sys/fs/cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	STEP("mounting /sys/fs/bpf", mount_fs("bpf", "/sys/fs/bpf", MS_NOSUID | MS_NODEV, NULL));
	STEP("mounting /sys/kernel/security", mount_fs("securityfs", "/sys/kernel/security",
						       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
	/* The virtio transport and the console driver are modules in Debian's kernel. */
	STEP("loading kernel modules", modules_load(g, GUEST_MODULES));
	STEP("loading the fnguard module (no BPF LSM)", kmod_fallback(g));
	STEP("finding the control port", port_wait(g, port, sizeof(port)));
	STEP("opening the control port", port_open(g, port));
	STEP("waiting for the host on the control port", port_wait_host(g));
	/* From here on every failure reaches the daemon. */
	STEP("loading the policy", policy_load(g));
	g->runtime = guest_runtime(g->policy);
	if (g->runtime) {
		/* Before the policy is in force: its rules are on the runtime's tree. */
		STEP("loading the runtime's kernel modules", modules_load(g, GUEST_MODULES_RUNTIME));
		STEP("mounting the runtime's root, the code and the layers", runtime_root(g));
		STEP("preparing the runtime's command", runtime_prepare(g));
		STEP("bringing up the loopback interface", agent_loopback_up());
		/* The root is read-only now: the plan's probes need a /tmp, until the real one. */
		STEP("mounting a scratch /tmp", agent_tmp_mount("/tmp", 1 << 20));
	}
	/* Its steps name themselves (confine.h). The policy is in force before /tmp is mounted:
	 * a /tmp rule is keyed by the mount point, which outlives the fresh tmpfs of every reset
	 * (the ancestry walk crosses into it). */
	err = guest_confine(g);
	if (err) {
		g->err = err;
		return err;
	}
	if (g->runtime)
		STEP("unmounting the scratch /tmp", errno_or(umount2("/tmp", MNT_DETACH)));
	STEP("mounting /tmp", agent_tmp_mount("/tmp", g->policy->limits.tmp_size_bytes));
	return 0;
}

static void guest_send_failure(struct guest *g)
{
	/* Non-blocking: a host that is gone must not keep the guest from powering off. */
	fcntl(g->ctl, F_SETFL, O_NONBLOCK);
	agent_failure_write(g->ctl, g->step, g->err, g->why[0] ? g->why : NULL);
}

static __attribute__((noreturn)) void guest_power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Not reached unless reboot() is refused; exiting would panic the kernel. */
	for (;;)
		pause();
}

int main(void)
{
	static struct guest g = {.ctl = -1, .cg = {.fd = -1}};
	struct agent_config cfg;
	int err;

	log_init("fnguard-agent", 0);
	if (getpid() != 1)
		fatalx("must run as PID 1 of a microVM guest (/init)");
	err = guest_setup(&g);
	if (err) {
		log_warnx("%s: %s", g.step, g.why[0] ? g.why : strerror(-err));
		if (g.ctl >= 0)
			guest_send_failure(&g);
		guest_power_off();
	}
	cfg = (struct agent_config){
	    .policy = g.policy,
	    .confine = &g.cf,
	    .uid = GUEST_UID,
	    .gid = GUEST_GID,
	    .tmp_size = g.policy->limits.tmp_size_bytes,
	    .events_fd = g.cf.bpf ? enforcer_events_fd(g.cf.bpf) : -1,
	    .events_fn = g.cf.bpf ? events_ready : NULL,
	    .start_fn = g.cf.bpf ? invocation_starts : NULL,
	    .hook_ctx = &g,
	    .cg = &g.cg, /* each handler joins it; its counters go into each result */
	    .runtime = g.runtime,
	    .runtime_argv = g.rt.argv,
	    .runtime_envp = g.rt.envp,
	    .runtime_api_port = RUNTIME_API_PORT,
	    .runtime_init_timeout_ms = g.policy->limits.timeout_ns / 1000000,
	    .function_arn = g.rt.arn,
	};
	err = agent_serve(&cfg, g.ctl);
	if (err)
		log_warnx("serving the control channel: %s", strerror(-err));
	guest_power_off();
}
