// SPDX-License-Identifier: Apache-2.0
/* Small file-system helpers (fsutil.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "log.h"

/*
 * An existing directory the daemon keeps its state in must be root's (or the daemon user's)
 * and open to nobody else beyond @mode: a directory someone else owns or may write to lets
 * them plant links and files there. Ancestors may be links owned by root (/var/run) and
 * world-writable only if sticky (/tmp).
 */
static int dir_check(const char *path, mode_t mode, bool last)
{
	struct stat st;

	if (lstat(path, &st))
		return -errno;
	if (S_ISLNK(st.st_mode) && !last && st.st_uid == 0) {
		if (stat(path, &st))
			return -errno;
	} else if (S_ISLNK(st.st_mode)) {
		log_warnx("%s is a symbolic link%s: refusing to use it", path,
			  last ? "" : " not owned by root");
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s exists and is not a directory", path);
		return -ENOTDIR;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		log_warnx("%s belongs to uid %u, not root: refusing to use it (chown root or choose "
			  "another path)",
			  path, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (last ? (st.st_mode & 077 & ~mode) != 0
		 : (st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
		log_warnx("%s has mode %04o, open to %s: refusing to use it (chmod %04o)", path,
			  (unsigned)(st.st_mode & 07777),
			  last ? "more than it should be" : "writes by others without the sticky bit",
			  last ? (unsigned)((st.st_mode & 07777 & ~077) | (mode & 077))
			       : (unsigned)(st.st_mode & 07755));
		return -EPERM;
	}
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[1024];
	int err;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		if ((err = dir_check(buf, mode, false)))
			return err;
		*p = '/';
	}
	/* Made now with @mode (less the umask), or there already: either way, checked. */
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return dir_check(buf, mode, true);
}

int fs_touch(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

char *fs_read_fd(int fd, size_t max, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t n = 0;

	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			free(buf);
			errno = err;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

char *fs_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	int err;

	if (fd < 0)
		return NULL;
	buf = fs_read_fd(fd, max, len);
	err = errno;
	close(fd);
	errno = err;
	return buf;
}
