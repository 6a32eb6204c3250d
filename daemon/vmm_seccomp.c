// SPDX-License-Identifier: Apache-2.0
/*
 * The VMM's seccomp filter: an allow list, in the manner of Firecracker's jailer. Every entry
 * says why QEMU needs it; everything else fails with EPERM.
 *
 * Where the list comes from: strace -f of the daemon through a cold start, invocations and a
 * stop of microVM environments under TCG (tests/host-root/microvm.sh), from the filter's load in the
 * jail child on (the execve, the dynamic loader, QEMU and all its threads), and of the KVM probe
 * guest for the KVM entries. Calls QEMU only probes and copes without are left out on
 * purpose: io_uring_setup (its AIO contexts then use epoll and ppoll), setsockopt
 * (SO_ZEROCOPY on the control channel), clone3 (ENOSYS: glibc then uses clone), and what only
 * the unjailed probe did (libnuma's fchdir and getdents64 in /sys, which the jail lacks).
 *
 * EPERM rather than killing the VMM: glibc and QEMU probe optional features and fall back when
 * a call fails; a path we could not run here (KVM, error paths) that meets a missing entry then
 * loses one feature instead of killing a guest in the middle of an invocation. A denied call
 * does nothing either way, so killing buys no safety; what an escaped VMM could do is bounded
 * by the allow list, not by the action.
 *
 * This filter sits under QEMU's own -sandbox (which QEMU loads once started, and which kills on
 * spawning, raising privileges and obsolete calls): both run on every call and the stricter
 * answer wins, so -sandbox cannot widen what is allowed here.
 */
#include <errno.h>
#include <seccomp.h>
#include <sys/prctl.h>

#include "log.h"
#include "seccomp_notify.h"
#include "vmm_seccomp.h"

/* The tables leave .rule out where it is VMM_ANY (0). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ioctl request numbers: _IOC_TYPE is bits 8..15; KVM's is KVMIO. */
#define IOC_TYPE_MASK 0xff00ul
#define KVMIO_TYPE (0xaeul << 8)

