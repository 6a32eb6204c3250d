// SPDX-License-Identifier: Apache-2.0
/*
 * A microVM environment: the function runs in a guest started by qemu-system-x86_64 -M microvm
 * (KVM where it really works, else TCG). fnguard-agent is PID 1 of the guest: it puts the
 * policy in force with the guest's own kernel (a host kernel cannot see inside a guest, so
 * file and exec rules can only be enforced there) and serves the same control channel as in a
 * process environment, over a virtio-serial port. The host confines the VMM around it, in the
 * manner of Firecracker's jailer. Set-up is one ordered function per side, one error per step:
 *
 *   daemon: environment directory -> guest image (the common initrd, then the function's
 *           policy and code appended as a cpio archive) -> cgroup -> limits -> control
 *           channel -> clone into new mount, pid, ipc, uts and net namespaces
 *   child:  join the cgroup -> close inherited fds -> private mounts -> new root (QEMU, its
 *           libraries, modules and firmware, the environment's directory, all read-only, and
 *           a minimal /dev) -> pivot_root -> no_new_privs -> unprivileged uid -> seccomp ->
 *           exec QEMU
 *           (-sandbox on: QEMU's own filter, from then on it cannot spawn or raise privileges)
 *
 * The guest reports ready only once the policy is in force; nothing of the function runs
 * before. The daemon trusts no message of the agent (env.c checks each one).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "agent.h"
#include "emit.h"
#include "env_microvm.h"
#include "env_spawn.h"
#include "fnguardd.h"
#include "fsutil.h"
#include "log.h"
#include "wire.h"
#include "vmm_seccomp.h"

/* The VMM's memory beyond the guest's RAM: QEMU itself and TCG's translation cache. */
#define VMM_OVERHEAD_BYTES (256ull << 20)
#define VMM_TB_SIZE_MIB 64
#define VMM_PIDS 64
/* The function's part of the guest image: what the daemon puts into it, at most. */
#define CODE_MAX_BYTES (256ull << 20)
#define CODE_MAX_FILES 100000
/* The console: the last CONSOLE_RING bytes are kept; at most CONSOLE_RATE read a second. */
#define CONSOLE_RING (64u << 10)
#define CONSOLE_RATE (64u << 10)

static struct {
	bool probed;
	bool kvm;
	char why[160]; /* why TCG, when it is */
} accel;

static int fs_touch(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- cpio (newc) writer */

/*
 * The function's policy and code, as an uncompressed newc archive appended to the guest's
 * initrd: the kernel unpacks concatenated archives in order into its root file system. newc
 * is the kernel's own initramfs format (Documentation/driver-api/early-userspace).
 */
struct cpio {
	FILE *f;
	unsigned ino;
	uint64_t bytes;
	unsigned files;
	int err;
};

static void cpio_pad(struct cpio *c)
{
	static const char zero[4];
	long pos = ftell(c->f);

	if (pos > 0 && pos % 4)
		fwrite(zero, 1, 4 - pos % 4, c->f);
}

static void cpio_entry(struct cpio *c, const char *name, unsigned mode, const void *data,
		       size_t len)
{
	size_t nlen = strlen(name) + 1;

	if (c->err)
		return;
	if (++c->files > CODE_MAX_FILES || (c->bytes += len) > CODE_MAX_BYTES) {
		c->err = -EFBIG;
		return;
	}
	fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ++c->ino,
		mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0, len, 0, 0, 0, 0, nlen, 0);
	fwrite(name, 1, nlen, c->f);
	cpio_pad(c);
	if (len) {
		fwrite(data, 1, len, c->f);
		cpio_pad(c);
	}
	if (ferror(c->f))
		c->err = -EIO;
}

static struct cpio *code_cpio; /* nftw has no context argument */
static size_t code_root_len;

