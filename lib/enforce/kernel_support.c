// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <seccomp.h>

#include "kernel_support.h"
#include "cgroup.h"
#include "log.h"
#include "fnguard_abi.h"
#include "kmod_client.h"
#include "probe_lsm.skel.h"
#include "probe_connect.skel.h"

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static void read_lsm_list(struct backend_status *st)
{
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	size_t n;

	st->lsm_list[0] = 0;
	if (!f)
		return;
	n = fread(st->lsm_list, 1, sizeof(st->lsm_list) - 1, f);
	st->lsm_list[n] = 0;
	st->lsm_list[strcspn(st->lsm_list, "\n")] = 0;
	fclose(f);
}

static bool lsm_list_has(const char *list, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = list; *p;) {
		if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == 0))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

/*
 * BPF LSM: 'bpf' must be an active LSM (a kernel loads and attaches LSM programs even when it
 * never calls them), and a program must load, attach and really deny: the probe marks a scratch
 * file and opens it.
 */
static void probe_bpf_lsm(struct backend_status *st)
{
	struct backend_support *s = &st->bpf_lsm;
	char tmpl[] = "/tmp/fnguard-probe-XXXXXX";
	struct fng_inode_key key = {0};
	struct probe_lsm *skel = NULL;
	struct stat sb;
	__u32 one = 1;
	int fd, err;

	/* An unreadable list (securityfs not mounted) proves nothing: the probe below decides. */
	if (st->lsm_list[0] && !lsm_list_has(st->lsm_list, "bpf")) {
		snprintf(s->why, sizeof(s->why),
			 "'bpf' is not in /sys/kernel/security/lsm (active: %s); boot with lsm=...,bpf",
			 st->lsm_list);
		return;
	}
	skel = probe_lsm__open();
	if (!skel) {
		snprintf(s->why, sizeof(s->why), "cannot open the BPF LSM probe: %s", strerror(errno));
		return;
	}
	skel->rodata->target_cgid = 1; /* the v2 root: every task, but only the scratch file */
	err = probe_lsm__load(skel);
	if (err) {
		snprintf(s->why, sizeof(s->why), "loading a BPF LSM program failed: %s",
			 strerror(-err));
		goto out;
	}
	fd = mkstemp(tmpl);
	if (fd < 0 || fstat(fd, &sb)) {
		snprintf(s->why, sizeof(s->why), "cannot create a probe file: %s", strerror(errno));
		goto out;
	}
	close(fd);
	key.ino = sb.st_ino;
	key.dev = major(sb.st_dev) << 20 | minor(sb.st_dev);
	bpf_map_update_elem(bpf_map__fd(skel->maps.fng_probe_inodes), &key, &one, BPF_ANY);
	err = probe_lsm__attach(skel);
	if (err) {
		snprintf(s->why, sizeof(s->why), "attaching a BPF LSM program failed: %s",
			 strerror(-err));
	} else {
		fd = open(tmpl, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			snprintf(s->why, sizeof(s->why),
				 "a BPF LSM program loaded and attached but did not deny");
		} else if (errno != EACCES) {
			snprintf(s->why, sizeof(s->why), "the BPF LSM probe open failed with %s",
				 strerror(errno));
		} else {
			s->ok = true;
			snprintf(s->info, sizeof(s->info), "a probe program loaded and denied");
		}
	}
	probe_lsm__destroy(skel);
	skel = NULL;
	unlink(tmpl);
out:
	probe_lsm__destroy(skel);
	if (!s->ok && !st->lsm_list[0]) {
		size_t len = strlen(s->why);

		snprintf(s->why + len, sizeof(s->why) - len,
			 " (the active LSM list is unreadable: securityfs is not mounted at "
			 "/sys/kernel/security)");
	}
}

static void probe_cgroup_net(struct backend_status *st)
{
	struct backend_support *s = &st->cgroup_net;
	struct probe_connect *skel;
	int err;

	if (cgroup_v2_root(st->cgroup2, sizeof(st->cgroup2))) {
		st->cgroup2[0] = 0;
		snprintf(s->why, sizeof(s->why), "no cgroup v2 hierarchy is mounted");
		return;
	}
	skel = probe_connect__open();
	if (!skel) {
		snprintf(s->why, sizeof(s->why), "cannot open the cgroup probe: %s", strerror(errno));
		return;
	}
	err = probe_connect__load(skel);
	if (err)
		snprintf(s->why, sizeof(s->why), "loading a cgroup connect4 program failed: %s",
			 strerror(-err));
	else {
		s->ok = true;
		snprintf(s->info, sizeof(s->info), "cgroup sock_addr programs load (cgroup v2 at %s)",
			 st->cgroup2);
	}
	probe_connect__destroy(skel);
}

/*
 * The module answers on its generic netlink family. Looking the family up makes the kernel
 * load the module when it is installed; that is done only when it would be used (no BPF LSM,
 * or asked for by name): on a kernel with BPF LSM a mere status check must not load it.
 */
static void probe_kmod(struct backend_status *st, bool load)
{
	struct backend_support *s = &st->kmod;

	if (!load && access("/sys/module/fnguard", F_OK)) {
		s->ok = false;
		snprintf(s->why, sizeof(s->why),
			 "the fnguard kernel module is not loaded (not needed while BPF LSM is "
			 "active; --backend kmod loads it when it is installed)");
		return;
	}
	s->ok = kmod_probe(s->why, sizeof(s->why), s->info, sizeof(s->info));
}

static void probe_seccomp(struct backend_status *st)
{
	struct backend_support *s = &st->seccomp;
	unsigned int api = seccomp_api_get();

	/* API level 5: SCMP_ACT_NOTIFY, which lets the supervisor report every denied call. */
	if (api < 5) {
		snprintf(s->why, sizeof(s->why),
			 "seccomp user notification unsupported (libseccomp API level %u < 5)", api);
		return;
	}
	s->ok = true;
	snprintf(s->info, sizeof(s->info), "seccomp filters with user notification (API level %u)",
		 api);
}

static struct backend_status *status_cached(void);

const struct backend_status *backend_status_kmod_load(void)
{
	struct backend_status *st = status_cached();

	if (!st->kmod.ok)
		probe_kmod(st, true);
	return st;
}

const struct backend_status *backend_status_get(void)
{
	return status_cached();
}

static struct backend_status *status_cached(void)
{
	static struct backend_status st;
	static bool done;
	libbpf_print_fn_t old;

	if (done)
		return &st;
	old = libbpf_set_print(silent_print);
	read_lsm_list(&st);
	probe_bpf_lsm(&st);
	probe_cgroup_net(&st);
	probe_kmod(&st, !st.bpf_lsm.ok);
	probe_seccomp(&st);
	libbpf_set_print(old);
	done = true;
	return &st;
}
