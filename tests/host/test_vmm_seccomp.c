// SPDX-License-Identifier: Apache-2.0
/*
 * The VMM's seccomp allow list (daemon/vmm_seccomp.c), loaded for real in a child: what an
 * escaped QEMU would try next (namespaces by clone or unshare, io_uring, netlink sockets, a new
 * process) fails with EPERM, clone3 with ENOSYS, and a thread still starts. Without the filter
 * the same child makes the namespaces (as root), so the test can tell. And the tables: every
 * entry a known syscall with a reason, once, and none of the never-allowed ones allowed.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <seccomp.h>

#include "vmm_seccomp.h"

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)

/*
 * Under the filter the child may only make QEMU's calls, and AddressSanitizer makes one QEMU
 * does not: sigaltstack, for every new thread and before every noreturn call. So no alternate
 * signal stacks here, and the child ends by exit_group through syscall() (not noreturn).
 */
const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void) { return "use_sigaltstack=0"; }

static void child_exit(int code)
{
	syscall(SYS_exit_group, code);
}

/* What the child saw: 0 when the call worked, else its errno; 255: could not be tried. */
enum probe {
	P_LOAD,
	P_CLONE_NS,
	P_UNSHARE,
	P_IO_URING,
	P_CLONE3,
	P_NETLINK,
	P_FORK,
	P_THREAD,
	P_NEVER, /* the first never-allowed call that did not fail with EPERM, +1000, or 0 */
	P_N,
};

/* A fork-like clone (no CLONE_VM, no stack): the child exits at once. */
static int try_clone(long pid)
{
	int status;

	if (pid < 0)
		return errno;
	if (pid == 0)
		child_exit(0);
	return waitpid((pid_t)pid, &status, 0) == pid ? 0 : 255;
}

static void *thread_main(void *arg) { return arg; }

static int try_thread(void)
{
	static int token;
	pthread_t t;
	void *out = NULL;
	int err = pthread_create(&t, NULL, thread_main, &token);

	if (err)
		return err;
	return pthread_join(t, &out) || out != &token ? 255 : 0;
}

/* Each never-allowed call, with arguments that make it fail harmlessly (bad pointers, bad
 * flags) should the filter let it through. fork and vfork are tried as P_FORK. */
static int try_never(void)
{
	for (size_t i = 0; i < vmm_never_len; i++) {
		int nr = seccomp_syscall_resolve_name(vmm_never[i].name);

		if (nr == __NR_SCMP_ERROR || !strcmp(vmm_never[i].name, "fork") ||
		    !strcmp(vmm_never[i].name, "vfork"))
			continue;
		if (syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L) != -1 || errno != EPERM)
			return 1000 + (int)i;
	}
	return 0;
}

/* Runs every probe in a child, under the filter or not, and collects the answers. */
static void probe_all(bool filter, int got[P_N])
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct io_uring_params params = {0};
		struct clone_args args = {.exit_signal = SIGCHLD};
		int r[P_N] = {0}, fd;

		close(fds[0]);
		r[P_LOAD] = filter ? -vmm_seccomp_load(false) : 0;
		r[P_CLONE_NS] = try_clone(syscall(SYS_clone, NS_FLAGS | SIGCHLD, 0, 0, 0, 0));
		r[P_UNSHARE] = unshare(CLONE_NEWUSER) ? errno : 0;
		fd = (int)syscall(SYS_io_uring_setup, 4, &params);
		r[P_IO_URING] = fd < 0 ? errno : 0;
		r[P_CLONE3] = try_clone(syscall(SYS_clone3, &args, sizeof(args)));
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
		r[P_NETLINK] = fd < 0 ? errno : 0;
		r[P_FORK] = try_clone(fork());
		r[P_THREAD] = try_thread();
		/* Only where the filter is known to be in force: the calls are real otherwise. */
		r[P_NEVER] = filter && r[P_LOAD] == 0 && r[P_UNSHARE] == EPERM ? try_never() : 255;
		child_exit(write(fds[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	memset(got, 0xff, sizeof(int) * P_N);
	assert_int_equal(read(fds[0], got, sizeof(int) * P_N), sizeof(int) * P_N);
	close(fds[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void test_filter_denies(void **state)
{
	int got[P_N];

	(void)state;
	probe_all(true, got);
	assert_int_equal(got[P_LOAD], 0);
	assert_int_equal(got[P_CLONE_NS], EPERM);
	assert_int_equal(got[P_UNSHARE], EPERM);
	assert_int_equal(got[P_IO_URING], EPERM);
	assert_int_equal(got[P_CLONE3], ENOSYS);
	assert_int_equal(got[P_NETLINK], EPERM);
	assert_int_equal(got[P_FORK], EPERM);
	/* QEMU's threads: clone3 gets ENOSYS, glibc falls back to clone with CLONE_THREAD. */
	assert_int_equal(got[P_THREAD], 0);
	if (got[P_NEVER])
		fail_msg("never-allowed %s did not fail with EPERM (%d)",
			 got[P_NEVER] >= 1000 ? vmm_never[got[P_NEVER] - 1000].name : "?",
			 got[P_NEVER]);
}

/* Without the filter the same calls work: what made the difference above is the filter. */
static void test_without_filter(void **state)
{
	int got[P_N];

	(void)state;
	if (geteuid() != 0) {
		/* unprivileged: CLONE_NEWNS and CLONE_NEWNET may fail without a filter */
		print_message("needs root (CLONE_NEWNS and CLONE_NEWNET)\n");
		skip();
	}
	probe_all(false, got);
	assert_int_equal(got[P_CLONE_NS], 0);
	assert_int_equal(got[P_UNSHARE], 0);
	assert_int_equal(got[P_CLONE3], 0);
	assert_int_equal(got[P_NETLINK], 0);
	assert_int_equal(got[P_FORK], 0);
	assert_int_equal(got[P_THREAD], 0);
}

static bool listed(const struct vmm_syscall *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return true;
	return false;
}

static void check_table(const struct vmm_syscall *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (seccomp_syscall_resolve_name(t[i].name) == __NR_SCMP_ERROR)
			fail_msg("'%s' is not a syscall libseccomp knows", t[i].name);
		assert_true(t[i].why && strlen(t[i].why) > 8);
		if (listed(t, i, t[i].name))
			fail_msg("'%s' is listed twice", t[i].name);
	}
}

static void test_tables(void **state)
{
	(void)state;
	check_table(vmm_allow, vmm_allow_len);
	check_table(vmm_allow_kvm, vmm_allow_kvm_len);
	check_table(vmm_never, vmm_never_len);
	for (size_t i = 0; i < vmm_never_len; i++) {
		if (listed(vmm_allow, vmm_allow_len, vmm_never[i].name) ||
		    listed(vmm_allow_kvm, vmm_allow_kvm_len, vmm_never[i].name))
			fail_msg("'%s' is allowed and never allowed", vmm_never[i].name);
	}
	for (size_t i = 0; i < vmm_allow_kvm_len; i++)
		if (listed(vmm_allow, vmm_allow_len, vmm_allow_kvm[i].name))
			fail_msg("'%s' is in both allow lists", vmm_allow_kvm[i].name);
	/* The KVM filter loads too (in a child: a filter cannot be unloaded). */
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0)
		child_exit(vmm_seccomp_load(true) ? 1 : 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	print_message("# vmm allow list: %zu entries, %zu more with KVM, %zu never allowed\n",
		      vmm_allow_len, vmm_allow_kvm_len, vmm_never_len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_denies),
	    cmocka_unit_test(test_without_filter),
	    cmocka_unit_test(test_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
