// SPDX-License-Identifier: Apache-2.0
/*
 * Reading what a client names, with its rights (clientfs.h). The reader is a child process
 * with the client's ids and no capability; it speaks to the daemon over a socket:
 *
 *   header {type, mode, name_len, err, size}, name, then size bytes (a file's contents, a
 *   link's target)
 *
 * The daemon trusts none of it: every name is checked (relative, no "." or ".." or empty
 * component, bounded length and depth), every entry is created by the daemon itself below its
 * own directory with O_EXCL and without following links, and the totals, sizes and time are
 * bounded. The child is non-dumpable, so the client (same uid) cannot ptrace it or read its
 * memory, which is a copy of the daemon's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "clientfs.h"
#include "wire.h"

enum { CFS_DIR = 1, CFS_FILE, CFS_LINK, CFS_ERR, CFS_END };

struct cfs_hdr {
	uint32_t type;
	uint32_t mode;
	uint32_t name_len;
	int32_t err;
	uint64_t size;
};

#define CFS_NAME_MAX 4095
#define CFS_GROUPS_MAX 256

/* ---------------------------------------------------------------- the child (client's ids) */

static void send_hdr(int s, uint32_t type, uint32_t mode, const char *name, int err,
		     uint64_t size)
{
	struct cfs_hdr h = {.type = type, .mode = mode, .err = err, .size = size};

	h.name_len = name ? (uint32_t)strlen(name) : 0;
	if (wire_write_all(s, &h, sizeof(h)) || (h.name_len && wire_write_all(s, name, h.name_len)))
		_exit(1); /* the daemon gave up on us */
}

static void send_err(int s, const char *name, int err)
{
	send_hdr(s, CFS_ERR, 0, name, err, 0);
	_exit(0);
}

static void send_file(int s, int fd, const char *name, mode_t mode, uint64_t size)
{
	char buf[65536];
	uint64_t left = size;

	/* The file was opened O_NONBLOCK (a FIFO swapped in must not hang us): reads block. */
	fcntl(fd, F_SETFL, 0);
	send_hdr(s, CFS_FILE, mode, name, 0, size);
	while (left) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1); /* shrank while read: the daemon sees a short stream */
		if (wire_write_all(s, buf, (size_t)n))
			_exit(1);
		left -= (uint64_t)n;
	}
}

static void walk(int s, int dfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd2 = dup(dfd);

	if (fd2 < 0 || !(d = fdopendir(fd2)))
		send_err(s, rel, -errno);
	while ((errno = 0, de = readdir(d))) {
		char path[CFS_NAME_MAX + 1];
		struct stat st;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
		    (int)sizeof(path))
			send_err(s, rel, -ENAMETOOLONG);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			send_err(s, path, -errno);
		if (S_ISDIR(st.st_mode)) {
			if (depth >= CLIENTFS_DEPTH_MAX)
				send_err(s, path, -ELOOP);
			fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				send_err(s, path, -errno);
			send_hdr(s, CFS_DIR, st.st_mode & 07777, path, 0, 0);
			walk(s, fd, path, depth + 1);
			close(fd);
		} else if (S_ISREG(st.st_mode)) {
			/* Not by name again: this fd, opened without following a link swapped in. */
			fd = openat(dfd, de->d_name,
				    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
			if (fd < 0)
				send_err(s, path, -errno);
			if (fstat(fd, &st))
				send_err(s, path, -errno);
			if (S_ISREG(st.st_mode))
				send_file(s, fd, path, st.st_mode & 07777, (uint64_t)st.st_size);
			close(fd);
		} else if (S_ISLNK(st.st_mode)) {
			char target[CFS_NAME_MAX + 1];
			ssize_t n = readlinkat(dfd, de->d_name, target, sizeof(target));

			if (n < 0)
				send_err(s, path, -errno);
			if (n >= (ssize_t)sizeof(target))
				send_err(s, path, -ENAMETOOLONG);
			send_hdr(s, CFS_LINK, 0777, path, 0, (uint64_t)n);
			if (wire_write_all(s, target, (size_t)n))
				_exit(1);
		}
		/* Devices, FIFOs and sockets in a code directory are not part of any function. */
	}
	if (errno)
		send_err(s, rel, -errno);
	closedir(d);
}

/* From root to the client's ids, for good: groups of its user in the database. */
static int child_drop(const struct client_id *who)
{
	gid_t groups[CFS_GROUPS_MAX];
	int n = CFS_GROUPS_MAX;
	struct passwd *pw;

	if (who->uid == 0)
		return 0;
	pw = getpwuid(who->uid);
	if (!pw || getgrouplist(pw->pw_name, who->gid, groups, &n) < 0) {
		groups[0] = who->gid;
		n = 1;
	}
	if (setgroups((size_t)n, groups) || setresgid(who->gid, who->gid, who->gid) ||
	    setresuid(who->uid, who->uid, who->uid))
		return -errno;
	return 0;
}