static int code_add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char name[4096];
	/* Only the permission bits users expect to keep; never setuid, setgid or sticky. */
	unsigned perm = st->st_mode & 0755;

	(void)ftw;
	if (snprintf(name, sizeof(name), "var/task%s", path + code_root_len) >= (int)sizeof(name)) {
		code_cpio->err = -ENAMETOOLONG;
		return 1;
	}
	if (type == FTW_D) {
		cpio_entry(code_cpio, name, S_IFDIR | perm, NULL, 0);
	} else if (type == FTW_SL) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target));

		if (n > 0 && n < (ssize_t)sizeof(target))
			cpio_entry(code_cpio, name, S_IFLNK | 0777, target, (size_t)n);
	} else if (type == FTW_F && S_ISREG(st->st_mode)) {
		size_t len = 0;

		if ((uint64_t)st->st_size > CODE_MAX_BYTES) {
			code_cpio->err = -EFBIG;
			return 1;
		}
		char *data = fs_read_file(path, CODE_MAX_BYTES, &len);

		if (!data) {
			code_cpio->err = errno ? -errno : -EIO;
			return 1;
		}
		cpio_entry(code_cpio, name, S_IFREG | perm, data, len);
		free(data);
	}
	/* Devices, fifos and sockets in a code directory are not part of any function. */
	return code_cpio->err ? 1 : 0;
}

/* ENVDIR/initrd: the common guest image, then /fnguard/policy.yaml and /var/task. */
static int image_build(const struct env *e, const char *envdir, char *why, size_t whylen)
{
	const struct fn *fn = e->fn;
	const struct fnguardd *d = e->d;
	struct cpio c = {0};
	char path[1024];
	char *base = NULL;
	size_t base_len = 0;
	int err;

	base = fs_read_file(d->cfg.microvm_initrd, 1u << 30, &base_len);
	if (!base) {
		err = errno ? -errno : -EIO;
		snprintf(why, whylen, "reading the guest image %s: %s", d->cfg.microvm_initrd,
			 strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/initrd", envdir);
	/* Another tenant's code and policy: readable by root and this environment's gid only. */
	c.f = fopen(path, "wxe");
	if (!c.f || fchown(fileno(c.f), 0, e->uid) || fchmod(fileno(c.f), 0640)) {
		err = -errno;
		if (c.f)
			fclose(c.f);
		free(base);
		snprintf(why, whylen, "creating %s: %s", path, strerror(-err));
		return err;
	}
	fwrite(base, 1, base_len, c.f);
	free(base);
	/* The appended archive starts on a 4-byte boundary, as the kernel's unpacker expects. */
	cpio_pad(&c);
	cpio_entry(&c, "fnguard", S_IFDIR | 0755, NULL, 0);
	cpio_entry(&c, "fnguard/policy.yaml", S_IFREG | 0644, fn->yaml, fn->yaml_len);
	cpio_entry(&c, "var", S_IFDIR | 0755, NULL, 0);
	code_cpio = &c;
	code_root_len = strlen(fn->code_dir);
	/* The daemon's own copy, made at registration with the client's rights. */
	if (!c.err && nftw(fn->code_dir, code_add, 16, FTW_PHYS) < 0 && !c.err)
		c.err = -errno;
	code_cpio = NULL;
	cpio_entry(&c, "TRAILER!!!", 0, NULL, 0);
	if (fclose(c.f) && !c.err)
		c.err = -errno;
	if (c.err) {
		snprintf(why, whylen, "packing the function's code %s: %s",
			 fn->policy->function.code,
			 c.err == -EFBIG ? "more than 256 MiB or 100000 files" : strerror(-c.err));
		return c.err;
	}
	return 0;
}

/* ---------------------------------------------------------------- the VMM's jail */

#define STEP(what, call) SETUP_STEP(st, what, call)

/*
 * The jail's root is built on a tmpfs mounted on ENVDIR/jail, in the jail's mount namespace
 * only (not on /tmp: the state directory may be below it).
 */
static char jroot[640];
/*
 * What QEMU needs, and all the jail's root holds of the host: the binary, the shared
 * libraries and loader ldd names for it and for its TCG accelerator module, its module and
 * firmware directories. Found once, at the first microVM start, by the daemon (as root, with
 * the host's own ldd: the files are the host's, trusted like QEMU itself).
 */
#define JAIL_FILES_MAX 128
static char *jail_files[JAIL_FILES_MAX];
static unsigned n_jail_files;
static const char *const jail_dirs[] = {"/usr/share/qemu", "/usr/lib/x86_64-linux-gnu/qemu",
					"/usr/share/seabios"};

static void jail_file_add(const char *path)
{
	char real[PATH_MAX];

	for (unsigned i = 0; i < n_jail_files; i++)
		if (!strcmp(jail_files[i], path))
			return;
	if (n_jail_files < JAIL_FILES_MAX && access(path, R_OK) == 0)
		jail_files[n_jail_files++] = strdup(path);
	/* Where a library's name is a link, the file it names goes in too. */
	if (realpath(path, real) && strcmp(real, path))
		jail_file_add(real);
}

static int jail_files_ldd(const char *bin)
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
		jail_file_add(path);
		n++;
	}
	pclose(f);
	return n ? 0 : -ENOENT;
}

