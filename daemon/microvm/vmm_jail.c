// SPDX-License-Identifier: Apache-2.0
/*
 * The VMM's jail (vmm_jail.h). In the child that becomes QEMU, one step per call:
 *
 *   join the cgroup -> close inherited fds -> private mounts -> new root (QEMU, its libraries,
 *   modules and firmware, the environment's directory, all read-only, and a minimal /dev) ->
 *   pivot_root -> no_new_privs -> unprivileged uid -> seccomp -> exec QEMU
 *   (-sandbox on: QEMU's own filter, from then on it cannot spawn or raise privileges)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "agent.h"
#include "env_microvm.h"
#include "fnguardd.h"
#include "fsutil.h"
#include "jail.h"
#include "log.h"
#include "vmm_jail.h"
#include "vmm_seccomp.h"

#define STEP(what, call) SETUP_STEP(st, what, call)

/*
 * What QEMU needs, and all the jail's root holds of the host: the binary, the shared
 * libraries and loader ldd names for it and for its TCG accelerator module, its module and
 * firmware directories. Found once, at the first microVM start, by the daemon (as root, with
 * the host's own ldd: the files are the host's, trusted like QEMU itself).
 */
static const char *const jail_dirs[] = {"/usr/share/qemu", "/usr/lib/x86_64-linux-gnu/qemu",
					"/usr/share/seabios"};

static void jail_file_add(struct microvm_state *m, const char *path)
{
	char real[PATH_MAX];

	for (unsigned i = 0; i < m->n_jail_files; i++)
		if (!strcmp(m->jail_files[i], path))
			return;
	if (m->n_jail_files < MICROVM_JAIL_FILES_MAX && access(path, R_OK) == 0)
		m->jail_files[m->n_jail_files++] = strdup(path);
	/* Where a library's name is a link, the file it names goes in too. */
	if (realpath(path, real) && strcmp(real, path))
		jail_file_add(m, real);
}

static int jail_files_ldd(struct microvm_state *m, const char *bin)
{
	char cmd[600], line[1024];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ldd '%s' 2>/dev/null", bin);
	f = popen(cmd, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* "\tlibx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" or "\t/lib64/ld-linux...". */
		char *p = strstr(line, "=> ");
		char *path = p ? p + 3 : line + strspn(line, " \t");

		if (*path != '/')
			continue;
		path[strcspn(path, " \n")] = 0;
		jail_file_add(m, path);
		n++;
	}
	pclose(f);
	return n ? 0 : -ENOENT;
}

int vmm_jail_files_find(struct microvm_state *m, const struct fnguardd_config *cfg)
{
	static const char *const modules[] = {"/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so"};
	int err;

	if (m->n_jail_files)
		return 0;
	jail_file_add(m, cfg->qemu);
	err = jail_files_ldd(m, cfg->qemu);
	if (err) {
		log_warnx("microvm: ldd %s found no libraries", cfg->qemu);
		return err;
	}
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (!access(modules[i], R_OK))
			jail_files_ldd(m, modules[i]);
	return 0;
}

/*
 * The jail's root, a tmpfs mounted on ENVDIR/jail, in the jail's mount namespace only (not
 * on /tmp: the state directory may be below it): QEMU's files and directories, the
 * environment's directory at /env, a minimal /dev; read-only once built.
 */
