// SPDX-License-Identifier: Apache-2.0
/*
 * Loading a policy: read (at most 1 MiB), parse, validate, compile; defaults; freeing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_int.h"

/*
 * Defaults. Where docs/policy.md names one it is used; where it is silent the choice is
 * the fail-closed one (docs/policy.md lists them all):
 *   environment.isolate_invocations true   nothing leaks from one invocation to the next
 *   environment.max_lifetime 14h           environments are recycled (0 = never)
 *   limits 128Mi memory, 3s timeout, 64 pids, 1 cpu, 64Mi /tmp (the spec's example values)
 *   mode enforce; files.default, exec.default, exec.children, egress.default, bind: deny
 *   families unix, inet, inet6; syscalls.errno EPERM
 */
static void policy_defaults(struct fng_policy *p)
{
	p->mode = FNG_MODE_ENFORCE;
	p->environment.kind = FNG_ENV_MICROVM;
	p->environment.reuse = true;
	p->environment.isolate_invocations = true;
	p->environment.max_invocations = 0;
	p->environment.max_lifetime_ns = 14ull * 3600 * 1000000000;
	p->environment.provisioned = 0;
	p->limits.memory_bytes = 128ull << 20;
	p->limits.timeout_ns = 3ull * 1000000000;
	p->limits.pids = 64;
	p->limits.cpus = 1;
	p->limits.tmp_size_bytes = 64ull << 20;
	p->files.def = FNG_VERDICT_DENY;
	p->exec.def = FNG_VERDICT_DENY;
	p->exec.children = FNG_VERDICT_DENY;
	p->network.egress_default = FNG_VERDICT_DENY;
	p->network.loopback = FNG_VERDICT_ALLOW;
	p->network.bind = FNG_VERDICT_DENY;
	p->network.families = 1ull << AF_UNIX | 1ull << AF_INET | 1ull << AF_INET6;
	p->syscalls.errno_nr = EPERM;
	snprintf(p->syscalls.errno_name, sizeof(p->syscalls.errno_name), "EPERM");
}

void policy_free(struct fng_policy *p)
{
	size_t i;

	if (!p)
		return;
	free(p->source);
	free(p->function.name);
	free(p->function.version);
	free(p->function.code);
	free(p->function.handler);
	for (i = 0; i < p->function.n_layers; i++)
		free(p->function.layers[i]);
	for (i = 0; i < p->function.n_env; i++) {
		free(p->function.env[i].name);
		if (p->function.env[i].value)
			explicit_bzero(p->function.env[i].value, strlen(p->function.env[i].value));
		free(p->function.env[i].value);
	}
	free(p->function.env);
	for (i = 0; i < p->files.n_rules; i++)
		free(p->files.rules[i].path);
	free(p->files.rules);
	for (i = 0; i < p->exec.n_allow; i++)
		free(p->exec.allow[i].path);
	free(p->exec.allow);
	for (i = 0; i < p->network.n_egress; i++)
		free(p->network.egress[i].ports);
	free(p->network.egress);
	free(p->syscalls.deny);
	free(p);
}

int policy_load_buffer(const char *name, const char *buf, size_t len, const char *base_dir,
		       struct fng_policy **out, struct policy_diags *diags)
{
	struct pnode *root = NULL;
	struct fng_policy *p = NULL;
	struct pctx *c;
	char *cwd = NULL;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c)); /* about 20 KiB */
	if (!c)
		return -ENOMEM;
	c->file = name ? name : "<policy>";
	c->diags = diags;
	c->first_diag = diags ? diags->n : 0;
	if (len > FNG_POLICY_MAX_SIZE) {
		pctx_report(c, 0, 0,
			    "file is too large (%zu bytes; policy files are at most 1 MiB)", len);
		r = -EFBIG;
		goto done;
	}
	if (!base_dir) {
		cwd = getcwd(NULL, 0);
		base_dir = cwd ? cwd : ".";
	}
	p = calloc(1, sizeof(*p));
	if (!p || !(p->source = strdup(c->file))) {
		r = -ENOMEM;
		goto done;
	}
	policy_defaults(p);
	c->p = p;
	c->base_dir = base_dir;

	r = policy_parse(c, buf ? buf : "", len, &root);
	if (r == 0)
		policy_validate(c, root);
	if (r == 0 && !c->nerr && !c->oom)
		r = policy_syscalls_compile(c);
	if (c->oom)
		r = -ENOMEM;
	else if (r == 0 && c->nerr)
		r = -EINVAL;
