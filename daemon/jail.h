/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building a new root in a private mount namespace (jail.c), the same way for a process
 * environment (process/env_process.c) and for a microVM's VMM (microvm/vmm_jail.c): host
 * files and directories bound read-only, device nodes, the switch into it. Each returns 0 or
 * a negative errno; they run in the child, as root, before it drops its privileges.
 */
#ifndef FNGUARD_JAIL_H
#define FNGUARD_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* @path (a mount) read-only and nosuid; with @recursive, every mount below it too. */
int jail_setattr_ro(const char *path, bool recursive);
/* @src bound on @dst (which exists), read-only and nosuid; @recursive: with its submounts. */
int jail_bind_ro(const char *src, const char *dst, bool recursive);
/* The host's @path (a file or a directory) at @root@path, read-only: its parent directories
 * are made (mode 0755), then the mount point, then the bind. */
int jail_bind_path(const char *root, const char *path);
/* Each of the host's directories @dirs (absolute) at @root, read-only, when it exists; a
 * symbolic link (merged /usr) is made again as it is. */
int jail_host_dirs(const char *root, const char *const *dirs, size_t n);
/*
 * @root/dev holding the host's /dev/NAME for each of @names, bound on empty files of @mode.
 * With @own_tmpfs, /dev is a small tmpfs of its own (nosuid, noexec) with the links fd,
 * stdin, stdout and stderr into /proc/self/fd; else a plain directory.
 */
int jail_dev_make(const char *root, const char *const *names, size_t n, mode_t mode,
		  bool own_tmpfs);
/*
 * Into @root (a mount point) for good: pivot_root, or where the old root is the initramfs
 * (which cannot be pivoted away from), the switch_root way: move the new root over / and
 * chroot into it. Neither leaves a way back for a process without CAP_SYS_ADMIN /
 * CAP_SYS_CHROOT, which neither a handler nor the VMM ever has.
 */
int jail_switch_root(const char *root);

#endif
