#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Raw API socket clients for control_limits.sh: requests encoded by hand (proto/fnguard/v1/
# api.proto), so that a test can send what the fnguard CLI never would (pipelined floods,
# lying length prefixes, half frames, a connection handed to another process). Each
# subcommand prints TAP lines ("ok - control: ...") and exits 0; every wait is bounded.
import errno
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
from fngwire import field_bytes, frame, parse_fields, read_varint, varint  # noqa: E402,F401

NAME = "control"


def tap(ok, what, extra=""):
    print("%s - %s: %s%s" % ("ok" if ok else "not ok", NAME, what, (" (%s)" % extra) if extra else ""),
          flush=True)
    return ok


def request(rid, method, sub=b""):
    """A Request: id = 1, then the method's field (16..22) holding @sub."""
    return varint(1 << 3) + varint(rid) + field_bytes(method, sub)


STATUS, REMOVE, INVOKE, REGISTER = 21, 18, 19, 16


def remove_req(rid, name):
    return request(rid, REMOVE, field_bytes(1, name.encode()))


def parse_response(body):
    """(id, error code or 0, error message)."""
    rid, code, msg = 0, 0, ""
    for num, v in parse_fields(body):
        if num == 1:
            rid = v
        elif num == 2:
            for n2, v2 in parse_fields(v):
                if n2 == 1:
                    code = v2
                elif n2 == 2:
                    msg = v2.decode(errors="replace")
    return rid, code, msg


class Reader:
    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def responses(self, want, timeout):
        """Up to @want responses within @timeout seconds (fewer at end of file)."""
        out, end = [], time.monotonic() + timeout
        while len(out) < want:
            while True:
                try:
                    n, i = read_varint(self.buf, 0)
                except IndexError:
                    break
                if len(self.buf) - i < n:
                    break
                out.append(parse_response(self.buf[i:i + n]))
                self.buf = self.buf[i + n:]
                if len(out) >= want:
                    return out
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                break
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                break
            try:
                d = self.s.recv(1 << 16)
            except ConnectionResetError:
                d = b""
            if not d:
                self.eof = True
            self.buf += d
        return out


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def call(path, body, timeout=5):
    s = connect(path)
    s.sendall(frame(body))
    r = Reader(s).responses(1, timeout)
    s.close()
    return r[0] if r else None


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def root_served(path, what):
    try:
        r = call(path, request(7, STATUS))
    except OSError as e:
        r = None
        what += ": " + str(e)
    return tap(r is not None and r[0] == 7 and r[1] == 0, what, "answer %s" % (r,))


def drop(uid, gid, groups=()):
    os.setgroups(list(groups))
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


# ------------------------------------------------------------------ the attacks

def big_request(method, size):
    """The body, @size bytes, of a @method Request (zeros for its payload)."""
    head = varint(1 << 3) + varint(1) + varint(method << 3 | 2) + varint(size - 8)
    return head + b"\0" * (size - len(head))


def send_all_but_end(s, body, end=4096):
    """Sends @body's length prefix, then all of @body but its last @end bytes, 1 MiB at a
    time; a timeout or error stops it. Returns how many bytes of @body were sent."""
    sent = 0
    try:
        s.sendall(varint(len(body)))
        while sent < len(body) - end:
            sent += s.send(body[sent:min(sent + (1 << 20), len(body) - end)])
    except (socket.timeout, OSError):
        pass
    return sent


def cmd_flood(path, pid, n):
    """@n pipelined status requests from a client that never reads."""
    n, pid = int(n), int(pid)
    before = rss_kb(pid)
    s = connect(path)
    data = b"".join(frame(request(i + 1, STATUS)) for i in range(n))
    s.settimeout(3)
    sent = 0
    try:
        while sent < len(data):
            sent += s.send(data[sent:sent + (1 << 16)])
    except (socket.timeout, OSError):
        pass
    time.sleep(2)
    peak = rss_kb(pid)
    tap(peak - before < 48 * 1024,
        "%d pipelined status requests, never read: the daemon's RSS grows by less than 48 MiB" % n,
        "VmRSS %d kB -> %d kB, %d of %d bytes sent" % (before, peak, sent, len(data)))
    root_served(path, "... and root is still served while that client is connected")
    s.close()


