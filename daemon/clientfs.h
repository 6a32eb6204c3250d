/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading what a client names, with the client's rights, never the daemon's. A client that
 * registers a function names a policy file and a code directory; the daemon runs as root, so
 * reading them itself would hand any member of group fnguard every file on the host (a
 * symlink swapped in mid-copy, a directory below another user's 0700 one, /etc/shadow as a
 * "policy"). Instead a child process takes the client's uid, gid and groups (those of its user
 * in the group database), opens each file itself without following symbolic links inside the
 * code tree, and streams the bytes to the daemon, which writes its own copy and bounds
 * everything: entries, bytes, names, depth and time.
 */
#ifndef FNGUARD_CLIENTFS_H
#define FNGUARD_CLIENTFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The function's part of an environment: what the daemon copies of a code directory. */
#define CLIENTFS_CODE_MAX_BYTES (256ull << 20)
#define CLIENTFS_CODE_MAX_FILES 100000
#define CLIENTFS_DEPTH_MAX 64
/* How long one registration may take to read, at most. */
#define CLIENTFS_TIMEOUT_S 60

struct client_id {
	uid_t uid;
	gid_t gid;
};

/*
 * The regular file @path as @who may read it: at most @max bytes (a larger file is -EFBIG),
 * into *buf (NUL-terminated, free() it). Anything but a regular file is refused (-EINVAL), so
 * a FIFO never blocks the daemon. @why says what failed, and never quotes the file.
 */
int clientfs_read_file(const struct client_id *who, const char *path, size_t max, char **buf,
		       size_t *len, char *why, size_t whylen);

/*
 * Copies the directory tree @src, as @who may read it, into the empty directory @dst_fd:
 * directories, regular files (permission bits & 0755, owned by root) and symbolic links (as
 * links: their targets are never followed); devices, FIFOs and sockets are left out. An entry
 * @who may not read fails the copy, naming it.
 */
int clientfs_copy_tree(const struct client_id *who, const char *src, int dst_fd, char *why,
		       size_t whylen);

/* Removes the tree @name below @dir_fd (a copy of ours: links are removed, never followed). */
int clientfs_remove_tree(int dir_fd, const char *name);

#endif