const struct vmm_syscall vmm_allow[] = {
    /* Starting QEMU: the execve itself, then the dynamic loader and libc's start-up. */
    {"execve", "the exec of QEMU itself (the filter is loaded just before; -sandbox then kills "
	       "any later one)"},
    {"brk", "the loader's and malloc's heap"},
    {"arch_prctl", "the loader sets the thread pointer (ARCH_SET_FS)"},
    {"access", "the loader looks for ld.so.preload; QEMU for its firmware and modules"},
    {"openat", "the loader opens libraries; QEMU its firmware, kernel, initrd, console log"},
    {"newfstatat", "fstat/stat of the files it opens (glibc's fstat is newfstatat)"},
    {"read", "libraries, firmware, kernel, initrd; eventfds and signalfd"},
    {"pread64", "the loader reads ELF headers; virtio-blk reads of the read-only drives"},
    {"preadv", "virtio-blk reads of the read-only drives (a runtime's root and the code), "
	       "several segments at once"},
    {"close", "every fd it opens"},
    {"mmap", "libraries, guest RAM, thread stacks, TCG's translation buffer"},
    {"mprotect", "relocations; TCG's translation buffer is made executable"},
    {"munmap", "freed memory and the loader's temporary maps"},
    {"set_tid_address", "libc's start-up and every new thread"},
    {"set_robust_list", "libc's start-up and every new thread (robust futexes)"},
    {"rseq", "libc registers restartable sequences for every thread"},
    {"prlimit64", "libc reads the stack limit (getrlimit)"},
    {"getrandom", "libc's malloc and stack protector seeds, glib's hash tables"},
    /* QEMU's set-up and main loop. */
    {"readlink", "/proc/self/exe, to find its data directory (absent in the jail: it falls back)"},
    {"statfs", "libselinux looks for selinuxfs (absent in the jail)"},
    {"lseek", "sizes of the kernel and initrd it loads"},
    {"write", "the serial console's log file, eventfd notifications"},
    {"writev", "the serial console's log file"},
    {"fcntl", "O_NONBLOCK and FD_CLOEXEC on its fds"},
    {"eventfd2", "its event notifiers (main loop, virtio queues; with KVM, ioeventfds)"},
    {"signalfd4", "its main loop reads SIGBUS, SIGALRM and SIGIO from a signalfd"},
    {"memfd_create", "probes memfd support for its memory backends"},
    {"madvise", "guest RAM hints (MADV_DONTFORK, MADV_HUGEPAGE, MADV_DONTDUMP)"},
    {"mremap", "glibc's realloc() of large blocks"},
    {"get_mempolicy", "libnuma's constructor (linked into QEMU) reads the memory policy"},
    {"set_mempolicy", "libnuma's constructor probes MPOL_PREFERRED_MANY"},
    {"sysinfo", "QEMU sizes its RCU and TCG buffers by the host's RAM"},
    {"sched_getaffinity", "glib counts the CPUs it may use"},
    {"ppoll", "the main loop and the AIO context wait on their fds"},
    {"epoll_create1", "each AIO context keeps an epoll instance (denied, QEMU complains on "
		      "stderr at every start)"},
    {"epoll_ctl", "an AIO context past 64 fds moves them to its epoll instance (fdmon-epoll)"},
    {"epoll_wait", "an AIO context past 64 fds waits with epoll (fdmon-epoll)"},
    {"futex", "mutexes and condition variables between QEMU's threads"},
    {"clock_nanosleep", "g_usleep, RCU's grace periods"},
    {"clock_gettime", "the vDSO's fallback when the clock source cannot be read in user space"},
    {"gettimeofday", "the vDSO's fallback, as clock_gettime"},
    {"restart_syscall", "the kernel restarts a sleep a signal interrupted"},
    {"gettid", "thread ids for QEMU's thread bookkeeping"},
    {"getpid", "raise() and pthread_kill() name the process"},
    {"tgkill", "raise() and abort(), and KVM's vCPU kicks; its pid namespace holds only itself"},
    {"rt_sigaction", "signal handlers (SIGBUS for guest RAM, the vCPU kick signal)"},
    {"rt_sigprocmask", "threads block signals; the main loop unblocks them"},
    {"rt_sigreturn", "the return from every signal handler"},
    {"exit", "a thread ends"},
    {"exit_group", "QEMU exits (the guest powered off, or an error)"},
    /* Threads only: no process, no namespace (VMM_THREAD). */
    {"clone", "QEMU's threads (RCU, vCPUs, workers): only with CLONE_THREAD, no CLONE_NEW*",
     VMM_THREAD},
    {"clone3", "its flags are in memory, where seccomp cannot check them: ENOSYS, so glibc's "
	       "pthread_create falls back to clone",
     VMM_ENOSYS},
    /* The control channel (-chardev socket,fd=3): a connected socket it is given, never one
     * it makes (socket, connect, bind are not here). setsockopt is not here either: QEMU only
     * tries SO_ZEROCOPY on it, and goes on without. */
    {"recvmsg", "reads the control channel"},
    {"sendmsg", "writes the control channel"},
    {"getsockname", "the socket chardev asks its fd's address family"},
    {"getpeername", "the socket chardev names its peer"},
    {"getsockopt", "the socket chardev checks its fd is a stream socket"},
    /* Its own -sandbox. */
    {"seccomp", "QEMU's -sandbox loads its filter (libseccomp probes first); a filter only "
		"takes rights away"},
    {"prctl", "PR_SET_NO_NEW_PRIVS (libseccomp), PR_SET_TIMERSLACK, PR_MCE_KILL only",
     VMM_PRCTL},
};
const size_t vmm_allow_len = sizeof(vmm_allow) / sizeof(vmm_allow[0]);

const struct vmm_syscall vmm_allow_kvm[] = {
    {"ioctl", "KVM's own ioctls (type 0xAE) on /dev/kvm, the VM and its vCPUs; TCG makes none",
     VMM_IOCTL_KVM},
    {"uname", "QEMU's KVM set-up checks the host kernel's release"},
};
const size_t vmm_allow_kvm_len = sizeof(vmm_allow_kvm) / sizeof(vmm_allow_kvm[0]);

/* Never allowed, each for its reason; the filter denies them as it denies everything it does
 * not list, and the unit test makes sure no allow entry ever names one. */
