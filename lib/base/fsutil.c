// SPDX-License-Identifier: Apache-2.0
/* Small file-system helpers (fsutil.h). */
#include <errno.h>
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

char *fs_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, max, f);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}
