// SPDX-License-Identifier: Apache-2.0
/*
 * The hostile example's handler: what code an attacker controls inside a function would try.
 * Each attempt's result is in the response, as the errno name ("ok" if it worked).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *result(int ok, int err)
{
	if (ok)
		return "ok";
	switch (err) {
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case EROFS:
		return "EROFS";
	case ENOENT:
		return "ENOENT";
	case ENETUNREACH:
		return "ENETUNREACH";
	default:
		return strerror(err);
	}
}

int main(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(443)};
	char buf[4096];
	int fd, st = 0, r;
	pid_t pid;

	while (read(0, buf, sizeof(buf)) > 0)
		;
	/* 1. Steal the function's own code. */
	fd = open("/var/task/handler", O_RDONLY);
	printf("{\"read_handler\": \"%s\", ", result(fd >= 0, errno));
	/* 2. Leave something in /tmp for the next invocation. */
	fd = open("/tmp/stolen", O_WRONLY | O_CREAT, 0600);
	printf("\"write_tmp\": \"%s\", ", result(fd >= 0, errno));
	/* 3. Start a shell. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "id", (char *)NULL);
		_exit(errno);
	}
	waitpid(pid, &st, 0);
	r = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	printf("\"start_shell\": \"%s\", ", result(r == 0, r));
	/* 4. Call home (a documentation address: it goes nowhere even when allowed). */
	inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	printf("\"connect_out\": \"%s\"}\n", result(r == 0, errno));
	return 0;
}
