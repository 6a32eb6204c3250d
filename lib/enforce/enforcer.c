// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "enforcer.h"
#include "fsutil.h"
#include "bpf_files.h"
#include "bpf_net.h"
#include "kmod_backend.h"
#include "log.h"
#include "fnguard.skel.h"

struct enforcer {
	struct fnguard *skel;
	bool lsm;
	uint32_t next_policy_id;
	struct ring_buffer *rb;
	bpf_event_fn fn;
	void *ctx;
	struct bpf_link *lsm_links[32];
	int n_lsm_links;
	int file_rules_fd, exec_rules_fd;
	/* BPF_LSM_KMOD: the module takes the files, exec and family sections. */
	struct kmod_backend *kmod;
	int epfd; /* the ring buffer's epoll fd and the module's socket */
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct enforcer *b = ctx;

	if (len >= sizeof(struct fng_event) && b->fn)
		b->fn(data, b->ctx);
	return 0;
}

/* Module mode: connect (kmod_backend.h), and one epoll fd for both event sources. */
static int kmod_open(struct enforcer *b)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int err = kmod_backend_open(&b->kmod, b->fn, b->ctx);

	if (err)
		return err;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0)
		return -errno;
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(b->rb), &ev) ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, kmod_backend_events_fd(b->kmod), &ev))
		return -errno;
	return 0;
}

int enforcer_open(struct enforcer **out, int mode, bpf_event_fn fn, void *ctx)
{
	struct enforcer *b = calloc(1, sizeof(*b));
	struct bpf_program *prog;
	bool lsm = mode == BPF_LSM_PROGS;
	int err;

	if (!b)
		return -ENOMEM;
	b->epfd = -1;
	b->lsm = lsm;
	b->fn = fn;
	b->ctx = ctx;
	b->next_policy_id = 1;
	b->skel = fnguard__open();
	if (!b->skel) {
		err = -errno;
		log_warnx("failed to open BPF object: %d", err);
		goto fail;
	}
	bpf_object__for_each_program(prog, b->skel->obj)
	{
		if (bpf_program__type(prog) == BPF_PROG_TYPE_LSM && !lsm)
			bpf_program__set_autoload(prog, false);
	}
	err = fnguard__load(b->skel);
	if (err) {
		log_warnx("failed to load BPF object: %s", strerror(-err));
		goto fail;
	}
	/* LSM programs attach globally and act only on tasks of an environment. */
	bpf_object__for_each_program(prog, b->skel->obj)
	{
		struct bpf_link *link;

		if (bpf_program__type(prog) != BPF_PROG_TYPE_LSM || !lsm)
			continue;
		if (b->n_lsm_links == (int)(sizeof(b->lsm_links) / sizeof(b->lsm_links[0]))) {
			err = -E2BIG;
			log_warnx("too many LSM programs in the BPF object");
			goto fail;
		}
		link = bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			log_warnx("failed to attach %s: %s", bpf_program__name(prog),
				  strerror(-err));
			goto fail;
		}
		b->lsm_links[b->n_lsm_links++] = link;
	}
	/* Looked up by name: they belong to the file/exec concern of the object. */
	b->file_rules_fd = bpf_object__find_map_fd_by_name(b->skel->obj, "fng_file_rules");
	b->exec_rules_fd = bpf_object__find_map_fd_by_name(b->skel->obj, "fng_exec_rules");
	if (lsm && (b->file_rules_fd < 0 || b->exec_rules_fd < 0)) {
		err = -ENOENT;
		log_warnx("the BPF object has no file/exec rule maps");
		goto fail;
	}
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.fng_events), on_event, b, NULL);
	if (!b->rb) {
		err = -errno;
		log_warnx("failed to open the event ring buffer: %s", strerror(-err));
		goto fail;
	}
	if (mode == BPF_LSM_KMOD) {
		err = kmod_open(b);
		if (err) {
			log_warnx("cannot use the fnguard kernel module: %s", strerror(-err));
			goto fail;
		}
	}
	*out = b;
	return 0;
fail:
	enforcer_close(b);
	return err;
}

void enforcer_close(struct enforcer *b)
{
	if (!b)
		return;
	ring_buffer__free(b->rb);
	kmod_backend_close(b->kmod);
	if (b->epfd >= 0)
		close(b->epfd);
	for (int i = 0; i < b->n_lsm_links; i++)
		bpf_link__destroy(b->lsm_links[i]);
	fnguard__destroy(b->skel);
	free(b);
}

