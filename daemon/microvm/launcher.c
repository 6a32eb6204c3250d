// SPDX-License-Identifier: Apache-2.0
/*
 * A microVM environment: the function runs in a guest started by qemu-system-x86_64 -M microvm
 * (KVM where it really works, else TCG). fnguard-agent is PID 1 of the guest: it puts the
 * policy in force with the guest's own kernel (a host kernel cannot see inside a guest, so
 * file and exec rules can only be enforced there) and serves the same control channel as in a
 * process environment, over a virtio-serial port. The host confines the VMM around it, in the
 * manner of Firecracker's jailer. Set-up is one ordered function per side, one error per step:
 *
 *   daemon: environment directory -> the function version's images (made by its first
 *           environment, shared by all: image.c) -> cgroup -> limits ->
 *           console -> control channel -> clone into new mount, pid, ipc, uts and net
 *           namespaces (env_microvm_start, here)
 *   child:  the VMM's jail, then exec QEMU (vmm_jail.c)
 *
 * The guest reports ready only once the policy is in force; nothing of the function runs
 * before. The daemon trusts no message of the agent (channel.c checks each one).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "env_microvm.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"
#include "vmm_jail.h"

#define VMM_TB_SIZE_MIB 64 /* TCG's translation cache (within VMM_OVERHEAD_BYTES) */
/* The console: the last CONSOLE_RING bytes are kept; at most CONSOLE_RATE read a second. */
#define CONSOLE_RING (64u << 10)
#define CONSOLE_RATE (64u << 10)

int env_microvm_available(const struct fnguardd_config *cfg, char *why, size_t whylen)
{
	if (!cfg->qemu || access(cfg->qemu, X_OK)) {
		snprintf(why, whylen, "QEMU (%s) is not there: install qemu-system-x86 (make deps)",
			 cfg->qemu ? cfg->qemu : "qemu-system-x86_64");
		return -ENOENT;
	}
	if (!cfg->microvm_kernel || access(cfg->microvm_kernel, R_OK)) {
		snprintf(why, whylen, "no guest kernel (%s): set microvm_kernel, or run make deps",
			 cfg->microvm_kernel ? cfg->microvm_kernel : "none found");
		return -ENOENT;
	}
	if (!cfg->microvm_initrd || access(cfg->microvm_initrd, R_OK)) {
		snprintf(why, whylen, "no guest image (%s): set microvm_initrd, or run make guest-initrd",
			 cfg->microvm_initrd ? cfg->microvm_initrd : "none found");
		return -ENOENT;
	}
	return 0;
}

/* ---------------------------------------------------------------- the console */

/*
 * The guest's serial console and QEMU's stderr: a socket the daemon reads at most
 * CONSOLE_RATE bytes a second of (past that it stops reading until the next tick, and the
 * guest's UART waits: back-pressure, not loss), keeping the last CONSOLE_RING bytes for the
 * log when the environment ends. Nothing a guest writes ever lands in a file on the host.
 */
static void console_event(struct watch *w, uint32_t events)
{
	struct env *e = (struct env *)((char *)w - offsetof(struct env, console));
	char buf[4096];

	(void)events;
	while (e->con_budget) {
		size_t want = e->con_budget < sizeof(buf) ? e->con_budget : sizeof(buf);
		ssize_t n = read(w->fd, buf, want);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) { /* QEMU is gone: the control channel says so */
			loop_del(w);
			close(w->fd);
			w->fd = -1;
			return;
		}
		e->con_budget -= (uint32_t)n;
		e->con_bytes += (uint64_t)n;
		for (ssize_t i = 0; i < n; i++) {
			e->con_ring[e->con_head] = buf[i];
			e->con_head = (e->con_head + 1) % CONSOLE_RING;
		}
		e->con_len = e->con_len + (size_t)n > CONSOLE_RING ? CONSOLE_RING : e->con_len + (size_t)n;
	}
	/* Level-triggered epoll would wake us for every byte waiting: off until the tick. */
	loop_del(w);
	e->con_paused = true;
}

void env_microvm_tick(struct env *e)
{
	e->con_budget = CONSOLE_RATE;
	if (e->con_paused && e->console.fd >= 0 && !loop_add(&e->d->loop, &e->console, EPOLLIN))
		e->con_paused = false;
}

