// SPDX-License-Identifier: Apache-2.0
/*
 * Registered functions: a policy file (docs/policy.md, with its function: section) and the
 * code directory it names. Each one is kept in the state directory as the file registered and
 * a small meta file, so a restarted daemon has the same functions:
 *
 *   STATE/functions/NAME@HEXVERSION.yaml   the policy file, byte for byte
 *   STATE/functions/NAME@HEXVERSION.meta   code_base=DIR, registered=UNIX_NS, source=NAME
 *   STATE/code/NAME@HEXVERSION/            the daemon's copy of the code directory
 *   STATE/layers/NAME@HEXVERSION/opt/      its copy of function.layers, merged, when it has any
 *
 * (the version is hex-encoded: it is any string, the file name must not be). The code is
 * copied once, at registration, with the rights of the client that registers it (clientfs.h):
 * environments use the copy, never the client's directory, so nothing a client can change or
 * swap later reaches a guest, and a version's code stays what was registered (its layers
 * too). Files are
 * written to a temporary name and renamed, code first and meta last, so a crash leaves either
 * the whole function or none of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kernel_support.h"
#include "clientfs.h"
#include "confine.h"
#include "env_microvm.h"
#include "fnguardd.h"
#include "registry.h"
#include "fsutil.h"
#include "image.h"
#include "log.h"

/* NAME@HEXVERSION: the version is any string, a file name must not be. */
static void state_stem(char *buf, size_t len, const char *name, const char *version)
{
	char hex[2 * 64 + 1] = "";

	for (size_t i = 0; version[i] && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)version[i]);
	snprintf(buf, len, "%s@%s", name, hex);
}

static void state_path(const struct fnguardd *d, char *buf, size_t len, const char *name, const char *version,
		       const char *ext)
{
	char stem[400];

	state_stem(stem, sizeof(stem), name, version);
	snprintf(buf, len, "%s/functions/%s.%s", d->cfg.state_dir, stem, ext);
}

/* A unique temporary name beside @path (O_EXCL: never a file or link that was there), then
 * rename: a reader sees the old file or the new one, whole. */
static int write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[1100];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* STATE/@sub (code, layers), made and checked (root's, not writable by others), as an fd. */
static int state_dir_open(const struct fnguardd *d, const char *sub)
{
	char path[1024];
	int err;

	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, sub);
	err = fs_mkdir_p(path, 0700);
	if (err)
		return err;
	err = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return err < 0 ? -errno : err;
}

static int code_root_open(const struct fnguardd *d)
{
	return state_dir_open(d, "code");
}

static int function_persist(const struct fn *f)
{
	const struct fnguardd *d = f->d;
	char path[1024], *meta = NULL;
	int err, n;

	snprintf(path, sizeof(path), "%s/functions", d->cfg.state_dir);
	err = fs_mkdir_p(path, 0700);
	if (err)
		return err;
	state_path(d, path, sizeof(path), f->policy->function.name, f->policy->function.version,
		   "yaml");
	err = write_atomic(path, f->yaml, f->yaml_len);
	if (err)
		return err;
	n = asprintf(&meta, "code_base=%s\nregistered=%" PRId64 "\nsource=%s\n", f->code_base,
		     f->registered_ns, f->source);
	if (n < 0)
		return -ENOMEM;
	state_path(d, path, sizeof(path), f->policy->function.name, f->policy->function.version,
		   "meta");
	err = write_atomic(path, meta, (size_t)n);
	free(meta);
	return err;
}

static void function_unpersist(const struct fn *f)
{
	const struct fnguardd *d = f->d;
	char path[1024];

	state_path(d, path, sizeof(path), f->policy->function.name, f->policy->function.version,
		   "meta");
	if (unlink(path) && errno != ENOENT)
		log_warn("cannot remove %s", path);
	state_path(d, path, sizeof(path), f->policy->function.name, f->policy->function.version,
		   "yaml");
	if (unlink(path) && errno != ENOENT)
		log_warn("cannot remove %s", path);
}

