/* SPDX-License-Identifier: Apache-2.0 */
/* Small file-system helpers shared by the library and the daemon. */
#ifndef FNGUARD_FSUTIL_H
#define FNGUARD_FSUTIL_H

#include <sys/types.h>

/* Create @path and every missing parent with @mode. Existing ones are checked, never changed:
 * @path must be a directory (not a link) of root or the effective uid, open to nobody beyond
 * @mode; its parents directories (or links of root's) not writable by others unless sticky.
 * 0, -ENAMETOOLONG, -ELOOP, -ENOTDIR, -EPERM (logged, with the reason), or the -errno of the
 * mkdir() that failed. */
int fs_mkdir_p(const char *path, mode_t mode);

/* An empty file @path with @mode, or the one that is there (left as it is). */
int fs_touch(const char *path, mode_t mode);

/* The first @max bytes of the file @path, NUL-terminated (free() it), their count in *len;
 * NULL with errno set when it cannot be opened or read or memory runs out. */
char *fs_read_file(const char *path, size_t max, size_t *len);
/* The same from the open file @fd (left open). */
char *fs_read_fd(int fd, size_t max, size_t *len);

#endif
