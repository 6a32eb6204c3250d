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

static int procs_join(int dirfd, const char *dir)
{
	char path[600];
	int fd;
	ssize_t n;

	if (dir) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	n = write(fd, "0", 1);
	close(fd);
	return n == 1 ? 0 : -errno;
}

int cgroup_enter(const struct fng_cgroup *cg)
{
	/* The v1 limits first: once in the v2 cgroup the process is confined by the policy. */
	for (int i = 0; i < CGROUP_V1_SLOTS; i++) {
		if (cg->v1[i][0]) {
			int err = procs_join(-1, cg->v1[i]);

			if (err)
				return err;
		}
	}
	return procs_join(cg->fd, NULL);
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

/* A cgroup whose last task has just died can stay busy for a moment (a v1 hierarchy lags
 * behind the unified one): rmdir() is tried again for up to half a second. 0 or -errno. */
static int cgroup_rmdir(const char *path)
{
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 50; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	return -errno;
}

int cgroup_env_destroy(struct fng_cgroup *cg)
{
	int err = 0;

	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
	if (cg->path[0] && (err = cgroup_rmdir(cg->path)))
		log_warn("cannot remove cgroup %s", cg->path);
	for (int i = 0; i < CGROUP_V1_SLOTS; i++) {
		int r = cg->v1[i][0] ? cgroup_rmdir(cg->v1[i]) : 0;

		if (r) {
			err = r;
			log_warn("cannot remove cgroup %s", cg->v1[i]);
		}
		cg->v1[i][0] = 0;
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

/* The mount point of the v1 hierarchy @ctrl is bound to ("pids", "memory"), or -ENOENT. */
static int cgroup_v1_mount(const char *ctrl, char *buf, size_t len)
{
	char line[4096], *dash, mnt[512], opts[1024], *tok, *save;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (found && fgets(line, sizeof(line), f)) {
		dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup ", 7) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(dash + 3, "%*s %*s %1023s", opts) != 1)
			continue;
		for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (!strcmp(tok, ctrl)) {
				snprintf(buf, len, "%s", mnt);
				found = 0;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

/* One limit: on v2 if the controller is there, else on its v1 hierarchy. */
static int cgroup_limit(struct fng_cgroup *cg, int slot, const char *ctrl, const char *file,
			const char *val, char *why, size_t whylen)
{
	char mnt[512], dir[600], path[700];
	const char *name;
	int err, err1;

	err = cgroup_enable_controller(cg, ctrl);
	if (!err) {
		err = write_file_at(cg->fd, file, val);
		if (!err)
			return 0;
	}
	err1 = cgroup_v1_mount(ctrl, mnt, sizeof(mnt));
	if (err1) {
		snprintf(why, whylen, "%s: the %s controller is available neither on cgroup v2 (%s) "
				      "nor on a v1 hierarchy", file, ctrl, strerror(-err));
		return err;
	}
	name = strrchr(cg->path, '/');
	snprintf(dir, sizeof(dir), "%s/fnguard", mnt);
	if (mkdir(dir, 0755) && errno != EEXIST)
		goto fail;
	if (snprintf(cg->v1[slot], sizeof(cg->v1[slot]), "%.400s%.100s", dir, name) >=
	    (int)sizeof(cg->v1[slot])) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (mkdir(cg->v1[slot], 0755) && errno != EEXIST) {
		cg->v1[slot][0] = 0;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", cg->v1[slot], file);
	err = write_file_at(AT_FDCWD, path, val);
	if (!err)
		return 0;
	errno = -err;
fail:
	err = -errno;
	snprintf(why, whylen, "%s: cannot set it on the v1 %s hierarchy at %s (%s)", file, ctrl, mnt,
		 strerror(errno));
	return err;
}

int cgroup_env_limits(struct fng_cgroup *cg, uint32_t pids, uint64_t memory_bytes, char *why,
		      size_t whylen)
{
	char val[32];
	int err;

	if (pids) {
		snprintf(val, sizeof(val), "%u", pids);
		err = cgroup_limit(cg, 0, "pids", "pids.max", val, why, whylen);
		if (err)
			return err;
	}
	if (memory_bytes) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)memory_bytes);
		/* v2 memory.max; its v1 counterpart is memory.limit_in_bytes. */
		err = cgroup_enable_controller(cg, "memory");
		if (!err)
			err = write_file_at(cg->fd, "memory.max", val);
		if (err)
			err = cgroup_limit(cg, 1, "memory", "memory.limit_in_bytes", val, why,
					   whylen);
		if (err)
			return err;
	}
	return 0;
}

int cgroup_env_cpu(struct fng_cgroup *cg, uint32_t cpus, char *why, size_t whylen)
{
	char val[64];
	int err;

	if (!cpus)
		return 0;
	/* cpus CPUs' worth of time in every 100 ms period. */
	snprintf(val, sizeof(val), "%llu 100000", (unsigned long long)cpus * 100000);
	err = cgroup_enable_controller(cg, "cpu");
	if (!err)
		err = write_file_at(cg->fd, "cpu.max", val);
	if (!err)
		return 0;
	snprintf(val, sizeof(val), "%llu", (unsigned long long)cpus * 100000);
	return cgroup_limit(cg, 2, "cpu", "cpu.cfs_quota_us", val, why, whylen);
}

/* The first number after "@key " in the file @name of @dirfd/@dir, or 0. */
static uint64_t read_key(int dirfd, const char *dir, const char *name, const char *key)
{
	char path[700], line[256];
	uint64_t v = 0;
	size_t klen = key ? strlen(key) : 0;
	FILE *f;
	int fd;

	if (dir) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	} else {
		fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtoull(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

uint64_t cgroup_env_memory_peak(const struct fng_cgroup *cg)
{
	if (cg->v1[1][0])
		return read_key(-1, cg->v1[1], "memory.max_usage_in_bytes", NULL);
	return read_key(cg->fd, NULL, "memory.peak", NULL);
}

void cgroup_env_memory_peak_reset(const struct fng_cgroup *cg)
{
	char path[700];

	/* v1 resets on write; v2's memory.peak only since Linux 6.12 (per open file), so on
	 * older kernels the peak is the environment's, not the invocation's. */
	if (cg->v1[1][0]) {
		snprintf(path, sizeof(path), "%s/memory.max_usage_in_bytes", cg->v1[1]);
		write_file_at(AT_FDCWD, path, "0");
	}
}

uint64_t cgroup_env_oom_kills(const struct fng_cgroup *cg)
{
	if (cg->v1[1][0])
		return read_key(-1, cg->v1[1], "memory.oom_control", "oom_kill");
	return read_key(cg->fd, NULL, "memory.events", "oom_kill");
}
