// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>

#include "bpf_files.h"
#include "log.h"

/* The kernel's internal dev_t (what super_block.s_dev holds): MAJOR << 20 | MINOR. */
static uint32_t kernel_dev(dev_t dev)
{
	return (uint32_t)(major(dev) << 20 | minor(dev));
}

static void unresolved_report(const char *source, const char *section, size_t index,
			      const char *path, uint32_t line, int err, bpf_files_unresolved_fn fn,
			      void *ctx)
{
	struct bpf_files_unresolved u = {
	    .section = section,
	    .index = index,
	    .path = path,
	    .line = line,
	    .err = err,
	};

	if (fn)
		fn(&u, ctx);
	else
		log_warnx("%s:%u: %s[%zu]: %s: %s: the rule covers nothing",
			  source ? source : "policy", line, section, index, path, strerror(-err));
}

/*
 * Add one entry; when another rule of the policy already names the same inode, keep the
 * rights both grant and the first rule's index.
 */
static int rule_put(int fd, const struct fng_rule_key *key, uint32_t rights, uint32_t index,
		    const char *section, const char *path)
{
	struct fng_file_rule_val val = {.rights = rights, .index = index}, old;
	int err;

	if (bpf_map_update_elem(fd, key, &val, BPF_NOEXIST) == 0)
		return 0;
	if (errno != EEXIST)
		goto fail;
	if (bpf_map_lookup_elem(fd, key, &old))
		goto fail;
	log_warnx("%s[%u]: %s names the same file as %s[%u]: only rights both grant apply", section,
		  index, path, section, old.index);
	old.rights &= rights;
	if (bpf_map_update_elem(fd, key, &old, BPF_EXIST) == 0)
		return 0;
fail:
	err = -errno;
	log_warn("%s[%u]: cannot add the rule for %s", section, index, path);
	return err;
}

