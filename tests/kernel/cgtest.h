/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for bench tests: a scratch cgroup and running a function inside or outside it. */
#ifndef FNGUARD_CGTEST_H
#define FNGUARD_CGTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CGTEST_ROOT "/sys/fs/cgroup"

/* Create cgroup NAME under the v2 root; returns an O_RDONLY fd on it or -errno. */
static inline int cgtest_create(const char *name, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, CGTEST_ROOT "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static inline unsigned long long cgtest_id(const char *path)
{
	struct stat st;

	/* A cgroup v2 directory's inode number is its cgroup id. */
	return stat(path, &st) ? 0 : (unsigned long long)st.st_ino;
}

static inline int cgtest_enter(const char *path)
{
	char procs[512];
	int fd, n;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, "0", 1);
	close(fd);
	return n == 1 ? 0 : -errno;
}

/*
 * Run fn(arg) in a child, inside cgroup @path when it is not NULL. Returns what fn returned
 * (an errno value, 0 for success), or 255 when the child could not be set up. The child's pid
 * goes to @pidp when it is not NULL (to match the events it caused).
 */
static inline int cgtest_run_pid(const char *path, int (*fn)(void *), void *arg, pid_t *pidp)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 255;
	if (pid == 0) {
		if (path && cgtest_enter(path))
			_exit(255);
		_exit(fn(arg) & 0xff);
	}
	if (pidp)
		*pidp = pid;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

static inline int cgtest_run(const char *path, int (*fn)(void *), void *arg)
{
	return cgtest_run_pid(path, fn, arg, NULL);
}

#endif
