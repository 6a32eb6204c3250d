// SPDX-License-Identifier: Apache-2.0
/* The kernel module's half of an enforcement object (kmod_backend.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

#include "kmod_backend.h"

struct kmod_backend {
	struct kmod_client *client;
	kmod_event_fn fn;
	void *ctx;
	uint64_t base[FNGUARD_CNT_MAX]; /* the module's counters when we connected */
	/* The environments installed through this object. */
	uint64_t *envs;
	size_t n_envs, cap_envs;
};

static ssize_t env_find(const struct kmod_backend *k, uint64_t cgroup_id)
{
	for (size_t i = 0; i < k->n_envs; i++)
		if (k->envs[i] == cgroup_id)
			return (ssize_t)i;
	return -1;
}

static int env_add(struct kmod_backend *k, uint64_t cgroup_id)
{
	if (env_find(k, cgroup_id) >= 0)
		return 0;
	if (k->n_envs == k->cap_envs) {
		size_t cap = k->cap_envs ? 2 * k->cap_envs : 16;
		uint64_t *v = realloc(k->envs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->envs = v;
		k->cap_envs = cap;
	}
	k->envs[k->n_envs++] = cgroup_id;
	return 0;
}

static void env_del(struct kmod_backend *k, uint64_t cgroup_id)
{
	ssize_t i = env_find(k, cgroup_id);

	if (i >= 0)
		k->envs[i] = k->envs[--k->n_envs];
}

static void on_event(const struct fng_event *e, void *ctx)
{
	struct kmod_backend *k = ctx;

	if (k->fn && env_find(k, e->cgroup_id) >= 0)
		k->fn(e, k->ctx);
}

int kmod_backend_open(struct kmod_backend **out, kmod_event_fn fn, void *ctx)
{
	struct kmod_backend *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	k->fn = fn;
	k->ctx = ctx;
	err = kmod_client_open(&k->client, on_event, k);
	if (!err)
		err = kmod_client_counters(k->client, k->base);
	if (err) {
		kmod_backend_close(k);
		return err;
	}
	*out = k;
	return 0;
}

void kmod_backend_close(struct kmod_backend *k)
{
	if (!k)
		return;
	kmod_client_close(k->client);
	free(k->envs);
	free(k);
}

int kmod_backend_env_install(struct kmod_backend *k, uint64_t cgroup_id,
			     const struct fng_policy_conf *conf, const struct fng_policy *p,
			     int root_fd)
{
	int err = env_add(k, cgroup_id);

	if (!err)
		err = kmod_client_env_install(k->client, cgroup_id, conf, p, root_fd);
	return err;
}

int kmod_backend_env_remove(struct kmod_backend *k, uint64_t cgroup_id)
{
	int err = kmod_client_env_remove(k->client, cgroup_id);

	/* Its last events may still be queued: read them while they are still ours. */
	kmod_client_events_read(k->client);
	env_del(k, cgroup_id);
	return err == -ENOENT ? 0 : err;
}

int kmod_backend_env_reset_execs(struct kmod_backend *k, uint64_t cgroup_id)
{
	return kmod_client_env_reset_execs(k->client, cgroup_id);
}

int kmod_backend_events_fd(struct kmod_backend *k)
{
	return kmod_client_events_fd(k->client);
}

int kmod_backend_events_read(struct kmod_backend *k)
{
	return kmod_client_events_read(k->client);
}

uint64_t kmod_backend_counter(struct kmod_backend *k, unsigned which)
{
	uint64_t now[FNGUARD_CNT_MAX];

	/* The module's counters are global: what changed since we connected. */
	if (which < FNGUARD_CNT_MAX && kmod_client_counters(k->client, now) == 0 &&
	    now[which] > k->base[which])
		return now[which] - k->base[which];
	return 0;
}
