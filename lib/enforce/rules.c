// SPDX-License-Identifier: Apache-2.0
/* Rule resolution (rules.h): the paths of files and exec rules as inodes, for both backends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "rules.h"

/* The kernel's internal dev_t (what super_block.s_dev holds): MAJOR << 20 | MINOR. */
static uint32_t kernel_dev(dev_t dev)
{
	return (uint32_t)(major(dev) << 20 | minor(dev));
}

static void unresolved_report(const char *source, const char *section, size_t index,
			      const char *path, uint32_t line, int err, rules_unresolved_fn fn,
			      void *ctx)
{
	struct rules_unresolved u = {
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

int rules_resolve(int root_fd, const struct fng_policy *p, uint32_t policy_id, const char *section,
		  size_t index, const char *path, uint32_t line, struct fng_rule_key *key,
		  rules_unresolved_fn fn, void *ctx)
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

int rules_files_collect(const struct fng_policy *p, int root_fd, rules_unresolved_fn unresolved,
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

		if (rules_resolve(root_fd, p, 0, "files.rules", i, r->path, r->line, &key, unresolved,
			     ctx))
			f[nf++] = (struct fnguard_rule){.ino = key.ino, .dev = key.dev,
							.rights = r->rights, .index = (uint32_t)i};
	}
	for (size_t i = 0; i < p->exec.n_allow; i++) {
		const struct fng_exec_entry *a = &p->exec.allow[i];

		if (rules_resolve(root_fd, p, 0, "exec.allow", i, a->path, a->line, &key, unresolved,
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
