// SPDX-License-Identifier: Apache-2.0
/*
 * fng-bench: one timed loop of a hot operation, for the side-by-side benchmark (run.sh).
 * Prints the mean nanoseconds per iteration on stdout.
 *
 *   fng-bench open PATH N          open(O_RDONLY) + close
 *   fng-bench connect PORT N       TCP connect to 127.0.0.1:PORT + close (listener is ours)
 *   fng-bench forkexec PROG N      fork + execv(PROG) + wait
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int loop_open(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int loop_connect(int port, long n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1024)) {
		perror("listen");
		return -1;
	}
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd;

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			perror("connect");
			return -1;
		}
		afd = accept(lfd, NULL, NULL);
		close(afd);
		close(fd);
	}
	close(lfd);
	return 0;
}

static int loop_forkexec(const char *prog, long n)
{
	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			execl(prog, "true", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "fork+exec of %s failed\n", prog);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long long t0, t1;
	long n;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: fng-bench open|connect|forkexec ARG N\n");
		return 2;
	}
	n = atol(argv[3]);
	t0 = now_ns();
	if (!strcmp(argv[1], "open"))
		rc = loop_open(argv[2], n);
	else if (!strcmp(argv[1], "connect"))
		rc = loop_connect(atoi(argv[2]), n);
	else if (!strcmp(argv[1], "forkexec"))
		rc = loop_forkexec(argv[2], n);
	else
		rc = -1;
	t1 = now_ns();
	if (rc)
		return 1;
	printf("%lld\n", (t1 - t0) / n);
	return 0;
}
