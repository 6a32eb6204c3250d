// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: a BPF LSM program loads, and denies opening a marked file for a process in a test
 * cgroup (and its child cgroups) and not for a process outside it. Detaching the program lifts
 * the denial, which proves the program (and nothing else) denied.
 */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <linux/types.h>
#include <sys/sysmacros.h>

#include "fnguard_abi.h"
#include "probe_lsm.skel.h"
#include "tap.h"
#include "cgtest.h"

static int try_open(void *arg)
{
	int fd = open((const char *)arg, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

int main(void)
{
	const char *marked = "/tmp/fng-marked", *other = "/tmp/fng-other";
	char cg[256], sub[300];
	struct probe_lsm *skel;
	struct fng_inode_key key = {0};
	struct stat st;
	__u32 one = 1;
	int cgfd, err;

	close(open(marked, O_CREAT | O_WRONLY, 0644));
	close(open(other, O_CREAT | O_WRONLY, 0644));
	cgfd = cgtest_create("fng-test", cg, sizeof(cg));
	tap_check(cgfd >= 0, "test cgroup created (%d)", cgfd);
	snprintf(sub, sizeof(sub), "%s/child", cg);
	mkdir(sub, 0755);

	skel = probe_lsm__open();
	tap_check(skel != NULL, "probe_lsm opens");
	if (!skel)
		return tap_done();
	skel->rodata->target_cgid = cgtest_id(cg);
	err = probe_lsm__load(skel);
	tap_check(err == 0, "BPF LSM program loads (%d)", err);
	if (err)
		return tap_done();
	stat(marked, &st);
	key.ino = st.st_ino;
	/* The kernel keeps dev_t as MAJOR << 20 | MINOR. */
	key.dev = (__u32)(major(st.st_dev) << 20 | minor(st.st_dev));
	err = bpf_map_update_elem(bpf_map__fd(skel->maps.fng_probe_inodes), &key, &one, BPF_ANY);
	tap_check(err == 0, "marked inode recorded (%d)", err);
	err = probe_lsm__attach(skel);
	tap_check(err == 0, "BPF LSM program attaches (%d)", err);

	tap_check(cgtest_run(cg, try_open, (void *)marked) == EACCES,
		  "open of the marked file inside the cgroup fails with EACCES");
	tap_check(cgtest_run(sub, try_open, (void *)marked) == EACCES,
		  "open of the marked file in a child cgroup fails with EACCES");
	tap_check(cgtest_run(cg, try_open, (void *)other) == 0,
		  "open of an unmarked file inside the cgroup succeeds");
	tap_check(cgtest_run(NULL, try_open, (void *)marked) == 0,
		  "open of the marked file outside the cgroup succeeds");
	tap_check(skel->bss->denied >= 2, "program counted its denials (%llu)",
		  (unsigned long long)skel->bss->denied);

	probe_lsm__destroy(skel);
	tap_check(cgtest_run(cg, try_open, (void *)marked) == 0,
		  "after detaching, the same open inside the cgroup succeeds");
	rmdir(sub);
	rmdir(cg);
	return tap_done();
}
