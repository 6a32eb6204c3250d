// SPDX-License-Identifier: Apache-2.0
/*
 * fng-op: performs exactly one operation and exits with its errno (0: it succeeded), so the
 * conformance suite can run the same operation with and without a policy and compare.
 * 255 means the operation could not even be set up (a test bug, never a pass).
 *
 *   fng-op OP ARG...      (see the table at the bottom for every OP)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/sched.h>

#define SETUP_FAILED 255

extern char **environ;

static int ret(int rc)
{
	return rc < 0 ? errno : 0;
}

static int open_flags(const char *mode)
{
	if (!strcmp(mode, "r"))
		return O_RDONLY;
	if (!strcmp(mode, "w"))
		return O_WRONLY;
	if (!strcmp(mode, "rw"))
		return O_RDWR;
	if (!strcmp(mode, "append"))
		return O_WRONLY | O_APPEND;
	if (!strcmp(mode, "trunc"))
		return O_WRONLY | O_TRUNC;
	if (!strcmp(mode, "creat"))
		return O_WRONLY | O_CREAT | O_EXCL;
	return -1;
}

static int op_open(char **a)
{
	int flags = open_flags(a[1]), fd;

	if (flags < 0)
		return SETUP_FAILED;
	fd = open(a[0], flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_openat2(char **a)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	int fd = syscall(SYS_openat2, AT_FDCWD, a[0], &how, sizeof(how));

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_creat(char **a)
{
	int fd = creat(a[0], 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_unlink(char **a) { return ret(unlink(a[0])); }
static int op_mkdir(char **a) { return ret(mkdir(a[0], 0755)); }
static int op_rmdir(char **a) { return ret(rmdir(a[0])); }
static int op_rename(char **a) { return ret(rename(a[0], a[1])); }
static int op_link(char **a) { return ret(link(a[0], a[1])); }
static int op_symlink(char **a) { return ret(symlink(a[0], a[1])); }
static int op_mkfifo(char **a) { return ret(mknod(a[0], S_IFIFO | 0644, 0)); }
static int op_chmod(char **a) { return ret(chmod(a[0], 0600)); }
static int op_truncate(char **a) { return ret(truncate(a[0], 0)); }

static int op_exchange(char **a)
{
	return ret(syscall(SYS_renameat2, AT_FDCWD, a[0], AT_FDCWD, a[1], 2 /* EXCHANGE */));
}

/* Executes a[0] with the remaining arguments: the exit code is the program's on success. */
static int op_exec(char **a)
{
	execv(a[0], a);
	return errno;
}

static int op_procfd(char **a)
{
	char path[64];
	int fd = open(a[0], O_PATH | O_CLOEXEC), fd2;

	if (fd < 0)
		return SETUP_FAILED;
	if (a[1] && !strcmp(a[1], "unlink") && unlink(a[0]))
		return SETUP_FAILED;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	if (fd2 < 0)
		return errno;
	close(fd2);
	return 0;
}

static int op_opath_execveat(char **a)
{
	int fd = open(a[0], O_PATH | O_CLOEXEC);
	char *argv[] = {a[0], NULL};

	if (fd < 0)
		return SETUP_FAILED;
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return errno;
}

static int op_opath_linkat(char **a)
{
	int fd = open(a[0], O_PATH | O_CLOEXEC);

	if (fd < 0)
		return SETUP_FAILED;
	return ret(linkat(fd, "", AT_FDCWD, a[1], AT_EMPTY_PATH));
}

