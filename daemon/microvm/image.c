// SPDX-License-Identifier: Apache-2.0
/*
 * A microVM's images (image.h), made once per function version and shared by all its
 * environments: the common initrd (make guest-initrd) with the function's policy (and a stdio
 * function's code and layers) appended as a cpio archive; a runtime's function gets its code
 * and its layers as EROFS images instead, read-only drives beside the runtime's root image.
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
#include <sys/wait.h>

#include "fnguardd.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"
#include "policy.h"

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

/* The code directory @dir as @at, var/task or opt (the daemon's own copy, made at registration
 * with the client's rights). */
static void code_add(struct cpio *c, const char *dir, const char *at)
{
	char name[CODE_NAME_MAX];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		c->err = -errno;
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(name, sizeof(name), "%s", at);
	cpio_entry(c, name, S_IFDIR | (st.st_mode & 0755), NULL, 0);
	code_dir_add(c, fd, name, strlen(name));
}

/* The common initrd, then the function's policy (and, for the stdio runtime, its code at
 * /var/task and its layers, merged at registration, at /opt) appended, into @path (0644: the
 * directory above it is root's alone). */
static int initrd_write(const struct fn *fn, const char *path, bool with_code, char *why,
			size_t whylen)
{
	const struct fnguardd *d = fn->d;
	struct cpio c = {0};
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
	c.f = fopen(path, "wxe");
	if (!c.f || fchmod(fileno(c.f), 0644)) {
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
	if (!c.err && with_code) {
		code_add(&c, fn->code_dir, "var/task");
		if (!c.err && fn->layers_dir) {
			char dir[800];

			snprintf(dir, sizeof(dir), "%s/opt", fn->layers_dir);
			code_add(&c, dir, "opt");
		}
	}
	cpio_entry(&c, "TRAILER!!!", 0, NULL, 0);
	if (fclose(c.f) && !c.err)
		c.err = -errno;
	if (c.err) {
		snprintf(why, whylen, "packing the function's code %s%s: %s",
			 fn->policy->function.code,
			 fn->policy->function.n_layers ? " and its layers" : "",
			 c.err == -EFBIG ? "more than 256 MiB or 100000 files" : strerror(-c.err));
		return c.err;
	}
	return 0;
}

/* A read-only EROFS image of the directory @dir, into @path, by Debian's mkfs.erofs. */
static int erofs_write(const char *dir, const char *path, char *why, size_t whylen)
{
	char *const argv[] = {"mkfs.erofs", "--quiet", "--all-root", (char *)path, (char *)dir,
			      NULL};
	char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	int status, null;
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(why, whylen, "making %s: fork: %s", path, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execvpe(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, whylen, "making the image %s: mkfs.erofs %s %d%s", path,
			 WIFEXITED(status) ? "exited with status" : "was killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 WIFEXITED(status) && WEXITSTATUS(status) == 127
			     ? " (not installed? apt-get install erofs-utils)"
			     : "");
		return -EIO;
	}
	return chmod(path, 0644) ? -errno : 0;
}

void microvm_images_dir(const struct fn *fn, char *buf, size_t len)
{
	const char *stem = strrchr(fn->code_dir, '/');

	snprintf(buf, len, "%s/images/%s", fn->d->cfg.state_dir, stem ? stem + 1 : fn->code_dir);
}

int microvm_images_get(struct fn *fn, struct microvm_images *im, char *why, size_t whylen)
{
	const char *rt = microvm_runtime_name(fn->policy);
	char imgs[600], tmp[640], path[700];
	struct stat st;
	int err;

	memset(im, 0, sizeof(*im));
	microvm_images_dir(fn, im->dir, sizeof(im->dir));
	snprintf(im->initrd, sizeof(im->initrd), "%s/initrd", im->dir);
	if (rt) {
		snprintf(im->code, sizeof(im->code), "%s/code.erofs", im->dir);
		if (fn->layers_dir) {
			int n = snprintf(im->opt, sizeof(im->opt), "%s", im->code);

			/* DIR/code.erofs -> DIR/opt.erofs */
			snprintf(im->opt + n - 10, sizeof(im->opt) - (size_t)n + 10, "opt.erofs");
		}
		snprintf(im->root, sizeof(im->root), "%s/%s/image.erofs", fn->d->cfg.runtime_dir, rt);
		if (stat(im->root, &st) || !S_ISREG(st.st_mode)) {
			snprintf(why, whylen,
				 "runtime %s is not built (%s: %s): run 'fnguard runtime build %s'", rt,
				 im->root, strerror(errno ? errno : EINVAL), rt);
			return -ENOENT;
		}
	}
	/* Made once per function version, at its registration; every environment shares them
	 * (the jail binds them read-only). Again when the common guest image is newer (a new
	 * build of the agent): a running environment keeps the files it has bound. */
	if (!stat(im->initrd, &st)) {
		struct stat base;

		if (stat(fn->d->cfg.microvm_initrd, &base) ||
		    st.st_mtim.tv_sec > base.st_mtim.tv_sec ||
		    (st.st_mtim.tv_sec == base.st_mtim.tv_sec &&
		     st.st_mtim.tv_nsec >= base.st_mtim.tv_nsec))
			return 0;
		microvm_images_remove_dir(im->dir);
	}
	snprintf(imgs, sizeof(imgs), "%s/images", fn->d->cfg.state_dir);
	err = fs_mkdir_p(imgs, 0700);
	if (err) {
		snprintf(why, whylen, "creating %s: %s", imgs, strerror(-err));
		return err;
	}
	snprintf(tmp, sizeof(tmp), "%s/.new-XXXXXX", imgs);
	if (!mkdtemp(tmp)) {
		snprintf(why, whylen, "creating %s: %s", tmp, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/initrd", tmp);
	err = initrd_write(fn, path, !rt, why, whylen);
	if (!err && rt) {
		snprintf(path, sizeof(path), "%s/code.erofs", tmp);
		err = erofs_write(fn->code_dir, path, why, whylen);
	}
	if (!err && im->opt[0]) {
		char dir[800];

		snprintf(dir, sizeof(dir), "%s/opt", fn->layers_dir);
		snprintf(path, sizeof(path), "%s/opt.erofs", tmp);
		err = erofs_write(dir, path, why, whylen);
	}
	if (!err && rename(tmp, im->dir)) {
		err = -errno;
		snprintf(why, whylen, "renaming %s to %s: %s", tmp, im->dir, strerror(errno));
	}
	if (err) {
		microvm_images_remove_dir(tmp);
		return err;
	}
	return 0;
}

void microvm_images_remove_dir(const char *dir)
{
	static const char *const files[] = {"initrd", "code.erofs", "opt.erofs"};
	char path[800];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	if (rmdir(dir) && errno != ENOENT)
		log_warn("cannot remove %s", dir);
}

const char *microvm_runtime_name(const struct fng_policy *p)
{
	return p->function.runtime == FNG_RUNTIME_STDIO ? NULL
							: fng_runtime_name(p->function.runtime);
}
