#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent channel of a process environment on this host (issue 13, findings 6 and 12):
#  - a newline flood on stderr after a denied syscall: the denial before the flood is still in
#    the exported JSON-lines files, the log events are bounded by the rate limit, and every
#    line that was dropped is counted (a loss event, the record's events_lost): logged plus
#    dropped is exactly the number of lines the handler wrote;
#  - a 6 MiB payload in and a 6 MiB response out (more than a socket buffer holds): ok, the
#    bytes compared.
# Prints one TAP line per case and always exits 0. microvm_channel.sh does the same in a guest.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/host-root/daemon-lib.bash"
pin=/sys/fs/bpf/fnguardd-chtest-$$
TAP_PREFIX="channel: "
if [ "$(id -u)" != 0 ]; then
	skip_all "host tests" "they need root (cgroups, namespaces, BPF)"
fi
if ! command -v unshare >/dev/null || ! command -v python3 >/dev/null; then
	skip_all "host tests" "no unshare(1) or python3"
fi
mkdir -p "$tmp/export"
# A small export window (3 files of 1 MiB): a flood that is not bounded pushes everything
# before it out of it within a second.
printf 'pin_dir: %s\nexport_path: %s\nexport_rotate_bytes: 1048576\nexport_keep: 3\n' \
	"$pin" "$tmp/export/events.jsonl" >"$tmp/fnguardd.conf"
daemon_start

lines=2000000
mkdir -p "$tmp/flood" "$tmp/big"
# unshare is in the seccomp baseline: the agent reports the denial, then the flood.
cat >"$tmp/flood/handler" <<EOF
#!/bin/sh
unshare -U true 2>/dev/null
head -c $lines /dev/zero | tr '\\0' '\\n' >&2
echo done
EOF
printf '#!/bin/sh\nexec cat\n' >"$tmp/big/handler"
for f in flood big; do
	cat >"$tmp/$f.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: $f, version: "1", code: ./$f, handler: /var/task/handler}