static int op_tmpfile(char **a)
{
	int fd = open(a[0], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Opens a[0] as a directory fd first (allowed), then a[1] relative to it. */
static int op_dirfd(char **a)
{
	int dfd = open(a[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (dfd < 0)
		return SETUP_FAILED;
	fd = openat(dfd, a[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_chroot_open(char **a)
{
	int fd;

	if (chroot(a[0]) || chdir("/"))
		return errno;
	fd = open(a[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* memfd_create + fexecve of a copy of a[0]. */
static int op_memfd_exec(char **a)
{
	int src = open(a[0], O_RDONLY | O_CLOEXEC), mfd = memfd_create("x", MFD_CLOEXEC);
	char buf[65536], *argv[] = {"true", NULL};
	ssize_t n;

	if (src < 0 || mfd < 0)
		return SETUP_FAILED;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, n) != n)
			return SETUP_FAILED;
	fexecve(mfd, argv, environ);
	return errno;
}

static int op_mmap_exec(char **a)
{
	int fd = open(a[0], O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return SETUP_FAILED;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? errno : 0;
}

static int op_mprotect_exec(char **a)
{
	int fd = open(a[0], O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return SETUP_FAILED;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return SETUP_FAILED;
	return ret(mprotect(p, 4096, PROT_READ | PROT_EXEC));
}

static int sockaddr_of(const char *host, const char *port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(port));
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(port));
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

/* connect HOST PORT tcp|udp */
static int op_connect(char **a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = sockaddr_of(a[0], a[1], &ss, &len), fd, rc;

	if (af < 0)
		return SETUP_FAILED;
	fd = socket(af, !strcmp(a[2], "udp") ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return SETUP_FAILED;
	rc = connect(fd, (struct sockaddr *)&ss, len);
	return rc ? errno : 0;
}

/* sendto HOST PORT: UDP without connect; sendmmsg HOST PORT: two datagrams at once. */
static int op_sendto(char **a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = sockaddr_of(a[0], a[1], &ss, &len), fd;

	if (af < 0)
		return SETUP_FAILED;
	fd = socket(af, SOCK_DGRAM, 0);
	if (fd < 0)
		return SETUP_FAILED;
	return sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
}

static int op_sendmmsg(char **a)
{
	struct sockaddr_storage ss;
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct mmsghdr m[2];
	socklen_t len;
	int af = sockaddr_of(a[0], a[1], &ss, &len), fd;

	if (af < 0)
		return SETUP_FAILED;
	fd = socket(af, SOCK_DGRAM, 0);
	if (fd < 0)
		return SETUP_FAILED;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 2; i++) {
		m[i].msg_hdr.msg_name = &ss;
		m[i].msg_hdr.msg_namelen = len;
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	return sendmmsg(fd, m, 2, 0) < 0 ? errno : 0;
}

/* bind HOST PORT (TCP) */
static int op_bind(char **a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = sockaddr_of(a[0], a[1], &ss, &len), fd;

	if (af < 0)
		return SETUP_FAILED;
	fd = socket(af, SOCK_STREAM, 0);
	if (fd < 0)
		return SETUP_FAILED;
	return ret(bind(fd, (struct sockaddr *)&ss, len));
}

/* socket netlink|packet|raw|inet|unix */
static int op_socket(char **a)
{
	int fd;

	if (!strcmp(a[0], "netlink"))
		fd = socket(AF_NETLINK, SOCK_RAW, 0);
	else if (!strcmp(a[0], "packet"))
		fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	else if (!strcmp(a[0], "raw"))
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	else if (!strcmp(a[0], "inet"))
		fd = socket(AF_INET, SOCK_STREAM, 0);
	else if (!strcmp(a[0], "unix"))
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
	else
		return SETUP_FAILED;
	return fd < 0 ? errno : 0;
}

static int op_ptrace(char **a) { return ret(ptrace(PTRACE_TRACEME, 0, NULL, NULL)); }
static int op_unshare(char **a) { return ret(unshare(CLONE_NEWUTS)); }

/* The child of a fork-like clone: exits at once; the parent returns the clone's errno. */
static int reap(long pid)
{
	int status;

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	return waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status) &&
			       WEXITSTATUS(status) == 0
		   ? 0
		   : SETUP_FAILED;
}

/* clone with namespace flags: the namespaces unshare makes, one call away. No CLONE_VM and no
 * stack: the child runs on a copy of ours, as after fork. */
static int op_clone_ns(char **a)
{
	return reap(syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | SIGCHLD, 0, 0,
			    0, 0));
}

/* clone3, fork-like: its flags are in memory, where seccomp cannot look. */
static int op_clone3(char **a)
{
	struct clone_args args = {.exit_signal = SIGCHLD};

	return reap(syscall(SYS_clone3, &args, sizeof(args)));
}

/* A plain fork (clone without namespace flags) and a thread must keep working. */
static int op_fork(char **a) { return reap(fork()); }

static void *thread_main(void *arg) { return arg; }

static int op_thread(char **a)
{
	static int token;
	pthread_t t;
	void *out = NULL;
	int err = pthread_create(&t, NULL, thread_main, &token);

	if (err)
		return err;
	return pthread_join(t, &out) || out != &token ? SETUP_FAILED : 0;
}

static int op_bpf(char **a)
{
	union bpf_attr attr = {.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
			       .max_entries = 1};
	int fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));

	return fd < 0 ? errno : 0;
}

static int op_io_uring(char **a)
{
	struct io_uring_params params = {0};
	int fd = syscall(SYS_io_uring_setup, 4, &params);

	return fd < 0 ? errno : 0;
}

/*
 * One operation through io_uring, without liburing: the kernel performs it from its own
 * context, so the check must sit on the object (LSM, cgroup hooks), not on the syscall.
 * Returns the operation's errno, or SETUP_FAILED when the ring cannot be set up.
 */
static int uring_one(void (*prep)(struct io_uring_sqe *sqe, void *arg), void *arg)
{
	struct io_uring_params p = {0};
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_mask, idx;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	char *sq, *cq;
	int ring = syscall(SYS_io_uring_setup, 4, &p), res;

	if (ring < 0)
		return errno == EPERM ? EPERM : SETUP_FAILED;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return SETUP_FAILED;
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	idx = *sq_tail & *sq_mask;
	memset(&sqes[idx], 0, sizeof(sqes[idx]));
	prep(&sqes[idx], arg);
	sq_array[idx] = idx;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return errno == EPERM ? EPERM : SETUP_FAILED;
	res = cqes[__atomic_load_n(cq_head, __ATOMIC_ACQUIRE) & *cq_mask].res;
	close(ring);
	return res < 0 ? -res : 0;
}

static void prep_openat(struct io_uring_sqe *sqe, void *arg)
{
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)arg;
	sqe->open_flags = O_RDONLY;
}

struct uring_conn {
	int fd;
	struct sockaddr_storage ss;
	socklen_t len;
};

static void prep_connect(struct io_uring_sqe *sqe, void *arg)
{
	struct uring_conn *c = arg;

	sqe->opcode = IORING_OP_CONNECT;
	sqe->fd = c->fd;
	sqe->addr = (unsigned long)&c->ss;
	sqe->off = c->len;
}

static int sockaddr_of(const char *host, const char *port, struct sockaddr_storage *ss,
		       socklen_t *len);

/* uring-open PATH */
static int op_uring_open(char **a)
{
	return uring_one(prep_openat, a[0]);
}

/* uring-connect HOST PORT (TCP) */
static int op_uring_connect(char **a)
{
	struct uring_conn c;
	int af = sockaddr_of(a[0], a[1], &c.ss, &c.len);

	if (af < 0)
		return SETUP_FAILED;
	c.fd = socket(af, SOCK_STREAM, 0);
	if (c.fd < 0)
		return SETUP_FAILED;
	return uring_one(prep_connect, &c);
}

/*
 * daemon OP ARG...: double-fork and setsid, then the grandchild performs OP; its result comes
 * back through a pipe, so the case sees what a process that left its parent could do.
 */
static int dispatch(int argc, char **argv);

static int op_daemon(char **a)
{
	int p[2], rc = SETUP_FAILED;
	pid_t pid;

	if (pipe(p))
		return SETUP_FAILED;
	pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() == 0) {
			int r;

			close(p[0]);
			sleep(1); /* the middle process is gone by now: we are reparented */
			r = dispatch(0, a);
			if (write(p[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	waitpid(pid, NULL, 0);
	if (read(p[0], &rc, sizeof(rc)) != sizeof(rc))
		return SETUP_FAILED;
	return rc;
}

/* forkbomb N: try to have N processes at once; fails with the errno of the first failed fork. */
static int op_forkbomb(char **a)
{
	int n = atoi(a[0]), err = 0;
	pid_t *kids = calloc(n, sizeof(pid_t));
	int i;

	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
		if (kids[i] < 0) {
			err = errno;
			break;
		}
	}
	for (int k = 0; k < i; k++)
		kill(kids[k], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(kids);
	return err;
}

static const struct {
	const char *name;
	int nargs;
	int (*fn)(char **a);
} ops[] = {
	{"open", 2, op_open},
	{"openat2", 1, op_openat2},
	{"creat", 1, op_creat},
	{"unlink", 1, op_unlink},
	{"mkdir", 1, op_mkdir},
	{"rmdir", 1, op_rmdir},
	{"rename", 2, op_rename},
	{"exchange", 2, op_exchange},
	{"link", 2, op_link},
	{"symlink", 2, op_symlink},
	{"mkfifo", 1, op_mkfifo},
	{"chmod", 1, op_chmod},
	{"truncate", 1, op_truncate},
	{"exec", 1, op_exec},
	{"procfd", 1, op_procfd},
	{"opath-execveat", 1, op_opath_execveat},
	{"opath-linkat", 2, op_opath_linkat},
	{"tmpfile", 1, op_tmpfile},
	{"dirfd", 2, op_dirfd},
	{"chroot-open", 2, op_chroot_open},
	{"memfd-exec", 1, op_memfd_exec},
	{"mmap-exec", 1, op_mmap_exec},
	{"mprotect-exec", 1, op_mprotect_exec},
	{"connect", 3, op_connect},
	{"sendto", 2, op_sendto},
	{"sendmmsg", 2, op_sendmmsg},
	{"bind", 2, op_bind},
	{"socket", 1, op_socket},
	{"ptrace", 0, op_ptrace},
	{"unshare", 0, op_unshare},
	{"clone-ns", 0, op_clone_ns},
	{"clone3", 0, op_clone3},
	{"fork", 0, op_fork},
	{"thread", 0, op_thread},
	{"bpf", 0, op_bpf},
	{"io_uring", 0, op_io_uring},
	{"uring-open", 1, op_uring_open},
	{"uring-connect", 2, op_uring_connect},
	{"daemon", 1, op_daemon},
	{"forkbomb", 1, op_forkbomb},
};

static int dispatch(int argc, char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(argv[0], ops[i].name))
			continue;
		if (n - 1 < ops[i].nargs) {
			fprintf(stderr, "fng-op: %s needs %d argument(s)\n", argv[0], ops[i].nargs);
			return SETUP_FAILED;
		}
		return ops[i].fn(argv + 1);
	}
	fprintf(stderr, "fng-op: unknown operation '%s'\n", argv[0]);
	return SETUP_FAILED;
}

/*
 * As a function's handler (a microVM environment, tests/host-root/microvm_conformance.sh) fng-op gets
 * no arguments: they come as the payload on stdin, separated by spaces. Reading a pipe opens no
 * file, so the policy under test decides nothing before the operation itself.
 */
static int args_from_stdin(char ***argv)
{
	static char buf[4096];
	static char *v[64];
	size_t len = fread(buf, 1, sizeof(buf) - 1, stdin);
	int n = 1;

	buf[len] = 0;
	v[0] = "fng-op";
	for (char *t = strtok(buf, " \n"); t && n < 63; t = strtok(NULL, " \n"))
		v[n++] = t;
	v[n] = NULL;
	*argv = v;
	return n; /* argc */
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		argc = args_from_stdin(&argv);
		if (argc < 2) {
			fprintf(stderr, "usage: fng-op OP ARG... (or OP ARG... on stdin)\n");
			return SETUP_FAILED;
		}
	}
	return dispatch(argc - 1, argv + 1);
}
