// SPDX-License-Identifier: Apache-2.0
/*
 * Bench: a cgroup connect4 program denies a TCP connect for a process in a test cgroup, not for
 * one outside it, and not to another port. Loopback only.
 */
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probe_connect.skel.h"
#include "tap.h"
#include "cgtest.h"

static int listen_on(unsigned short port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		return -errno;
	return fd;
}

static int try_connect(void *arg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(*(unsigned short *)arg)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = errno;
	close(fd);
	return err;
}

int main(void)
{
	unsigned short denied_port = 7001, open_port = 7002;
	struct probe_connect *skel;
	struct bpf_link *link = NULL;
	char cg[256];
	int cgfd, l1, l2, err;

	l1 = listen_on(denied_port);
	l2 = listen_on(open_port);
	tap_check(l1 >= 0 && l2 >= 0, "loopback listeners on %u and %u", denied_port, open_port);
	cgfd = cgtest_create("fng-net", cg, sizeof(cg));
	tap_check(cgfd >= 0, "test cgroup created (%d)", cgfd);

	skel = probe_connect__open();
	if (!skel) {
		tap_check(0, "probe_connect opens");
		return tap_done();
	}
	skel->rodata->deny_port = denied_port;
	err = probe_connect__load(skel);
	tap_check(err == 0, "cgroup connect4 program loads (%d)", err);
	if (!err) {
		link = bpf_program__attach_cgroup(skel->progs.fng_probe_connect4, cgfd);
		tap_check(link != NULL, "connect4 program attaches to the test cgroup");
	}

	tap_check(cgtest_run(cg, try_connect, &denied_port) == EPERM,
		  "connect to 127.0.0.1:%u inside the cgroup fails with EPERM", denied_port);
	tap_check(cgtest_run(cg, try_connect, &open_port) == 0,
		  "connect to 127.0.0.1:%u inside the cgroup succeeds", open_port);
	tap_check(cgtest_run(NULL, try_connect, &denied_port) == 0,
		  "connect to 127.0.0.1:%u outside the cgroup succeeds", denied_port);

	bpf_link__destroy(link);
	probe_connect__destroy(skel);
	tap_check(cgtest_run(cg, try_connect, &denied_port) == 0,
		  "after detaching, the same connect inside the cgroup succeeds");
	rmdir(cg);
	return tap_done();
}
