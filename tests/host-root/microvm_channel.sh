#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The agent channel of a microVM environment (issue 13, findings 6 and 12), one guest:
#  - a 6 MiB payload in and a 6 MiB response out (more than the host's socket buffer and the
#    virtio-serial port hold at once): ok, the bytes compared, twice;
#  - a newline flood on stderr after a denied read: the guest kernel's denial is published, the
#    log events are bounded by the rate limit, and every dropped line is counted (a loss event
#    and the record's events_lost): logged plus dropped is exactly what the handler wrote.
# Prints one TAP line per case and always exits 0. env_channel.sh does the same on the host.
set -u
. "$(dirname "$0")/microvm-lib.bash"
if ! command -v python3 >/dev/null; then
	echo "ok - microvm: channel tests # SKIP no python3"
	stop_daemon
	exit 0
fi

lines=200000
mkdir -p "$tmp/ch"
# One function for both cases (one TCG guest): the payload says which.
cat >"$tmp/ch/handler" <<EOF
#!/bin/sh
cat >/tmp/in
if [ "\$(head -c 5 /tmp/in)" = flood ]; then
	cat /etc/passwd >/dev/null 2>&1
	head -c $lines /dev/zero | tr '\\0' '\\n' >&2
	echo done
else
	cat /tmp/in
fi
rm -f /tmp/in
EOF
cat >"$tmp/ch/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: channel, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 256Mi, timeout: 120s, tmp_size: 32Mi}
files:
  default: allow
  rules:
    - path: /etc/passwd
      access: []
exec: {default: allow, children: allow}
EOF
chmod 755 "$tmp" "$tmp/ch" "$tmp/ch/handler"
check "channel: registers" "$fng" function register "$tmp/ch/function.yaml"

head -c $((6 << 20)) /dev/urandom >"$tmp/big.in"
for run in cold warm; do
	"$fng" invoke channel --payload "$tmp/big.in" >"$tmp/big.out" 2>"$tmp/big.err"
	rc=$?
	check "channel: 6 MiB in, 6 MiB out ($run): exit $rc ($(head -c 200 "$tmp/big.err"))" test "$rc" = 0
	check "channel: ... the same bytes ($(stat -c %s "$tmp/big.out") bytes)" cmp -s "$tmp/big.in" "$tmp/big.out"
done

printf flood >"$tmp/flood.in"
out=$("$fng" invoke channel --payload "$tmp/flood.in" 2>"$tmp/flood.err")
check "channel: the flooding invocation answers ($out $(head -c 200 "$tmp/flood.err"))" test "$out" = done
sleep 2
python3 - "$tmp/events" "$lines" <<'EOF'
import json, sys
path, lines = sys.argv[1], int(sys.argv[2])
ev = []
for l in open(path, encoding="utf-8"):
    try:
        ev.append(json.loads(l))
    except ValueError:
        pass
rec = [e for e in ev if e["type"] == "invocation" and e.get("function") == "channel"]
inv = rec[-1]["invocation"] if rec else None
mine = [e for e in ev if inv and e.get("invocation") == inv]
den = [e for e in mine if e["type"] == "denial" and e.get("target") == "/etc/passwd"]
logs = [e for e in mine if e["type"] == "log"]
loss = [e for e in mine if e["type"] == "loss" and "log" in e.get("where", "")]
sub = [e for e in ev if e["type"] == "loss" and "subscriber" in e.get("where", "")]
dropped = sum(e.get("events_lost", 0) for e in loss)
def check(name, cond):
    print(("ok" if cond else "not ok") + " - microvm: channel: " + name)
check("the guest kernel's denial before the flood is published (%d)" % len(den), len(den) >= 1)
check("the log events are bounded (%d of %d lines)" % (len(logs), lines), 0 < len(logs) <= 10000)
check("a loss event counts the dropped lines (%d)" % dropped, dropped > 0)
check("logged + dropped = the lines written (%d + %d = %d; subscriber losses: %d)"
      % (len(logs), dropped, lines, len(sub)), len(logs) + dropped == lines and not sub)
lost = rec[-1].get("events_lost", 0) if rec else -1
check("the record's events_lost counts them (%d)" % lost, lost >= dropped > 0)
EOF
stop_daemon
