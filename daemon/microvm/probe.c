// SPDX-License-Identifier: Apache-2.0
/*
 * The accelerator of microVM guests (env_microvm.h): KVM or TCG, decided once, at start-up,
 * by the configuration or by a probe guest. The state is the daemon's (d->microvm.probe).
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
#include <sys/wait.h>

#include "env_microvm.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "fsutil.h"
#include "log.h"
#include "vmm_jail.h"
#include "wire.h"

/*
 * KVM when it really runs a guest: /dev/kvm can exist and still hang a standard kernel (as on
 * some nested hosts). The probe boots the guest image with KVM and no function, bounded in
 * time: a guest that works powers itself off at once (the agent finds no policy). It runs
 * jailed like any VMM (its own uid, cgroup, namespaces, root, seccomp filter), as a child the
 * loop does not wait for: microVM environments are not started until it has answered
 * (env_microvm_probing), and its exit comes back through env_microvm_child_exited().
 */
static void accel_decided(struct microvm_probe *p)
{
	p->probed = true;
	log_info("microvm: %s%s%s", p->kvm ? "KVM" : "TCG", p->kvm ? "" : ": ", p->why);
}

static int probe_launch(struct fnguardd *d, char *why, size_t whylen)
{
	struct microvm_probe *p = &d->microvm.probe;
	struct env *probe;
	char envdir[600], path[700];
	char *argv[] = {(char *)d->cfg.qemu, "-M", "microvm", "-accel", "kvm", "-cpu", "host",
			"-m", "128", "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
			"-sandbox",
			"on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
			"-serial", "none", "-kernel", "/env/vmlinuz", "-initrd", "/env/initrd",
			"-append", "console=ttyS0 panic=-1 quiet",
			/* A port that goes nowhere: the agent finds it, has no policy, powers off. */
			"-device", "virtio-serial-device", "-chardev", "null,id=ctl", "-device",
			"virtserialport,chardev=ctl,name=fnguard.ctl", NULL};
	struct vmm_jail ja = {.envdir = envdir, .argv = argv, .kvm = true};
	int err, fd, errpipe[2];
	size_t len;
	char *img;

	if ((err = vmm_jail_files_find(&d->microvm, &d->cfg))) {
		snprintf(why, whylen, "finding QEMU's libraries: %s", strerror(-err));
		return err;
	}
	probe = p->env = calloc(1, sizeof(*probe));
	if (!probe)
		return -ENOMEM;
	/* Sequence 0 is never an environment's: a killed daemon's probe is cleaned like one. */
	env_id_make(probe->id, sizeof(probe->id), 0, (int)getpid());
	probe->d = d;
	probe->cg.fd = probe->ctl.fd = probe->console.fd = -1;
	if ((err = vmm_env_dir_make(probe, envdir, sizeof(envdir), why, whylen)))
		return err;
	/* The common guest image as it is: the probe has no function to append. */
	img = fs_read_file(d->cfg.microvm_initrd, 1u << 30, &len);
	snprintf(path, sizeof(path), "%s/initrd", envdir);
	fd = img ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640) : -1;
	if (fd < 0)
		err = errno ? -errno : -EIO;
	else if (fchown(fd, 0, probe->uid))
		err = -errno;
	else
		err = wire_write_all(fd, img, len);
	if (fd >= 0)
		close(fd);
	free(img);
	snprintf(path, sizeof(path), "%s/vmlinuz", envdir);
	if (!err)
		err = fs_touch(path, 0644);
	if (err) {
		snprintf(why, whylen, "preparing %.200s: %s", envdir, strerror(-err));
		return err;
	}
	err = env_cgroup_make(probe, VMM_PIDS, (128ull << 20) + VMM_OVERHEAD_BYTES, 1, why, whylen);
	if (err)
		return err;
	/* QEMU's stderr, for the reason when it fails: a pipe read once it has exited. */
	if (pipe2(errpipe, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return err;
	}
	p->err_fd = errpipe[0];
	ja.console = errpipe[1];
	err = env_spawn(probe, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
			vmm_jail_child, &ja, why, whylen);
	close(errpipe[1]);
	/* The probe's channel goes nowhere (-chardev null): only its exit status speaks. */
	if (probe->ctl.fd >= 0)
		close(probe->ctl.fd);
	probe->ctl.fd = -1;
	p->deadline = mono_ns() + (int64_t)MICROVM_KVM_PROBE_S * 1000000000;
	return err;
}

