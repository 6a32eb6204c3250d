#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The daemon's half of the agent control channel (proto/fnguard/v1/agent.proto), for testing
a microVM guest by hand or from microvm_guest.sh: connects to QEMU's socket of the fnguard.ctl
virtio-serial port, waits for AgentReady, runs each step given, then sends AgentShutdown. Every
message received is printed as one JSON line (denial events decoded from struct fng_event).
Standard library only: the few protobuf fields are encoded here.

  microvm_client.py SOCKET [--timeout S] STEP...
    invoke:ID:HANDLER:PAYLOAD   AgentInvoke, then wait for its AgentResult
    reset                       AgentReset, then wait for AgentReady
"""
import json
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
from fngwire import decode, field_bytes, field_varint, read_varint, varint  # noqa: E402,F401


def one(f, num, default=b""):
    return f.get(num, [default])[0]


OPS = {1: "open", 2: "create", 3: "unlink", 4: "rename", 5: "link", 6: "exec", 7: "mmap",
       8: "connect", 9: "sendmsg", 10: "bind", 11: "socket", 12: "mkdir", 13: "rmdir",
       14: "symlink", 15: "mknod", 16: "setattr", 17: "truncate", 18: "mprotect", 19: "syscall"}


def fng_event(raw):
    """struct fng_event of bpf/fnguard_abi.h."""
    (ts, cg, pol, pid, tid, nr, cls, op, verdict, tkind, rkind, _pad,
     ridx) = struct.unpack_from("<QQIIIiHHBBBBI", raw, 0)
    comm = raw[44:60].split(b"\0")[0].decode(errors="replace")
    target = raw[60:60 + 256]
    ev = {"cgroup_id": cg, "pid": pid, "op": OPS.get(op, op), "class": cls,
          "verdict": verdict, "rule_kind": rkind, "comm": comm, "size": len(raw)}
    if op in (8, 9, 10):
        fam, proto, port = struct.unpack_from("<BBH", target, 0)
        ev["addr"] = "%s:%d" % (".".join(str(b) for b in target[4:8]), port)
    else:
        ev["path"] = target.split(b"\0")[0].decode(errors="replace")
    return ev


class Channel:
    def __init__(self, path, timeout):
        self.deadline = time.monotonic() + timeout
        self.buf = b""
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > self.deadline:
                    raise SystemExit("microvm_client: cannot connect to %s" % path)
                time.sleep(0.05)
        self.t0 = time.monotonic()

    def send(self, body):
        self.s.sendall(varint(len(body)) + body)

    def recv(self):
        while True:
            try:
                n, i = read_varint(self.buf, 0)
                if len(self.buf) >= i + n:
                    body, self.buf = self.buf[i:i + n], self.buf[i + n:]
                    return body
            except IndexError:
                pass
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("microvm_client: timed out")
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except OSError as e:
                raise SystemExit("microvm_client: %s" % (e.strerror or "timed out"))
            if not data:
                raise SystemExit("microvm_client: end of file from the guest")
            self.buf += data

    def message(self):
        """The next AgentMessage, printed; returns (kind, fields)."""
        f = decode(self.recv())
        names = {16: "ready", 17: "log", 18: "result", 19: "denial", 20: "failure"}
        kind, sub = next(((names[k], decode(v[0])) for k, v in f.items() if k in names),
                         ("unknown", {}))
        out = {"type": kind, "t": round(time.monotonic() - self.t0, 3)}
        if kind == "ready":
            out["agent_pid"] = one(sub, 1, 0)
        elif kind == "log":
            out["invocation"] = one(sub, 1).decode()
            out["line"] = one(sub, 2).decode(errors="replace")
        elif kind == "result":
            out.update(invocation=one(sub, 1).decode(),
                       response=one(sub, 2).decode(errors="replace"),
                       exit_status=one(sub, 4, 0), signaled=bool(one(sub, 5, 0)),
                       duration_ms=one(sub, 6, 0) / 1e6, error=one(sub, 9).decode())
        elif kind == "denial":
            out["invocation"] = one(sub, 1).decode()
            out["event"] = fng_event(one(sub, 2))
        elif kind == "failure":
            out.update(step=one(sub, 1).decode(), error=one(sub, 2).decode())
        print(json.dumps(out), flush=True)
        return kind, out


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    path, timeout = args.pop(0), 180.0
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    ch = Channel(path, timeout)
    kind, _ = ch.message()
    while kind in ("log", "denial"):
        kind, _ = ch.message()
    if kind != "ready":
        return 1
    for step in args:
        if step == "reset":
            ch.send(field_bytes(17, b""))
            want = "ready"
        else:
            _, inv, handler, payload = step.split(":", 3)
            deadline = int(time.time() * 1000) + 60000
            body = (field_bytes(1, inv.encode()) + field_bytes(2, payload.encode()) +
                    field_varint(3, deadline) + field_bytes(4, b"test") +
                    field_bytes(5, b"1") + field_bytes(6, handler.encode()))
            ch.send(field_bytes(16, body))
            want = "result"
        kind, _ = ch.message()
        while kind in ("log", "denial"):
            kind, _ = ch.message()
        if kind != want:
            return 1
    # Denials read after the last result (none expected: they are sent before it).
    ch.send(field_bytes(18, b""))
    ch.s.settimeout(2)
    try:
        while True:
            ch.deadline = time.monotonic() + 2
            ch.message()
    except (SystemExit, OSError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