/* The guest's last console lines, into the daemon's debug log: why a guest died, often. */
static void console_tail(const struct env *e)
{
	char buf[8193], *line; /* a kernel panic with its trace fits */
	size_t n = e->con_len < sizeof(buf) - 1 ? e->con_len : sizeof(buf) - 1;

	if (!e->con_ring || !n)
		return;
	for (size_t i = 0; i < n; i++)
		buf[i] = e->con_ring[(e->con_head + CONSOLE_RING - n + i) % CONSOLE_RING];
	buf[n] = 0;
	if (e->con_bytes > CONSOLE_RING)
		log_debug("env %s console: %llu bytes in all; the last %u were kept", e->id,
			  (unsigned long long)e->con_bytes, CONSOLE_RING);
	for (line = strtok(buf, "\r\n"); line; line = strtok(NULL, "\r\n"))
		log_debug("env %s console: %s", e->id, line);
}

/* ---------------------------------------------------------------- start, stop */

int env_microvm_start(struct env *e, char *why, size_t whylen)
{
	const struct fng_policy *p = e->fn->policy;
	struct fnguardd *d = e->d;
	bool kvm = !strcmp(env_microvm_accel(d), "kvm");
	char envdir[600], path[700], mem[32], smp[32], tcg[48], append[256];
	/* The function's memory (its cgroup's memory.max in the guest) and the guest kernel's
	 * and agent's beyond it: the function cannot take what the guest's PID 1 needs. */
	uint64_t ram_mib = (p->limits.memory_bytes >> 20) + MICROVM_GUEST_OVERHEAD_MIB;
	struct microvm_images im;
	/* Bound by the jail: the kernel (vmm_jail.c) and the images (ja.binds). */
	const char *const mounts[] = {"initrd", "root.img", "code.img", "opt.img", "vmlinuz"};
	const char *const binds[] = {im.initrd, im.root, im.code, im.opt, "kernel"};
	int err, con[2];

	if (env_microvm_available(&d->cfg, why, whylen))
		return -ENOENT;
	err = vmm_jail_files_find(&d->microvm, &d->cfg);
	if (err) {
		snprintf(why, whylen, "finding QEMU's libraries (ldd %s): %s", d->cfg.qemu,
			 strerror(-err));
		return err;
	}
	/* Below this the guest kernel cannot even unpack itself and the guest image. */
	if (ram_mib < MICROVM_MIN_RAM_MIB)
		ram_mib = MICROVM_MIN_RAM_MIB;
	/* 1. The environment's own uid and gid, and 2. its directory: everything below is made
	 * for it alone. */
	err = vmm_env_dir_make(e, envdir, sizeof(envdir), why, whylen);
	if (err)
		return err;
	/* 3. The function version's images, made once and shared: nothing is copied. */
	err = microvm_images_get(e->fn, &im, why, whylen);
	if (err)
		return err;
	/* The mount points for the kernel and the images, which the jail binds there
	 * read-only. */
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		if (!binds[i][0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", envdir, mounts[i]);
		err = fs_touch(path, 0644);
		if (err) {
			snprintf(why, whylen, "creating %s: %s", path, strerror(-err));
			return err;
		}
	}
	/* 4. The cgroup and its limits before QEMU is in it: guest RAM plus the VMM's own. */
	err = env_cgroup_make(e, VMM_PIDS, (ram_mib << 20) + VMM_OVERHEAD_BYTES, p->limits.cpus,
			      why, whylen);
	if (err)
		return err;
	/* 5. The console: a socket, read at a bounded rate into a bounded ring. Our end is
	 * kept above the fds the child arranges (0-4). */
	e->con_ring = malloc(CONSOLE_RING);
	if (!e->con_ring || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con)) {
		err = e->con_ring ? -errno : -ENOMEM;
		snprintf(why, whylen, "creating the console: %s", strerror(-err));
		return err;
	}
	e->console.fd = fcntl(con[0], F_DUPFD_CLOEXEC, 10);
	close(con[0]);
	con[0] = fcntl(con[1], F_DUPFD_CLOEXEC, 10);
	close(con[1]);
	e->console.fn = console_event;
	e->con_budget = CONSOLE_RATE;
	if (e->console.fd < 0 || con[0] < 0 || fcntl(e->console.fd, F_SETFL, O_NONBLOCK) ||
	    loop_add(&d->loop, &e->console, EPOLLIN)) {
		err = -errno;
		if (con[0] >= 0)
			close(con[0]);
		snprintf(why, whylen, "creating the console: %s", strerror(-err));
		return err;
	}
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)ram_mib);
	snprintf(smp, sizeof(smp), "%u", p->limits.cpus ? p->limits.cpus : 1);
	snprintf(tcg, sizeof(tcg), "tcg,tb-size=%d", VMM_TB_SIZE_MIB);
	/* TCG: the early TSC calibration can hang an emulated guest on a loaded host. */
	snprintf(append, sizeof(append), "console=ttyS0 panic=-1 quiet%s fnguard.env=%s",
		 kvm ? "" : " tsc_early_khz=2000000", e->id);
	{
		char *argv[64] = {(char *)d->cfg.qemu, "-M", "microvm", "-accel", kvm ? "kvm" : tcg,
				  "-cpu", kvm ? "host" : "max", "-m", mem, "-smp", smp,
				  "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
				  "-sandbox",
				  "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
				  "resourcecontrol=deny",
				  "-chardev", "socket,id=con,fd=4", "-serial", "chardev:con",
				  "-kernel", "/env/vmlinuz", "-initrd", "/env/initrd", "-append",
				  append, "-device", "virtio-serial-device", "-chardev",
				  "socket,id=ctl,fd=3", "-device",
				  "virtserialport,chardev=ctl,name=fnguard.ctl"};
		struct vmm_jail ja = {.envdir = envdir, .argv = argv, .console = con[0], .kvm = kvm};
		size_t argc = 0;

		while (argv[argc])
			argc++;
		/* A runtime's root, the code and the layers: read-only drives the agent finds
		 * by their serial numbers (virtio-blk's). */
		if (im.root[0]) {
			static char *const fixed[] = {
			    "-drive", "id=root,file=/env/root.img,format=raw,if=none,readonly=on",
			    "-device", "virtio-blk-device,drive=root,serial=fnguard-root",
			    "-drive", "id=code,file=/env/code.img,format=raw,if=none,readonly=on",
			    "-device", "virtio-blk-device,drive=code,serial=fnguard-code"};

			for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
				argv[argc++] = fixed[i];
			if (im.opt[0]) {
				argv[argc++] = "-drive";
				argv[argc++] = "id=opt,file=/env/opt.img,format=raw,if=none,readonly=on";
				argv[argc++] = "-device";
				argv[argc++] = "virtio-blk-device,drive=opt,serial=fnguard-opt";
			}
		}
		argv[argc] = NULL;

		for (size_t i = 0; i < sizeof(ja.binds) / sizeof(ja.binds[0]); i++) {
			ja.binds[i].src = binds[i];
			ja.binds[i].dst = mounts[i];
		}

		/* 6. The control channel (a virtio-serial port of the guest; our end a socketpair)
		 * and 7. QEMU, PID 1 of new namespaces: no network, no view of the host's processes. */
		err = env_spawn(e,
				CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
				vmm_jail_child, &ja, why, whylen);
		close(con[0]);
		return err;
	}
}

