/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bench helpers for tests of the enforcement object (build/bpf/fnguard.bpf.o): load and attach
 * its LSM programs, make a test cgroup an environment, install YAML policies through the real
 * compiler and bpf_files_fill(), and check each case three ways: the errno inside the
 * environment, the same operation outside it, and the event the denial must have produced.
 */
#ifndef FNGUARD_FNGTEST_H
#define FNGUARD_FNGTEST_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bpf_files.h"
#include "fnguard.skel.h"
#include "fnguard_abi.h"
#include "policy.h"
#include "cgtest.h"
#include "tap.h"

#define FT_MAX_EVENTS 64
#define FT_NO_EVENT 0

struct ft {
	struct fnguard *skel;
	struct bpf_link *links[64];
	int n_links;
	struct ring_buffer *rb;
	struct fng_event ev[FT_MAX_EVENTS];
	int n_ev;
	char cg[256];
	__u64 cgid;
	__u32 next_id;
	int n_unresolved;
	char unresolved[256];
};

/* One case: @fn runs in a child (after @setup in the parent) and returns an errno or 0. */
struct ft_case {
	const char *name;
	void (*setup)(void);
	int (*fn)(void *);
	void *arg;
	int want;	    /* inside the environment */
	bool skip_outside;  /* the operation cannot be repeated outside */
	__u16 op;	    /* the event expected (FT_NO_EVENT: none at all) */
	const char *path;   /* its path; "prefix*" matches a prefix; NULL: any */
	int kind;	    /* KIND(FNG_RULE_*) to check its rule kind; 0: any */
	__u8 verdict;	    /* 0: FNG_EVENT_BLOCKED */
	const char *cgroup; /* run inside this cgroup instead of the environment's */
	__u64 env;	    /* the environment events name, when not the test cgroup */
};

#define KIND(k) .kind = (k) + 1

static int ft_on_event(void *ctx, void *data, size_t len)
{
	struct ft *t = ctx;

	if (len >= sizeof(struct fng_event) && t->n_ev < FT_MAX_EVENTS)
		memcpy(&t->ev[t->n_ev++], data, sizeof(struct fng_event));
	return 0;
}

static void ft_on_unresolved(const struct rules_unresolved *u, void *ctx)
{
	struct ft *t = ctx;

	t->n_unresolved++;
	snprintf(t->unresolved, sizeof(t->unresolved), "%s[%zu] %s %d", u->section, u->index,
		 u->path, u->err);
}

/* Load the object, attach every LSM program, open the ring buffer, make cgroup @name. */
static inline int ft_open(struct ft *t, const char *name)
{
	struct bpf_program *prog;
	int err;

	memset(t, 0, sizeof(*t));
	t->next_id = 1;
	if (cgtest_create(name, t->cg, sizeof(t->cg)) < 0)
		return -errno;
	t->cgid = cgtest_id(t->cg);
	t->skel = fnguard__open();
	if (!t->skel)
		return -errno;
	err = fnguard__load(t->skel);
	if (err)
		return err;
	bpf_object__for_each_program(prog, t->skel->obj)
	{
		if (bpf_program__type(prog) != BPF_PROG_TYPE_LSM || t->n_links == 64)
			continue;
		t->links[t->n_links] = bpf_program__attach(prog);
		if (!t->links[t->n_links])
			return -errno;
		t->n_links++;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.fng_events), ft_on_event, t, NULL);
	return t->rb ? 0 : -errno;
}

