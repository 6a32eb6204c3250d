#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# microVM environments, end to end on this host (2 of 2): how guests end.
#  - out of memory inside the guest: outcome oom, the guest's memory peak in the record;
#  - a timeout, and QEMU killed with SIGKILL mid-invocation: outcome timeout / crash, an env
#    event with the reason, a fresh environment for the next invocation;
#  - four environments of one function at once;
#  - SIGTERM: no QEMU, cgroup or environment directory left.
# Prints one TAP line per case and always exits 0.
set -u
. "$(dirname "$0")/microvm-lib.bash"

mkdir -p "$tmp/slow"
printf '#!/bin/sh\necho started >&2\nsleep "$(cat)"\necho done\n' >"$tmp/slow/handler"
cat >"$tmp/slow/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: slow, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 20s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
chmod 755 "$tmp" "$tmp/slow" "$tmp/slow/handler"

# Out of memory inside the guest: its own OOM killer, reported as outcome oom.
mkdir -p "$tmp/hog"
# A static C program: a shell's string growth is too slow to fill memory under TCG.
printf '#include <stdlib.h>\n#include <string.h>\nint main(void) { for (;;) { char *p = malloc(16 << 20); if (!p) return 1; memset(p, 1, 16 << 20); } }\n' >"$tmp/hog.c"
cc -static -O2 -o "$tmp/hog/handler" "$tmp/hog.c"
cat >"$tmp/hog/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: hog, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 60s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
chmod 755 "$tmp/hog" "$tmp/hog/handler"
check "a memory hog registers" "$fng" function register "$tmp/hog/function.yaml"
"$fng" invoke hog -v </dev/null >"$tmp/out-hog" 2>"$tmp/rec-hog"
check "filling the guest's memory ends with outcome oom" grep -q '"outcome":"oom"' "$tmp/rec-hog"
check "... with the guest's memory peak in the record" grep -Eq '"memory_peak_bytes":[1-9][0-9]{7,}' "$tmp/rec-hog"

# A timeout, then QEMU killed mid-invocation.
check "a slow function registers" "$fng" function register "$tmp/slow/function.yaml"
echo 1 >"$tmp/p1"
check "it answers when it is quick" sh -c "'$fng' invoke slow --payload '$tmp/p1' | grep -q done"
echo 60 >"$tmp/p60"
"$fng" invoke slow --payload "$tmp/p60" -v >"$tmp/out-to" 2>"$tmp/rec-to"
check "an invocation over limits.timeout ends with outcome timeout" grep -q "timeout" "$tmp/rec-to"
echo 30 >"$tmp/p30"
"$fng" invoke slow --payload "$tmp/p30" -v >"$tmp/out-kill" 2>"$tmp/rec-kill" &
ipid=$!
for i in $(seq 600); do grep -q '"line": \?"started"' "$tmp/events" 2>/dev/null && \
	[ "$(grep -c '"line": \?"started"' "$tmp/events")" -ge 3 ] && break; sleep 0.1; done
victim=$(pgrep -n -f "fnguard\\.env=env-[0-9]+-$daemon_pid( |\$)")
kill -KILL "$victim" 2>/dev/null
wait "$ipid"
check "QEMU killed with SIGKILL mid-invocation: outcome crash" grep -q "crash" "$tmp/rec-kill"
sleep 1
check "... an env event says the environment failed and why" \
	grep -Eq '"state": ?"failed".*"reason": ?"the guest is gone' "$tmp/events"
check "... and the next invocation gets a fresh guest" sh -c "'$fng' invoke slow --payload '$tmp/p1' | grep -q done"

# Four environments at once: four invocations of one function arrive together.
echo 4 >"$tmp/p4"
pids=
for i in 1 2 3 4; do
	"$fng" invoke slow --payload "$tmp/p4" >"$tmp/par-$i" 2>&1 &
	pids="$pids $!"
done
wait $pids
n=$(grep -l done "$tmp"/par-[1-4] | wc -l)
check "four invocations at once all answer ($n of 4)" test "$n" = 4
n=$("$fng" envs | grep -c 'slow.*microvm')
check "... from four microvm environments ($n)" test "$n" = 4

stop_daemon