void function_free(struct fn *f)
{
	if (!f)
		return;
	/* A removed function's code goes with its last environment (a busy process
	 * environment still has it mounted). */
	if (f->removed && f->code_dir) {
		char stem[400];
		int root = code_root_open(f->d);

		state_stem(stem, sizeof(stem), f->policy->function.name,
			   f->policy->function.version);
		if (root < 0 || clientfs_remove_tree(root, stem))
			log_warnx("cannot remove the code of %s:%s (%s)", f->policy->function.name,
				  f->policy->function.version, f->code_dir);
		if (root >= 0)
			close(root);
	}
	if (f->removed && f->layers_dir) {
		char stem[400];
		int root = state_dir_open(f->d, "layers");

		state_stem(stem, sizeof(stem), f->policy->function.name,
			   f->policy->function.version);
		if (root < 0 || clientfs_remove_tree(root, stem))
			log_warnx("cannot remove the layers of %s:%s (%s)", f->policy->function.name,
				  f->policy->function.version, f->layers_dir);
		if (root >= 0)
			close(root);
	}
	/* Its microVM images: made by its first environment, they go with its code. */
	if (f->removed && f->code_dir) {
		char dir[700];

		microvm_images_dir(f, dir, sizeof(dir));
		microvm_images_remove_dir(dir);
	}
	policy_free(f->policy);
	free(f->yaml);
	free(f->code_base);
	free(f->code_dir);
	free(f->layers_dir);
	free(f->source);
	free(f);
}

struct fn *function_find(struct fnguardd *d, const char *name, const char *version)
{
	struct fn *best = NULL;

	for (struct fn *f = d->fns; f; f = f->next) {
		if (f->removed || strcmp(f->policy->function.name, name))
			continue;
		if (version && *version) {
			if (!strcmp(f->policy->function.version, version))
				return f;
		} else if (!best || f->order > best->order) {
			best = f;
		}
	}
	return best;
}

