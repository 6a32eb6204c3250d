/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM's jail (vmm_jail.c), in the manner of Firecracker's jailer: QEMU runs in its
 * environment's own directory, uid, gid and cgroup, in a root that holds only what it needs
 * of the host, read-only, under its own seccomp filter.
 */
#ifndef FNGUARD_MICROVM_VMM_JAIL_H
#define FNGUARD_MICROVM_VMM_JAIL_H

#include <stdbool.h>
#include <stddef.h>

struct env;
struct fnguardd_config;
struct microvm_state;

/* The VMM's memory beyond the guest's RAM: QEMU itself and TCG's translation cache. */
#define VMM_OVERHEAD_BYTES (256ull << 20)
#define VMM_PIDS 64

/* What vmm_jail_child() is given (env_spawn's @arg). */
struct vmm_jail {
	const char *envdir;
	char **argv;	/* QEMU's */
	int console;	/* the child's end of the console socket */
	bool kvm;	/* /dev/kvm in the jail, and group kvm */
	/* Files bound read-only at /env/DST (a file of the environment's directory) when SRC is
	 * not "": the function version's images. */
	struct {
		const char *src, *dst;
	} binds[4]; /* the initrd, root, code and layers */
	char root[640]; /* ENVDIR/jail, the jail's root: set by the child */
};

/* The files QEMU needs (the binary, the libraries ldd names), into @m, once: 0 or -errno. */
int vmm_jail_files_find(struct microvm_state *m, const struct fnguardd_config *cfg);
/* The child of env_spawn (@arg a struct vmm_jail): jails itself, then executes QEMU. */
void vmm_jail_child(struct env *e, void *arg);
/* Whether /dev/kvm opens through a group other than root's (else false and why). */
bool vmm_kvm_group_usable(char *why, size_t whylen);

/* STATE/envs/ID, the environment's directory. */
void vmm_env_dir(const struct env *e, char *buf, size_t len);
/* The environment's own uid and gid, then its directory, which only root and that gid may
 * enter: what every VMM (an environment's, the KVM probe's) is started from. -errno, @why. */
int vmm_env_dir_make(struct env *e, char *envdir, size_t len, char *why, size_t whylen);

#endif