environment: {kind: process}
limits: {memory: 256Mi, timeout: 60s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
done
chmod 755 "$tmp" "$tmp/flood" "$tmp/big" "$tmp/flood/handler" "$tmp/big/handler"

check "the flooding function registers" "$fng" function register "$tmp/flood.yaml"
out=$("$fng" invoke flood </dev/null 2>"$tmp/flood.err")
check "the flooding invocation answers ($out)" test "$out" = done
sleep 1
cat "$tmp"/export/events.jsonl* >"$tmp/all.jsonl" 2>/dev/null
python3 - "$tmp/all.jsonl" "$lines" >"$tmp/flood.tap" <<'EOF'
import json, sys
path, lines = sys.argv[1], int(sys.argv[2])
ev = []
for l in open(path, encoding="utf-8"):
    try:
        ev.append(json.loads(l))
    except ValueError:
        pass
mine = [e for e in ev if e.get("function") == "flood"]
den = [e for e in mine if e["type"] == "denial" and e.get("syscall") == "unshare"]
logs = [e for e in mine if e["type"] == "log"]
loss = [e for e in mine if e["type"] == "loss" and "log" in e.get("where", "")]
rec = [e for e in mine if e["type"] == "invocation"]
def check(name, cond):
    print(("ok" if cond else "not ok") + " - channel: " + name)
check("the denial before the flood is still in the export files (%d)" % len(den), len(den) >= 1)
check("the log events are bounded (%d of %d lines)" % (len(logs), lines), len(logs) <= 10000)
dropped = sum(e.get("events_lost", 0) for e in loss)
check("a loss event counts the dropped lines (%d, %s)" % (dropped, [e.get("where") for e in loss]),
      dropped > 0)
check("logged + dropped = the lines written (%d + %d = %d)" % (len(logs), dropped, lines),
      len(logs) + dropped == lines)
lost = rec[0].get("events_lost", 0) if rec else -1
check("the record's events_lost counts them (%d)" % lost, bool(rec) and lost >= dropped > 0)
check("the record comes after the loss event", bool(rec) and bool(loss) and
      ev.index(loss[-1]) < ev.index(rec[0]))
EOF
cat "$tmp/flood.tap"

check "the cat function registers" "$fng" function register "$tmp/big.yaml"
head -c $((6 << 20)) /dev/urandom >"$tmp/big.in"
"$fng" invoke big --payload "$tmp/big.in" >"$tmp/big.out" 2>"$tmp/big.err"
rc=$?
check "6 MiB in, 6 MiB out: exit $rc ($(head -c 200 "$tmp/big.err"))" test "$rc" = 0
check "... the same bytes ($(stat -c %s "$tmp/big.out") bytes)" cmp -s "$tmp/big.in" "$tmp/big.out"
"$fng" invoke big --payload "$tmp/big.in" >"$tmp/big.out2" 2>"$tmp/big.err"
check "... and again, warm" cmp -s "$tmp/big.in" "$tmp/big.out2"
# The agent writes while the daemon writes: a process the last invocation left behind makes
# denied calls (each one a denial the agent relays) while the next invocation's 6 MiB payload
# is still being written to the agent. Neither side may wait for the other.
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$tmp/mixed"
	cat >"$tmp/mixed/handler" <<'EOF'
#!/usr/bin/python3
import ctypes, os, sys, time
data = sys.stdin.buffer.read()
if data == b"bg":
    if os.fork() == 0:
        libc = ctypes.CDLL(None)
        for _ in range(400):
            libc.syscall(272, 0)
            time.sleep(0.005)
        os._exit(0)
    print("started")
else:
    sys.stdout.buffer.write(data)
EOF
	sed 's/\bbig\b/mixed/g; s/kind: process}/kind: process, isolate_invocations: false}/' \
		"$tmp/big.yaml" >"$tmp/mixed.yaml"
	chmod 755 "$tmp/mixed" "$tmp/mixed/handler"
	check "the mixed function registers" "$fng" function register "$tmp/mixed.yaml"
	printf bg >"$tmp/bg.in"
	out=$("$fng" invoke mixed --payload "$tmp/bg.in" 2>"$tmp/mixed.err")
	check "a handler leaves a process making denied calls ($out)" test "$out" = started
	"$fng" invoke mixed --payload "$tmp/big.in" >"$tmp/mixed.out" 2>"$tmp/mixed.err"
	check "... the next invocation's 6 MiB go in and out meanwhile ($(head -c 200 "$tmp/mixed.err"))" \
		cmp -s "$tmp/big.in" "$tmp/mixed.out"
	sleep 1
	n=$(cat "$tmp"/export/events.jsonl* | grep '"type":"denial"' | grep -c '"function":"mixed"')
	check "... and the leftover process's denials were relayed meanwhile ($n)" test "$n" -gt 0
else
	echo "ok - channel: agent and daemon writing at once # SKIP no /usr/bin/python3"
fi
# A handler whose every step is denied, 120,000 times (unshare is x86_64 syscall 272): the
# agent relays each denial; past the rate and 100,000 dropped the environment is stopped.
if [ -x /usr/bin/python3 ]; then
	mkdir -p "$tmp/loop"
	cat >"$tmp/loop/handler" <<'EOF'
#!/usr/bin/python3
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
for _ in range(120000):
    libc.syscall(272, 0)
print("survived")
EOF
	sed 's/\bbig\b/loop/g' "$tmp/big.yaml" >"$tmp/loop.yaml"
	chmod 755 "$tmp/loop" "$tmp/loop/handler"
	check "the denying function registers" "$fng" function register "$tmp/loop.yaml"
	"$fng" invoke loop </dev/null >"$tmp/loop.out" 2>"$tmp/loop.err"
	check "a flood of denials past the hard bound fails the invocation ($(head -c 200 "$tmp/loop.err"))" \
		grep -q crash "$tmp/loop.err"
	sleep 1
	check "... and stops the environment, saying why" sh -c "cat '$tmp'/export/events.jsonl* |
		grep '\"function\":\"loop\"' | grep '\"state\":\"failed\"' |
		grep -q 'agent: over 100000 denials past the rate limit'"
	n=$(cat "$tmp"/export/events.jsonl* | grep '"type":"denial"' | grep -c '"function":"loop"')
	check "... having published no more than the rate allows ($n)" test "$n" -ge 1000 -a "$n" -le 5000
else
	echo "ok - channel: a flood of agent denials # SKIP no /usr/bin/python3"
fi
check "the daemon goes on serving" sh -c "'$fng' function list >/dev/null"

daemon_stop