static int jail_files_find(const struct fnguardd_config *cfg)
{
	static const char *const modules[] = {"/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so"};
	int err;

	if (n_jail_files)
		return 0;
	jail_file_add(cfg->qemu);
	err = jail_files_ldd(cfg->qemu);
	if (err) {
		log_warnx("microvm: ldd %s found no libraries", cfg->qemu);
		return err;
	}
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (!access(modules[i], R_OK))
			jail_files_ldd(modules[i]);
	return 0;
}

/* mkdir -p of @path's parent directories inside the jail's root. */
static int jail_mkdirs(const char *path)
{
	char buf[700];

	snprintf(buf, sizeof(buf), "%s%s", jroot, path);
	for (char *c = buf + strlen(jroot) + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	return 0;
}

/* @rel inside the jail's root, in a static buffer (the child is single-threaded). */
static const char *jpath(const char *rel)
{
	static char buf[2][700];
	static int k;

	k ^= 1;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", jroot, rel);
	return buf[k];
}

static int bind_ro(const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL))
		return -errno;
	return errno_or(mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL));
}

static int dev_node(const char *name)
{
	char src[64], dst[720];
	int fd;

	snprintf(src, sizeof(src), "/dev/%s", name);
	snprintf(dst, sizeof(dst), "%s/dev/%s", jroot, name);
	fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return errno_or(mount(src, dst, NULL, MS_BIND, NULL));
}

