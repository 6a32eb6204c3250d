/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2 for environments. Works on v2-only hosts (/sys/fs/cgroup is cgroup2) and on hybrid
 * hosts (v1 controllers, the v2 hierarchy mounted elsewhere, e.g. /sys/fs/cgroup/unified).
 */
#ifndef FNGUARD_CGROUP_H
#define FNGUARD_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#define CGROUP_V1_SLOTS 3

struct fng_cgroup {
	char path[512];	/* absolute path of the cgroup directory */
	int fd;		/* O_RDONLY|O_DIRECTORY on it */
	uint64_t id;	/* cgroup v2 id (the directory's inode number) */
	/* Hybrid hosts: cgroups of the same name on the v1 pids and memory hierarchies, made by
	 * cgroup_env_limits when those controllers are not on v2 ("" when unused). */
	char v1[CGROUP_V1_SLOTS][512]; /* pids, memory, cpu */
};

/* Where the cgroup v2 hierarchy is mounted. 0, or -ENOENT when it is not mounted. */
int cgroup_v2_root(char *buf, size_t len);
/* Create (or reuse an empty) cgroup NAME below ROOT/fnguard. */
int cgroup_env_create(const char *name, struct fng_cgroup *cg);
/* Move the calling process into the cgroup (for a child before it executes the command). */
int cgroup_enter(const struct fng_cgroup *cg);
/* Kill every process in the cgroup and wait until it is empty (bounded). Returns how many
 * processes were still there, or -errno. */
int cgroup_kill_all(const struct fng_cgroup *cg);
/* Remove the cgroup directory and close its fd. */
int cgroup_env_destroy(struct fng_cgroup *cg);

/*
 * Apply limits.pids and limits.memory (0: leave unlimited) to the environment's cgroup, enabling
 * the pids and memory controllers on the way down from the v2 root; where a controller is
 * bound to a v1 hierarchy instead (hybrid hosts), a cgroup of the same name is made there and
 * cgroup_enter() joins it too. Returns 0, or -errno with @why naming what could not be applied.
 * Call it before any process enters the cgroup.
 */
int cgroup_env_limits(struct fng_cgroup *cg, uint32_t pids, uint64_t memory_bytes,
		      char *why, size_t whylen);

/* limits.cpus: cpu.max on v2 (or cpu.cfs_quota_us on v1). 0 leaves it unlimited. */
int cgroup_env_cpu(struct fng_cgroup *cg, uint32_t cpus, char *why, size_t whylen);
/* Memory high-water mark in bytes (v2 memory.peak, v1 max_usage_in_bytes), 0 if unknown. */
uint64_t cgroup_env_memory_peak(const struct fng_cgroup *cg);
/* Start a new high-water mark where the kernel allows it (v1). */
void cgroup_env_memory_peak_reset(const struct fng_cgroup *cg);
/* Processes the OOM killer killed in the cgroup so far. */
uint64_t cgroup_env_oom_kills(const struct fng_cgroup *cg);

#endif
