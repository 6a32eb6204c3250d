// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: the exec policy of the bpf-lsm backend (bpf/exec.bpf.c): execve by file and directory
 * entries, '#!' interpreters, execveat of O_PATH fds, fexecve of memfds and deleted files,
 * mmap/mprotect with PROT_EXEC (and 'ld.so FILE'), children: deny and audit mode. The program
 * executed is a 132-byte static ELF that exits with status 42, written by the test itself.
 *
 * Invoked as 'exec_lsm --exec PATH' it execs PATH and exits with the errno: the handler of the
 * children: deny case.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fngtest.h"

#define D "/tmp/et"
#define LDSO "/lib64/ld-linux-x86-64.so.2"

/* ELF64 header, one PT_LOAD (R+X) at 0x400000, code: mov edi, 42; mov eax, 60; syscall. */
static const unsigned char tiny_elf[] = {
    0x7f, 'E',	'L', 'F', 2, 1,	   1,	 0,    0, 0,	0, 0,	 0,  0,	 0,    0, 2,	0,    0x3e,
    0,	  1,	0,   0,	  0, 0x78, 0,	 0x40, 0, 0,	0, 0,	 0,  64, 0,    0, 0,	0,    0,
    0,	  0,	0,   0,	  0, 0,	   0,	 0,    0, 0,	0, 0,	 0,  0,	 64,   0, 56,	0,    1,
    0,	  0,	0,   0,	  0, 0,	   0,	 1,    0, 0,	0, 5,	 0,  0,	 0,    0, 0,	0,    0,
    0,	  0,	0,   0,	  0, 0,	   0x40, 0,    0, 0,	0, 0,	 0,  0,	 0x40, 0, 0,	0,    0,
    0,	  0x84, 0,   0,	  0, 0,	   0,	 0,    0, 0x84, 0, 0,	 0,  0,	 0,    0, 0,	0,    0x10,
    0,	  0,	0,   0,	  0, 0,	   0xbf, 42,   0, 0,	0, 0xb8, 60, 0,	 0,    0, 0x0f, 0x05,
};

static const char *policy_yaml = "apiVersion: fnguard/v1\n"
				 "files:\n"
				 "  default: allow\n"
				 "  rules:\n"
				 "    - {path: " D "/bin/noread, access: []}\n"
				 "exec:\n"
				 "  default: deny\n"
				 "  allow: [" D "/bin, " D "/one, /fnguard, /lib64]\n"
				 "  children: allow\n";

enum op {
	EXEC,
	EXECVEAT_OPATH,
	FEXECVE_MEMFD,
	FEXECVE_DELETED,
	MMAP,
	MPROTECT,
	LDSO_RUN,
	OPEN,
	HANDLER
};

struct xop {
	enum op op;
	const char *path;
};