const struct vmm_syscall vmm_never[] = {
    {"ptrace", "inspecting or injecting into other processes"},
    {"process_vm_readv", "reading other processes' memory"},
    {"process_vm_writev", "writing other processes' memory"},
    {"bpf", "loading kernel programs, reading maps"},
    {"perf_event_open", "kernel profiling, a frequent exploit primitive"},
    {"init_module", "loading kernel modules"},
    {"finit_module", "loading kernel modules"},
    {"delete_module", "unloading kernel modules"},
    {"kexec_load", "replacing the running kernel"},
    {"kexec_file_load", "replacing the running kernel"},
    {"mount", "changing the jail's mounts"},
    {"umount2", "uncovering what the jail's mounts hide"},
    {"fsopen", "the new mount API: mounting file systems"},
    {"fsmount", "the new mount API: mounting file systems"},
    {"open_tree", "the new mount API: cloning mounts"},
    {"move_mount", "the new mount API: attaching mounts"},
    {"pivot_root", "changing the jail's root"},
    {"chroot", "changing the jail's root"},
    {"unshare", "new namespaces (user namespaces give capabilities back)"},
    {"setns", "joining other namespaces"},
    {"fork", "a new process: the VMM only ever makes threads"},
    {"vfork", "a new process: the VMM only ever makes threads"},
    {"execveat", "a second exec"},
    {"socket", "new sockets (netlink ones reach netfilter, routing, audit)"},
    {"io_uring_setup", "asynchronous calls this filter would not see"},
    {"io_uring_enter", "asynchronous calls this filter would not see"},
    {"io_uring_register", "asynchronous calls this filter would not see"},
    {"keyctl", "the kernel keyrings of the host"},
    {"add_key", "the kernel keyrings of the host"},
    {"request_key", "the kernel keyrings of the host"},
    {"userfaultfd", "a frequent exploit primitive (race widening)"},
    {"open_by_handle_at", "opening host files by handle, around the jail's root"},
    {"name_to_handle_at", "file handles of host files"},
    {"acct", "process accounting of the host"},
    {"swapon", "the host's swap"},
    {"swapoff", "the host's swap"},
    {"reboot", "the host's power"},
    {"settimeofday", "the host's clock"},
    {"clock_settime", "the host's clock"},
    {"adjtimex", "the host's clock"},
    {"syslog", "the host kernel's log"},
};
const size_t vmm_never_len = sizeof(vmm_never) / sizeof(vmm_never[0]);

static int rule_add(scmp_filter_ctx ctx, const struct vmm_syscall *s)
{
	int nr = seccomp_syscall_resolve_name(s->name);

	/* A name the libseccomp in use does not know: refuse to start rather than run QEMU
	 * without a call it needs (or with a rule we meant to have missing). */
	if (nr == __NR_SCMP_ERROR) {
		log_warnx("vmm seccomp: '%s' is unknown to libseccomp", s->name);
		return -ENOSYS;
	}
	switch (s->rule) {
	case VMM_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case VMM_THREAD:
		/* One comparison: CLONE_THREAD set, every namespace flag clear. */
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A0(SCMP_CMP_MASKED_EQ,
						(unsigned long)(FNG_CLONE_NS_FLAGS | CLONE_THREAD),
						(unsigned long)CLONE_THREAD));
	case VMM_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	case VMM_PRCTL: {
		static const int options[] = {PR_SET_NO_NEW_PRIVS, PR_SET_TIMERSLACK, PR_MCE_KILL};
		int err = 0;

		for (size_t i = 0; i < sizeof(options) / sizeof(options[0]) && !err; i++)
			err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					       SCMP_A0(SCMP_CMP_EQ, (unsigned long)options[i]));
		return err;
	}
	case VMM_IOCTL_KVM:
		/* QEMU passes the request as an int, so it may arrive sign-extended: only the
		 * type byte is compared (the kernel reads 32 bits). */
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A1(SCMP_CMP_MASKED_EQ, IOC_TYPE_MASK, KVMIO_TYPE));
	}
	return -EINVAL;
}

int vmm_seccomp_load(bool kvm)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int err = 0;

	if (!ctx)
		return -ENOMEM;
	/* A binary tree of syscall numbers: QEMU's hot calls (ppoll, futex, read) pay log(n). */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; i < vmm_allow_len && !err; i++)
		err = rule_add(ctx, &vmm_allow[i]);
	for (size_t i = 0; kvm && i < vmm_allow_kvm_len && !err; i++)
		err = rule_add(ctx, &vmm_allow_kvm[i]);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}