static void policy_conf_build(const struct fng_policy *p, unsigned sections,
			      struct fng_policy_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->valid = 1;
	bpf_files_conf(p, conf);
	bpf_net_conf(p, conf);
	/* Sections not enforced here are left open (the caller refused or was told to allow it). */
	if (!(sections & FNG_SEC_FILES)) {
		conf->file_mode = FNG_ABI_AUDIT;
		conf->file_default = FNG_ABI_ALLOW;
	}
	if (!(sections & FNG_SEC_EXEC)) {
		conf->exec_mode = FNG_ABI_AUDIT;
		conf->exec_default = FNG_ABI_ALLOW;
		conf->exec_children = FNG_ABI_ALLOW;
	}
	if (!(sections & FNG_SEC_FAMILIES))
		conf->families = ~0ULL;
	if (!(sections & FNG_SEC_EGRESS)) {
		conf->egress_default = FNG_ABI_ALLOW;
		conf->loopback = FNG_ABI_ALLOW;
		conf->bind = FNG_ABI_ALLOW;
		conf->raw_deny = 0;
	}
}

/*
 * Wait until no program that may have read an old policy id is still running. The programs run
 * inside RCU read-side sections (the BPF trampoline takes rcu_read_lock), and
 * MEMBARRIER_CMD_GLOBAL is implemented with synchronize_rcu(): after it, every decision in
 * flight has finished. Without this wait, a decision that read the old id could look up rules
 * already deleted and fall through to the default.
 */
static void bpf_wait_decisions(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	/* No membarrier: a grace period is far shorter than this, though not guaranteed. */
	log_debug("membarrier unavailable (%s): waiting 100 ms instead", strerror(errno));
	usleep(100 * 1000);
}

static void policy_tables_clear(struct enforcer *b, uint32_t policy_id)
{
	struct fng_policy_conf empty = {0};

	bpf_net_clear(bpf_map__fd(b->skel->maps.fng_net_rules), policy_id);
	if (b->lsm)
		bpf_files_clear(b->file_rules_fd, b->exec_rules_fd, policy_id);
	bpf_map_update_elem(bpf_map__fd(b->skel->maps.fng_policies), &policy_id, &empty, BPF_ANY);
}

/* A free policy id: ids are never reused while their entries may still be read. */
static uint32_t policy_id_alloc(struct enforcer *b)
{
	int fd = bpf_map__fd(b->skel->maps.fng_policies);

	for (uint32_t tries = 0; tries < FNG_MAX_POLICIES; tries++) {
		uint32_t id = b->next_policy_id;
		struct fng_policy_conf conf;

		b->next_policy_id = id + 1 >= FNG_MAX_POLICIES ? 1 : id + 1;
		if (bpf_map_lookup_elem(fd, &id, &conf) == 0 && !conf.valid)
			return id;
	}
	return 0;
}

static int env_attach(struct enforcer *b, struct enforce_env *env)
{
	struct bpf_program *progs[6] = {
		b->skel->progs.fng_connect4, b->skel->progs.fng_connect6,
		b->skel->progs.fng_sendmsg4, b->skel->progs.fng_sendmsg6,
		b->skel->progs.fng_bind4,    b->skel->progs.fng_bind6,
	};

	for (int i = 0; i < 6; i++) {
		if (env->links[i])
			continue;
		env->links[i] = bpf_program__attach_cgroup(progs[i], env->cgroup_fd);
		if (!env->links[i]) {
			int err = -errno;

			log_warnx("failed to attach %s to the environment's cgroup: %s",
				  bpf_program__name(progs[i]), strerror(-err));
			return err;
		}
	}
	return 0;
}

int enforcer_env_install(struct enforcer *b, struct enforce_env *env,
			    const struct fng_policy *p, unsigned sections)
{
	struct fng_policy_conf conf;
	struct fng_env val = {0}, cur;
	uint32_t id, old = env->policy_id;
	int err, envs_fd = bpf_map__fd(b->skel->maps.fng_envs);

	if ((sections & (FNG_SEC_FILES | FNG_SEC_EXEC | FNG_SEC_FAMILIES)) && !b->lsm && !b->kmod) {
		log_warnx("file, exec and family rules need the BPF LSM programs or the fnguard "
			  "module, neither in use here");
		return -EOPNOTSUPP;
	}
	id = policy_id_alloc(b);
	if (!id) {
		log_warnx("no free policy slot (%d in use)", FNG_MAX_POLICIES);
		return -ENOSPC;
	}
	/* 1. Every table of the new policy, under its own id: nothing reads it yet. */
	err = bpf_net_fill(bpf_map__fd(b->skel->maps.fng_net_rules), id, p);
	if (!err && b->lsm)
		err = bpf_files_fill(b->file_rules_fd, b->exec_rules_fd, id, p, env->root_fd,
				     NULL, NULL);
	if (err)
		goto undo;
	policy_conf_build(p, sections, &conf);
	/*
	 * The module's half first: once it is in force, the BPF half follows. Between the two a
	 * decision may see the new files/exec rules with the old egress rules (each half is
	 * switched atomically on its own).
	 */
	if (b->kmod) {
		err = kmod_backend_env_install(b->kmod, env->cgroup_id, &conf, p, env->root_fd);
		if (err)
			goto undo;
	}
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.fng_policies), &id, &conf, BPF_ANY)) {
		err = -errno;
		log_warn("cannot write the policy settings");
		goto undo;
	}
	/* 2. Switch the environment to it in one update (keeping its exec count). */
	if (old && bpf_map_lookup_elem(envs_fd, &env->cgroup_id, &cur) == 0)
		val = cur;
	val.policy_id = id;
	val.flags |= FNG_ENV_ACTIVE;
	if (bpf_map_update_elem(envs_fd, &env->cgroup_id, &val, BPF_ANY)) {
		err = -errno;
		log_warn("cannot register the environment");
		goto undo;
	}
	env->policy_id = id;
	env->policy = p;
	/* 3. Programs on the cgroup: only now, so they never see an environment without policy. */
	err = env_attach(b, env);
	if (err)
		return err;
	/* 4. The old policy's tables are unreachable once the decisions in flight are done. */
	if (old) {
		bpf_wait_decisions();
		policy_tables_clear(b, old);
	}
	return 0;