static inline void ft_close(struct ft *t)
{
	ring_buffer__free(t->rb);
	for (int i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	fnguard__destroy(t->skel);
	rmdir(t->cg);
}

/* Make @cgid an environment under policy @id; @execs is its exec count (children: deny). */
static inline int ft_env(struct ft *t, __u64 cgid, __u32 id, __u64 execs)
{
	struct fng_env env = {.policy_id = id, .flags = FNG_ENV_ACTIVE, .execs = execs};

	return bpf_map_update_elem(bpf_map__fd(t->skel->maps.fng_envs), &cgid, &env, BPF_ANY)
		   ? -errno
		   : 0;
}

/* Compile @yaml, write its tables under a new policy id and return the id (0 on failure). */
static inline __u32 ft_policy(struct ft *t, const char *yaml)
{
	struct fng_policy_conf conf = {0};
	struct policy_diags diags;
	struct fng_policy *p;
	__u32 id = t->next_id++;
	int err;

	policy_diags_init(&diags);
	err = policy_load_buffer("test.yaml", yaml, strlen(yaml), "/", &p, &diags);
	if (err) {
		policy_diags_print(&diags, stdout);
		policy_diags_free(&diags);
		return 0;
	}
	policy_diags_free(&diags);
	err = bpf_files_fill(bpf_map__fd(t->skel->maps.fng_file_rules),
			     bpf_map__fd(t->skel->maps.fng_exec_rules), id, p, 0, ft_on_unresolved,
			     t);
	conf.valid = 1;
	bpf_files_conf(p, &conf);
	/* The network half of the object must stay out of the way of these tests. */
	conf.families = ~0ULL;
	conf.egress_default = conf.loopback = conf.bind = FNG_ABI_ALLOW;
	policy_free(p);
	if (err || bpf_map_update_elem(bpf_map__fd(t->skel->maps.fng_policies), &id, &conf, 0))
		return 0;
	return id;
}

static inline void ft_events_read(struct ft *t)
{
	t->n_ev = 0;
	ring_buffer__consume(t->rb);
}

static inline bool ft_path_match(const char *want, const char *got)
{
	size_t n = strlen(want);

	if (n && want[n - 1] == '*')
		return strncmp(want, got, n - 1) == 0;
	return strcmp(want, got) == 0;
}

static inline const struct fng_event *ft_event_find(struct ft *t, __u16 class,
						    const struct ft_case *c)
{
	__u8 verdict = c->verdict ? c->verdict : FNG_EVENT_BLOCKED;

	for (int i = 0; i < t->n_ev; i++) {
		const struct fng_event *e = &t->ev[i];

		if (e->class == class && e->op == c->op && e->verdict == verdict &&
		    e->cgroup_id == (c->env ? c->env : t->cgid) &&
		    e->target_kind == FNG_TARGET_PATH &&
		    (!c->path || ft_path_match(c->path, e->target.path)) &&
		    (!c->kind || e->rule_kind + 1 == c->kind))
			return e;
	}
	return NULL;
}

static inline void ft_events_dump(struct ft *t)
{
	for (int i = 0; i < t->n_ev; i++)
		tap_diag("event: class %u op %u verdict %u kind %u index %u syscall %d path '%s'",
			 t->ev[i].class, t->ev[i].op, t->ev[i].verdict, t->ev[i].rule_kind,
			 t->ev[i].rule_index, t->ev[i].syscall_nr, t->ev[i].target.path);
}

/* Run one case: inside (errno and event), then outside (success). */
static inline const struct fng_event *ft_run(struct ft *t, __u16 class, const struct ft_case *c)
{
	const struct fng_event *e = NULL;
	int got;

	if (c->setup)
		c->setup();
	ft_events_read(t);
	got = cgtest_run(c->cgroup ? c->cgroup : t->cg, c->fn, c->arg);
	ft_events_read(t);
	tap_check(got == c->want, "%s: inside the environment: %s (%d), want %s (%d)", c->name,
		  strerror(got), got, strerror(c->want), c->want);
	if (c->op == FT_NO_EVENT) {
		tap_check(t->n_ev == 0, "%s: no event", c->name);
	} else {
		e = ft_event_find(t, class, c);
		tap_check(e != NULL, "%s: event op %u path '%s'", c->name, c->op,
			  c->path ? c->path : "(any)");
	}
	if (!e && t->n_ev)
		ft_events_dump(t);
	if (c->skip_outside)
		return e;
	if (c->setup)
		c->setup();
	got = cgtest_run(NULL, c->fn, c->arg);
	tap_check(got == 0, "%s: outside the environment: %s (%d)", c->name, strerror(got), got);
	return e;
}

#endif