static void put(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		tap_diag("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

static void put_elf(const char *path)
{
	put(path, tiny_elf, sizeof(tiny_elf), 0755);
}

static void put_script(const char *path, const char *interp)
{
	char text[256];

	snprintf(text, sizeof(text), "#!%s\n", interp);
	put(path, text, strlen(text), 0755);
}

/* In the exec'ing process: never returns on success. */
static int xop_exec(const struct xop *o)
{
	char *argv[] = {(char *)o->path, NULL}, *ldso_argv[] = {LDSO, (char *)o->path, NULL};
	char *envp[] = {NULL};
	char *handler_argv[] = {"/fnguard/exec_lsm", "--exec", (char *)o->path, NULL};
	int fd;

	switch (o->op) {
	case EXEC:
		execve(o->path, argv, envp);
		break;
	case EXECVEAT_OPATH:
		fd = open(o->path, O_PATH);
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		break;
	case FEXECVE_MEMFD:
		fd = memfd_create("fng", 0);
		if (fd >= 0 && write(fd, tiny_elf, sizeof(tiny_elf)) == sizeof(tiny_elf))
			fexecve(fd, argv, envp);
		break;
	case FEXECVE_DELETED:
		fd = open(o->path, O_RDONLY);
		if (fd >= 0 && unlink(o->path) == 0)
			fexecve(fd, argv, envp);
		break;
	case LDSO_RUN:
		execve(LDSO, ldso_argv, envp);
		break;
	case HANDLER:
		execve(handler_argv[0], handler_argv, envp);
		break;
	default:
		break;
	}
	return errno;
}

/* The operation, in the child: 0 when the program ran (exit 42) or the call succeeded. */
static int xop_run(void *arg)
{
	const struct xop *o = arg;
	int fd, status;
	void *p;
	pid_t pid;

	if (o->op == MMAP || o->op == MPROTECT || o->op == OPEN) {
		fd = open(o->path, O_RDONLY);
		if (fd < 0 || o->op == OPEN)
			return fd < 0 ? errno : 0;
		p = mmap(NULL, 4096, PROT_READ | (o->op == MMAP ? PROT_EXEC : 0), MAP_PRIVATE, fd,
			 0);
		if (p == MAP_FAILED)
			return errno;
		if (o->op == MPROTECT && mprotect(p, 4096, PROT_READ | PROT_EXEC))
			return errno;
		return 0;
	}
	pid = fork();
	if (pid == 0)
		_exit(xop_exec(o));
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status) == 42 ? 0 : WEXITSTATUS(status);
}

static void fixtures(void)
{
	if (system("rm -rf " D " && mkdir -p " D "/bin " D "/other") != 0)
		tap_diag("cannot make " D);
	put_elf(D "/bin/ok");
	put_elf(D "/bin/noread");
	put_elf(D "/one");
	put_elf(D "/two");
	put_elf(D "/other/x");
	put_script(D "/bin/script-bad-interp", D "/other/x");
	put_script(D "/bin/script-ok", D "/bin/ok");
	put_script(D "/other/script-ok-interp", D "/bin/ok");
}

static void s_deleted(void)
{
	put_elf(D "/bin/del");
}

#define CASE(...) ft_run(&t, FNG_CLASS_EXEC, &(struct ft_case){__VA_ARGS__})
#define OP(...) (&(struct xop){__VA_ARGS__})

int main(int argc, char **argv)
{
	char *envp[] = {NULL};
	char cg2[256];
	__u32 id, ch_id, audit_id;
	__u64 cg2id;
	struct ft t;
	int err;

	if (argc == 3 && strcmp(argv[1], "--exec") == 0) {
		char *child_argv[] = {argv[2], NULL};

		execve(argv[2], child_argv, envp);
		return errno;
	}
	fixtures();
	err = ft_open(&t, "fng-exec");
	tap_check(err == 0, "enforcement object loads and its LSM programs attach (%d)", err);
	if (err)
		return tap_done();
	id = ft_policy(&t, policy_yaml);
	tap_check(id && ft_env(&t, t.cgid, id, 0) == 0, "policy installed (id %u)", id);
	if (!id)
		return tap_done();

	CASE(.name = "exec under a directory entry", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/bin/ok"));
	CASE(.name = "exec of a file entry", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/one"));
	CASE(.name = "exec of the file next to a file entry", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/two"), .want = EACCES, .op = FNG_OP_EXEC,
	     .path = D "/two", KIND(FNG_RULE_DEFAULT));
	CASE(.name = "exec where no entry covers", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/other/x"), .want = EACCES, .op = FNG_OP_EXEC,
	     .path = D "/other/x", KIND(FNG_RULE_DEFAULT));
	CASE(.name = "exec of a file the function may not read", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/bin/noread"));
	ft_run(&t, FNG_CLASS_FILE,
	       &(struct ft_case){.name = "read of that file",
				 .fn = xop_run,
				 .arg = OP(.op = OPEN, .path = D "/bin/noread"),
				 .want = EACCES,
				 .op = FNG_OP_OPEN,
				 .path = D "/bin/noread"});
	CASE(.name = "#! script with an allowed interpreter", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/bin/script-ok"));
	CASE(.name = "#! script with a denied interpreter", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/bin/script-bad-interp"), .want = EACCES,
	     .op = FNG_OP_EXEC, .path = D "/other/x", KIND(FNG_RULE_DEFAULT));
	CASE(.name = "#! script outside the entries, allowed interpreter", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/other/script-ok-interp"), .want = EACCES,
	     .op = FNG_OP_EXEC, .path = D "/other/script-ok-interp");
	CASE(.name = "execveat of an O_PATH fd, covered", .fn = xop_run,
	     .arg = OP(.op = EXECVEAT_OPATH, .path = D "/bin/ok"));
	CASE(.name = "execveat of an O_PATH fd, not covered", .fn = xop_run,
	     .arg = OP(.op = EXECVEAT_OPATH, .path = D "/other/x"), .want = EACCES,
	     .op = FNG_OP_EXEC, .path = D "/other/x");
	CASE(.name = "memfd_create + fexecve", .fn = xop_run, .arg = OP(.op = FEXECVE_MEMFD),
	     .want = EACCES, .op = FNG_OP_EXEC, .path = "memfd:fng*", KIND(FNG_RULE_NO_PATH));
	CASE(.name = "fexecve of a deleted file under a directory entry", .setup = s_deleted,
	     .fn = xop_run, .arg = OP(.op = FEXECVE_DELETED, .path = D "/bin/del"), .want = EACCES,
	     .op = FNG_OP_EXEC, .path = D "/bin/del (deleted)", KIND(FNG_RULE_NO_PATH));
	CASE(.name = "mmap PROT_EXEC, covered", .fn = xop_run,
	     .arg = OP(.op = MMAP, .path = D "/bin/ok"));
	CASE(.name = "mmap PROT_EXEC, not covered", .fn = xop_run,
	     .arg = OP(.op = MMAP, .path = D "/other/x"), .want = EACCES, .op = FNG_OP_MMAP,
	     .path = D "/other/x");
	CASE(.name = "mprotect to PROT_EXEC, not covered", .fn = xop_run,
	     .arg = OP(.op = MPROTECT, .path = D "/other/x"), .want = EACCES, .op = FNG_OP_MPROTECT,
	     .path = D "/other/x");
	CASE(.name = "mprotect to PROT_EXEC, covered", .fn = xop_run,
	     .arg = OP(.op = MPROTECT, .path = D "/bin/ok"));
	if (access(LDSO, X_OK) == 0) {
		CASE(.name = "ld.so FILE, covered", .fn = xop_run,
		     .arg = OP(.op = LDSO_RUN, .path = D "/bin/ok"));
		/* ld.so maps the file itself; the refused mmap makes it fail with status 127. */
		CASE(.name = "ld.so FILE, not covered", .fn = xop_run,
		     .arg = OP(.op = LDSO_RUN, .path = D "/other/x"), .want = 127,
		     .op = FNG_OP_MMAP, .path = D "/other/x");
	} else {
		tap_skip("ld.so FILE", "no %s in this initramfs", LDSO);
	}

	/* children: deny, in an environment of its own (its exec count starts at 0). */
	err = cgtest_create("fng-exec-children", cg2, sizeof(cg2));
	cg2id = cgtest_id(cg2);
	ch_id = ft_policy(&t, "apiVersion: fnguard/v1\n"
			      "files:\n"
			      "  default: allow\n"
			      "exec:\n"
			      "  default: deny\n"
			      "  allow: [" D "/bin, /fnguard]\n"
			      "  children: deny\n");
	tap_check(err >= 0 && ch_id && ft_env(&t, cg2id, ch_id, 0) == 0,
		  "children: deny environment set up");
	CASE(.name = "children: deny: the handler runs, its exec is refused", .fn = xop_run,
	     .arg = OP(.op = HANDLER, .path = D "/bin/ok"), .want = EACCES, .op = FNG_OP_EXEC,
	     .path = D "/bin/ok", KIND(FNG_RULE_CHILDREN), .cgroup = cg2, .env = cg2id);
	CASE(.name = "children: deny: any later exec is refused", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/bin/ok"), .want = EACCES, .op = FNG_OP_EXEC,
	     .path = D "/bin/ok", KIND(FNG_RULE_CHILDREN), .cgroup = cg2, .env = cg2id);
	CASE(.name = "children: deny: mapping a covered file still works", .fn = xop_run,
	     .arg = OP(.op = MMAP, .path = D "/bin/ok"), .cgroup = cg2, .env = cg2id);

	/* Audit: nothing blocked, each would-be denial reported. */
	audit_id = ft_policy(&t, "apiVersion: fnguard/v1\n"
				 "files:\n"
				 "  default: allow\n"
				 "exec:\n"
				 "  mode: audit\n"
				 "  default: deny\n"
				 "  allow: [/fnguard]\n"
				 "  children: allow\n");
	tap_check(audit_id && ft_env(&t, t.cgid, audit_id, 0) == 0, "audit policy switched in");
	CASE(.name = "audit: exec where no entry covers", .fn = xop_run,
	     .arg = OP(.op = EXEC, .path = D "/other/x"), .op = FNG_OP_EXEC, .path = D "/other/x",
	     .verdict = FNG_EVENT_AUDITED);
	CASE(.name = "audit: memfd_create + fexecve", .fn = xop_run, .arg = OP(.op = FEXECVE_MEMFD),
	     .op = FNG_OP_EXEC, .path = "memfd:fng*", .verdict = FNG_EVENT_AUDITED);
	CASE(.name = "audit: mmap PROT_EXEC", .fn = xop_run,
	     .arg = OP(.op = MMAP, .path = D "/other/x"), .op = FNG_OP_MMAP, .path = D "/other/x",
	     .verdict = FNG_EVENT_AUDITED);

	rmdir(cg2);
	ft_close(&t);
	return tap_done();
}