def cmd_stall(path, pid, n, method):
    """@n clients announce a ~16 MiB @method request, send part of it and stall."""
    n, pid, m = int(n), int(pid), {"status": STATUS, "invoke": INVOKE}[method]
    before = rss_kb(pid)
    socks, closed, why = [], 0, set()
    body = big_request(m, (16 << 20) - 64)
    for _ in range(n):
        s = connect(path)
        s.settimeout(0.5)
        send_all_but_end(s, body)
        socks.append(s)
    time.sleep(1)
    peak = rss_kb(pid)
    for s in socks:
        rd = Reader(s)
        r = rd.responses(1, 1)
        if r and r[0][1]:
            why.add(r[0][2])
        rd.responses(1, 0.5)
        closed += rd.eof
    tap(peak - before < 48 * 1024,
        "%d clients stalled inside a 16 MiB %s request: the daemon's RSS grows by less than 48 MiB"
        % (n, method), "VmRSS %d kB -> %d kB" % (before, peak))
    if method == "status":
        tap(len(why) > 0 and closed == n, "... each is refused with a reason and closed",
            "%d of %d closed; %s" % (closed, n, "; ".join(sorted(why))[:300]))
    root_served(path, "... and root is still served")
    for s in socks:
        s.close()


def cmd_budget(path, pid, n):
    """@n connections of uid 65534 each send all but the end of a 6 MiB invoke, then stall."""
    n, pid = int(n), int(pid)
    body = big_request(INVOKE, 6 << 20)
    before = rss_kb(pid)
    rd, wr = os.pipe()
    go_r, go_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rd)
        drop(65534, 65534)
        socks, done = [connect(path) for _ in range(n)], []

        def upload(s):
            s.settimeout(1)
            done.append(send_all_but_end(s, body) >= len(body) - 4096)

        # All at once, well within the idle timeout: at most 8 of them fit in the budget.
        threads = [threading.Thread(target=upload, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        os.write(wr, b"%d\n" % sum(done))
        os.read(go_r, 1)
        os._exit(0)
    os.close(wr)
    full = int(os.fdopen(rd).readline() or -1)
    time.sleep(0.5)
    peak = rss_kb(pid)
    tap(0 <= full <= 8, "%d clients of uid 65534 sending 6 MiB invoke requests: at most 8 are read at "
        "once (64 MiB for all clients), the others wait" % n, "%d read" % full)
    tap(peak - before < 80 * 1024, "... the daemon's RSS grows by less than 80 MiB",
        "VmRSS %d kB -> %d kB" % (before, peak))
    root_served(path, "... and root is still served")
    os.write(go_w, b"x")
    os.waitpid(child, 0)


def cmd_idle(path, n, uid, idle_s):
    """@n connections of @uid that say nothing; root must still get in; they end after idle_s."""
    n, uid, idle_s = int(n), int(uid), float(idle_s)
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rd)
        drop(uid, uid)
        socks, refused = [], 0
        for _ in range(n):
            try:
                socks.append(connect(path))
            except OSError:
                refused += 1
        time.sleep(1)
        live = []
        for s in socks:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                refused += 1
                s.close()
            else:
                live.append(s)
        os.write(wr, b"%d %d\n" % (len(live), refused))
        # Wait for the idle timeout, then count who the daemon closed.
        end = time.monotonic() + idle_s + 4
        while time.monotonic() < end and live:
            r, _, _ = select.select(live, [], [], max(0, end - time.monotonic()))
            for s in r:
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                if not d:
                    live.remove(s)
                    s.close()
        os.write(wr, b"%d\n" % len(live))
        os._exit(0)
    os.close(wr)
    f = os.fdopen(rd)
    first = f.readline().split()
    live, refused = (int(first[0]), int(first[1])) if len(first) == 2 else (0, 0)
    tap(live <= 16, "%d idle connections of uid %d: at most 16 of them are kept" % (n, uid),
        "%d kept, %d refused" % (live, refused))
    root_served(path, "... and root can still connect and is served")
    t0 = time.monotonic()
    left = f.readline().strip()
    os.waitpid(child, 0)
    tap(left == "0", "... the idle ones are closed after the idle timeout (%g s)" % idle_s,
        "%s still open after %.1f s" % (left or "?", time.monotonic() - t0))


def cmd_remove(path, name):
    """One remove_function request from this process: prints the error code (0: ok)."""
    r = call(path, remove_req(3, name))
    print("code %s %s" % (r[1], r[2]) if r else "code none")


def cmd_passed(path):
    """A connection opened by root, used by an unprivileged process it was passed to."""
    a, b = socket.socketpair()
    child = os.fork()
    if child == 0:
        a.close()
        drop(65534, 65534)
        msg, fds, _, _ = socket.recv_fds(b, 16, 1)
        s = socket.socket(fileno=fds[0])
        s.sendall(frame(remove_req(11, "nonexistent-passed")))
        r = Reader(s).responses(1, 5)
        b.send(b"%d" % (r[0][1] if r else -1))
        # The second half of a frame root began.
        b.recv(1)
        s.sendall(half2)
        os._exit(0)
    b.close()
    s = connect(path)
    socket.send_fds(a, [b"x"], [s.fileno()])
    code = int(a.recv(16) or b"-1")
    tap(code == 4, "a connection root opened, passed to uid 65534: its admin request is refused",
        "error code %d (4: permission denied, 2: not found)" % code)
    s.sendall(frame(remove_req(12, "nonexistent-root")))
    r = Reader(s).responses(1, 5)
    tap(bool(r) and r[0][1] == 2, "... root's own request on it is still admin", "%s" % (r,))
    # A frame whose bytes come from root and from uid 65534 has the rights of uid 65534.
    s.sendall(half1)
    time.sleep(0.3)
    a.send(b"g")
    r = Reader(s).responses(1, 5)
    tap(bool(r) and r[0][1] == 4, "... a frame begun by root and ended by uid 65534 is refused",
        "%s" % (r,))
    os.waitpid(child, 0)
    s.close()


whole = frame(remove_req(13, "nonexistent-split"))
half1, half2 = whole[:5], whole[5:]


def cmd_sg(path, gid):
    """uid 65534 whose real and effective gid is fnguard's (as sg would make it), not a member."""
    gid = int(gid)
    rd, wr = os.pipe()
    child = os.fork()
    if child == 0:
        drop(65534, gid)
        r = call(path, remove_req(5, "nonexistent-sg"))
        os.write(wr, b"%d" % (r[1] if r else -1))
        os._exit(0)
    os.close(wr)
    code = int(os.read(rd, 16) or b"-1")
    os.waitpid(child, 0)
    tap(code == 4, "uid 65534 with primary gid fnguard but not a member: admin is refused",
        "error code %d" % code)


def cmd_coalesce(path, fng, n):
    """@n status requests on one connection and some fnguard status runs: few api_call events."""
    n = int(n)
    runs = 20

    def records():
        out = subprocess.run([fng, "events", "--json", "--type", "api_call"],
                             capture_output=True, text=True, timeout=30).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    time.sleep(2.5)  # what earlier cases left to coalesce is written by then
    mark = max([e.get("seq", 0) for e in records()] + [0])
    s = connect(path)
    s.sendall(b"".join(frame(request(i + 1, STATUS)) for i in range(n)))
    got = Reader(s).responses(n, 30)
    s.close()
    for _ in range(runs):
        subprocess.run([fng, "status"], stdout=subprocess.DEVNULL, check=False)
    for i in range(5):
        call(path, remove_req(100 + i, "nonexistent-%d" % i))
    time.sleep(2.5)  # the last coalesced records are written within a second or two
    evs = [e for e in records() if e.get("seq", 0) > mark]
    status = [e for e in evs if e.get("method") == "status"]
    total = 0
    for e in status:
        res = e.get("result", "")
        total += int(res.rsplit("(x", 1)[1].rstrip(")")) if "(x" in res else 1
    removes = [e for e in evs if e.get("method") == "remove_function"]
    tap(len(got) == n, "%d pipelined status requests are all answered" % n, "%d answers" % len(got))
    tap(len(status) < 50, "%d status requests (and %d fnguard status) make few api_call events"
        % (n, runs), "%d events" % len(status))
    tap(total == n + runs, "... whose counts add up to every request", "%d counted" % total)
    tap(len(removes) == 5, "admin requests are each recorded", "%d of 5" % len(removes))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    globals()["cmd_" + cmd](*args)


if __name__ == "__main__":
    main()
