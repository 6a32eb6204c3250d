// SPDX-License-Identifier: Apache-2.0
/* The environments' uids and gids (uidrange.h). */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uidrange.h"

int uid_range_parse(struct uid_range *r, const char *s, char *why, size_t whylen)
{
	unsigned long long first, count;
	char tail;

	if (sscanf(s, "%llu:%llu%c", &first, &count, &tail) != 2) {
		snprintf(why, whylen, "want FIRST:COUNT (e.g. %u:%u), not '%s'",
			 UID_RANGE_FIRST_DEFAULT, UID_RANGE_COUNT_DEFAULT, s);
		return -EINVAL;
	}
	/* Below 65536 live the system's and people's ids; 2^32-1 is (uid_t)-1. */
	if (first < 65536 || count < 2 || count > UID_RANGE_COUNT_MAX ||
	    first + count > 0xffffffffull) {
		snprintf(why, whylen,
			 "'%s': FIRST must be at least 65536, COUNT from 2 to %u, and the range "
			 "must end below 4294967295",
			 s, UID_RANGE_COUNT_MAX);
		return -EINVAL;
	}
	r->first = (uint32_t)first;
	r->count = (uint32_t)count;
	return 0;
}

bool uid_range_contains(const struct uid_range *r, uint32_t id)
{
	return id >= r->first && id - r->first < r->count;
}

static void mark(struct uid_range *r, uint32_t i)
{
	if (!(r->used[i / 8] & (1u << (i % 8)))) {
		r->used[i / 8] |= (uint8_t)(1u << (i % 8));
		r->n_used++;
	}
}

/* "name:first:count" lines of /etc/subuid or /etc/subgid that overlap the range. */
static int subid_check(const struct uid_range *r, const char *path, char *why, size_t whylen)
{
	char line[512], name[256];
	unsigned long long first, count;
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return 0; /* no such file: nobody has subordinate ids */
	while (!err && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255[^:]:%llu:%llu", name, &first, &count) != 3)
			continue;
		if (first < (unsigned long long)r->first + r->count && first + count > r->first) {
			snprintf(why, whylen,
				 "%s gives %s the ids %llu-%llu, which overlap uid_range %" PRIu32
				 ":%" PRIu32 ": choose another range",
				 path, name, first, first + count - 1, r->first, r->count);
			err = -EEXIST;
		}
	}
	fclose(f);
	return err;
}

int uid_range_init(struct uid_range *r, const char *subuid, const char *subgid, char *why,
		   size_t whylen)
{
	struct passwd *pw;
	struct group *gr;
	int err = 0;

	r->used = calloc(r->count / 8 + 1, 1);
	if (!r->used)
		return -ENOMEM;
	r->next = 0;
	r->n_used = 0;
	setpwent();
	while (!err && (pw = getpwent())) {
		if (uid_range_contains(r, pw->pw_uid) || uid_range_contains(r, pw->pw_gid)) {
			snprintf(why, whylen,
				 "user '%s' (uid %u, gid %u) is in uid_range %" PRIu32 ":%" PRIu32
				 ": choose a range nobody uses",
				 pw->pw_name, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, r->first,
				 r->count);
			err = -EEXIST;
		}
	}
	endpwent();
	setgrent();
	while (!err && (gr = getgrent())) {
		if (uid_range_contains(r, gr->gr_gid)) {
			snprintf(why, whylen,
				 "group '%s' (gid %u) is in uid_range %" PRIu32 ":%" PRIu32
				 ": choose a range nobody uses",
				 gr->gr_name, (unsigned)gr->gr_gid, r->first, r->count);
			err = -EEXIST;
		}
	}
	endgrent();
	if (!err)
		err = subid_check(r, subuid ? subuid : "/etc/subuid", why, whylen);
	if (!err)
		err = subid_check(r, subgid ? subgid : "/etc/subgid", why, whylen);
	if (err) {
		free(r->used);
		r->used = NULL;
	}
	return err;
}

int uid_range_mark_running(struct uid_range *r, const char *proc)
{
	char path[300], line[256];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(proc ? proc : "/proc");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", proc ? proc : "/proc", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v[4];

			/* Real, effective, saved and file-system ids, for users and groups. */
			if ((strncmp(line, "Uid:", 4) && strncmp(line, "Gid:", 4)) ||
			    sscanf(line + 4, "%llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]) != 4)
				continue;
			for (int i = 0; i < 4; i++) {
				if (v[i] <= 0xffffffffull && uid_range_contains(r, (uint32_t)v[i]) &&
				    v[i] - r->first < r->count - 1u) {
					mark(r, (uint32_t)(v[i] - r->first));
					n++;
				}
			}
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

void uid_range_free(struct uid_range *r)
{
	free(r->used);
	r->used = NULL;
}

int uid_range_alloc(struct uid_range *r, uint32_t *id)
{
	uint32_t usable = r->count - 1; /* the last id is the VMMs' real gid */

	if (!r->used || r->n_used >= usable)
		return -ENOSPC;
	for (uint32_t k = 0; k < usable; k++) {
		uint32_t i = (r->next + k) % usable;

		if (r->used[i / 8] & (1u << (i % 8)))
			continue;
		mark(r, i);
		r->next = (i + 1) % usable;
		*id = r->first + i;
		return 0;
	}
	return -ENOSPC;
}

void uid_range_release(struct uid_range *r, uint32_t id)
{
	uint32_t i = id - r->first;

	if (!r->used || !uid_range_contains(r, id) || i >= r->count - 1u)
		return;
	if (r->used[i / 8] & (1u << (i % 8))) {
		r->used[i / 8] &= (uint8_t)~(1u << (i % 8));
		r->n_used--;
	}
}

uint32_t uid_range_vmm_rgid(const struct uid_range *r)
{
	return r->first + r->count - 1;
}
