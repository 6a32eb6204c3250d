/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The uids and gids of environments: every environment (its VMM, or its handlers) runs as a
 * uid and gid of its own, from a range the daemon owns (Firecracker's jailer takes one per
 * microVM), so that one tenant's processes can never ptrace, signal, read /proc/PID/mem of,
 * or take fds from another's. The range must belong to nobody else: it is checked against the
 * user and group databases and the subordinate id files at start, and ids that running
 * processes already use are never handed out. A released id is handed out again only after
 * every other free id has been (next-fit), and only released once the environment's cgroup
 * is gone, so nothing of an old environment lives when its uid is reused.
 */
#ifndef FNGUARD_UIDRANGE_H
#define FNGUARD_UIDRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UID_RANGE_FIRST_DEFAULT 2000000000u
#define UID_RANGE_COUNT_DEFAULT 65536u
#define UID_RANGE_COUNT_MAX (1u << 20)

struct uid_range {
	uint32_t first; /* the range is [first, first + count) */
	uint32_t count; /* the last id is not handed out: it is the VMMs' real gid */
	uint8_t *used;	/* one bit per id */
	uint32_t next;	/* next-fit: where the next search starts */
	uint32_t n_used;
};

/* Parses "FIRST:COUNT" into @r (no allocation): 0, or -EINVAL with @why. */
int uid_range_parse(struct uid_range *r, const char *s, char *why, size_t whylen);

/*
 * Allocates the bitmap and checks that the range belongs to nobody: no user or group in the
 * databases (getpwent/getgrent: files, and whatever NSS serves) and no range in
 * @subuid/@subgid (NULL: /etc/subuid, /etc/subgid) overlaps it. -EEXIST with @why naming the
 * first one that does.
 */
int uid_range_init(struct uid_range *r, const char *subuid, const char *subgid, char *why,
		   size_t whylen);
/* Marks the ids that processes under @proc (NULL: /proc) run as: the number marked. */
int uid_range_mark_running(struct uid_range *r, const char *proc);
void uid_range_free(struct uid_range *r);

/* An id of its own for one environment (the same number as uid and gid): 0, or -ENOSPC. */
int uid_range_alloc(struct uid_range *r, uint32_t *id);
/* Gives @id back: call only once nothing runs as it any more. */
void uid_range_release(struct uid_range *r, uint32_t id);
bool uid_range_contains(const struct uid_range *r, uint32_t id);

/*
 * The real gid of every VMM (the range's last id, never an environment's). A process whose
 * real and effective gids differ is made non-dumpable by execve(): its /proc/PID files belong
 * to root and no process of the same uid may ptrace it, read its memory or take its fds.
 */
uint32_t uid_range_vmm_rgid(const struct uid_range *r);

#endif
