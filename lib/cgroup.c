// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"

/* Field 9 of a /proc/self/mountinfo line (after " - ") is the filesystem type. */
static int mountinfo_find_cgroup2(char *buf, size_t len)
{
	char line[4096], *dash, mnt[512];
	int found = -ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
			continue;
		/* Prefer the conventional places, else the first mount seen. */
		if (found < 0 || !strcmp(mnt, "/sys/fs/cgroup") ||
		    !strcmp(mnt, "/sys/fs/cgroup/unified")) {
			snprintf(buf, len, "%s", mnt);
			found = 0;
			if (!strcmp(mnt, "/sys/fs/cgroup"))
				break;
		}
	}
	fclose(f);
	return found;
}

int cgroup_v2_root(char *buf, size_t len)
{
	static char cached[512];

	if (!cached[0]) {
		int err = mountinfo_find_cgroup2(cached, sizeof(cached));

		if (err) {
			cached[0] = 0;
			return err;
		}
	}
	snprintf(buf, len, "%s", cached);
	return 0;
}

int cgroup_env_create(const char *name, struct fng_cgroup *cg)
{
	char root[512], parent[600];
	struct stat st;
	int err;

	cg->fd = -1;
	err = cgroup_v2_root(root, sizeof(root));
	if (err) {
		log_warnx("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)");
		return err;
	}
	snprintf(parent, sizeof(parent), "%s/fnguard", root);
	if (mkdir(parent, 0755) && errno != EEXIST) {
		err = -errno;
		log_warn("cannot create cgroup %s", parent);
		return err;
	}
	if (snprintf(cg->path, sizeof(cg->path), "%s/%s", parent, name) >= (int)sizeof(cg->path))
		return -ENAMETOOLONG;
	if (mkdir(cg->path, 0755) && errno != EEXIST) {
		err = -errno;
		log_warn("cannot create cgroup %s", cg->path);
		return err;
	}
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0 || fstat(cg->fd, &st)) {
		err = -errno;
		log_warn("cannot open cgroup %s", cg->path);
		return err;
	}
	cg->id = st.st_ino;
	return 0;
}

int cgroup_enter(const struct fng_cgroup *cg)
{
	int fd = openat(cg->fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, "0", 1);
	close(fd);
	return n == 1 ? 0 : -errno;
}

static int cgroup_count_procs(const struct fng_cgroup *cg, int sig)
{
	int fd = openat(cg->fd, "cgroup.procs", O_RDONLY | O_CLOEXEC), n = 0;
	FILE *f;
	long pid;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fscanf(f, "%ld", &pid) == 1) {
		n++;
		if (sig)
			kill((pid_t)pid, sig);
	}
	fclose(f);
	return n;
}

int cgroup_kill_all(const struct fng_cgroup *cg)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int fd, n = 0;

	/* cgroup.kill (Linux 5.14) kills the whole subtree atomically, racing no fork. */
	fd = openat(cg->fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			log_warn("cannot write %s/cgroup.kill", cg->path);
		close(fd);
	}
	for (int i = 0; i < 300; i++) {
		n = cgroup_count_procs(cg, fd < 0 ? SIGKILL : 0);
		if (n <= 0)
			return n;
		nanosleep(&ts, NULL);
	}
	return n;
}

int cgroup_env_destroy(struct fng_cgroup *cg)
{
	int err = 0;

	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->path[0] && rmdir(cg->path) && errno != ENOENT) {
		err = -errno;
		log_warn("cannot remove cgroup %s", cg->path);
	}
	return err;
}

static int write_file_at(int dirfd, const char *name, const char *val)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -errno;
}

/* Enable @ctrl ("pids") in the subtree_control of every cgroup from the root to @cg's parent:
 * each level must delegate the controller to the next. */
static int cgroup_enable_controller(const struct fng_cgroup *cg, const char *ctrl)
{
	char root[512], path[512], file[600], plus[32], *q;
	int err;

	err = cgroup_v2_root(root, sizeof(root));
	if (err)
		return err;
	snprintf(plus, sizeof(plus), "+%s", ctrl);
	snprintf(path, sizeof(path), "%s", cg->path);
	q = strrchr(path, '/');
	if (!q || strlen(path) < strlen(root))
		return -EINVAL;
	*q = 0;
	for (q = path + strlen(root);;) {
		char save = *q;

		*q = 0;
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control", path);
		*q = save;
		err = write_file_at(AT_FDCWD, file, plus);
		if (err || !save)
			return err;
		q = strchr(q + 1, '/');
		if (!q)
			q = path + strlen(path);
	}
}

int cgroup_env_limits(const struct fng_cgroup *cg, uint32_t pids, uint64_t memory_bytes,
		      char *why, size_t whylen)
{
	char val[32];
	int err;

	if (pids) {
		err = cgroup_enable_controller(cg, "pids");
		if (!err) {
			snprintf(val, sizeof(val), "%u", pids);
			err = write_file_at(cg->fd, "pids.max", val);
		}
		if (err) {
			snprintf(why, whylen, "limits.pids: the pids controller is not available on "
					      "cgroup v2 here (%s)", strerror(-err));
			return err;
		}
	}
	if (memory_bytes) {
		err = cgroup_enable_controller(cg, "memory");
		if (!err) {
			snprintf(val, sizeof(val), "%llu", (unsigned long long)memory_bytes);
			err = write_file_at(cg->fd, "memory.max", val);
		}
		if (err) {
			snprintf(why, whylen, "limits.memory: the memory controller is not available "
					      "on cgroup v2 here (%s)", strerror(-err));
			return err;
		}
	}
	return 0;
}
