// SPDX-License-Identifier: Apache-2.0
/*
 * Bench (no BPF LSM): the module's generic netlink input, fuzzed. N random requests (random
 * commands, attributes of random types and lengths, random or half-valid policies, real and
 * made-up cgroup ids), sent raw with libnl, while a child process of an environment keeps
 * opening files. Then: the module still answers, a valid policy still installs and denies,
 * every installed policy can be removed, and the kernel log has no oops (kmod_fuzz.sh then
 * unloads the module).
 *
 *   kmod_fuzz [N] [SEED]
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "fnguard_abi.h"
#include "fnguard_genl.h"
#include "cgtest.h"
#include "kmodtest.h"
#include "tap.h"

#define CG "/sys/fs/cgroup/kmod-fuzz"
#define SECRET "/tmp/kmod-fuzz-secret"

static struct nl_sock *sk;
static int fam;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Send @msg (consumed); the kernel's errno, or -EIO. */
static int send_wait(struct nl_msg *m, struct kmt_reply *r)
{
	return kmt_send_wait(sk, m, r);
}

static struct nl_msg *msg_new(int cmd)
{
	struct nl_msg *m = nlmsg_alloc_size(1 << 20);

	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0, cmd, FNGUARD_GENL_VERSION);
	return m;
}

static uint32_t kdev(dev_t d)
{
	return major(d) << 20 | minor(d);
}

static struct fng_policy_conf valid_conf(void)
{
	struct fng_policy_conf c = {.valid = 1, .file_default = FNG_ABI_ALLOW,
				    .exec_default = FNG_ABI_ALLOW, .exec_children = FNG_ABI_ALLOW,
				    .egress_default = FNG_ABI_ALLOW, .loopback = FNG_ABI_ALLOW,
				    .bind = FNG_ABI_ALLOW, .families = ~0ULL};
	return c;
}

/* A valid policy for @id: SECRET readable by nobody. */
static int install_valid(uint64_t id)
{
	struct fng_policy_conf c = valid_conf();
	struct fnguard_rule r = {0};
	struct stat st;
	struct kmt_reply rep;
	struct nl_msg *m = msg_new(FNGUARD_CMD_ENV_INSTALL);

	if (stat(SECRET, &st))
		return -errno;
	r.dev = kdev(st.st_dev);
	r.ino = st.st_ino;
	nla_put_u64(m, FNGUARD_A_CGROUP_ID, id);
	nla_put(m, FNGUARD_A_CONF, sizeof(c), &c);
	nla_put(m, FNGUARD_A_FILE_RULES, sizeof(r), &r);
	return send_wait(m, &rep);
}

static int simple(int cmd, uint64_t id, struct kmt_reply *rep)
{
	struct nl_msg *m = msg_new(cmd);

	if (cmd != FNGUARD_CMD_GET_INFO)
		nla_put_u64(m, FNGUARD_A_CGROUP_ID, id);
	return send_wait(m, rep);
}

/* One random request; 1 when the module accepted an ENV_INSTALL. */
static int fuzz_one(uint64_t real_id, uint64_t *ids, int n_ids)
{
	static const int cmds[] = {FNGUARD_CMD_UNSPEC, FNGUARD_CMD_GET_INFO, FNGUARD_CMD_ENV_INSTALL,
				   FNGUARD_CMD_ENV_INSTALL, FNGUARD_CMD_ENV_INSTALL,
				   FNGUARD_CMD_ENV_REMOVE, FNGUARD_CMD_ENV_RESET_EXECS,
				   FNGUARD_CMD_EVENT, 6, 200};
	int cmd = cmds[rnd() % (sizeof(cmds) / sizeof(cmds[0]))];
	struct nl_msg *m = msg_new(cmd);
	int n_attrs = (int)(rnd() % 6);
	struct kmt_reply rep;
	static uint8_t buf[70000];

	/* Half the installs start as a valid message (id, conf, rules) that the random
	 * attributes below then add to: replaces, duplicate inodes, extra rule batches. */
	if (cmd == FNGUARD_CMD_ENV_INSTALL && rnd() % 2) {
		struct fng_policy_conf c = valid_conf();
		uint64_t id = ids[rnd() % n_ids];

		c.file_default = (uint8_t)(rnd() % 2);
		c.file_mode = (uint8_t)(rnd() % 2);
		nla_put_u64(m, FNGUARD_A_CGROUP_ID, rnd() % 2 ? real_id : id);
		nla_put(m, FNGUARD_A_CONF, sizeof(c), &c);
	}
	for (int i = 0; i < n_attrs; i++) {
		int type = (int)(rnd() % (FNGUARD_A_MAX + 3));
		size_t len;

		switch (rnd() % 4) {
		case 0: /* a random blob */
			len = rnd() % 300;
			/* Never a whole random cgroup id: every id installed must be one we know,
			 * so that all can be removed at the end. */
			if (type == FNGUARD_A_CGROUP_ID && len == sizeof(uint64_t))
				len++;
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)rnd();
			break;
		case 1: /* a conf, nearly valid */
		{
			struct fng_policy_conf c = valid_conf();

			((uint8_t *)&c)[rnd() % sizeof(c)] = (uint8_t)rnd();
			memcpy(buf, &c, sizeof(c));
			len = sizeof(c) - (rnd() % 3 == 0 ? rnd() % sizeof(c) : 0);
			break;
		}
		case 2: /* rules, random contents, sometimes many */
		{
			size_t n = rnd() % 5 == 0 ? rnd() % 2730 : rnd() % 8;
			struct fnguard_rule *r = (struct fnguard_rule *)buf;

			for (size_t k = 0; k < n; k++) {
				r[k].ino = rnd() % 64;
				r[k].dev = (uint32_t)(rnd() % 4);
				r[k].rights = (uint32_t)(rnd() % 5);
				r[k].index = (uint32_t)rnd();
				r[k].pad = rnd() % 8 == 0 ? (uint32_t)rnd() : 0;
			}
			len = n * sizeof(*r) + (rnd() % 6 == 0 ? rnd() % 24 : 0);
			break;
		}
		default: /* a cgroup id: the real one, a known one, or any */
		{
			uint64_t id = rnd() % 3 == 0 ? real_id : ids[rnd() % n_ids];

			memcpy(buf, &id, sizeof(id));
			len = rnd() % 4 == 0 ? rnd() % 8 : sizeof(id);
			break;
		}
		}
		if (nla_put(m, type, (int)len, buf) < 0)
			break;
	}
	return send_wait(m, &rep) == 0 && cmd == FNGUARD_CMD_ENV_INSTALL;
}