done:
	if (r == -ENOMEM)
		pctx_report(c, 0, 0, "cannot load: %s", strerror(ENOMEM));
	policy_diags_finish(c);
	pnode_free(root);
	free(cwd);
	free(c);
	if (r) {
		policy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int policy_load_fd(int fd, const char *name, const char *base_dir, struct fng_policy **out,
		   struct policy_diags *diags)
{
	const char *file = name ? name : "<policy>";
	size_t len = 0, cap = 64 * 1024;
	struct stat st;
	char *buf = NULL;
	int r;

	*out = NULL;
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			r = -EISDIR;
			goto fail;
		}
		if (S_ISREG(st.st_mode) && st.st_size > FNG_POLICY_MAX_SIZE) {
			policy_diags_add(
			    diags, file, 0, 0,
			    "file is too large (%lld bytes; policy files are at most 1 MiB)",
			    (long long)st.st_size);
			r = -EFBIG;
			goto out;
		}
	}
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	/* read one byte more than the limit, to know that there was more */
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *b;

			if (cap > FNG_POLICY_MAX_SIZE) {
				policy_diags_add(diags, file, 0, 0,
						 "file is too large (more than 1 MiB; policy files "
						 "are at most 1 MiB)");
				r = -EFBIG;
				goto out;
			}
			cap = cap * 2 > FNG_POLICY_MAX_SIZE ? FNG_POLICY_MAX_SIZE + 1 : cap * 2;
			b = realloc(buf, cap);
			if (!b) {
				r = -ENOMEM;
				goto fail;
			}
			buf = b;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = policy_load_buffer(name, buf, len, base_dir, out, diags);
	free(buf);
	return r;
fail:
	policy_diags_add(diags, file, 0, 0, "cannot read: %s", strerror(-r));
out:
	free(buf);
	return r;
}

/* The directory of path, absolute and with symbolic links resolved when possible. */
static char *policy_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *abs = NULL, *cwd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return NULL;
	real = realpath(dir, NULL);
	if (real) {
		free(dir);
		return real;
	}
	if (dir[0] == '/')
		return dir;
	cwd = getcwd(NULL, 0);
	if (cwd && asprintf(&abs, "%s/%s", cwd, dir) < 0)
		abs = NULL;
	free(cwd);
	if (!abs)
		return dir;
	free(dir);
	dir = policy_path_clean(abs, strlen(abs));
	free(abs);
	return dir;
}

int policy_load_file(const char *path, struct fng_policy **out, struct policy_diags *diags)
{
	char *dir;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		policy_diags_add(diags, path, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	dir = policy_dir_of(path);
	if (!dir) {
		close(fd);
		policy_diags_add(diags, path, 0, 0, "cannot open: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = policy_load_fd(fd, path, dir, out, diags);
	free(dir);
	close(fd);
	return r;
}

const char *policy_mode_name(enum fng_mode m)
{
	return m == FNG_MODE_AUDIT ? "audit" : "enforce";
}

const char *policy_verdict_name(enum fng_verdict v)
{
	return v == FNG_VERDICT_ALLOW ? "allow" : "deny";
}

const char *fng_runtime_name(enum fng_runtime r)
{
	switch (r) {
	case FNG_RUNTIME_STDIO:
		return "stdio";
	case FNG_RUNTIME_PROVIDED:
		return "provided";
	case FNG_RUNTIME_PYTHON3:
		return "python3";
	case FNG_RUNTIME_NODEJS:
		return "nodejs";
	}
	return "?";
}

const char *policy_env_kind_name(enum fng_env_kind k)
{
	return k == FNG_ENV_PROCESS ? "process" : "microvm";
}

const char *policy_proto_name(enum fng_proto p)
{
	switch (p) {
	case FNG_PROTO_TCP:
		return "tcp";
	case FNG_PROTO_UDP:
		return "udp";
	default:
		return "any";
	}
}
