// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: the files policy of the bpf-lsm backend (bpf/files.bpf.c). Every case runs in a child
 * inside the environment (errno and the event of a denial are checked) and again outside it,
 * where the same operation must succeed. Fixtures live under /tmp/ft (tmpfs).
 */
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "fngtest.h"

#define D "/tmp/ft"

static const char *policy_yaml = "apiVersion: fnguard/v1\n"
				 "files:\n"
				 "  default: deny\n"
				 "  rules:\n"
				 "    - {path: " D "/ro, access: [read]}\n"
				 "    - {path: " D "/ro/hidden, access: []}\n"
				 "    - {path: " D "/rw, access: [read, write]}\n"
				 "    - {path: " D "/rw/secret, access: []}\n"
				 "    - {path: " D "/wo, access: [write]}\n"
				 "    - {path: " D "/missing, access: [read]}\n"
				 "exec:\n"
				 "  default: allow\n"
				 "  children: allow\n";

enum op {
	OPEN,
	OPENAT,
	PROCFD,
	MKDIR,
	RMDIR,
	UNLINK,
	SYMLINK,
	MKFIFO,
	LINK,
	RENAME,
	EXCHANGE,
	CHMOD,
	CHOWN,
	UTIMES,
	SETXATTR,
	TRUNCATE,
	OPENAT2,
	OPATH_LINK,
	OPATH_REOPEN,
	LINK_OPEN,
	FCHDIR_OPEN,
	TMPFILE,
};

struct fop {
	enum op op;
	const char *a, *b;
	int flags;
	int *fd; /* an fd the parent opened (inherited by the child) */
	__u64 resolve;
};

/* The operation, in the child; 0 or the errno it failed with. */
static int fop_run(void *arg)
{
	const struct fop *o = arg;
	int fd = -1, r = -1;
	char proc[64];

	switch (o->op) {
	case OPEN:
		r = fd = open(o->a, o->flags, 0644);
		break;
	case OPENAT:
		r = fd = openat(*o->fd, o->a, o->flags);
		break;
	case PROCFD:
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *o->fd);
		r = fd = open(proc, o->flags);
		break;
	case MKDIR:
		r = mkdir(o->a, 0755);
		break;
	case RMDIR:
		r = rmdir(o->a);
		break;
	case UNLINK:
		r = unlink(o->a);
		break;
	case SYMLINK:
		r = symlink(o->b, o->a);
		break;
	case MKFIFO:
		r = mknod(o->a, S_IFIFO | 0644, 0);
		break;
	case LINK:
		r = link(o->a, o->b);
		break;
	case RENAME:
		r = rename(o->a, o->b);
		break;
	case EXCHANGE:
		r = renameat2(AT_FDCWD, o->a, AT_FDCWD, o->b, RENAME_EXCHANGE);
		break;
	case CHMOD:
		r = chmod(o->a, 0600);
		break;
	case CHOWN:
		r = chown(o->a, 1, 1);
		break;
	case UTIMES:
		r = utimensat(AT_FDCWD, o->a, NULL, 0);
		break;
	case SETXATTR:
		r = setxattr(o->a, "trusted.fng", "1", 1, 0);
		break;
	case TRUNCATE:
		r = truncate(o->a, 0);
		break;
	case OPENAT2: {
		struct open_how how = {.flags = o->flags, .resolve = o->resolve};

		r = fd = syscall(SYS_openat2, o->fd ? *o->fd : AT_FDCWD, o->a, &how, sizeof(how));
		break;
	}
	case OPATH_LINK:
		fd = open(o->a, O_PATH);
		r = fd < 0 ? -1 : linkat(fd, "", AT_FDCWD, o->b, AT_EMPTY_PATH);
		break;
	case OPATH_REOPEN:
		fd = open(o->a, O_PATH);
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		r = fd < 0 ? -1 : open(proc, o->flags);
		break;
	case LINK_OPEN:
		r = link(o->a, o->b);
		if (r == 0)
			r = fd = open(o->b, o->flags);
		break;
	case FCHDIR_OPEN:
		r = fchdir(*o->fd);
		if (r == 0)
			r = fd = open(o->a, o->flags);
		break;
	case TMPFILE:
		r = fd = open(o->a, O_TMPFILE | O_RDWR, 0600);
		break;
	}
	return r < 0 ? errno : 0;
}