static void probe_end(struct fnguardd *d)
{
	struct microvm_probe *p = &d->microvm.probe;
	char buf[200];
	ssize_t n = p->err_fd >= 0 ? read(p->err_fd, buf, sizeof(buf) - 1) : -1;

	/* What QEMU said last is the reason, often: "failed to initialize kvm: ...". */
	if (n > 0 && !p->kvm) {
		buf[n] = 0;
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "kvm"))
				snprintf(p->why + strlen(p->why), sizeof(p->why) - strlen(p->why),
					 ": %.100s", l);
	}
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->err_fd = -1;
	if (p->env) {
		env_microvm_destroy(p->env);
		free(p->env);
		p->env = NULL;
	}
	accel_decided(p);
	if (p->decided)
		p->decided(d);
}

void env_microvm_probe_start(struct fnguardd *d, void (*decided)(struct fnguardd *d))
{
	struct microvm_probe *p = &d->microvm.probe;
	char why[300];
	int fd;

	p->decided = decided;
	if (p->probed || p->env)
		return;
	switch (d->cfg.microvm_accel) {
	case MICROVM_ACCEL_TCG:
		p->probed = true;
		snprintf(p->why, sizeof(p->why), "configured (microvm_accel: tcg)");
		return;
	case MICROVM_ACCEL_KVM:
		p->probed = true;
		p->kvm = true;
		return;
	}
	if (env_microvm_available(&d->cfg, why, sizeof(why))) {
		snprintf(p->why, sizeof(p->why), "no microVMs: %.140s", why);
		accel_decided(p);
		return;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(p->why, sizeof(p->why), "/dev/kvm: %s", strerror(errno));
		accel_decided(p);
		return;
	}
	close(fd);
	/* The VMM is no root and gets no root group: only a group of /dev/kvm's own. */
	if (!vmm_kvm_group_usable(p->why, sizeof(p->why))) {
		accel_decided(p);
		return;
	}
	log_info("microvm: probing KVM with a jailed guest (at most %d s)", MICROVM_KVM_PROBE_S);
	p->timed_out = false;
	p->err_fd = -1;
	if (probe_launch(d, why, sizeof(why))) {
		snprintf(p->why, sizeof(p->why), "the probe could not start: %.120s", why);
		probe_end(d);
	}
}

bool env_microvm_probing(const struct fnguardd *d)
{
	return d->microvm.probe.env != NULL;
}

void env_microvm_probe_tick(struct fnguardd *d)
{
	struct microvm_probe *p = &d->microvm.probe;

	if (p->env && !p->timed_out && mono_ns() > p->deadline) {
		p->timed_out = true;
		kill(p->env->pid, SIGKILL); /* reaped by the loop: env_microvm_child_exited() */
	}
}

void env_microvm_child_exited(struct fnguardd *d, pid_t pid, int status)
{
	struct microvm_probe *p = &d->microvm.probe;

	if (!p->env || pid != p->env->pid)
		return;
	p->env->pid = 0;
	if (p->timed_out)
		snprintf(p->why, sizeof(p->why),
			 "KVM did not run the guest to its end within %d s", MICROVM_KVM_PROBE_S);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		p->kvm = true;
	else if (WIFSIGNALED(status))
		snprintf(p->why, sizeof(p->why), "QEMU with KVM died of signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(p->why, sizeof(p->why), "QEMU with KVM exited with status %d",
			 WEXITSTATUS(status));
	probe_end(d);
}

void env_microvm_probe_stop(struct fnguardd *d)
{
	struct microvm_probe *p = &d->microvm.probe;

	if (!p->env)
		return;
	snprintf(p->why, sizeof(p->why), "the daemon stopped before the KVM probe ended");
	p->decided = NULL;
	probe_end(d); /* env_microvm_destroy(): SIGKILL, reaped, its cgroup removed */
}

/* The answer so far: TCG until the probe (or the configuration) says KVM. */
const char *env_microvm_accel(const struct fnguardd *d)
{
	return d->microvm.probe.kvm ? "kvm" : "tcg";
}

bool env_microvm_accel_known(const struct fnguardd *d)
{
	return d->microvm.probe.probed;
}

const char *env_microvm_accel_why(const struct fnguardd *d)
{
	return d->microvm.probe.kvm ? "" : d->microvm.probe.why;
}