static int jail_root(const struct fnguardd_config *cfg, const char *envdir, bool kvm)
{
	struct stat st;
	char dst[700];
	int err;

	if (mount("tmpfs", jroot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"))
		return -errno;
	for (unsigned i = 0; i < n_jail_files; i++) {
		snprintf(dst, sizeof(dst), "%s%s", jroot, jail_files[i]);
		if ((err = jail_mkdirs(jail_files[i])) || (err = fs_touch(dst, 0644)) ||
		    (err = bind_ro(jail_files[i], dst)))
			return err;
	}
	for (size_t i = 0; i < sizeof(jail_dirs) / sizeof(jail_dirs[0]); i++) {
		if (stat(jail_dirs[i], &st) || !S_ISDIR(st.st_mode))
			continue;
		snprintf(dst, sizeof(dst), "%s%s/", jroot, jail_dirs[i]);
		if ((err = jail_mkdirs(jail_dirs[i])) || (mkdir(dst, 0755) && errno != EEXIST) ||
		    (err = bind_ro(jail_dirs[i], dst)))
			return err ? err : -errno;
	}
	/* Not recursive: the jail itself (ENVDIR/jail) stays out of its own /env. */
	if (mkdir(jpath("/env"), 0755) || mount(envdir, jpath("/env"), NULL, MS_BIND, NULL) ||
	    mount(NULL, jpath("/env"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL))
		return -errno;
	if (mount(cfg->microvm_kernel, jpath("/env/vmlinuz"), NULL, MS_BIND, NULL) ||
	    mount(NULL, jpath("/env/vmlinuz"), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
		return -errno;
	/* QEMU writes no file on the host: its console is a socket (env_microvm_start). */
	if (mkdir(jpath("/dev"), 0755))
		return -errno;
	if ((err = dev_node("null")) || (err = dev_node("zero")) || (err = dev_node("urandom")))
		return err;
	if (kvm && (err = dev_node("kvm")))
		return err;
	if (mkdir(jpath("/tmp"), 01777) || mkdir(jpath("/.old"), 0700))
		return -errno;
	return errno_or(mount(NULL, jroot, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
			      "mode=0755,size=1m"));
}

static int jail_pivot(void)
{
	if (chdir(jroot))
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".old"))
		return -errno;
	if (chdir("/") || umount2("/.old", MNT_DETACH))
		return -errno;
	return errno_or(rmdir("/.old") && errno != EROFS);
}

/*
 * The environment's own uid and gid, nothing shared with any other tenant. The real gid is
 * the range's VMM gid, unlike the effective one: execve() then makes QEMU non-dumpable
 * (fs/exec.c: uid != euid or gid != egid), so /proc/PID/mem, /proc/PID/root and pidfd_getfd
 * are refused even to a process of the same uid, and QEMU's -sandbox forbids it to set its
 * ids again. File access goes by the effective gid: the real one opens nothing.
 */
/* /dev/kvm opened through its group (kvm, mode 0660 on Debian): never gid 0. */
static bool kvm_group_usable(char *why, size_t whylen)
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

static int jail_setup(struct env *e, const char *envdir, bool kvm, struct setup_step *st)
{
	/* The cgroup first: every byte and thread QEMU ever has is counted and limited. */
	STEP("joining the cgroup", cgroup_enter(&e->cg));
	/* Nothing of the daemon leaks into the VMM: only /dev/null as fds 0 and 1, the console
	 * as 2 and 4, the control channel as 3 (jail_child). */
	STEP("closing inherited fds", errno_or(syscall(SYS_close_range, 5, ~0u, 0)));
	STEP("making mounts private", errno_or(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)));
	snprintf(jroot, sizeof(jroot), "%s/jail", envdir);
	STEP("creating the jail's root", errno_or(mkdir(jroot, 0755) && errno != EEXIST));
	STEP("building the jail's root", jail_root(&e->d->cfg, envdir, kvm));
	STEP("switching to the jail's root", jail_pivot());
	STEP("setting no_new_privs", errno_or(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)));
	/* Group and user last but one: mounts and pivot_root above need root. */
	STEP("dropping to the environment's own user", jail_user(&e->d->uids, kvm, e->uid));
	STEP("loading the VMM's seccomp filter", vmm_seccomp_load(kvm));
	return 0;
}

struct jail_args {
	const char *envdir;
	char **argv;
	int console; /* the child's end of the console socket */
	bool kvm;    /* /dev/kvm in the jail, and group kvm */
};

/*
 * Fd 3 is the control channel (env_spawn). The daemon's own stdin, stdout and stderr (under
 * systemd, the journal's stream) never reach QEMU: 0 and 1 are /dev/null, and QEMU's stderr
 * goes where the guest's console goes, to the daemon's bounded ring.
 */
static void jail_child(struct env *e, void *arg)
{
	static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	const struct jail_args *ja = arg;
	struct setup_step st = {0};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	fcntl(3, F_SETFD, 0); /* QEMU gets it as -chardev socket,fd=3 */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(ja->console, 2) < 0 ||
	    dup2(ja->console, 4) < 0) {
		agent_failure_write(3, "redirecting the VMM's standard fds", -errno, NULL);
		_exit(1);
	}
	if (!jail_setup(e, ja->envdir, ja->kvm, &st)) {
		execve(ja->argv[0], ja->argv, envp);
		st.step = "executing QEMU";
		st.err = -errno;
	}
	/* The daemon learns it from the channel, as from an agent. */
	agent_failure_write(3, st.step, st.err, NULL);
	_exit(1);
}

static void env_dir(const struct env *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s/envs/%s", e->d->cfg.state_dir, e->id);
}

/*
 * The environment's own uid and gid, and its directory, which only root and that gid may
 * enter: what every VMM (an environment's, the KVM probe's) is started from.
 */
static int env_dir_make(struct env *e, char *envdir, size_t len, char *why, size_t whylen)
{
	struct fnguardd *d = e->d;
	char path[700];
	int err = uid_range_alloc(&d->uids, &e->uid);

	if (err) {
		snprintf(why, whylen, "no free uid in uid_range (%u in use)", d->uids.n_used);
		return err;
	}
	env_dir(e, envdir, len);
	snprintf(path, sizeof(path), "%s/envs", d->cfg.state_dir);
	err = fs_mkdir_p(path, 0711);
	if (!err && (mkdir(envdir, 0750) || chown(envdir, 0, e->uid)))
		err = -errno;
	if (err)
		snprintf(why, whylen, "creating %.300s: %s", envdir, strerror(-err));
	return err;
}

/* ---------------------------------------------------------------- the accelerator */