static int jail_root(const struct microvm_state *m, const struct fnguardd_config *cfg,
		     const struct vmm_jail *j)
{
	static const char *const nodes[] = {"null", "zero", "urandom", "kvm"};
	char env[700], vmlinuz[720], path[720];
	struct stat st;
	int err;

	if (mount("tmpfs", j->root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"))
		return -errno;
	for (unsigned i = 0; i < m->n_jail_files; i++)
		if ((err = jail_bind_path(j->root, m->jail_files[i])))
			return err;
	for (size_t i = 0; i < sizeof(jail_dirs) / sizeof(jail_dirs[0]); i++)
		if (!stat(jail_dirs[i], &st) && S_ISDIR(st.st_mode) &&
		    (err = jail_bind_path(j->root, jail_dirs[i])))
			return err;
	/* Not recursive: the jail itself (ENVDIR/jail) stays out of its own /env. */
	snprintf(env, sizeof(env), "%s/env", j->root);
	snprintf(vmlinuz, sizeof(vmlinuz), "%s/vmlinuz", env);
	if (mkdir(env, 0755))
		return -errno;
	if ((err = jail_bind_ro(j->envdir, env, false)) ||
	    (err = jail_bind_ro(cfg->microvm_kernel, vmlinuz, false)))
		return err;
	for (size_t i = 0; i < sizeof(j->binds) / sizeof(j->binds[0]); i++) {
		if (!j->binds[i].src || !j->binds[i].src[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", env, j->binds[i].dst);
		if ((err = jail_bind_ro(j->binds[i].src, path, false)))
			return err;
	}
	/* QEMU writes no file on the host: its console is a socket (env_microvm_start). */
	if ((err = jail_dev_make(j->root, nodes, j->kvm ? 4 : 3, 0600, false)))
		return err;
	snprintf(path, sizeof(path), "%s/tmp", j->root);
	if (mkdir(path, 01777))
		return -errno;
	return errno_or(mount(NULL, j->root, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
			      "mode=0755,size=1m"));
}

/* /dev/kvm opened through its group (kvm, mode 0660 on Debian): never gid 0. */
bool vmm_kvm_group_usable(char *why, size_t whylen)
{
	struct stat st;

	if (stat("/dev/kvm", &st)) {
		snprintf(why, whylen, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	if (st.st_gid == 0 || (st.st_mode & 060) != 060) {
		snprintf(why, whylen,
			 "/dev/kvm (mode %04o, gid %u) is not open to a group other than root's: a "
			 "jailed VMM cannot use it (give it group kvm, mode 0660, as udev does)",
			 (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
		return false;
	}
	return true;
}

/*
 * The environment's own uid and gid, nothing shared with any other tenant. The real gid is
 * the range's VMM gid, unlike the effective one: execve() then makes QEMU non-dumpable
 * (fs/exec.c: uid != euid or gid != egid), so /proc/PID/mem, /proc/PID/root and pidfd_getfd
 * are refused even to a process of the same uid, and QEMU's -sandbox forbids it to set its
 * ids again. File access goes by the effective gid: the real one opens nothing.
 */
static int jail_user(const struct uid_range *uids, bool kvm, uint32_t id)
{
	gid_t groups[1];
	int n = 0;
	struct stat st;

	/* /dev/kvm belongs to group kvm: the only group the VMM keeps (never root's). */
	if (kvm && !stat("/dev/kvm", &st) && st.st_gid != 0)
		groups[n++] = st.st_gid;
	if (!id)
		return -EINVAL;
	if (setgroups((size_t)n, groups) || setresgid(uid_range_vmm_rgid(uids), id, id) ||
	    setresuid(id, id, id))
		return -errno;
	return 0;
}

static int jail_setup(struct env *e, struct vmm_jail *j, struct setup_step *st)
{
	/* The cgroup first: every byte and thread QEMU ever has is counted and limited. */
	STEP("joining the cgroup", cgroup_enter(&e->cg));
	/* Nothing of the daemon leaks into the VMM: only /dev/null as fds 0 and 1, the console
	 * as 2 and 4, the control channel as 3 (vmm_jail_child). */
	STEP("closing inherited fds", errno_or(syscall(SYS_close_range, 5, ~0u, 0)));
	STEP("making mounts private", errno_or(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
	snprintf(j->root, sizeof(j->root), "%s/jail", j->envdir);
	STEP("creating the jail's root", errno_or(mkdir(j->root, 0755) && errno != EEXIST));
	STEP("building the jail's root", jail_root(&e->d->microvm, &e->d->cfg, j));
	STEP("switching to the jail's root", jail_switch_root(j->root));
	STEP("setting no_new_privs", errno_or(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
	/* Group and user last but one: mounts and pivot_root above need root. */
	STEP("dropping to the environment's own user", jail_user(&e->d->uids, j->kvm, e->uid));
	STEP("loading the VMM's seccomp filter", vmm_seccomp_load(j->kvm));
	return 0;
}

/*
 * Fd 3 is the control channel (env_spawn). The daemon's own stdin, stdout and stderr (under
 * systemd, the journal's stream) never reach QEMU: 0 and 1 are /dev/null, and QEMU's stderr
 * goes where the guest's console goes, to the daemon's bounded ring.
 */
void vmm_jail_child(struct env *e, void *arg)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct vmm_jail *ja = arg;
	struct setup_step st = {0};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	fcntl(3, F_SETFD, 0); /* QEMU gets it as -chardev socket,fd=3 */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(ja->console, 2) < 0 ||
	    dup2(ja->console, 4) < 0) {
		agent_failure_write(3, "redirecting the VMM's standard fds", -errno, NULL);
		_exit(1);
	}
	if (!jail_setup(e, ja, &st)) {
		execve(ja->argv[0], ja->argv, envp);
		st.step = "executing QEMU";
		st.err = -errno;
	}
	/* The daemon learns it from the channel, as from an agent. */
	agent_failure_write(3, st.step, st.err, NULL);
	_exit(1);
}

void vmm_env_dir(const struct env *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s/envs/%s", e->d->cfg.state_dir, e->id);
}

int vmm_env_dir_make(struct env *e, char *envdir, size_t len, char *why, size_t whylen)
{
	struct fnguardd *d = e->d;
	char path[700];
	int err = uid_range_alloc(&d->uids, &e->uid);

	if (err) {
		snprintf(why, whylen, "no free uid in uid_range (%u in use)", d->uids.n_used);
		return err;
	}
	vmm_env_dir(e, envdir, len);
	snprintf(path, sizeof(path), "%s/envs", d->cfg.state_dir);
	err = fs_mkdir_p(path, 0711);
	if (!err && (mkdir(envdir, 0750) || chown(envdir, 0, e->uid)))
		err = -errno;
	if (err)
		snprintf(why, whylen, "creating %.300s: %s", envdir, strerror(-err));
	return err;
}
