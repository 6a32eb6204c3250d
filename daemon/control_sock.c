// SPDX-License-Identifier: Apache-2.0
/*
 * The API socket's file. Its directory is created 0755 when missing; an existing one must be
 * a real directory (not a symlink), owned by root or the daemon's user, and not writable by
 * group or others unless sticky: whoever can write there could swap the socket for their
 * own. Whatever is at the socket's path is replaced only if it is a socket nobody answers
 * on (a stale one); a file, a symlink or a live socket is refused. Everything after the check
 * goes through a descriptor of the directory, and the socket is born 0660 (umask around
 * bind) and then given its group: there is no moment when it is open to more people.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "log.h"

static const char *file_kind(mode_t m)
{
	return S_ISREG(m)    ? "regular file"
	       : S_ISLNK(m)  ? "symlink"
	       : S_ISDIR(m)  ? "directory"
	       : S_ISFIFO(m) ? "fifo"
			     : "special file";
}

/* Opens (creating it if missing) and checks the socket's directory @dir. */
static int socket_dir_open(const char *dir)
{
	struct stat st;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0755) && errno != EEXIST) {
			log_warn("cannot create %s", dir);
			return -errno;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* Whatever the umask: group members must be able to reach the socket. */
		if (fd >= 0 && fchmod(fd, 0755))
			log_warn("chmod %s", dir);
	}
	if (fd < 0) {
		int err = errno;

		if (err == ELOOP || err == ENOTDIR)
			log_warnx("socket directory %s is a symlink or not a directory: refused",
				  dir);
		else
			log_warn("socket directory %s", dir);
		return -err;
	}
	if (fstat(fd, &st)) {
		log_warn("socket directory %s", dir);
		close(fd);
		return -EIO;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		log_warnx("socket directory %s belongs to uid %u, not root or this daemon's user: "
			  "refused",
			  dir, (unsigned)st.st_uid);
		close(fd);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		log_warnx("socket directory %s is writable by group or others (mode %04o) and not "
			  "sticky: refused",
			  dir, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* @sa names the socket through the checked directory when that fits, else by its path. */
static void socket_addr(const struct control *ctl, struct sockaddr_un *sa, const char *path)
{
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", ctl->sock_dirfd,
		     ctl->sock_name) >= (int)sizeof(sa->sun_path) ||
	    access("/proc/self/fd", X_OK))
		snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
}

/* Removes a stale socket at the path: 0 when there is none now, else -errno (logged). */
static int socket_clear(const struct control *ctl, const struct sockaddr_un *sa,
			const char *path)
{
	struct stat st;
	int probe;

	if (fstatat(ctl->sock_dirfd, ctl->sock_name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		log_warn("%s", path);
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket (a %s): refused, not replacing it", path,
			  file_kind(st.st_mode));
		return -EEXIST;
	}
	/* A socket that answers belongs to a running daemon; one that does not is stale. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && !connect(probe, (const struct sockaddr *)sa, sizeof(*sa))) {
		close(probe);
		log_warnx("%s: another fnguardd is running", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	if (unlinkat(ctl->sock_dirfd, ctl->sock_name, 0) && errno != ENOENT) {
		log_warn("cannot remove the stale socket %s", path);
		return -errno;
	}
	return 0;
}

int control_socket_open(struct control *ctl, const char *path, gid_t gid, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)];
	const char *slash = strrchr(path, '/');
	mode_t old;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	snprintf(ctl->sock_name, sizeof(ctl->sock_name), "%s", slash ? slash + 1 : path);
	if (!ctl->sock_name[0]) {
		log_warnx("socket path %s names a directory", path);
		return -EINVAL;
	}
	ctl->sock_dirfd = socket_dir_open(dir);
	if (ctl->sock_dirfd < 0) {
		err = ctl->sock_dirfd;
		ctl->sock_dirfd = -1;
		return err;
	}
	socket_addr(ctl, &sa, path);
	err = socket_clear(ctl, &sa, path);
	if (err)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_warn("socket");
		goto fail;
	}
	old = umask(0117);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!err && gid != (gid_t)-1 &&
	    fchownat(ctl->sock_dirfd, ctl->sock_name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW))
		log_warn("chown %s", path);
	if (!err && listen(fd, 64))
		err = -errno;
	if (err) {
		log_warnx("cannot listen on %s: %s", path, strerror(-err));
		close(fd);
		goto fail;
	}
	*out = fd;
	return 0;
fail:
	close(ctl->sock_dirfd);
	ctl->sock_dirfd = -1;
	return err;
}

void control_socket_remove(struct control *ctl)
{
	struct stat st;

	if (ctl->sock_dirfd < 0)
		return;
	/* Only a socket: whatever else took its name is not ours to remove. */
	if (!fstatat(ctl->sock_dirfd, ctl->sock_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISSOCK(st.st_mode))
		unlinkat(ctl->sock_dirfd, ctl->sock_name, 0);
	close(ctl->sock_dirfd);
	ctl->sock_dirfd = -1;
}