struct cfs_job {
	const char *path;
	size_t max; /* file jobs: the largest file accepted */
	int tree;   /* 1: a directory tree, 0: one file */
};

static void child_main(const struct client_id *who, int s, const struct cfs_job *job)
{
	sigset_t none;
	struct stat st;
	int fd, err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (dup2(s, 3) < 0)
		_exit(1);
	s = 3;
	syscall(SYS_close_range, 4, ~0u, 0);
	err = child_drop(who);
	/* Non-dumpable: a process of the client's uid cannot ptrace us or read our memory. */
	prctl(PR_SET_DUMPABLE, 0);
	if (err)
		send_err(s, "", err);
	if (job->tree) {
		fd = open(job->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			send_err(s, "", -errno);
		walk(s, fd, "", 0);
	} else {
		fd = open(job->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			send_err(s, "", -errno);
		if (fstat(fd, &st))
			send_err(s, "", -errno);
		if (!S_ISREG(st.st_mode))
			send_err(s, "", -EINVAL);
		if ((uint64_t)st.st_size > job->max)
			send_err(s, "", -EFBIG);
		send_file(s, fd, "", st.st_mode & 07777, (uint64_t)st.st_size);
	}
	send_hdr(s, CFS_END, 0, NULL, 0, 0);
	_exit(0);
}

/* ---------------------------------------------------------------- the daemon's side */

struct cfs_ctx {
	int sock;
	int64_t deadline_ms;
	int dst_fd;	 /* tree: where the copy goes */
	char *buf;	 /* file: the contents */
	size_t len;
	uint64_t bytes; /* tree: totals so far */
	unsigned files;
	char *why;
	size_t whylen;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Exactly @len bytes from the child, within the deadline. */
static int read_full(struct cfs_ctx *c, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = {.fd = c->sock, .events = POLLIN};
		int64_t left = c->deadline_ms - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (!pfd.revents)
			continue;
		n = read(c->sock, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A name the child sent: relative, no empty, "." or ".." component, bounded depth. */
static int name_check(const char *name, size_t len)
{
	int depth = 0;

	if (!len || name[0] == '/' || memchr(name, 0, len))
		return -EINVAL;
	for (const char *c = name, *e; c < name + len; c = e + 1) {
		e = memchr(c, '/', (size_t)(name + len - c));
		if (!e)
			e = name + len;
		if (e == c || (e - c == 1 && c[0] == '.') || (e - c == 2 && c[0] == '.' && c[1] == '.'))
			return -EINVAL;
		if (++depth > CLIENTFS_DEPTH_MAX + 1)
			return -ELOOP;
	}
	return 0;
}

/* The directory @name's parent below @dst (made by us before), never through a link. */
static int parent_open(int dst, char *name, const char **base)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
	char *slash = strrchr(name, '/');
	int fd;

	if (!slash) {
		*base = name;
		fd = fcntl(dst, F_DUPFD_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	*slash = 0;
	*base = slash + 1;
	fd = (int)syscall(SYS_openat2, dst, name, &how, sizeof(how));
	*slash = '/';
	return fd < 0 ? -errno : fd;
}

static int copy_to(struct cfs_ctx *c, int fd, uint64_t size)
{
	char buf[65536];

	while (size) {
		size_t n = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		int err = read_full(c, buf, n);

		if (err)
			return err;
		if (fd >= 0 && (err = wire_write_all(fd, buf, n)))
			return err;
		size -= n;
	}
	return 0;
}

static int tree_entry(struct cfs_ctx *c, const struct cfs_hdr *h, char *name)
{
	const char *base;
	mode_t perm = h->mode & 0755; /* never setuid, setgid, sticky, or writable by others */
	int pfd, fd, err = 0;

	if (++c->files > CLIENTFS_CODE_MAX_FILES ||
	    (c->bytes += h->size) > CLIENTFS_CODE_MAX_BYTES) {
		snprintf(c->why, c->whylen, "more than %u files or %llu MiB", CLIENTFS_CODE_MAX_FILES,
			 CLIENTFS_CODE_MAX_BYTES >> 20);
		return -EFBIG;
	}
	if (name_check(name, h->name_len))
		return -EPROTO;
	pfd = parent_open(c->dst_fd, name, &base);
	if (pfd < 0)
		return pfd == -ENOENT || pfd == -ELOOP ? -EPROTO : pfd;
	switch (h->type) {
	case CFS_DIR:
		if (h->size || mkdirat(pfd, base, 0700) || fchmodat(pfd, base, perm, 0))
			err = h->size ? -EPROTO : -errno;
		break;
	case CFS_FILE:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = -errno;
			break;
		}
		err = copy_to(c, fd, h->size);
		if (!err && fchmod(fd, perm))
			err = -errno;
		close(fd);
		break;
	case CFS_LINK: {
		char target[CFS_NAME_MAX + 1];

		if (!h->size || h->size > CFS_NAME_MAX) {
			err = -EPROTO;
			break;
		}
		err = read_full(c, target, (size_t)h->size);
		target[h->size] = 0;
		if (!err && (memchr(target, 0, (size_t)h->size) || symlinkat(target, pfd, base)))
			err = memchr(target, 0, (size_t)h->size) ? -EPROTO : -errno;
		break;
	}
	default:
		err = -EPROTO;
	}
	close(pfd);
	if (err && err != -EPROTO && err != -EFBIG)
		snprintf(c->why, c->whylen, "copying %s: %s", name, strerror(-err));
	return err;
}

static int file_entry(struct cfs_ctx *c, const struct cfs_hdr *h, size_t max)
{
	if (h->type != CFS_FILE || h->name_len || c->buf)
		return -EPROTO;
	if (h->size > max)
		return -EFBIG;
	c->buf = malloc((size_t)h->size + 1);
	if (!c->buf)
		return -ENOMEM;
	c->len = (size_t)h->size;
	c->buf[c->len] = 0;
	return read_full(c, c->buf, c->len);
}

static int cfs_run(const struct client_id *who, const struct cfs_job *job, struct cfs_ctx *c)
{
	int sv[2], err = -EPROTO, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(who, sv[1], job);
	}
	close(sv[1]);
	c->sock = sv[0];
	c->deadline_ms = now_ms() + CLIENTFS_TIMEOUT_S * 1000;
	for (;;) {
		struct cfs_hdr h;
		char name[CFS_NAME_MAX + 1];

		err = read_full(c, &h, sizeof(h));
		if (err)
			break;
		if (h.name_len > CFS_NAME_MAX) {
			err = -EPROTO;
			break;
		}
		err = read_full(c, name, h.name_len);
		if (err)
			break;
		name[h.name_len] = 0;
		if (h.type == CFS_END) {
			err = 0;
			break;
		}
		if (h.type == CFS_ERR) {
			err = h.err < 0 && h.err > -4096 ? h.err : -EIO;
			if (h.name_len && name_check(name, h.name_len) == 0)
				snprintf(c->why, c->whylen, "%s: %s", name, strerror(-err));
			break;
		}
		err = job->tree ? tree_entry(c, &h, name) : file_entry(c, &h, job->max);
		if (err)
			break;
	}
	if (err == -ETIMEDOUT)
		snprintf(c->why, c->whylen, "not read within %d s", CLIENTFS_TIMEOUT_S);
	else if (err == -EPIPE)
		snprintf(c->why, c->whylen, "the reader stopped early (a file changed or shrank "
					    "while it was read?)");
	else if (err == -EPROTO && !c->why[0])
		snprintf(c->why, c->whylen, "the reader sent something malformed");
	close(c->sock);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return err;
}

int clientfs_read_file(const struct client_id *who, const char *path, size_t max, char **buf,
		       size_t *len, char *why, size_t whylen)
{
	struct cfs_job job = {.path = path, .max = max, .tree = 0};
	struct cfs_ctx c = {.dst_fd = -1, .why = why, .whylen = whylen};
	int err;

	why[0] = 0;
	err = cfs_run(who, &job, &c);
	if (err) {
		free(c.buf);
		if (!why[0])
			snprintf(why, whylen, "%s", err == -EINVAL ? "not a regular file"
						    : err == -EFBIG ? "too large"
								    : strerror(-err));
		return err;
	}
	if (!c.buf)
		return -EPROTO;
	*buf = c.buf;
	*len = c.len;
	return 0;
}

int clientfs_copy_tree(const struct client_id *who, const char *src, int dst_fd, char *why,
		       size_t whylen)
{
	struct cfs_job job = {.path = src, .tree = 1};
	struct cfs_ctx c = {.dst_fd = dst_fd, .why = why, .whylen = whylen};
	int err;

	why[0] = 0;
	err = cfs_run(who, &job, &c);
	if (err && !why[0])
		snprintf(why, whylen, "%s", strerror(-err));
	if (!err)
		syncfs(dst_fd); /* a registered function's code survives a crash */
	return err;
}

static int remove_below(int dfd, int depth)
{
	DIR *d;
	struct dirent *de;
	int err = 0, fd2 = dup(dfd);

	if (fd2 < 0 || !(d = fdopendir(fd2)))
		return -errno;
	while ((de = readdir(d))) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dfd, de->d_name, 0))
			continue;
		if (errno != EISDIR || depth > CLIENTFS_DEPTH_MAX + 2) {
			err = -errno;
			continue;
		}
		sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			err = -errno;
			continue;
		}
		err = remove_below(sub, depth + 1) ?: err;
		close(sub);
		if (unlinkat(dfd, de->d_name, AT_REMOVEDIR))
			err = -errno;
	}
	closedir(d);
	return err;
}

int clientfs_remove_tree(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), err;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = remove_below(fd, 0);
	close(fd);
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) && !err)
		err = -errno;
	return err;
}