static void opener(void)
{
	/* Keeps the probes busy from inside the environment until killed. */
	for (;;) {
		int fd = open(SECRET, O_RDONLY);

		if (fd >= 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000, accepted = 0;
	uint64_t ids[8], real_id;
	struct kmt_reply rep;
	pid_t child;
	char log[1 << 16];
	int len, fd, err;

	rng = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x9e3779b97f4a7c15ULL;
	printf("# %ld requests, seed %#llx\n", n, (unsigned long long)rng);
	fd = open(SECRET, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	tap_check(fd >= 0 && write(fd, "x\n", 2) == 2, "the secret file exists");
	if (fd >= 0)
		close(fd);
	tap_check(mkdir(CG, 0755) == 0 || errno == EEXIST, "test cgroup " CG);
	real_id = cgtest_id(CG);
	for (int i = 0; i < 8; i++)
		ids[i] = real_id + (uint64_t)i;
	sk = nl_socket_alloc();
	tap_check(sk && genl_connect(sk) == 0, "generic netlink socket");
	nl_socket_set_buffer_size(sk, 1 << 22, 1 << 22);
	fam = genl_ctrl_resolve(sk, FNGUARD_GENL_NAME);
	tap_check(fam > 0, "the fnguard family resolves");
	if (fam <= 0)
		return tap_done();
	klogctl(5, NULL, 0); /* clear the kernel log */

	child = fork();
	if (child == 0) {
		cgtest_enter(CG);
		opener();
		_exit(0);
	}
	for (long i = 0; i < n; i++)
		accepted += fuzz_one(real_id, ids, 8);
	tap_diag("%ld of %ld requests were installs the module accepted", accepted, n);
	tap_check(accepted > 0, "the fuzzer reached accepted installs (%ld)", accepted);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	/* Asked first: the arguments of tap_check are evaluated in no fixed order. */
	err = simple(FNGUARD_CMD_GET_INFO, 0, &rep);
	tap_check(err == 0, "the module still answers GET_INFO (%u environment(s) installed)",
		  err == 0 ? rep.policies : 0);
	tap_check(install_valid(real_id) == 0, "a valid policy still installs");
	child = fork();
	if (child == 0) {
		cgtest_enter(CG);
		_exit(open(SECRET, O_RDONLY) < 0 && errno == EACCES ? 0 : 1);
	}
	{
		int st = 0;

		waitpid(child, &st, 0);
		tap_check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "... and denies: open of the secret in the environment fails with EACCES");
	}
	tap_check(open(SECRET, O_RDONLY) >= 0, "... and not outside it");
	/* Every id the fuzzer could have installed is one of ids[] (ids[0] is the real one). */
	for (int i = 0; i < 8; i++)
		simple(FNGUARD_CMD_ENV_REMOVE, ids[i], &rep);
	simple(FNGUARD_CMD_GET_INFO, 0, &rep);
	tap_check(rep.policies == 0, "every policy removed (%u left)", rep.policies);
	nl_socket_free(sk);
	rmdir(CG);
	len = klogctl(3, log, sizeof(log) - 1);
	if (len < 0)
		len = 0;
	log[len] = 0;
	tap_check(!strstr(log, "Oops") && !strstr(log, "BUG:") && !strstr(log, "WARNING:") &&
		      !strstr(log, "Call Trace"),
		  "no oops, BUG or warning in the kernel log");
	return tap_done();
}
