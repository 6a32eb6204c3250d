#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# microVM environments leave nothing behind, however often they come and go:
#  - 10 full cycles: an invocation of a reuse: false function boots a guest, runs the handler
#    and destroys the guest;
#  - 100 short cycles: an environment is started (guest image, jail, QEMU) and its function
#    removed at once, which stops it before its guest is ready;
# then the daemon has the same number of open fds (sockets included) as before, no child
# process, and no QEMU, cgroup or environment directory is left.
# Prints one TAP line per case and always exits 0.
set -u
. "$(dirname "$0")/microvm-lib.bash"

mkdir -p "$tmp/cyc"
printf '#!/bin/sh\necho cycle\n' >"$tmp/cyc/handler"
cat >"$tmp/cyc/function.yaml" <<'EOF2'
apiVersion: fnguard/v1
function: {name: cyc, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm, reuse: false}
limits: {memory: 128Mi, timeout: 30s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF2
chmod 755 "$tmp" "$tmp/cyc" "$tmp/cyc/handler"
fds() { ls "/proc/$daemon_pid/fd" | wc -l; }
children() { grep -l "^PPid:[[:space:]]*$daemon_pid\$" /proc/[0-9]*/status 2>/dev/null | wc -l; }

check "the function registers" "$fng" function register "$tmp/cyc/function.yaml"
# One cycle first: the KVM probe and the first environment's directories are set up once.
"$fng" invoke cyc </dev/null >/dev/null 2>&1
sleep 1 # the guest goes after its answer
fd0=$(fds)
ok=0
for i in $(seq 10); do
	out=$("$fng" invoke cyc </dev/null 2>/dev/null) && [ "$out" = cycle ] && ok=$((ok + 1))
done
check "10 invocations, each in a guest of its own, all answer ($ok)" test "$ok" = 10
sleep 1
check "... and no QEMU is left ($(qemus))" test "$(qemus)" = 0
check "... nor a daemon fd: $(fds) now, $fd0 before" test "$(fds)" = "$fd0"

for i in $(seq 100); do
	"$fng" invoke cyc --async </dev/null >/dev/null 2>&1
	"$fng" function remove cyc >/dev/null 2>&1
	"$fng" function register "$tmp/cyc/function.yaml" >/dev/null 2>&1
done
sleep 1
check "100 environments stopped while starting: no QEMU is left ($(qemus))" test "$(qemus)" = 0
check "... no daemon fd: $(fds) now, $fd0 before" test "$(fds)" = "$fd0"
check "... no child of the daemon ($(children))" test "$(children)" = 0
n=$(ls -d /sys/fs/cgroup/*/fnguard/env-*-"$daemon_pid" /sys/fs/cgroup/fnguard/env-*-"$daemon_pid" 2>/dev/null | wc -l)
check "... no environment cgroup ($n)" test "$n" = 0
n=$(ls "$tmp/state/envs" 2>/dev/null | wc -l)
check "... no environment directory ($n)" test "$n" = 0
n=$(grep -c '"state":"starting"' "$tmp/events")
check "... and they did start: $n starting events" test "$n" -ge 100
out=$("$fng" invoke cyc </dev/null 2>/dev/null)
check "the function still runs after all that ($out)" test "$out" = cycle

stop_daemon