/* The guest's kernel enforces the policy; the agent reports ready once it does. */
int env_microvm_enforce(struct env *e, char *why, size_t whylen)
{
	(void)e;
	(void)why;
	(void)whylen;
	return 0;
}

void env_microvm_destroy(struct env *e)
{
	char envdir[600], path[700];
	static const char *const files[] = {"initrd",  "root.img", "code.img",
					    "opt.img", "vmlinuz",  "jail"};
	bool gone = true;

	env_kill(e);
	if (e->cg.path[0])
		gone = !cgroup_env_destroy(&e->cg);
	if (e->console.fd >= 0) {
		/* What QEMU wrote last, while the ring has it. */
		if (!e->con_paused)
			loop_del(&e->console);
		e->con_budget = CONSOLE_RING;
		console_event(&e->console, 0);
		if (e->console.fd >= 0)
			close(e->console.fd);
		e->console.fd = -1;
	}
	console_tail(e);
	free(e->con_ring);
	e->con_ring = NULL;
	vmm_env_dir(e, envdir, sizeof(envdir));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", envdir, files[i]);
		if (unlink(path) && errno == EISDIR)
			rmdir(path);
	}
	rmdir(envdir);
	/* Its uid is handed out again only once nothing of it can live: its cgroup is gone. */
	if (e->uid && gone)
		uid_range_release(&e->d->uids, e->uid);
	else if (e->uid)
		log_warnx("env %s: uid %u stays reserved: its cgroup could not be removed", e->id,
			  e->uid);
	e->uid = 0;
}
