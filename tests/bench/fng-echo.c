// SPDX-License-Identifier: Apache-2.0
/*
 * fng-echo: the handler of the daemon benchmark (daemon.sh). It reads its payload to the end
 * and answers "ok". Static and written against the raw syscalls so that its own cost (no
 * dynamic loader, no shell, no stdio) is as small as a handler's can be: what the benchmark
 * measures is the machinery around it, the daemon's and the bare unshare+exec's alike.
 */
#include <errno.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];
	ssize_t n;

	/* Read the whole payload: the writer on the other end must never see EPIPE. */
	do {
		n = read(0, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		return 1;
	return write(1, "ok", 2) == 2 ? 0 : 1;
}