/*
 * KVM when it really runs a guest: /dev/kvm can exist and still hang a standard kernel (as on
 * some nested hosts). The probe boots the guest image with KVM and no function, bounded in
 * time: a guest that works powers itself off at once (the agent finds no policy). It runs
 * jailed like any VMM (its own uid, cgroup, namespaces, root, seccomp filter), as a child the
 * loop does not wait for: microVM environments are not started until it has answered
 * (env_microvm_probing), and its exit comes back through env_microvm_child_exited().
 */
static struct env *probe;
/* Called once the accelerator is known (the daemon's: dispatch what waits for it). */
static void (*probe_decided)(struct fnguardd *d);
static int probe_err = -1; /* its stderr */
static int64_t probe_deadline;
static bool probe_timed_out;

static void accel_decided(void)
{
	accel.probed = true;
	log_info("microvm: %s%s%s", accel.kvm ? "KVM" : "TCG", accel.kvm ? "" : ": ", accel.why);
}

static int probe_launch(struct fnguardd *d, char *why, size_t whylen)
{
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
	struct jail_args ja = {.envdir = envdir, .argv = argv, .kvm = true};
	int err, fd, errpipe[2];
	size_t len;
	char *img;

	if ((err = jail_files_find(&d->cfg))) {
		snprintf(why, whylen, "finding QEMU's libraries: %s", strerror(-err));
		return err;
	}
	probe = calloc(1, sizeof(*probe));
	if (!probe)
		return -ENOMEM;
	/* Sequence 0 is never an environment's: a killed daemon's probe is cleaned like one. */
	env_id_make(probe->id, sizeof(probe->id), 0, (int)getpid());
	probe->d = d;
	probe->cg.fd = probe->ctl.fd = probe->console.fd = -1;
	if ((err = env_dir_make(probe, envdir, sizeof(envdir), why, whylen)))
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
	probe_err = errpipe[0];
	ja.console = errpipe[1];
	err = env_spawn(probe, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
			jail_child, &ja, why, whylen);
	close(errpipe[1]);
	/* The probe's channel goes nowhere (-chardev null): only its exit status speaks. */
	if (probe->ctl.fd >= 0)
		close(probe->ctl.fd);
	probe->ctl.fd = -1;
	probe_deadline = mono_ns() + (int64_t)MICROVM_KVM_PROBE_S * 1000000000;
	return err;
}

static void probe_end(struct fnguardd *d)
{
	char buf[200];
	ssize_t n = probe_err >= 0 ? read(probe_err, buf, sizeof(buf) - 1) : -1;

	/* What QEMU said last is the reason, often: "failed to initialize kvm: ...". */
	if (n > 0 && !accel.kvm) {
		buf[n] = 0;
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "kvm"))
				snprintf(accel.why + strlen(accel.why), sizeof(accel.why) - strlen(accel.why),
					 ": %.100s", l);
	}
	if (probe_err >= 0)
		close(probe_err);
	probe_err = -1;
	env_microvm_destroy(probe);
	free(probe);
	probe = NULL;
	accel_decided();
	if (probe_decided)
		probe_decided(d);
}

void env_microvm_probe_start(struct fnguardd *d, void (*decided)(struct fnguardd *d))
{
	char why[300];
	int fd;

	probe_decided = decided;
	if (accel.probed || probe)
		return;
	switch (d->cfg.microvm_accel) {
	case MICROVM_ACCEL_TCG:
		accel.probed = true;
		snprintf(accel.why, sizeof(accel.why), "configured (microvm_accel: tcg)");
		return;
	case MICROVM_ACCEL_KVM:
		accel.probed = true;
		accel.kvm = true;
		return;
	}
	if (env_microvm_available(&d->cfg, why, sizeof(why))) {
		snprintf(accel.why, sizeof(accel.why), "no microVMs: %.140s", why);
		accel_decided();
		return;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(accel.why, sizeof(accel.why), "/dev/kvm: %s", strerror(errno));
		accel_decided();
		return;
	}
	close(fd);
	/* The VMM is no root and gets no root group: only a group of /dev/kvm's own. */
	if (!kvm_group_usable(accel.why, sizeof(accel.why))) {
		accel_decided();
		return;
	}
	log_info("microvm: probing KVM with a jailed guest (at most %d s)", MICROVM_KVM_PROBE_S);
	probe_timed_out = false;
	if (probe_launch(d, why, sizeof(why))) {
		snprintf(accel.why, sizeof(accel.why), "the probe could not start: %.120s", why);
		probe_end(d);
	}
}