/* The diagnostics of a failed load, in one message. */
static void diags_join(const struct policy_diags *d, char *why, size_t whylen)
{
	size_t off = 0;

	why[0] = 0;
	for (size_t i = 0; i < d->n && off + 1 < whylen; i++) {
		int n = snprintf(why + off, whylen - off, "%s%s:%u:%u: %s", i ? "; " : "",
				 d->v[i].file, d->v[i].line, d->v[i].col, d->v[i].msg);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* The first step of a process environment's confinement (confine.h), once for all of them:
 * what this kernel can enforce; the other steps are each environment's. */
static int function_plan(struct fn *f, char *why, size_t whylen)
{
	struct confine cf = {.policy = f->policy, .sock = -1};
	int err = confine_setup(&cf, CONFINE_PLAN, CONFINE_PLAN);

	f->plan = cf.plan;
	if (err)
		snprintf(why, whylen, "%s: %s", f->source, cf.why);
	return err;
}

/* What makes @p impossible to run here, in words; 0 when nothing does. @code_fd: the
 * daemon's copy of the code. */
static int function_check(struct fn *f, int code_fd, char *why, size_t whylen)
{
	const struct fng_policy *p = f->policy;

	if (p->environment.kind == FNG_ENV_MICROVM) {
		char whyvm[400];

		if (env_microvm_available(&f->d->cfg, whyvm, sizeof(whyvm))) {
			snprintf(why, whylen, "%s: environment.kind microvm: %s", f->source, whyvm);
			return -EOPNOTSUPP;
		}
	}
	if (!strncmp(p->function.handler, "/var/task/", 10)) {
		/* Resolved in the copy as in the environment: /var/task is its root. */
		struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
		int fd = (int)syscall(SYS_openat2, code_fd, p->function.handler + 10, &how,
				      sizeof(how));
		struct stat st;
		int err = fd < 0 ? -errno : fstat(fd, &st) ? -errno : 0;

		if (!err && (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)))
			err = -EACCES;
		if (fd >= 0)
			close(fd);
		if (err) {
			snprintf(why, whylen, "%s: function.handler %s: %s in %s", f->source,
				 p->function.handler,
				 err == -EACCES ? "not an executable file" : strerror(-err),
				 p->function.code);
			return -EINVAL;
		}
	}
	/* A guest's own kernel enforces a microVM's policy: its agent refuses, naming what and
	 * why, when that kernel cannot. */
	if (p->environment.kind == FNG_ENV_MICROVM)
		return 0;
	return function_plan(f, why, whylen);
}

/* A microVM function's images (image.h), made at registration from the copy of its code; a
 * leftover of an earlier registration under the same name and version goes first. */
static int function_images(struct fn *f, char *why, size_t whylen)
{
	struct microvm_images im;
	char dir[700];

	if (f->policy->environment.kind != FNG_ENV_MICROVM)
		return 0;
	microvm_images_dir(f, dir, sizeof(dir));
	microvm_images_remove_dir(dir);
	return microvm_images_get(f, &im, why, whylen);
}

/*
 * The function's code: at registration (@who set) copied from function.code with the
 * client's rights into a new directory of ours, renamed into place by function_add() once the
 * function is accepted; when loading the state, the copy made then. An fd on it, or -errno
 * with @why.
 */
static int function_code(struct fn *f, int root, const struct client_id *who, char *tmp,
			 size_t tmplen, char *why, size_t whylen)
{
	const struct fng_policy *p = f->policy;
	char stem[400], path[1024], cwhy[400];
	int fd, err;

	state_stem(stem, sizeof(stem), p->function.name, p->function.version);
	snprintf(path, sizeof(path), "%s/code/%s", f->d->cfg.state_dir, stem);
	f->code_dir = strdup(path);
	if (!f->code_dir)
		return -ENOMEM;
	if (!who) {
		fd = openat(root, stem, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			snprintf(why, whylen, "%s: no copy of its code in %s (%s): register it again",
				 f->source, path, strerror(errno));
			return err;
		}
		return fd;
	}
	snprintf(tmp, tmplen, "%s/code/.new-XXXXXX", f->d->cfg.state_dir);
	if (!mkdtemp(tmp)) {
		err = -errno;
		snprintf(why, whylen, "creating %s: %s", tmp, strerror(errno));
		tmp[0] = 0;
		return err;
	}
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "opening %s: %s", tmp, strerror(errno));
		return err;
	}
	err = clientfs_copy_tree(who, p->function.code, fd, cwhy, sizeof(cwhy));
	if (err) {
		close(fd);
		snprintf(why, whylen, "%s: function.code %s, read as uid %u: %s", f->source,
			 p->function.code, (unsigned)who->uid, cwhy);
		return err == -EFBIG || err == -EPROTO ? -EINVAL : err == -ENOTDIR ? -EINVAL : err;
	}
	/* Readable (and, for a process environment's handler, enterable) by every uid. */
	if (fchmod(fd, 0755)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Moves what the directory @src holds into the directory @dst: an entry over one of the same
 * name (a directory into a directory: merged, the rest replaced). Both are copies of ours, on
 * one file system: nothing is copied again, links are moved as links. Passes until one moves
 * nothing, as readdir need not return entries renamed away while it reads.
 */
static int tree_merge(int src, int dst, int depth)
{
	int moved = 1, err = 0;

	if (depth > CLIENTFS_DEPTH_MAX)
		return -ELOOP;
	while (moved && !err) {
		int fd = dup(src);
		DIR *dir = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;

		if (!dir) {
			if (fd >= 0)
				close(fd);
			return -errno;
		}
		moved = 0;
		rewinddir(dir);
		while (!err && (de = readdir(dir))) {
			struct stat a, b;
			bool there;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (fstatat(src, de->d_name, &a, AT_SYMLINK_NOFOLLOW)) {
				err = errno == ENOENT ? 0 : -errno;
				continue;
			}
			there = !fstatat(dst, de->d_name, &b, AT_SYMLINK_NOFOLLOW);
			if (there && S_ISDIR(a.st_mode) && S_ISDIR(b.st_mode)) {
				int s2 = openat(src, de->d_name,
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				int d2 = openat(dst, de->d_name,
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

				err = s2 < 0 || d2 < 0 ? -errno : tree_merge(s2, d2, depth + 1);
				if (s2 >= 0)
					close(s2);
				if (d2 >= 0)
					close(d2);
				/* Emptied: gone, so that the next pass does not merge it again. */
				if (!err && !unlinkat(src, de->d_name, AT_REMOVEDIR))
					moved++;
				continue;
			}
			if (there) {
				err = S_ISDIR(b.st_mode) ? clientfs_remove_tree(dst, de->d_name)
							 : unlinkat(dst, de->d_name, 0) ? -errno : 0;
			}
			if (!err && renameat(src, de->d_name, dst, de->d_name))
				err = -errno;
			if (!err)
				moved++;
		}
		closedir(dir);
	}
	return err;
}

/*
 * The function's layers (function.layers), as its code: at registration (@who set) each one
 * copied with the client's rights, then merged in order into DIR/opt of a new directory of
 * ours, @tmp (a later layer's file over an earlier one's, as Lambda merges them at /opt),
 * renamed into place by function_add(); when loading the state, the copy made then. 0 (and
 * nothing done) without layers, or -errno with @why.
 */
static int function_layers(struct fn *f, int root, const struct client_id *who, char *tmp,
			   size_t tmplen, char *why, size_t whylen)
{
	const struct fng_policy *p = f->policy;
	char stem[400], path[1024], cwhy[400];
	int fd, top = -1, opt = -1, err = 0;

	tmp[0] = 0;
	if (!p->function.n_layers)
		return 0;
	state_stem(stem, sizeof(stem), p->function.name, p->function.version);
	snprintf(path, sizeof(path), "%s/layers/%s", f->d->cfg.state_dir, stem);
	f->layers_dir = strdup(path);
	if (!f->layers_dir)
		return -ENOMEM;
	if (!who) {
		snprintf(path, sizeof(path), "%s/opt", stem);
		fd = openat(root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			snprintf(why, whylen,
				 "%s: no copy of its layers in %s (%s): register it again", f->source,
				 f->layers_dir, strerror(errno));
			return err;
		}
		close(fd);
		return 0;
	}
	snprintf(tmp, tmplen, "%s/layers/.new-XXXXXX", f->d->cfg.state_dir);
	if (!mkdtemp(tmp)) {
		err = -errno;
		snprintf(why, whylen, "creating %s: %s", tmp, strerror(errno));
		tmp[0] = 0;
		return err;
	}
	top = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0 || mkdirat(top, "opt", 0755) ||
	    (opt = openat(top, "opt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err = -errno;
		snprintf(why, whylen, "creating %s/opt: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; !err && i < p->function.n_layers; i++) {
		char n[24];

		snprintf(n, sizeof(n), "%zu", i);
		if (mkdirat(top, n, 0700) ||
		    (fd = openat(top, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			err = -errno;
			snprintf(why, whylen, "creating %s/%s: %s", tmp, n, strerror(errno));
			break;
		}
		err = clientfs_copy_tree(who, p->function.layers[i], fd, cwhy, sizeof(cwhy));
		if (err) {
			snprintf(why, whylen, "%s: function.layers[%zu] %s, read as uid %u: %s",
				 f->source, i, p->function.layers[i], (unsigned)who->uid,
				 err == -ENOTDIR ? "not a directory (a layer is a directory, "
						   "merged at /opt)"
						 : cwhy);
			err = err == -EFBIG || err == -EPROTO || err == -ENOTDIR ? -EINVAL : err;
		} else {
			err = tree_merge(fd, opt, 0);
			if (err)
				snprintf(why, whylen, "%s: merging function.layers[%zu] %s: %s",
					 f->source, i, p->function.layers[i], strerror(-err));
		}
		close(fd);
		if (!err)
			err = clientfs_remove_tree(top, n);
	}
	/* Readable by every uid, as the code (a process environment binds it at /opt). */
	if (!err && (fchmod(opt, 0755) || fchmod(top, 0755))) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
	}
out:
	if (opt >= 0)
		close(opt);
	if (top >= 0)
		close(top);
	return err;
}

static int function_add(struct fnguardd *d, const char *yaml, size_t len, const char *name, const char *code_base,
			int64_t registered_ns, const struct client_id *who, struct fn **out,
			char *why, size_t whylen)
{
	struct policy_diags diags;
	struct fn *f = calloc(1, sizeof(*f));
	char tmp[1100] = "", ltmp[1100] = "", stem[400];
	int err, root = -1, lroot = -1, code_fd = -1;

	if (!f)
		return -ENOMEM;
	f->d = d;
	f->yaml = malloc(len + 1);
	f->code_base = strdup(code_base && *code_base ? code_base : "/");
	f->source = strdup(name && *name ? name : "(policy)");
	if (!f->yaml || !f->code_base || !f->source) {
		function_free(f);
		return -ENOMEM;
	}
	memcpy(f->yaml, yaml, len);
	f->yaml[len] = 0;
	f->yaml_len = len;
	policy_diags_init(&diags);
	err = policy_load_buffer(f->source, yaml, len, f->code_base, &f->policy, &diags);
	if (err) {
		diags_join(&diags, why, whylen);
		if (!why[0])
			snprintf(why, whylen, "%s: %s", f->source, strerror(-err));
		policy_diags_free(&diags);
		function_free(f);
		return err == -EFBIG ? -EINVAL : err;
	}
	policy_diags_free(&diags);
	if (!f->policy->function.present) {
		snprintf(why, whylen, "%s: no function: section (required to register a function)",
			 f->source);
		function_free(f);
		return -EINVAL;
	}
	if (function_find(d, f->policy->function.name, f->policy->function.version)) {
		snprintf(why, whylen, "%s:%s is already registered (remove it first)",
			 f->policy->function.name, f->policy->function.version);
		function_free(f);
		return -EEXIST;
	}
	root = code_root_open(d);
	if (root < 0) {
		err = root;
		snprintf(why, whylen, "%s/code: %s", d->cfg.state_dir, strerror(-err));
		goto fail;
	}
	code_fd = function_code(f, root, who, tmp, sizeof(tmp), why, whylen);
	if (code_fd < 0) {
		err = code_fd;
		goto fail;
	}
	if (f->policy->function.n_layers) {
		lroot = state_dir_open(d, "layers");
		if (lroot < 0) {
			err = lroot;
			snprintf(why, whylen, "%s/layers: %s", d->cfg.state_dir, strerror(-err));
			goto fail;
		}
		err = function_layers(f, lroot, who, ltmp, sizeof(ltmp), why, whylen);
		if (err)
			goto fail;
	}
	err = function_check(f, code_fd, why, whylen);
	if (err)
		goto fail;
	f->registered_ns = registered_ns;
	if (who) {
		/* Code and layers first (a leftover of a crash under the same name goes), meta
		 * last. */
		state_stem(stem, sizeof(stem), f->policy->function.name,
			   f->policy->function.version);
		err = clientfs_remove_tree(root, stem);
		if (!err && renameat(AT_FDCWD, tmp, root, stem))
			err = -errno;
		if (!err)
			tmp[0] = 0;
		if (!err && lroot >= 0) {
			err = clientfs_remove_tree(lroot, stem);
			if (!err && renameat(AT_FDCWD, ltmp, lroot, stem))
				err = -errno;
			if (!err)
				ltmp[0] = 0;
		}
		if (!err) {
			err = function_images(f, why, whylen);
			if (err) {
				clientfs_remove_tree(root, stem);
				if (lroot >= 0)
					clientfs_remove_tree(lroot, stem);
				goto fail;
			}
			err = function_persist(f);
		}
		if (err) {
			snprintf(why, whylen, "saving it in %s: %s", d->cfg.state_dir, strerror(-err));
			if (!tmp[0])
				clientfs_remove_tree(root, stem);
			if (lroot >= 0 && !ltmp[0])
				clientfs_remove_tree(lroot, stem);
			goto fail;
		}
	}
	close(code_fd);
	close(root);
	if (lroot >= 0)
		close(lroot);
	f->order = ++d->fn_order;
	f->next = d->fns;
	d->fns = f;
	*out = f;
	return 0;
fail:
	if (code_fd >= 0)
		close(code_fd);
	if (tmp[0] && root >= 0)
		clientfs_remove_tree(root, strrchr(tmp, '/') + 1);
	if (ltmp[0] && lroot >= 0)
		clientfs_remove_tree(lroot, strrchr(ltmp, '/') + 1);
	if (root >= 0)
		close(root);
	if (lroot >= 0)
		close(lroot);
	function_free(f);
	return err;
}

int function_register(struct fnguardd *d, const char *yaml, size_t len, const char *name, const char *code_base,
		      const struct client_id *who, struct fn **out, char *why, size_t whylen)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return function_add(d, yaml, len, name, code_base,
			    (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, who, out, why, whylen);
}

static void meta_get(const char *meta, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	out[0] = 0;
	for (const char *l = meta; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, klen) && l[klen] == '=') {
			const char *e = strchr(l, '\n');
			size_t n = e ? (size_t)(e - l - klen - 1) : strlen(l + klen + 1);

			snprintf(out, len, "%.*s", (int)n, l + klen + 1);
			return;
		}
	}
}

/* Without a version, the latest registered one is invoked (docs/cli.md), after a restart as
 * well: the functions loaded are ordered by when they were registered, not by the order the
 * directory lists them in. */
static void order_by_registration(struct fnguardd *d)
{
	uint64_t n = 0;

	for (struct fn *f = d->fns; f; f = f->next)
		f->order = 0;
	for (;;) {
		struct fn *first = NULL;

		for (struct fn *f = d->fns; f; f = f->next)
			if (!f->order && (!first || f->registered_ns < first->registered_ns))
				first = f;
		if (!first)
			break;
		first->order = ++n;
	}
	d->fn_order = n;
}

int functions_load(struct fnguardd *d)
{
	char dir[1024], path[1400], code_base[1024], reg[32], source[512], why[1024];
	struct dirent *de;
	unsigned n = 0, bad = 0;
	int err;
	DIR *dir_h;

	snprintf(dir, sizeof(dir), "%s/functions", d->cfg.state_dir);
	/* Policies are read from here as root: a directory someone else owns or may write to is
	 * refused (fs_mkdir_p checks an existing one, and says why). */
	err = fs_mkdir_p(dir, 0700);
	if (err)
		return err;
	dir_h = opendir(dir);
	if (!dir_h)
		return -errno;
	while ((de = readdir(dir_h))) {
		size_t nl = strlen(de->d_name), ylen, mlen;
		char *yaml, *meta;
		struct fn *f;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".meta"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		meta = fs_read_file(path, 8192, &mlen);
		snprintf(path, sizeof(path), "%s/%.*s.yaml", dir, (int)(nl - 5), de->d_name);
		yaml = fs_read_file(path, FNG_POLICY_MAX_SIZE, &ylen);
		if (!meta || !yaml) {
			log_warnx("state: %s: incomplete (no .yaml or .meta), skipped", path);
			bad++;
			free(meta);
			free(yaml);
			continue;
		}
		meta_get(meta, "code_base", code_base, sizeof(code_base));
		meta_get(meta, "registered", reg, sizeof(reg));
		meta_get(meta, "source", source, sizeof(source));
		err = function_add(d, yaml, ylen, source, code_base, strtoll(reg, NULL, 10), NULL, &f,
				   why, sizeof(why));
		if (err) {
			log_warnx("state: %s: cannot register it again: %s (the file is kept)", path,
				  why);
			bad++;
		} else {
			n++;
		}
		free(meta);
		free(yaml);
	}
	closedir(dir_h);
	order_by_registration(d);
	log_info("%u function(s) registered from %s%s", n, dir, bad ? " (some skipped)" : "");
	return 0;
}

int function_remove(struct fnguardd *d, const char *name, const char *version,
		    void (*stop)(struct fn *fn, const char *reason), char *why, size_t whylen)
{
	struct fn **pp = &d->fns;
	unsigned n = 0;

	while (*pp) {
		struct fn *f = *pp;

		if (f->removed || strcmp(f->policy->function.name, name) ||
		    (version && *version && strcmp(f->policy->function.version, version))) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		f->next = NULL;
		f->removed = true;
		f->removing = true;
		function_unpersist(f);
		stop(f, "function removed");
		f->removing = false;
		if (!f->n_envs)
			function_free(f);
		n++;
	}
	if (!n) {
		snprintf(why, whylen, "%s%s%s is not registered", name, version && *version ? ":" : "",
			 version ? version : "");
		return -ENOENT;
	}
	return 0;
}
