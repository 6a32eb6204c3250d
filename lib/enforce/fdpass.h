/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Passing one fd over a Unix socket (SCM_RIGHTS with one byte of data): how a confined child
 * hands its seccomp notification fd to the supervisor that answers it.
 */
#ifndef FNGUARD_FDPASS_H
#define FNGUARD_FDPASS_H

/* Send @fd over @sock: 0, or -errno. */
int fd_send(int sock, int fd);
/* Receive one fd (close-on-exec): the fd, -errno, or -EPROTO for anything but one fd. */
int fd_recv(int sock);

#endif
