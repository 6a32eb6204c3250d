#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What one tenant (the uid this runs as) can take from another's process: prints one word per
attempt, "ok" when it worked, else the errno's name.

  tenant_probe.py mem PID          read a mapped page of /proc/PID/mem
  tenant_probe.py getfd PID FD     pidfd_getfd(pidfd_open(PID), FD)
  tenant_probe.py read FILE        read the first byte of FILE
"""
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
SYS_pidfd_getfd = 438


def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def mem(pid):
    with open("/proc/%d/maps" % pid) as f:
        start = int(f.readline().split("-")[0], 16)
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as f:
        f.seek(start)
        f.read(1)


def getfd(pid, fd):
    pidfd = os.pidfd_open(pid)
    try:
        r = libc.syscall(SYS_pidfd_getfd, pidfd, fd, 0)
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        os.close(r)
    finally:
        os.close(pidfd)


def read(path):
    with open(path, "rb") as f:
        f.read(1)


op = sys.argv[1]
if op == "mem":
    print(attempt(lambda: mem(int(sys.argv[2]))))
elif op == "getfd":
    print(attempt(lambda: getfd(int(sys.argv[2]), int(sys.argv[3]))))
elif op == "read":
    print(attempt(lambda: read(sys.argv[2])))
else:
    sys.exit("unknown op " + op)
