// SPDX-License-Identifier: Apache-2.0
/*
 * A new root in the child's private mount namespace (jail.h), built the same way for every
 * environment: read-only binds of what it may see of the host, device nodes, pivot_root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fsutil.h"
#include "jail.h"

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct mount_attr_arg {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

int jail_setattr_ro(const char *path, bool recursive)
{
	struct mount_attr_arg a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID};

	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof(a)))
		return -errno;
	return 0;
}

int jail_bind_ro(const char *src, const char *dst, bool recursive)
{
	if (mount(src, dst, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL))
		return -errno;
	return jail_setattr_ro(dst, recursive);
}

int jail_bind_path(const char *root, const char *path)
{
	char dst[PATH_MAX];
	struct stat st;
	char *slash;
	int err;

	if (snprintf(dst, sizeof(dst), "%s%s", root, path) >= (int)sizeof(dst))
		return -ENAMETOOLONG;
	if (stat(path, &st))
		return -errno;
	/* Its parents (fs_mkdir_p checks the ones there: the jail's own, root's, 0755). */
	slash = strrchr(dst, '/');
	if (slash && slash > dst + strlen(root)) {
		*slash = 0;
		err = fs_mkdir_p(dst, 0755);
		*slash = '/';
		if (err)
			return err;
	}
	if (S_ISDIR(st.st_mode))
		err = mkdir(dst, 0755) && errno != EEXIST ? -errno : 0;
	else
		err = fs_touch(dst, 0644);
	return err ? err : jail_bind_ro(path, dst, true);
}

int jail_host_dirs(const char *root, const char *const *dirs, size_t n)
{
	char dst[PATH_MAX], target[256];
	struct stat st;
	ssize_t len;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (lstat(dirs[i], &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((err = jail_bind_path(root, dirs[i])))
				return err;
			continue;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		len = readlink(dirs[i], target, sizeof(target) - 1);
		if (len < 0)
			return -errno;
		target[len] = 0;
		snprintf(dst, sizeof(dst), "%s%s", root, dirs[i]);
		if (symlink(target, dst))
			return -errno;
	}
	return 0;
}

int jail_dev_make(const char *root, const char *const *names, size_t n, mode_t mode, bool own_tmpfs)
{
	static const char *const links[][2] = {{"/proc/self/fd", "fd"},
					       {"/proc/self/fd/0", "stdin"},
					       {"/proc/self/fd/1", "stdout"},
					       {"/proc/self/fd/2", "stderr"}};
	char dev[PATH_MAX], src[64], dst[PATH_MAX + 64];
	int err;

	snprintf(dev, sizeof(dev), "%s/dev", root);
	/* A runtime's root image has its own (empty) /dev to mount over. */
	if (mkdir(dev, 0755) && !(own_tmpfs && errno == EEXIST))
		return -errno;
	if (own_tmpfs && mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k"))
		return -errno;
	for (size_t i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "/dev/%s", names[i]);
		snprintf(dst, sizeof(dst), "%s/%s", dev, names[i]);
		if ((err = fs_touch(dst, mode)))
			return err;
		if (mount(src, dst, NULL, MS_BIND, NULL))
			return -errno;
	}
	for (size_t i = 0; own_tmpfs && i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(dst, sizeof(dst), "%s/%s", dev, links[i][1]);
		if (symlink(links[i][0], dst))
			return -errno;
	}
	return 0;
}

int jail_switch_root(const char *root)
{
	if (chdir(root))
		return -errno;
	/* pivot_root(".", "."): the old root is stacked on the new one, then detached. */
	if (!syscall(SYS_pivot_root, ".", ".")) {
		if (umount2(".", MNT_DETACH))
			return -errno;
	} else if (errno == EINVAL) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot("."))
			return -errno;
	} else {
		return -errno;
	}
	return chdir("/") ? -errno : 0;
}
