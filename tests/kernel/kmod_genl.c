// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: the fnguard kernel module (kmod/) driven directly through its generic netlink family
 * with libnl-genl-3, on a kernel without BPF LSM. A test cgroup gets a policy; each kind of
 * denial is checked three ways: the errno inside the environment, the same operation outside
 * it (allowed, no event), and the event multicast to the "events" group (its fields). Then
 * audit mode, children: deny, atomic replace, input validation, CAP_SYS_ADMIN, the counters,
 * rmmod refused while a policy is installed, and unload under load leaving a clean kernel log.
 *
 *   kmod_genl            the whole test
 *   kmod_genl exec PATH  (helper) execv(PATH), exit with the errno when it fails
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/xattr.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"
#include "cgtest.h"
#include "kmodtest.h"
#include "tap.h"

#define KO "/fnguard/fnguard.ko"
#define SELF "/fnguard/kmod_genl"
#define T "/tmp/kt"
#define MAX_EV 256

static struct nl_sock *cmd_sk, *ev_sk;
static int fam;
static struct fng_event evs[MAX_EV];
static int n_ev;
static char cg[256];
static __u64 cgid;

/* ------------------------------------------------------------------ netlink */

static struct nl_sock *nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk || genl_connect(sk))
		return NULL;
	nl_socket_set_buffer_size(sk, 4 << 20, 4 << 20);
	return sk;
}

struct rules {
	const struct fnguard_rule *r;
	size_t n;
};

/* One request; returns 0 or -errno from the kernel's answer. */
static int request(struct nl_sock *sk, int cmd, __u64 id, const struct fng_policy_conf *conf,
		   struct rules files, struct rules execs, struct kmt_reply *out)
{
	struct nl_msg *msg = nlmsg_alloc_size(64 + sizeof(*conf) +
					      (files.n + execs.n) * sizeof(struct fnguard_rule) +
					      4096);
	size_t per = 65000 / sizeof(struct fnguard_rule), i;

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, NLM_F_ACK, cmd, FNGUARD_GENL_VERSION);
	if (id)
		nla_put_u64(msg, FNGUARD_A_CGROUP_ID, id);
	if (conf)
		nla_put(msg, FNGUARD_A_CONF, sizeof(*conf), conf);
	/* More than one attribute's worth of rules: several attributes of the same type. */
	for (i = 0; i < files.n; i += per)
		nla_put(msg, FNGUARD_A_FILE_RULES,
			(files.n - i < per ? files.n - i : per) * sizeof(struct fnguard_rule),
			files.r + i);
	for (i = 0; i < execs.n; i += per)
		nla_put(msg, FNGUARD_A_EXEC_RULES,
			(execs.n - i < per ? execs.n - i : per) * sizeof(struct fnguard_rule),
			execs.r + i);
	return kmt_send_wait(sk, msg, out);
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *a[FNGUARD_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, FNGUARD_A_MAX, NULL) || !a[FNGUARD_A_EVENT])
		return NL_SKIP;
	if (nla_len(a[FNGUARD_A_EVENT]) == sizeof(struct fng_event) && n_ev < MAX_EV)
		memcpy(&evs[n_ev++], nla_data(a[FNGUARD_A_EVENT]), sizeof(struct fng_event));
	return NL_OK;
}

/* Collect events for up to @ms milliseconds, or until one of @pid (with @op) arrived. */
static const struct fng_event *wait_event(int pid, int op, int ms)
{
	for (int waited = 0;; waited += 20) {
		for (int i = 0; i < n_ev; i++)
			if ((int)evs[i].pid == pid && (!op || evs[i].op == op))
				return &evs[i];
		if (waited >= ms)
			return NULL;
		struct pollfd p = {.fd = nl_socket_get_fd(ev_sk), .events = POLLIN};

		if (poll(&p, 1, 20) > 0)
			nl_recvmsgs_default(ev_sk);
	}
}

/* ------------------------------------------------------------------ the tree and the policy */

static __u32 kdev(dev_t d)
{
	return major(d) << 20 | minor(d);
}