/* 1: @key filled, 0: the path does not resolve (reported). */
static int rule_key(int root_fd, const struct fng_policy *p, uint32_t policy_id,
		    const char *section,
		    size_t index, const char *path, uint32_t line, struct fng_rule_key *key,
		    bpf_files_unresolved_fn fn, void *ctx)
{
	struct stat st;
	int r;

	if (root_fd > 0) {
		/* The path as a process of the environment sees it: absolute symlinks and ".."
		 * stay inside its root. */
		struct open_how how = {.flags = O_PATH | O_CLOEXEC,
				       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
		int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

		r = fd < 0 ? -1 : fstat(fd, &st);
		if (fd >= 0)
			close(fd);
	} else {
		r = stat(path, &st);
	}
	if (r) {
		unresolved_report(p->source, section, index, path, line, -errno, fn, ctx);
		return 0;
	}
	memset(key, 0, sizeof(*key));
	key->policy_id = policy_id;
	key->dev = kernel_dev(st.st_dev);
	key->ino = st.st_ino;
	return 1;
}

/* Sort and merge entries naming one inode: rights both grant, the first rule's index. */
static int krule_cmp(const void *a, const void *b)
{
	const struct fnguard_rule *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static size_t krules_merge(struct fnguard_rule *r, size_t n, const char *section)
{
	size_t out = 0;

	if (!n)
		return 0;
	qsort(r, n, sizeof(*r), krule_cmp);
	for (size_t i = 1; i < n; i++) {
		struct fnguard_rule *last = &r[out];

		if (r[i].dev == last->dev && r[i].ino == last->ino) {
			log_warnx("%s[%u] names the same file as %s[%u]: only rights both grant apply",
				  section, r[i].index, section, last->index);
			last->rights &= r[i].rights;
			continue;
		}
		r[++out] = r[i];
	}
	return out + 1;
}

int bpf_files_collect(const struct fng_policy *p, int root_fd, bpf_files_unresolved_fn unresolved,
		      void *ctx, struct fnguard_rule **files, size_t *n_files,
		      struct fnguard_rule **execs, size_t *n_execs)
{
	struct fnguard_rule *f = calloc(p->files.n_rules + 1, sizeof(*f));
	struct fnguard_rule *x = calloc(p->exec.n_allow + 1, sizeof(*x));
	struct fng_rule_key key;
	size_t nf = 0, nx = 0;

	if (!f || !x) {
		free(f);
		free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->files.n_rules; i++) {
		const struct fng_file_rule *r = &p->files.rules[i];

		if (rule_key(root_fd, p, 0, "files.rules", i, r->path, r->line, &key, unresolved,
			     ctx))
			f[nf++] = (struct fnguard_rule){.ino = key.ino, .dev = key.dev,
							.rights = r->rights, .index = (uint32_t)i};
	}
	for (size_t i = 0; i < p->exec.n_allow; i++) {
		const struct fng_exec_entry *a = &p->exec.allow[i];

		if (rule_key(root_fd, p, 0, "exec.allow", i, a->path, a->line, &key, unresolved,
			     ctx))
			x[nx++] = (struct fnguard_rule){.ino = key.ino, .dev = key.dev, .rights = 1,
							.index = (uint32_t)i};
	}
	*files = f;
	*n_files = krules_merge(f, nf, "files.rules");
	*execs = x;
	*n_execs = krules_merge(x, nx, "exec.allow");
	return 0;
}

int bpf_files_fill(int file_rules_fd, int exec_rules_fd, uint32_t policy_id,
		   const struct fng_policy *p, int root_fd, bpf_files_unresolved_fn unresolved,
		   void *ctx)
{
	struct fng_rule_key key;
	int err = 0;

	for (size_t i = 0; i < p->files.n_rules && !err; i++) {
		const struct fng_file_rule *r = &p->files.rules[i];

		if (rule_key(root_fd, p, policy_id, "files.rules", i, r->path, r->line, &key, unresolved,
			     ctx))
			err = rule_put(file_rules_fd, &key, r->rights, (uint32_t)i, "files.rules",
				       r->path);
	}
	for (size_t i = 0; i < p->exec.n_allow && !err; i++) {
		const struct fng_exec_entry *a = &p->exec.allow[i];

		if (rule_key(root_fd, p, policy_id, "exec.allow", i, a->path, a->line, &key, unresolved,
			     ctx))
			err = rule_put(exec_rules_fd, &key, 1, (uint32_t)i, "exec.allow", a->path);
	}
	if (err)
		bpf_files_clear(file_rules_fd, exec_rules_fd, policy_id);
	return err;
}

/*
 * Collect the keys first: deleting the key get_next_key is walking from restarts the walk at
 * the first key of the hash table.
 */
static int rules_clear(int fd, uint32_t policy_id)
{
	struct fng_rule_key cur, next, *keys = NULL, *grown;
	size_t n = 0, cap = 0;
	int err = 0, first = 1;

	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0) {
		first = 0;
		cur = next;
		if (next.policy_id != policy_id)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			grown = realloc(keys, cap * sizeof(*keys));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		keys[n++] = next;
	}
	if (errno != ENOENT) {
		err = -errno;
		log_warn("cannot list rule entries");
	}
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT && !err) {
			err = -errno;
			log_warn("cannot delete a rule entry of policy %u", policy_id);
		}
	}
	free(keys);
	return err;
}

int bpf_files_clear(int file_rules_fd, int exec_rules_fd, uint32_t policy_id)
{
	int err = rules_clear(file_rules_fd, policy_id);
	int err2 = rules_clear(exec_rules_fd, policy_id);

	return err ? err : err2;
}

static uint8_t abi_mode(enum fng_mode m)
{
	return m == FNG_MODE_AUDIT ? FNG_ABI_AUDIT : FNG_ABI_ENFORCE;
}

static uint8_t abi_verdict(enum fng_verdict v)
{
	return v == FNG_VERDICT_ALLOW ? FNG_ABI_ALLOW : FNG_ABI_DENY;
}

void bpf_files_conf(const struct fng_policy *p, struct fng_policy_conf *conf)
{
	conf->file_mode = abi_mode(p->files.mode);
	conf->file_default = abi_verdict(p->files.def);
	conf->exec_mode = abi_mode(p->exec.mode);
	conf->exec_default = abi_verdict(p->exec.def);
	conf->exec_children = abi_verdict(p->exec.children);
}