static void put(const char *path, const char *data)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, data, strlen(data)) < 0)
			tap_diag("write %s: %s", path, strerror(errno));
		close(fd);
	}
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		tap_diag("'%s' failed", cmd);
}

static void fixtures(void)
{
	char deep[1024] = D "/rw";

	sh("rm -rf " D " && mkdir -p " D "/ro/sub " D "/ro/m " D "/rw/m " D "/wo/dir " D "/no");
	put(D "/ro/file", "data");
	put(D "/ro/hidden", "hidden");
	put(D "/rw/file", "data");
	put(D "/rw/secret", "secret");
	put(D "/wo/file", "data");
	put(D "/no/file", "data");
	/* A file system mounted inside a [read] tree: the walk must cross to its mountpoint. */
	if (mount("tmpfs", D "/ro/m", "tmpfs", 0, NULL) ||
	    mount("tmpfs", D "/rw/m", "tmpfs", 0, NULL))
		tap_diag("mount tmpfs: %s", strerror(errno));
	put(D "/ro/m/f", "data");
	put(D "/rw/m/f", "data");
	/* Ten levels below its rule: the walk finds it past the levels it steps inline. */
	sh("mkdir -p " D "/ro/1/2/3/4/5/6/7/8/9");
	put(D "/ro/1/2/3/4/5/6/7/8/9/f", "data");
	/* Deeper than FNG_MAX_PATH_DEPTH below the rule. */
	for (int i = 0; i < FNG_MAX_PATH_DEPTH + 4; i++) {
		strcat(deep, "/d");
		mkdir(deep, 0755);
	}
	strcat(deep, "/f");
	put(deep, "deep");
}

/* Per-case fixture resets (in the parent, before each run). */
static void s_ro_victim(void)
{
	put(D "/ro/victim", "v");
	rmdir(D "/ro/vdir");
	mkdir(D "/ro/vdir", 0755);
	unlink(D "/ro/new");
	rmdir(D "/ro/newdir");
	unlink(D "/ro/sym");
	unlink(D "/ro/fifo");
}

static void s_rw_clean(void)
{
	unlink(D "/rw/new");
	rmdir(D "/rw/newdir");
	unlink(D "/rw/sym");
	unlink(D "/rw/hl");
	unlink(D "/rw/hl-secret");
	unlink(D "/rw/x");
	unlink(D "/rw/pl");
	sh("rm -rf " D "/rw/dir");
	put(D "/rw/a", "a");
	put(D "/wo/b", "b");
	put(D "/wo/mv", "mv");
	mkdir(D "/wo/dir", 0755);
	put(D "/ro/file", "data");
}

static void s_ro_later(void)
{
	put(D "/ro/later", "created after the policy");
}

static void s_links(void)
{
	unlink(D "/rw/to-hidden");
	unlink(D "/rw/to-file");
	if (symlink(D "/ro/hidden", D "/rw/to-hidden") || symlink(D "/ro/file", D "/rw/to-file"))
		tap_diag("symlink: %s", strerror(errno));
}

static int fd_ro = -1, fd_gone = -1, fd_no = -1, fd_rwdir = -1;

static void s_fds(void)
{
	if (fd_ro < 0)
		fd_ro = open(D "/ro/file", O_RDONLY);
	if (fd_no < 0)
		fd_no = open(D "/no", O_RDONLY | O_DIRECTORY);
	if (fd_rwdir < 0)
		fd_rwdir = open(D "/rw", O_RDONLY | O_DIRECTORY);
	/* Opened, then unlinked: reachable only through /proc/self/fd. */
	if (fd_gone >= 0)
		close(fd_gone);
	put(D "/ro/gone", "gone");
	fd_gone = open(D "/ro/gone", O_RDONLY);
	unlink(D "/ro/gone");
}