undo:
	policy_tables_clear(b, id);
	return err;
}

int enforcer_env_remove(struct enforcer *b, struct enforce_env *env)
{
	int err = 0;

	for (int i = 0; i < 6; i++) {
		bpf_link__destroy(env->links[i]);
		env->links[i] = NULL;
	}
	if (b->kmod && env->policy_id)
		err = kmod_backend_env_remove(b->kmod, env->cgroup_id);
	if (env->policy_id) {
		if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.fng_envs), &env->cgroup_id) &&
		    errno != ENOENT)
			err = -errno;
		bpf_wait_decisions();
		policy_tables_clear(b, env->policy_id);
		env->policy_id = 0;
	}
	return err;
}

int enforcer_events_fd(struct enforcer *b)
{
	return b->kmod ? b->epfd : ring_buffer__epoll_fd(b->rb);
}

int enforcer_events_read(struct enforcer *b, int timeout_ms)
{
	int n;

	if (b->kmod) {
		struct epoll_event ev;

		if (timeout_ms && epoll_wait(b->epfd, &ev, 1, timeout_ms) < 0 && errno != EINTR)
			return -errno;
		kmod_backend_events_read(b->kmod);
		timeout_ms = 0;
	}
	n = ring_buffer__poll(b->rb, timeout_ms);
	return n == -EINTR ? 0 : n;
}

uint64_t enforcer_counter(struct enforcer *b, unsigned which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0, *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.fng_counters), &which, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	if (b->kmod)
		sum += kmod_backend_counter(b->kmod, which);
	return sum;
}

int enforcer_pin(struct enforcer *b, const char *dir)
{
	char path[600];
	int err;

	err = fs_mkdir_p(dir, 0700);
	if (err) {
		log_warnx("cannot create %s: %s (is bpffs mounted?)", dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/maps", dir);
	err = bpf_object__pin_maps(b->skel->obj, path);
	if (err) {
		log_warnx("cannot pin the maps under %s: %s", path, strerror(-err));
		return err;
	}
	for (int i = 0; i < b->n_lsm_links; i++) {
		snprintf(path, sizeof(path), "%s/lsm-%d", dir, i);
		err = bpf_link__pin(b->lsm_links[i], path);
		if (err) {
			log_warnx("cannot pin LSM link %s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

int enforcer_env_pin(struct enforcer *b, const struct enforce_env *env, const char *dir)
{
	char path[600];
	int err;

	snprintf(path, sizeof(path), "%s/env-%llu", dir, (unsigned long long)env->cgroup_id);
	err = fs_mkdir_p(path, 0700);
	if (err)
		return err;
	for (int i = 0; i < 6; i++) {
		if (!env->links[i])
			continue;
		snprintf(path, sizeof(path), "%s/env-%llu/link-%d", dir,
			 (unsigned long long)env->cgroup_id, i);
		err = bpf_link__pin(env->links[i], path);
		if (err) {
			log_warnx("cannot pin %s: %s", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Remove a pinned tree (bpffs directories hold only pins and directories). */
int enforcer_unpin(const char *dir)
{
	struct dirent *de;
	char path[1024];
	int err = 0;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			unsigned long long id;
			char end;

			err = enforcer_unpin(path) ?: err;
			/* An environment's policy in the module is left behind the same way. */
			if (sscanf(de->d_name, "env-%llu%c", &id, &end) == 1)
				kmod_env_remove_oneshot(id);
		}
		else if (unlink(path))
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}

int enforcer_env_reset_execs(struct enforcer *b, const struct enforce_env *env)
{
	int fd = bpf_map__fd(b->skel->maps.fng_envs);
	struct fng_env v;

	if (b->kmod) {
		int err = kmod_backend_env_reset_execs(b->kmod, env->cgroup_id);

		if (err)
			return err;
	}
	if (bpf_map_lookup_elem(fd, &env->cgroup_id, &v))
		return -errno;
	v.execs = 0;
	/* The environment is between invocations: nothing of it executes while this runs,
	 * except processes an invocation left behind (isolate_invocations: false). */
	if (bpf_map_update_elem(fd, &env->cgroup_id, &v, BPF_EXIST))
		return -errno;
	return 0;
}