bool env_microvm_probing(void)
{
	return probe != NULL;
}

void env_microvm_probe_tick(void)
{
	if (probe && !probe_timed_out && mono_ns() > probe_deadline) {
		probe_timed_out = true;
		kill(probe->pid, SIGKILL); /* reaped by the loop: env_microvm_child_exited() */
	}
}

void env_microvm_child_exited(struct fnguardd *d, pid_t pid, int status)
{
	if (!probe || pid != probe->pid)
		return;
	probe->pid = 0;
	if (probe_timed_out)
		snprintf(accel.why, sizeof(accel.why),
			 "KVM did not run the guest to its end within %d s", MICROVM_KVM_PROBE_S);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		accel.kvm = true;
	else if (WIFSIGNALED(status))
		snprintf(accel.why, sizeof(accel.why), "QEMU with KVM died of signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(accel.why, sizeof(accel.why), "QEMU with KVM exited with status %d",
			 WEXITSTATUS(status));
	probe_end(d);
}

/* The answer so far: TCG until the probe (or the configuration) says KVM. */
const char *env_microvm_accel(void)
{
	return accel.kvm ? "kvm" : "tcg";
}

bool env_microvm_accel_known(void)
{
	return accel.probed;
}

const char *env_microvm_accel_why(void)
{
	return accel.kvm ? "" : accel.why;
}

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
	bool kvm = !strcmp(env_microvm_accel(), "kvm");
	char envdir[600], path[700], mem[32], smp[32], tcg[48], append[256];
	uint64_t ram_mib = p->limits.memory_bytes >> 20;
	int err, con[2];

	if (env_microvm_available(&d->cfg, why, whylen))
		return -ENOENT;
	err = jail_files_find(&d->cfg);
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
	err = env_dir_make(e, envdir, sizeof(envdir), why, whylen);
	if (err)
		return err;
	/* 3. The guest image, with the function's policy and code, readable by that gid. */
	err = image_build(e, envdir, why, whylen);
	if (err)
		return err;
	/* The mount point for the kernel, which the jail binds there read-only. */
	snprintf(path, sizeof(path), "%s/vmlinuz", envdir);
	err = fs_touch(path, 0644);
	if (err) {
		snprintf(why, whylen, "creating %s: %s", path, strerror(-err));
		return err;
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
		char *argv[] = {(char *)d->cfg.qemu, "-M", "microvm", "-accel", kvm ? "kvm" : tcg,
				"-cpu", kvm ? "host" : "max", "-m", mem, "-smp", smp, "-nodefaults",
				"-no-user-config", "-nographic", "-no-reboot",
				"-sandbox",
				"on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
				"-chardev", "socket,id=con,fd=4", "-serial", "chardev:con",
				"-kernel", "/env/vmlinuz", "-initrd", "/env/initrd", "-append", append,
				"-device", "virtio-serial-device", "-chardev", "socket,id=ctl,fd=3",
				"-device", "virtserialport,chardev=ctl,name=fnguard.ctl", NULL};
		struct jail_args ja = {.envdir = envdir, .argv = argv, .console = con[0], .kvm = kvm};

		/* 6. The control channel (a virtio-serial port of the guest; our end a socketpair)
		 * and 7. QEMU, PID 1 of new namespaces: no network, no view of the host's processes. */
		err = env_spawn(e,
				CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET,
				jail_child, &ja, why, whylen);
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
	static const char *const files[] = {"initrd", "vmlinuz", "jail"};
	bool gone = true;

	if (e->pid > 0)
		kill(e->pid, SIGKILL);
	if (e->cg.fd >= 0 && e->cg.path[0]) {
		int left = cgroup_kill_all(&e->cg);

		if (left > 0)
			log_warnx("env %s: %d process(es) survived SIGKILL", e->id, left);
	}
	/* Reaped before its cgroup goes: newer kernels keep an unreaped task's cgroup busy.
	 * A VMM gets SIGKILL and has nothing to wait for, so the wait is short (bounded). */
	for (int i = 0; e->pid > 0 && i < 300; i++) {
		pid_t r = waitpid(e->pid, NULL, WNOHANG);

		if (r == e->pid || (r < 0 && errno == ECHILD))
			e->pid = 0;
		else
			usleep(10000);
	}
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
	env_dir(e, envdir, sizeof(envdir));
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
