// SPDX-License-Identifier: GPL-2.0
/*
 * Environments and their policies.
 *
 * fng_envs maps an environment's cgroup id to a struct fng_kenv, which points (RCU) at its
 * policy: the settings and two rule tables keyed by inode (dev, ino). ENV_INSTALL builds a whole
 * new policy aside, then switches the environment to it with one rcu_assign_pointer, so a
 * decision sees all of the old policy or all of the new one, never a mix and never none. The
 * old policy is freed after a grace period. The exec count lives in the environment, not the
 * policy: a replace keeps it.
 *
 * Writers are serialised by fng_table_lock (generic netlink handlers, process context);
 * readers are the probe handlers, under rcu_read_lock(), never sleeping.
 *
 * The module holds a reference on itself while any environment has a policy, so it cannot be
 * unloaded from under a confined task (rmmod fails until every policy is removed).
 *
 * An environment is a cgroup that exists: ENV_INSTALL refuses an id with no cgroup (ENOENT),
 * and every FNG_REAP_PERIOD the environments whose cgroup has been removed are dropped (no
 * task can be in them any more, and cgroup ids are never reused). So a policy whose installer
 * died without ENV_REMOVE lasts exactly as long as its cgroup.
 */
#include <linux/module.h>
#include <linux/hashtable.h>
#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/cgroup.h>
#include <linux/workqueue.h>

#include "fng.h"

#define FNG_ENV_HASH_BITS 10

static DEFINE_HASHTABLE(fng_envs, FNG_ENV_HASH_BITS);
static DEFINE_MUTEX(fng_table_lock);
atomic_t fng_n_envs = ATOMIC_INIT(0);
static u32 fng_next_policy_id = 1;

#define FNG_REAP_PERIOD (5 * HZ)
static void fng_reap_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(fng_reap_work, fng_reap_fn);

/* Does the cgroup (v2) with this id exist? */
static bool fng_cgroup_exists(u64 cgid)
{
	struct cgroup *cg = cgroup_get_from_id(cgid);

	if (IS_ERR_OR_NULL(cg))
		return false;
	cgroup_put(cg);
	return true;
}

struct fng_kenv *fng_env_lookup(u64 cgid)
{
	struct fng_kenv *env;

	hash_for_each_possible_rcu(fng_envs, env, node, cgid)
		if (READ_ONCE(env->cgid) == cgid)
			return env;
	return NULL;
}

static inline u32 fng_rule_hash(u32 dev, u64 ino, u32 mask)
{
	return hash_64(ino ^ ((u64)dev << 32) ^ dev, 32) & mask;
}

const struct fng_rule_ent *fng_rtab_lookup(const struct fng_rtab *t, u32 dev, u64 ino)
{
	u32 i;

	if (!t->n)
		return NULL;
	for (i = t->heads[fng_rule_hash(dev, ino, t->mask)]; i; i = t->ents[i - 1].next) {
		const struct fng_rule_ent *e = &t->ents[i - 1];

		if (e->ino == ino && e->dev == dev)
			return e;
	}
	return NULL;
}

static void fng_rtab_free(struct fng_rtab *t)
{
	kvfree(t->heads);
	kvfree(t->ents);
}

/* A later rule on the same inode replaces an earlier one (as a BPF map update would). */
static int fng_rtab_build(struct fng_rtab *t, const struct fnguard_rule *r, u32 n)
{
	u32 i, nb;

	memset(t, 0, sizeof(*t));
	if (!n)
		return 0;
	nb = roundup_pow_of_two(n);
	t->mask = nb - 1;
	t->heads = kvcalloc(nb, sizeof(*t->heads), GFP_KERNEL);
	t->ents = kvcalloc(n, sizeof(*t->ents), GFP_KERNEL);
	if (!t->heads || !t->ents) {
		fng_rtab_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct fng_rule_ent *e = (struct fng_rule_ent *)fng_rtab_lookup(t, r[i].dev, r[i].ino);
		u32 h;

		if (e) {
			e->rights = r[i].rights;
			e->index = r[i].index;
			continue;
		}
		e = &t->ents[t->n];
		e->ino = r[i].ino;
		e->dev = r[i].dev;
		e->rights = r[i].rights;
		e->index = r[i].index;
		h = fng_rule_hash(e->dev, e->ino, t->mask);
		e->next = t->heads[h];
		t->heads[h] = ++t->n;
		cond_resched();
	}
	return 0;
}

static void fng_policy_free(struct fng_policy *p)
{
	if (!p)
		return;
	fng_rtab_free(&p->files);
	fng_rtab_free(&p->execs);
	kfree(p);
}

static void fng_policy_free_rcu(struct rcu_head *h)
{
	fng_policy_free(container_of(h, struct fng_policy, rcu));
}

static void fng_env_free_rcu(struct rcu_head *h)
{
	struct fng_kenv *env = container_of(h, struct fng_kenv, rcu);

	/* No reader can reach env (and so its policy) any more. */
	fng_policy_free(rcu_dereference_protected(env->policy, 1));
	kfree(env);
}