static char deep_file[1024];

#define CASE(...) ft_run(&t, FNG_CLASS_FILE, &(struct ft_case){__VA_ARGS__})
#define OP(...) (&(struct fop){__VA_ARGS__})

int main(void)
{
	const struct fng_event *e;
	struct stat st;
	struct ft t;
	char sub[300];
	__u32 id, audit_id;
	int err;

	fixtures();
	err = ft_open(&t, "fng-files");
	tap_check(err == 0, "enforcement object loads and its LSM programs attach (%d)", err);
	if (err)
		return tap_done();
	id = ft_policy(&t, policy_yaml);
	tap_check(id != 0, "policy compiled and filled (id %u)", id);
	tap_check(t.n_unresolved == 1 && strstr(t.unresolved, D "/missing"),
		  "a rule whose path does not exist is reported (%d: %s)", t.n_unresolved,
		  t.unresolved);
	tap_check(ft_env(&t, t.cgid, id, 0) == 0, "test cgroup is an environment");
	if (!id)
		return tap_done();
	snprintf(sub, sizeof(sub), "%s/child", t.cg);
	mkdir(sub, 0755);
	snprintf(deep_file, sizeof(deep_file), "%s", D "/rw");
	for (int i = 0; i < FNG_MAX_PATH_DEPTH + 4; i++)
		strcat(deep_file, "/d");
	strcat(deep_file, "/f");

	/* Opens, by rule and default. */
	CASE(.name = "read under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_RDONLY));
	e = CASE(.name = "write under [read]", .fn = fop_run,
		 .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_WRONLY), .want = EACCES,
		 .op = FNG_OP_OPEN, .path = D "/ro/file", KIND(FNG_RULE_ENTRY));
	tap_check(e && e->syscall_nr == SYS_openat && e->rule_index == 0 && e->pid != 0,
		  "the event names the syscall (%d), rule 0 and the process",
		  e ? e->syscall_nr : -2);
	CASE(.name = "write under [read] from a child cgroup", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_WRONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/file", .cgroup = sub);
	CASE(.name = "read+write under [read, write]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/rw/file", .flags = O_RDWR | O_APPEND));
	CASE(.name = "read where no rule covers (default deny)", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/no/file", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/no/file", KIND(FNG_RULE_DEFAULT));
	CASE(.name = "list a directory no rule covers", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/no", .flags = O_RDONLY | O_DIRECTORY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/no");
	CASE(.name = "file with access [] in a [read] dir", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/hidden", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/hidden", KIND(FNG_RULE_ENTRY));
	CASE(.name = "file with access [] in a [read, write] dir", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/rw/secret", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/rw/secret");
	CASE(.name = "write under [write]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/wo/file", .flags = O_WRONLY));
	CASE(.name = "read under [write]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/wo/file", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/wo/file");
	CASE(.name = "read a file created later under [read]", .setup = s_ro_later, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/later", .flags = O_RDONLY));
	CASE(.name = "write a file created later under [read]", .setup = s_ro_later, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/later", .flags = O_WRONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/later");
	CASE(.name = "read on a file system mounted under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/m/f", .flags = O_RDONLY));
	CASE(.name = "write on a file system mounted under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/m/f", .flags = O_WRONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/m/f", KIND(FNG_RULE_ENTRY));
	CASE(.name = "read ten levels under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/1/2/3/4/5/6/7/8/9/f", .flags = O_RDONLY));
	CASE(.name = "write ten levels under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/1/2/3/4/5/6/7/8/9/f", .flags = O_WRONLY),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/ro/1/2/3/4/5/6/7/8/9/f",
	     KIND(FNG_RULE_ENTRY));
	CASE(.name = "path deeper than the walk fails closed", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = deep_file, .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = "...*", KIND(FNG_RULE_TOO_DEEP));

	/* Creation, decided at the parent directory. */
	CASE(.name = "create under [read, write]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/rw/new", .flags = O_CREAT | O_WRONLY));
	CASE(.name = "create under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/new", .flags = O_CREAT | O_RDONLY), .want = EACCES,
	     .op = FNG_OP_CREATE, .path = D "/ro/new");
	CASE(.name = "mkdir under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = MKDIR, .a = D "/ro/newdir"), .want = EACCES, .op = FNG_OP_MKDIR,
	     .path = D "/ro/newdir");
	CASE(.name = "mkdir under [read, write]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = MKDIR, .a = D "/rw/newdir"));
	CASE(.name = "symlink under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = SYMLINK, .a = D "/ro/sym", .b = D "/rw/file"), .want = EACCES,
	     .op = FNG_OP_SYMLINK, .path = D "/ro/sym");
	CASE(.name = "mkfifo under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = MKFIFO, .a = D "/ro/fifo"), .want = EACCES, .op = FNG_OP_MKNOD,
	     .path = D "/ro/fifo");
	CASE(.name = "O_TMPFILE under [read, write]", .fn = fop_run,
	     .arg = OP(.op = TMPFILE, .a = D "/rw"));
	CASE(.name = "O_TMPFILE under [read]", .fn = fop_run,
	     .arg = OP(.op = TMPFILE, .a = D "/ro"), .want = EACCES, .op = FNG_OP_OPEN,
	     .path = D "/ro/#*");
	CASE(.name = "creat() of an existing file under [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_CREAT | O_WRONLY | O_TRUNC),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/ro/file", .skip_outside = true);
	CASE(.name = "O_RDONLY|O_TRUNC under [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_RDONLY | O_TRUNC), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/file", .skip_outside = true);
	if (stat(D "/ro/file", &st))
		st.st_size = -1;
	tap_check(st.st_size == 4, "the denied truncating opens left the file alone (size %lld)",
		  (long long)st.st_size);
	CASE(.name = "truncate() under [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = TRUNCATE, .a = D "/ro/file"), .want = EACCES, .op = FNG_OP_TRUNCATE,
	     .path = D "/ro/file");

	/* Removal and attributes: write on the object. */
	CASE(.name = "unlink under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = UNLINK, .a = D "/ro/victim"), .want = EACCES, .op = FNG_OP_UNLINK,
	     .path = D "/ro/victim");
	CASE(.name = "rmdir under [read]", .setup = s_ro_victim, .fn = fop_run,
	     .arg = OP(.op = RMDIR, .a = D "/ro/vdir"), .want = EACCES, .op = FNG_OP_RMDIR,
	     .path = D "/ro/vdir");
	CASE(.name = "unlink of an access [] file in a [read, write] dir", .fn = fop_run,
	     .arg = OP(.op = UNLINK, .a = D "/rw/secret"), .want = EACCES, .op = FNG_OP_UNLINK,
	     .path = D "/rw/secret", .skip_outside = true);
	CASE(.name = "chmod under [read]", .fn = fop_run, .arg = OP(.op = CHMOD, .a = D "/ro/file"),
	     .want = EACCES, .op = FNG_OP_SETATTR, .path = D "/ro/file");
	CASE(.name = "chown under [read]", .fn = fop_run, .arg = OP(.op = CHOWN, .a = D "/ro/file"),
	     .want = EACCES, .op = FNG_OP_SETATTR, .path = D "/ro/file");
	CASE(.name = "utimes under [read]", .fn = fop_run,
	     .arg = OP(.op = UTIMES, .a = D "/ro/file"), .want = EACCES, .op = FNG_OP_SETATTR,
	     .path = D "/ro/file");
	CASE(.name = "setxattr under [read]", .fn = fop_run,
	     .arg = OP(.op = SETXATTR, .a = D "/ro/file"), .want = EACCES, .op = FNG_OP_SETATTR,
	     .path = D "/ro/file");
	CASE(.name = "chmod under [read, write]", .fn = fop_run,
	     .arg = OP(.op = CHMOD, .a = D "/rw/file"));

	/* Symlinks and hard links: the object reached decides; links must not gain rights. */
	CASE(.name = "open through a symlink to an access [] file", .setup = s_links, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/rw/to-hidden", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/hidden");
	CASE(.name = "write through a symlink to a [read] file", .setup = s_links, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/rw/to-file", .flags = O_RDWR), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/file");
	CASE(.name = "hard link of a [read] file into [read, write]", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = LINK, .a = D "/ro/file", .b = D "/rw/hl"),
	     .want = EXDEV, .op = FNG_OP_LINK, .path = D "/ro/file", KIND(FNG_RULE_CROSS));
	CASE(.name = "hard link of an uncovered file into [read, write]", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = LINK, .a = D "/no/file", .b = D "/rw/hl"),
	     .want = EXDEV, .op = FNG_OP_LINK, .path = D "/no/file", KIND(FNG_RULE_CROSS));
	CASE(.name = "hard link of an access [] file keeps its rule", .setup = s_rw_clean,
	     .fn = fop_run,
	     .arg = OP(.op = LINK_OPEN, .a = D "/rw/secret", .b = D "/rw/hl-secret",
		       .flags = O_RDONLY),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/rw/hl-secret", KIND(FNG_RULE_ENTRY));
	CASE(.name = "hard link into [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = LINK, .a = D "/rw/file", .b = D "/ro/new"), .want = EACCES,
	     .op = FNG_OP_LINK, .path = D "/ro/new");

	/* Renames: write at both ends, no gain (EXDEV). */
	CASE(.name = "rename out of [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = RENAME, .a = D "/ro/file", .b = D "/rw/x"), .want = EACCES,
	     .op = FNG_OP_RENAME, .path = D "/ro/file");
	CASE(.name = "rename from [write] into [read, write]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = RENAME, .a = D "/wo/mv", .b = D "/rw/x"), .want = EXDEV,
	     .op = FNG_OP_RENAME, .path = D "/wo/mv", KIND(FNG_RULE_CROSS));
	CASE(.name = "rename a directory from [write] into [read, write]", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = RENAME, .a = D "/wo/dir", .b = D "/rw/dir"),
	     .want = EXDEV, .op = FNG_OP_RENAME, .path = D "/wo/dir", KIND(FNG_RULE_CROSS));
	CASE(.name = "rename from [read, write] into [write] (loses rights)", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = RENAME, .a = D "/rw/a", .b = D "/wo/a"));
	CASE(.name = "RENAME_EXCHANGE [read, write] <-> [write]", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = EXCHANGE, .a = D "/rw/a", .b = D "/wo/b"),
	     .want = EXDEV, .op = FNG_OP_RENAME, .path = D "/wo/b", KIND(FNG_RULE_CROSS));
	CASE(.name = "RENAME_EXCHANGE [write] <-> [read, write]", .setup = s_rw_clean,
	     .fn = fop_run, .arg = OP(.op = EXCHANGE, .a = D "/wo/b", .b = D "/rw/a"),
	     .want = EXDEV, .op = FNG_OP_RENAME, .path = D "/wo/b", KIND(FNG_RULE_CROSS));
	CASE(.name = "rename over an access [] file", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = RENAME, .a = D "/rw/a", .b = D "/rw/secret"), .want = EACCES,
	     .op = FNG_OP_RENAME, .path = D "/rw/secret", .skip_outside = true);

	/* Re-opens: /proc/self/fd, O_PATH, openat2, inherited directory fds. */
	CASE(.name = "re-open a [read] fd for write via /proc/self/fd", .setup = s_fds,
	     .fn = fop_run, .arg = OP(.op = PROCFD, .fd = &fd_ro, .flags = O_RDWR), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/file");
	CASE(.name = "re-open an unlinked file for write via /proc/self/fd", .setup = s_fds,
	     .fn = fop_run, .arg = OP(.op = PROCFD, .fd = &fd_gone, .flags = O_RDWR),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/ro/gone (deleted)");
	CASE(.name = "O_PATH of an access [] file, then open via /proc/self/fd", .fn = fop_run,
	     .arg = OP(.op = OPATH_REOPEN, .a = D "/ro/hidden", .flags = O_RDONLY), .want = EACCES,
	     .op = FNG_OP_OPEN, .path = D "/ro/hidden");
	CASE(.name = "O_PATH of a [read] file, then linkat(AT_EMPTY_PATH) into [read, write]",
	     .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = OPATH_LINK, .a = D "/ro/file", .b = D "/rw/pl"), .want = EXDEV,
	     .op = FNG_OP_LINK, .path = D "/ro/file", KIND(FNG_RULE_CROSS));
	CASE(.name = "openat2(RESOLVE_NO_SYMLINKS) for write under [read]", .fn = fop_run,
	     .arg = OP(.op = OPENAT2, .a = D "/ro/file", .flags = O_RDWR,
		       .resolve = RESOLVE_NO_SYMLINKS),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/ro/file");
	CASE(.name = "openat2(RESOLVE_BENEATH) under [read, write]", .setup = s_fds, .fn = fop_run,
	     .arg = OP(.op = OPENAT2, .a = "file", .flags = O_RDWR, .fd = &fd_rwdir,
		       .resolve = RESOLVE_BENEATH));
	CASE(.name = "openat() on an inherited fd of an uncovered directory", .setup = s_fds,
	     .fn = fop_run, .arg = OP(.op = OPENAT, .a = "file", .flags = O_RDONLY, .fd = &fd_no),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/no/file");
	CASE(.name = "fchdir() to an inherited fd, then open", .setup = s_fds, .fn = fop_run,
	     .arg = OP(.op = FCHDIR_OPEN, .a = "file", .flags = O_RDONLY, .fd = &fd_no),
	     .want = EACCES, .op = FNG_OP_OPEN, .path = D "/no/file");

	/* Audit: the same denials, nothing blocked, each reported. */
	audit_id = ft_policy(&t, "apiVersion: fnguard/v1\n"
				 "mode: audit\n"
				 "files:\n"
				 "  default: deny\n"
				 "  rules:\n"
				 "    - {path: " D "/ro, access: [read]}\n"
				 "exec:\n"
				 "  default: allow\n"
				 "  children: allow\n");
	tap_check(audit_id && ft_env(&t, t.cgid, audit_id, 0) == 0, "audit policy switched in");
	CASE(.name = "audit: write under [read]", .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_WRONLY), .op = FNG_OP_OPEN,
	     .path = D "/ro/file", .verdict = FNG_EVENT_AUDITED);
	CASE(.name = "audit: rename out of [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = RENAME, .a = D "/ro/file", .b = D "/no/x"), .op = FNG_OP_RENAME,
	     .path = D "/ro/file", .verdict = FNG_EVENT_AUDITED, .skip_outside = true);

	/* Without the environment's entry, the cgroup is unconfined again. */
	bpf_map_delete_elem(bpf_map__fd(t.skel->maps.fng_envs), &t.cgid);
	CASE(.name = "no environment: write under [read]", .setup = s_rw_clean, .fn = fop_run,
	     .arg = OP(.op = OPEN, .a = D "/ro/file", .flags = O_WRONLY));
	err = bpf_files_clear(bpf_map__fd(t.skel->maps.fng_file_rules),
			      bpf_map__fd(t.skel->maps.fng_exec_rules), id);
	tap_check(err == 0, "bpf_files_clear removes the policy's entries (%d)", err);
	rmdir(sub);
	ft_close(&t);
	umount(D "/ro/m");
	umount(D "/rw/m");
	return tap_done();
}