static struct fnguard_rule rule(const char *path, __u32 rights, __u32 index)
{
	struct stat st;
	struct fnguard_rule r = {.rights = rights, .index = index};

	if (stat(path, &st))
		tap_diag("stat %s: %s", path, strerror(errno));
	r.ino = st.st_ino;
	r.dev = kdev(st.st_dev);
	return r;
}

static void touch(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT, 0644);

	if (fd >= 0) {
		if (write(fd, "data\n", 5) < 0)
			tap_diag("write %s", p);
		close(fd);
	}
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			break;
	close(in);
	close(out);
}

/* Idempotent: every case starts from the same tree (rules are on ro, rw, w and none). */
static void tree(void)
{
	mkdir(T, 0755);
	mkdir(T "/ro", 0755);
	mkdir(T "/rw", 0755);
	mkdir(T "/w", 0755);
	touch(T "/ro/f");
	touch(T "/w/f");
	touch(T "/other");
	if (access(T "/none", F_OK))
		touch(T "/none");
	unlink(T "/rw/f");
	unlink(T "/rw/h");
	touch(T "/rw/g");
	unlink(T "/ro/new");
	if (access(T "/rw/bb", F_OK))
		copy_file("/bin/busybox", T "/rw/bb");
}

static struct fnguard_rule frules[4], xrules[2];

static struct fng_policy_conf base_conf(void)
{
	struct fng_policy_conf c = {
	    .valid = 1,
	    .file_mode = FNG_ABI_ENFORCE,
	    .file_default = FNG_ABI_DENY,
	    .exec_mode = FNG_ABI_ENFORCE,
	    .exec_default = FNG_ABI_DENY,
	    .exec_children = FNG_ABI_ALLOW,
	    .net_mode = FNG_ABI_ENFORCE,
	    .egress_default = FNG_ABI_DENY,
	    .loopback = FNG_ABI_ALLOW,
	    .bind = FNG_ABI_DENY,
	    .raw_deny = 1,
	    .families = 1ull << AF_UNIX | 1ull << AF_INET,
	};
	return c;
}

static int install(const struct fng_policy_conf *c)
{
	return request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, cgid, c, (struct rules){frules, 4},
		       (struct rules){xrules, 2}, NULL);
}

/* ------------------------------------------------------------------ operations */

