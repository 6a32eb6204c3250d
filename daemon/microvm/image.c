// SPDX-License-Identifier: Apache-2.0
/*
 * A microVM's guest image (image.h): the common initrd (make guest-initrd), then the
 * function's policy and code appended as a cpio archive, in the environment's directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fnguardd.h"
#include "fsutil.h"
#include "image.h"

/* An archive name: "var/task/" and the code's path below its directory. */
#define CODE_NAME_MAX 4096

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

/*
 * One entry @ent of the directory @dfd, named @name (@len bytes) in the archive; a directory
 * with all it holds, before it (depth first). Links are not followed: the archive has the
 * link. Devices, fifos and sockets in a code directory are not part of any function.
 */
static void code_entry_add(struct cpio *c, int dfd, const char *ent, char *name, size_t len);

static void code_dir_add(struct cpio *c, int dfd, char *name, size_t len)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *de;

	if (!dir) {
		c->err = -errno;
		close(dfd);
		return;
	}
	while (!c->err) {
		size_t n;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			c->err = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n = strlen(de->d_name);
		if (len + 1 + n >= CODE_NAME_MAX) {
			c->err = -ENAMETOOLONG;
			break;
		}
		name[len] = '/';
		memcpy(name + len + 1, de->d_name, n + 1);
		code_entry_add(c, dirfd(dir), de->d_name, name, len + 1 + n);
	}
	name[len] = 0;
	closedir(dir);
}

static void code_entry_add(struct cpio *c, int dfd, const char *ent, char *name, size_t len)
{
	struct stat st;
	unsigned perm;
	int fd;

	if (fstatat(dfd, ent, &st, AT_SYMLINK_NOFOLLOW))
		return;
	/* Only the permission bits users expect to keep; never setuid, setgid or sticky. */
	perm = st.st_mode & 0755;
	if (S_ISDIR(st.st_mode)) {
		fd = openat(dfd, ent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			/* One it may not read is left out, with what it holds. */
			if (errno != EACCES)
				c->err = -errno;
			return;
		}
		cpio_entry(c, name, S_IFDIR | perm, NULL, 0);
		code_dir_add(c, fd, name, len);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dfd, ent, target, sizeof(target));

		if (n > 0 && n < (ssize_t)sizeof(target))
			cpio_entry(c, name, S_IFLNK | 0777, target, (size_t)n);
	} else if (S_ISREG(st.st_mode)) {
		size_t size = 0;
		char *data = NULL;

		if ((uint64_t)st.st_size > CODE_MAX_BYTES) {
			c->err = -EFBIG;
			return;
		}
		fd = openat(dfd, ent, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			data = fs_read_fd(fd, CODE_MAX_BYTES, &size);
			close(fd);
		}
		if (!data) {
			c->err = errno ? -errno : -EIO;
			return;
		}
		cpio_entry(c, name, S_IFREG | perm, data, size);
		free(data);
	}
}

/* The code directory @dir as var/task (the daemon's own copy, made at registration with the
 * client's rights). */
static void code_add(struct cpio *c, const char *dir)
{
	char name[CODE_NAME_MAX] = "var/task";
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		c->err = -errno;
		if (fd >= 0)
			close(fd);
		return;
	}
	cpio_entry(c, name, S_IFDIR | (st.st_mode & 0755), NULL, 0);
	code_dir_add(c, fd, name, strlen(name));
}

int microvm_image_build(const struct env *e, const char *envdir, char *why, size_t whylen)
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
	if (!c.err)
		code_add(&c, fn->code_dir);
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