static struct fng_kenv *fng_env_find_locked(u64 cgid)
{
	struct fng_kenv *e;

	hash_for_each_possible(fng_envs, e, node, cgid)
		if (e->cgid == cgid)
			return e;
	return NULL;
}

int fng_env_install(u64 cgid, const struct fng_policy_conf *conf, const struct fnguard_rule *files,
		    u32 n_files, const struct fnguard_rule *execs, u32 n_execs)
{
	struct fng_policy *p, *old;
	struct fng_kenv *env;
	int err;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->conf = *conf;
	err = fng_rtab_build(&p->files, files, n_files);
	if (!err)
		err = fng_rtab_build(&p->execs, execs, n_execs);
	if (err) {
		fng_policy_free(p);
		return err;
	}

	if (!fng_cgroup_exists(cgid)) {
		fng_policy_free(p);
		return -ENOENT;
	}
	mutex_lock(&fng_table_lock);
	p->id = fng_next_policy_id++;
	if (!fng_next_policy_id)
		fng_next_policy_id = 1;
	env = fng_env_find_locked(cgid);
	if (!env) {
		if (atomic_read(&fng_n_envs) >= FNG_MAX_ENVS) {
			err = -ENOSPC;
			goto unlock;
		}
		/* The first policy pins the module (fails only while it is being unloaded). */
		if (atomic_read(&fng_n_envs) == 0 && !try_module_get(THIS_MODULE)) {
			err = -ENODEV;
			goto unlock;
		}
		env = kzalloc(sizeof(*env), GFP_KERNEL);
		if (!env) {
			if (atomic_read(&fng_n_envs) == 0)
				module_put(THIS_MODULE);
			err = -ENOMEM;
			goto unlock;
		}
		env->cgid = cgid;
		atomic64_set(&env->execs, 0);
		RCU_INIT_POINTER(env->policy, p);
		hash_add_rcu(fng_envs, &env->node, cgid);
		atomic_inc(&fng_n_envs);
		mutex_unlock(&fng_table_lock);
		schedule_delayed_work(&fng_reap_work, FNG_REAP_PERIOD);
		return 0;
	}
	old = rcu_replace_pointer(env->policy, p, lockdep_is_held(&fng_table_lock));
	mutex_unlock(&fng_table_lock);
	if (old)
		call_rcu(&old->rcu, fng_policy_free_rcu);
	return 0;
unlock:
	mutex_unlock(&fng_table_lock);
	fng_policy_free(p);
	return err;
}

static void fng_env_drop_locked(struct fng_kenv *env)
{
	hash_del_rcu(&env->node);
	call_rcu(&env->rcu, fng_env_free_rcu);
	if (atomic_dec_return(&fng_n_envs) == 0)
		module_put(THIS_MODULE);
}

int fng_env_remove(u64 cgid)
{
	struct fng_kenv *env;

	mutex_lock(&fng_table_lock);
	env = fng_env_find_locked(cgid);
	if (!env) {
		mutex_unlock(&fng_table_lock);
		return -ENOENT;
	}
	fng_env_drop_locked(env);
	mutex_unlock(&fng_table_lock);
	return 0;
}

/* Drop the environments whose cgroup is gone; again later while any is left. */
static void fng_reap_fn(struct work_struct *w)
{
	struct hlist_node *tmp;
	struct fng_kenv *env;
	int bkt, n = 0;

	mutex_lock(&fng_table_lock);
	hash_for_each_safe(fng_envs, bkt, tmp, env, node) {
		if (fng_cgroup_exists(env->cgid))
			continue;
		fng_env_drop_locked(env);
		n++;
	}
	if (n)
		pr_info("fnguard: dropped %d environment(s) whose cgroup was removed\n", n);
	if (atomic_read(&fng_n_envs))
		schedule_delayed_work(&fng_reap_work, FNG_REAP_PERIOD);
	mutex_unlock(&fng_table_lock);
}

int fng_env_reset_execs(u64 cgid)
{
	struct fng_kenv *env;
	int err = 0;

	mutex_lock(&fng_table_lock);
	env = fng_env_find_locked(cgid);
	if (env)
		atomic64_set(&env->execs, 0);
	else
		err = -ENOENT;
	mutex_unlock(&fng_table_lock);
	return err;
}

/*
 * Module exit: the probes are gone and generic netlink is unregistered, so nothing reads or
 * writes the table. (Every environment was removed, or the module could not be unloaded.)
 * Wait for the RCU callbacks that free old policies: they run module code.
 */
void fng_table_exit(void)
{
	struct hlist_node *tmp;
	struct fng_kenv *env;
	int bkt;

	cancel_delayed_work_sync(&fng_reap_work);
	hash_for_each_safe(fng_envs, bkt, tmp, env, node) {
		hash_del(&env->node);
		fng_policy_free(rcu_dereference_protected(env->policy, 1));
		kfree(env);
	}
	rcu_barrier();
}