static int op_open(const char *p, int flags)
{
	int fd = open(p, flags, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int f_read_ro(void *a) { return op_open(T "/ro/f", O_RDONLY); }
static int f_write_ro(void *a) { return op_open(T "/ro/f", O_WRONLY); }
static int f_read_none(void *a) { return op_open(T "/none", O_RDONLY); }
static int f_read_other(void *a) { return op_open(T "/other", O_RDONLY); }
static int f_create_ro(void *a) { return op_open(T "/ro/new", O_WRONLY | O_CREAT); }
static int f_unlink_ro(void *a) { return unlink(T "/ro/f") ? errno : 0; }
static int f_rename_gain(void *a) { return rename(T "/w/f", T "/rw/f") ? errno : 0; }

static int f_link_gain(void *a) { return link(T "/other", T "/rw/h") ? errno : 0; }
static int f_exchange_gain(void *a)
{
	return renameat2(AT_FDCWD, T "/w/f", AT_FDCWD, T "/rw/g", RENAME_EXCHANGE) ? errno : 0;
}
static int f_chmod_ro(void *a) { return chmod(T "/ro/f", 0600) ? errno : 0; }
static int f_utimes_ro(void *a)
{
	struct timespec ts[2] = {{1, 0}, {1, 0}};

	return utimensat(AT_FDCWD, T "/ro/f", ts, 0) ? errno : 0;
}
static int f_setxattr_ro(void *a)
{
	return setxattr(T "/ro/f", "trusted.fng", "1", 1, 0) ? errno : 0;
}
static int f_memfd_exec(void *a)
{
	int fd = memfd_create("x", 0);

	if (fd < 0 || write(fd, "#!/bin/true\n", 12) != 12)
		return 200;
	fexecve(fd, (char *[]){"x", NULL}, (char *[]){NULL});
	return errno;
}

static int f_exec(void *a)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		/* argv[0] "true": a copy of busybox runs the applet of that name. */
		execv((const char *)a, (char *[]){"true", NULL});
		_exit(errno);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return 254;
	return WEXITSTATUS(st);
}

static int f_exec_self_then(void *a)
{
	execv(SELF, (char *[]){"kmod_genl", "exec", (char *)a, NULL});
	return errno;
}

static int f_mmap_exec(void *a)
{
	int fd = open(T "/ro/f", O_RDONLY);
	void *p;

	if (fd < 0)
		return 200;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	close(fd);
	return p == MAP_FAILED ? errno : 0;
}

static int f_mprotect_exec(void *a)
{
	int fd = open(T "/ro/f", O_RDONLY);
	void *p;

	if (fd < 0)
		return 200;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return 201;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
}

static int sock(int family, int type, int proto)
{
	int s = socket(family, type, proto);

	if (s < 0)
		return errno;
	close(s);
	return 0;
}

static int f_sock6(void *a) { return sock(AF_INET6, SOCK_STREAM, 0); }
static int f_sock4(void *a) { return sock(AF_INET, SOCK_STREAM, 0); }
static int f_sockraw(void *a) { return sock(AF_INET, SOCK_RAW, IPPROTO_ICMP); }

/* Run @fn in a child, inside the test cgroup when @inside; its errno, and its pid. */
static int run(bool inside, int (*fn)(void *), void *arg, pid_t *pidp)
{
	return cgtest_run_pid(inside ? cg : NULL, fn, arg, pidp);
}

struct kcase {
	const char *name;
	int (*fn)(void *);
	void *arg;
	int want;
	__u16 class, op;
	__u8 kind;
	__s32 index; /* -1: any */
	const char *path;  /* NULL: not a path event */
	__u8 verdict;	   /* 0: blocked */
	bool no_outside;   /* do not repeat outside */
	int exec_helper;   /* the event comes from a grandchild: match any pid of ours */
};

static const struct fng_event *find_ev(pid_t pid, __u16 op, bool any_pid)
{
	if (!any_pid)
		return wait_event(pid, op, 3000);
	for (int w = 0; w < 3000; w += 100) {
		for (int i = 0; i < n_ev; i++)
			if (evs[i].op == op && evs[i].cgroup_id == cgid && evs[i].pid != (__u32)getpid())
				return &evs[i];
		wait_event(-1, 0, 100);
	}
	return NULL;
}

static void check_case(const struct kcase *k)
{
	const struct fng_event *e;
	pid_t pid = 0;
	int got;

	tree();
	n_ev = 0;
	got = run(true, k->fn, k->arg, &pid);
	tap_check(got == k->want, "%s: inside the environment: %s (want %s)", k->name,
		  got ? strerror(got) : "success", k->want ? strerror(k->want) : "success");
	if (k->want || k->verdict) {
		e = find_ev(pid, k->op, k->exec_helper);
		tap_check(e != NULL, "%s: an event arrived on the multicast group", k->name);
		if (e) {
			__u8 v = k->verdict ? k->verdict : FNG_EVENT_BLOCKED;
			bool ok = e->class == k->class && e->op == k->op && e->verdict == v &&
				  e->rule_kind == k->kind && e->cgroup_id == cgid && e->policy_id &&
				  (k->index < 0 || e->rule_index == (__u32)k->index) &&
				  e->ts_ns && (k->exec_helper || e->tid == (__u32)pid);

			if (k->path)
				ok = ok && e->target_kind == FNG_TARGET_PATH &&
				     !strcmp(e->target.path, k->path) && e->syscall_nr > 0;
			tap_check(ok, "%s: event fields (class %u op %u verdict %u kind %u index %u "
				      "cgroup %s pid %u syscall %d comm '%.16s' path '%s')",
				  k->name, e->class, e->op, e->verdict, e->rule_kind, e->rule_index,
				  e->cgroup_id == cgid ? "ok" : "WRONG", e->pid, e->syscall_nr, e->comm,
				  e->target_kind == FNG_TARGET_PATH ? e->target.path : "-");
		}
	}
	if (k->no_outside)
		return;
	tree();
	n_ev = 0;
	got = run(false, k->fn, k->arg, &pid);
	tap_check(got == 0, "%s: outside the environment: %s", k->name,
		  got ? strerror(got) : "success");
	tap_check(wait_event(pid, 0, 300) == NULL, "%s: outside: no event", k->name);
}

/* ------------------------------------------------------------------ the rest */

static bool klog_clean(void)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = 0;
	return !strstr(buf, "Oops") && !strstr(buf, "BUG:") && !strstr(buf, "WARNING:") &&
	       !strstr(buf, "Call Trace");
}

static struct {
	volatile int stop;
	volatile long opens, fails;
} *shared;

static int f_open_loop(void *a)
{
	while (!shared->stop) {
		int fd = open(T "/ro/f", O_RDONLY);

		if (fd < 0)
			__sync_fetch_and_add(&shared->fails, 1);
		else
			close(fd);
		__sync_fetch_and_add(&shared->opens, 1);
	}
	return 0;
}

static int f_busy(void *a)
{
	for (;;) {
		int fd = open(T "/ro/f", O_RDWR);
		void *p;

		if (fd < 0)
			fd = open(T "/ro/f", O_RDONLY);
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
		close(fd);
		sock(AF_INET6, SOCK_DGRAM, 0);
	}
	return 0;
}

static pid_t spawn(bool inside, int (*fn)(void *))
{
	pid_t pid = fork();

	if (pid == 0) {
		if (inside && cgtest_enter(cg))
			_exit(255);
		_exit(fn(NULL));
	}
	return pid;
}

static bool module_loaded(void)
{
	return access("/sys/module/fnguard", F_OK) == 0;
}

static int load_module(void)
{
	int fd = open(KO, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return err;
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, "fnguard", O_NONBLOCK) ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct fng_policy_conf conf;
	struct kmt_reply info;
	int err, grp;

	if (argc == 3 && !strcmp(argv[1], "exec")) {
		execv(argv[2], (char *[]){argv[2], NULL});
		return errno;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!module_loaded()) {
		err = load_module();
		tap_check(err == 0, "load %s: %s", KO, strerror(-err));
		if (err)
			return tap_done();
	}
	cmd_sk = nl_open();
	ev_sk = nl_open();
	fam = cmd_sk ? genl_ctrl_resolve(cmd_sk, FNGUARD_GENL_NAME) : -1;
	grp = cmd_sk ? genl_ctrl_resolve_grp(cmd_sk, FNGUARD_GENL_NAME, FNGUARD_MCGRP_EVENTS) : -1;
	tap_check(fam > 0 && grp > 0, "generic netlink family '%s' and group '%s' resolve",
		  FNGUARD_GENL_NAME, FNGUARD_MCGRP_EVENTS);
	if (fam <= 0 || grp <= 0)
		return tap_done();
	nl_socket_disable_seq_check(ev_sk);
	nl_socket_modify_cb(ev_sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, NULL);
	tap_check(nl_socket_add_membership(ev_sk, grp) == 0, "join the events group");
	nl_socket_set_nonblocking(ev_sk);

	err = request(cmd_sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0}, (struct rules){0},
		      &info);
	tap_check(err == 0 && info.version == FNGUARD_GENL_VERSION && info.policies == 0 &&
		      info.have_counters,
		  "GET_INFO: version %u, %u policies, counters %s", info.version, info.policies,
		  info.have_counters ? "present" : "missing");

	if (cgtest_create("fng-kmod", cg, sizeof(cg)) < 0) {
		tap_check(0, "create the test cgroup");
		return tap_done();
	}
	cgid = cgtest_id(cg);
	tree();
	frules[0] = rule(T "/ro", FNG_RIGHT_READ, 0);
	frules[1] = rule(T "/rw", FNG_RIGHT_READ | FNG_RIGHT_WRITE, 1);
	frules[2] = rule(T "/w", FNG_RIGHT_WRITE, 2);
	frules[3] = rule(T "/none", 0, 3);
	xrules[0] = rule("/bin", 1, 0);
	xrules[1] = rule("/fnguard", 1, 1);

	/* Input validation and permissions. */
	conf = base_conf();
	conf.valid = 0;
	tap_check(install(&conf) == -EINVAL, "ENV_INSTALL with conf.valid 0: EINVAL");
	conf = base_conf();
	conf.pad[2] = 1;
	tap_check(install(&conf) == -EINVAL, "ENV_INSTALL with nonzero pad: EINVAL");
	{
		struct fnguard_rule bad = frules[0];

		bad.pad = 7;
		conf = base_conf();
		tap_check(request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, cgid, &conf,
				  (struct rules){&bad, 1}, (struct rules){0}, NULL) == -EINVAL,
			  "ENV_INSTALL with a rule's pad nonzero: EINVAL");
	}
	tap_check(request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, 0, &conf, (struct rules){0},
			  (struct rules){0}, NULL) == -EINVAL,
		  "ENV_INSTALL without CGROUP_ID: EINVAL");
	tap_check(request(cmd_sk, FNGUARD_CMD_ENV_REMOVE, cgid, NULL, (struct rules){0},
			  (struct rules){0}, NULL) == -ENOENT,
		  "ENV_REMOVE of an environment without policy: ENOENT");
	{
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct nl_sock *sk;
			struct fng_policy_conf c = base_conf();
			int e1, e2;

			if (setuid(65534))
				_exit(100);
			sk = nl_open();
			if (!sk)
				_exit(101);
			e1 = request(sk, FNGUARD_CMD_ENV_INSTALL, cgid, &c, (struct rules){frules, 4},
				     (struct rules){0}, NULL);
			e2 = request(sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0},
				     (struct rules){0}, NULL);
			_exit(e1 == -EPERM && e2 == 0 ? 0 : 102);
		}
		waitpid(pid, &st, 0);
		tap_check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "without CAP_SYS_ADMIN: ENV_INSTALL is EPERM, GET_INFO works (status %d)",
			  WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}

	conf = base_conf();
	err = install(&conf);
	tap_check(err == 0, "ENV_INSTALL on the test cgroup: %s", strerror(-err));
	request(cmd_sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0}, (struct rules){0}, &info);
	tap_check(info.policies == 1, "GET_INFO: 1 policy installed (%u)", info.policies);
	tap_check(unload_module() != 0 && module_loaded(),
		  "rmmod refused while a policy is installed");

	const struct kcase cases[] = {
	    {"open for read under a read rule", f_read_ro, NULL, 0, 0, 0, 0, 0, NULL, 0, false},
	    {"open for write under a read rule", f_write_ro, NULL, EACCES, FNG_CLASS_FILE,
	     FNG_OP_OPEN, FNG_RULE_ENTRY, 0, T "/ro/f"},
	    {"open a file whose own rule grants nothing", f_read_none, NULL, EACCES,
	     FNG_CLASS_FILE, FNG_OP_OPEN, FNG_RULE_ENTRY, 3, T "/none"},
	    {"open a file no rule covers (default deny)", f_read_other, NULL, EACCES,
	     FNG_CLASS_FILE, FNG_OP_OPEN, FNG_RULE_DEFAULT, -1, T "/other"},
	    {"create under a read rule", f_create_ro, NULL, EACCES, FNG_CLASS_FILE, FNG_OP_CREATE,
	     FNG_RULE_ENTRY, 0, T "/ro/new"},
	    {"unlink under a read rule", f_unlink_ro, NULL, EACCES, FNG_CLASS_FILE, FNG_OP_UNLINK,
	     FNG_RULE_ENTRY, 0, T "/ro/f"},
	    {"rename from write-only to read-write (gain)", f_rename_gain, NULL, EXDEV,
	     FNG_CLASS_FILE, FNG_OP_RENAME, FNG_RULE_CROSS, 1, T "/w/f"},
	    {"hard link of a denied file into a read-write tree (gain)", f_link_gain, NULL, EXDEV,
	     FNG_CLASS_FILE, FNG_OP_LINK, FNG_RULE_CROSS, 1, T "/other"},
	    {"RENAME_EXCHANGE that would gain rights", f_exchange_gain, NULL, EXDEV, FNG_CLASS_FILE,
	     FNG_OP_RENAME, FNG_RULE_CROSS, 1, T "/w/f"},
	    {"chmod under a read rule", f_chmod_ro, NULL, EACCES, FNG_CLASS_FILE, FNG_OP_SETATTR,
	     FNG_RULE_ENTRY, 0, T "/ro/f"},
	    {"utimes under a read rule (dentry-only hook)", f_utimes_ro, NULL, EACCES,
	     FNG_CLASS_FILE, FNG_OP_SETATTR, FNG_RULE_ENTRY, 0, T "/ro/f"},
	    {"setxattr under a read rule (dentry-only hook)", f_setxattr_ro, NULL, EACCES,
	     FNG_CLASS_FILE, FNG_OP_SETATTR, FNG_RULE_ENTRY, 0, T "/ro/f", 0, true},
	    {"memfd_create + fexecve (no path)", f_memfd_exec, NULL, EACCES, FNG_CLASS_EXEC,
	     FNG_OP_EXEC, FNG_RULE_NO_PATH, 0, "memfd:x", 0, true},
	    {"exec of an allowed file", f_exec, "/bin/true", 0, 0, 0, 0, 0, NULL},
	    {"exec of a file no exec entry covers", f_exec, T "/rw/bb", EACCES, FNG_CLASS_EXEC,
	     FNG_OP_EXEC, FNG_RULE_DEFAULT, -1, T "/rw/bb", 0, false, 1},
	    {"mmap PROT_EXEC of a file not allowed to run", f_mmap_exec, NULL, EACCES,
	     FNG_CLASS_EXEC, FNG_OP_MMAP, FNG_RULE_DEFAULT, -1, T "/ro/f"},
	    {"mprotect PROT_EXEC of a file mapping", f_mprotect_exec, NULL, EACCES, FNG_CLASS_EXEC,
	     FNG_OP_MPROTECT, FNG_RULE_DEFAULT, -1, T "/ro/f"},
	    {"socket(AF_INET)", f_sock4, NULL, 0, 0, 0, 0, 0, NULL},
	    {"socket(AF_INET6), a family not allowed", f_sock6, NULL, EPERM, FNG_CLASS_NETWORK,
	     FNG_OP_SOCKET, FNG_RULE_FAMILIES, 0, NULL},
	    {"raw ICMP socket while egress is restricted", f_sockraw, NULL, EPERM,
	     FNG_CLASS_NETWORK, FNG_OP_SOCKET, FNG_RULE_RAW, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
	{
		pid_t pid;
		const struct fng_event *e;

		n_ev = 0;
		run(true, f_sock6, NULL, &pid);
		e = wait_event(pid, FNG_OP_SOCKET, 3000);
		tap_check(e && e->target_kind == FNG_TARGET_ADDR && e->target.addr.family == AF_INET6 &&
			      e->target.addr.port == SOCK_STREAM && e->syscall_nr == -1,
			  "socket event: family %d type %d target kind %d",
			  e ? e->target.addr.family : -1, e ? e->target.addr.port : -1,
			  e ? e->target_kind : -1);
	}

	/* Too deep: the walk is cut at FNG_MAX_PATH_DEPTH and fails closed. */
	{
		char p[4096] = T "/rw";
		const struct fng_event *e;
		struct kmt_reply before, after;

		for (int i = 0; i < FNG_MAX_PATH_DEPTH + 4; i++) {
			strcat(p, "/d");
			mkdir(p, 0755);
		}
		strcat(p, "/f");
		touch(p);
		request(cmd_sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0}, (struct rules){0},
			&before);
		n_ev = 0;
		pid_t c = fork();
		if (c == 0) {
			if (cgtest_enter(cg))
				_exit(255);
			_exit(op_open(p, O_RDONLY));
		}
		int st;
		waitpid(c, &st, 0);
		tap_check(WIFEXITED(st) && WEXITSTATUS(st) == EACCES, "open deeper than %d levels: EACCES",
			  FNG_MAX_PATH_DEPTH);
		e = wait_event(c, FNG_OP_OPEN, 3000);
		tap_check(e && e->rule_kind == FNG_RULE_TOO_DEEP && !strncmp(e->target.path, "...", 3),
			  "deep: event kind TOO_DEEP, path cut with '...' ('%.40s')",
			  e ? e->target.path : "");
		request(cmd_sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0}, (struct rules){0},
			&after);
		tap_check(after.counters[FNGUARD_CNT_PATH_TOO_DEEP] >
				  before.counters[FNGUARD_CNT_PATH_TOO_DEEP],
			  "GET_INFO: PATH_TOO_DEEP counted (%llu -> %llu)",
			  (unsigned long long)before.counters[FNGUARD_CNT_PATH_TOO_DEEP],
			  (unsigned long long)after.counters[FNGUARD_CNT_PATH_TOO_DEEP]);
	}

	/* Audit mode: allowed, reported as audited. */
	conf = base_conf();
	conf.file_mode = FNG_ABI_AUDIT;
	conf.net_mode = FNG_ABI_AUDIT;
	tap_check(install(&conf) == 0, "replace with file and network audit mode");
	{
		const struct kcase audit[] = {
		    {"audit: open for write under a read rule", f_write_ro, NULL, 0, FNG_CLASS_FILE,
		     FNG_OP_OPEN, FNG_RULE_ENTRY, 0, T "/ro/f", FNG_EVENT_AUDITED, true},
		    {"audit: socket(AF_INET6)", f_sock6, NULL, 0, FNG_CLASS_NETWORK, FNG_OP_SOCKET,
		     FNG_RULE_FAMILIES, 0, NULL, FNG_EVENT_AUDITED, true},
		};
		for (size_t i = 0; i < 2; i++)
			check_case(&audit[i]);
	}

	/* children: deny: the first exec (the handler) runs, the next is refused. */
	conf = base_conf();
	conf.exec_children = FNG_ABI_DENY;
	tap_check(install(&conf) == 0, "replace with exec.children: deny");
	tap_check(request(cmd_sk, FNGUARD_CMD_ENV_RESET_EXECS, cgid, NULL, (struct rules){0},
			  (struct rules){0}, NULL) == 0,
		  "ENV_RESET_EXECS");
	{
		const struct kcase ch = {"children: deny: an exec after the handler's",
					 f_exec_self_then, "/bin/true", EACCES, FNG_CLASS_EXEC,
					 FNG_OP_EXEC, FNG_RULE_CHILDREN, 0, "/bin/busybox", 0, true};
		check_case(&ch);
	}
	conf = base_conf();
	conf.exec_children = FNG_ABI_DENY;
	install(&conf);
	{
		pid_t pid;

		tap_check(run(true, f_exec, "/bin/true", &pid) == EACCES,
			  "children: deny: the exec count survives a replace");
		request(cmd_sk, FNGUARD_CMD_ENV_RESET_EXECS, cgid, NULL, (struct rules){0},
			(struct rules){0}, NULL);
		tap_check(run(true, f_exec, "/bin/true", &pid) == 0,
			  "children: deny: after ENV_RESET_EXECS the next exec runs");
	}

	/* Atomic replace: two policies that both allow the read, alternating under a loop. */
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	{
		struct fnguard_rule a[2] = {frules[0], frules[3]};
		struct fnguard_rule b[3] = {rule(T "/ro/f", FNG_RIGHT_READ, 7), frules[3], frules[1]};
		struct fng_policy_conf ca = base_conf(), cb = base_conf();
		pid_t loop;
		int fails = 0, st;

		tree();
		cb.file_mode = FNG_ABI_ENFORCE;
		loop = spawn(true, f_open_loop);
		while (shared->opens < 10)
			usleep(1000);
		for (int i = 0; i < 200; i++) {
			if (i & 1)
				fails += request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, cgid, &cb,
						 (struct rules){b, 3}, (struct rules){xrules, 2},
						 NULL) != 0;
			else
				fails += request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, cgid, &ca,
						 (struct rules){a, 2}, (struct rules){xrules, 2},
						 NULL) != 0;
		}
		shared->stop = 1;
		waitpid(loop, &st, 0);
		tap_check(fails == 0 && shared->fails == 0 && shared->opens > 10,
			  "atomic replace: %ld opens during 200 alternating installs, %ld refused, "
			  "%d installs failed",
			  shared->opens, shared->fails, fails);
	}

	/* Many rules: more than one attribute's worth, and a lookup among them. */
	{
		static struct fnguard_rule many[5000];

		for (int i = 0; i < 4999; i++)
			many[i] = (struct fnguard_rule){.ino = 1000000 + i, .dev = 12345, .rights = 3,
							.index = i};
		many[4999] = rule(T "/ro", FNG_RIGHT_READ, 4999);
		conf = base_conf();
		err = request(cmd_sk, FNGUARD_CMD_ENV_INSTALL, cgid, &conf, (struct rules){many, 5000},
			      (struct rules){xrules, 2}, NULL);
		tap_check(err == 0, "install 5000 file rules in two attributes: %s", strerror(-err));
		pid_t pid;

		n_ev = 0;
		tap_check(run(true, f_write_ro, NULL, &pid) == EACCES &&
			      run(true, f_read_ro, NULL, &pid) == 0,
			  "5000 rules: the rule on /tmp/kt/ro decides");
	}

	request(cmd_sk, FNGUARD_CMD_GET_INFO, 0, NULL, (struct rules){0}, (struct rules){0}, &info);
	tap_check(info.counters[FNGUARD_CNT_DECISIONS] > 0 && info.counters[FNGUARD_CNT_MAP_FAIL] == 0 &&
		      info.counters[FNGUARD_CNT_PROBE_MISSED] == 0 &&
		      info.counters[FNGUARD_CNT_EVENTS_DROPPED] == 0,
		  "GET_INFO counters: %llu decisions, %llu map failures, %llu missed, %llu dropped",
		  (unsigned long long)info.counters[FNGUARD_CNT_DECISIONS],
		  (unsigned long long)info.counters[FNGUARD_CNT_MAP_FAIL],
		  (unsigned long long)info.counters[FNGUARD_CNT_PROBE_MISSED],
		  (unsigned long long)info.counters[FNGUARD_CNT_EVENTS_DROPPED]);

	/* Unload under load: busy tasks in and out of the environment hit every probe. */
	{
		pid_t busy[3];

		conf = base_conf();
		install(&conf);
		tree();
		busy[0] = spawn(true, f_busy);
		busy[1] = spawn(true, f_busy);
		busy[2] = spawn(false, f_busy);
		usleep(300000);
		err = request(cmd_sk, FNGUARD_CMD_ENV_REMOVE, cgid, NULL, (struct rules){0},
			      (struct rules){0}, NULL);
		tap_check(err == 0, "ENV_REMOVE: %s", strerror(-err));
		tap_check(request(cmd_sk, FNGUARD_CMD_ENV_REMOVE, cgid, NULL, (struct rules){0},
				  (struct rules){0}, NULL) == -ENOENT,
			  "ENV_REMOVE again: ENOENT");
		nl_socket_free(cmd_sk);
		nl_socket_free(ev_sk);
		usleep(100000);
		err = unload_module();
		tap_check(err == 0 && !module_loaded(),
			  "rmmod with no policy while 3 tasks hit the probes: %s", strerror(-err));
		for (int i = 0; i < 3; i++) {
			kill(busy[i], SIGKILL);
			waitpid(busy[i], NULL, 0);
		}
		tap_check(klog_clean(), "kernel log: no oops, bug, warning or call trace lines");
		err = load_module();
		tap_check(err == 0, "the module loads again: %s", strerror(-err));
	}
	rmdir(cg);
	return tap_done();
}
