#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# microVM environments, end to end on this host: fnguardd starts QEMU -M microvm guests (KVM
# when a probe guest runs under it, else TCG, and says which), the guest's own kernel enforces
# the policy, and the daemon cleans up after every kind of end.
#  - register + cold invoke + warm invoke of a shell-script function;
#  - the hostile example: its four attempts are denied inside the guest (EACCES, EACCES,
#    EACCES, EPERM) and the guest kernel's denials arrive as denial events (file, exec, network);
#  - the same hostile code with a policy that allows it: the attempts succeed (the guest, not
#    the test, made the difference);
#  - a timeout, and QEMU killed with SIGKILL mid-invocation: outcome timeout / crash, an env
#    event with the reason, a fresh environment for the next invocation;
#  - SIGTERM: no QEMU, cgroup or environment directory left.
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
fng=$root/build/fnguard
fngd=$root/build/fnguardd
image=$root/build/guest/microvm-initrd.cpio.gz
tmp=$(mktemp -d)
pin=/sys/fs/bpf/fnguardd-vmtest-$$
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
check() {
	local name=$1
	shift
	if "$@"; then echo "ok - microvm: $name"; else echo "not ok - microvm: $name"; fi
}
if [ "$(id -u)" != 0 ]; then
	echo "ok - microvm: host tests # SKIP they need root (cgroups, namespaces)"
	exit 0
fi
if [ ! -r /var/cache/fnguard/abi ] || [ ! -r "$image" ]; then
	echo "ok - microvm: host tests # SKIP no guest kernel or image: run make deps && make guest-initrd"
	exit 0
fi
qemus() { pgrep -f 'fnguard\.env=env-' | wc -l; }
before=$(qemus)
export FNGUARD_SOCKET=$tmp/fnguard.sock
printf 'pin_dir: %s\nmicrovm_accel: auto\n' "$pin" >"$tmp/fnguardd.conf"
"$fngd" --foreground -v --config "$tmp/fnguardd.conf" --state-dir "$tmp/state" 2>"$tmp/log" &
dpid=$!
daemon_pid=$dpid
for i in $(seq 50); do [ -S "$FNGUARD_SOCKET" ] && break; sleep 0.1; done
check "fnguardd listens" test -S "$FNGUARD_SOCKET"
"$fng" events --follow --json >"$tmp/events" 2>/dev/null &
epid=$!

# The example functions, as microVMs.
mkdir -p "$tmp/hello" "$tmp/hostile" "$tmp/slow"
cp "$root/examples/functions/hello/handler" "$tmp/hello/"
sed 's/kind: process/kind: microvm/' "$root/examples/functions/hello/function.yaml" >"$tmp/hello/function.yaml"
cp "$root/build/demo/functions/hostile/handler" "$tmp/hostile/"
sed 's/kind: process/kind: microvm/' "$root/examples/functions/hostile/function.yaml" >"$tmp/hostile/function.yaml"
# The hostile code again, under a policy that lets it do all four things.
mkdir -p "$tmp/open"
cp "$tmp/hostile/handler" "$tmp/open/"
cat >"$tmp/open/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: hostile-open, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 10s}
files: {default: allow}
exec: {default: allow, children: allow}
network: {egress: {default: allow}}
EOF
printf '#!/bin/sh\necho started >&2\nsleep "$(cat)"\necho done\n' >"$tmp/slow/handler"
cat >"$tmp/slow/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: slow, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 20s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
chmod 755 "$tmp" "$tmp"/* "$tmp"/*/handler

check "a microvm function registers" "$fng" function register "$tmp/hello/function.yaml"
printf 'microvm' >"$tmp/payload"
out=$("$fng" invoke hello --payload "$tmp/payload" -v 2>"$tmp/rec1")
check "cold invoke answers ($out)" test "$out" = "Hello, microvm! (call 1 of this environment)"
check "... as a cold start" grep -q "cold" "$tmp/rec1"
out=$("$fng" invoke hello --payload "$tmp/payload" -v 2>"$tmp/rec2")
check "warm invoke reuses the guest ($out)" test "$out" = "Hello, microvm! (call 2 of this environment)"
check "fnguard envs lists a microvm environment" sh -c "'$fng' envs | grep -q 'hello.*microvm'"
sleep 0.5
check "the env events say which accelerator runs the guest, and why not KVM" \
	grep -Eq '"kind": ?"microvm".*"reason": ?"microvm on (kvm|tcg: .+)"' "$tmp/events"

check "the hostile function registers" "$fng" function register "$tmp/hostile/function.yaml"
out=$("$fng" invoke hostile 2>&1 </dev/null)
check "its four attempts are denied inside the guest ($out)" test "$out" = \
	'{"read_handler": "EACCES", "write_tmp": "EACCES", "start_shell": "EACCES", "connect_out": "EPERM"}'
sleep 1
for c in file exec network; do
	check "... and the guest kernel's $c denial is a denial event" \
		grep -Eq "\"type\": ?\"denial\".*\"function\": ?\"hostile\".*\"class\": ?\"$c\"|\"function\": ?\"hostile\".*\"class\": ?\"$c\".*\"verdict\": ?\"blocked\"" "$tmp/events"
done
check "... which names the handler it tried to read" grep -q '"target": \?"/var/task/handler"' "$tmp/events"
check "the same code under an open policy registers" "$fng" function register "$tmp/open/function.yaml"
out=$("$fng" invoke hostile-open 2>&1 </dev/null)
for what in read_handler write_tmp start_shell; do
	check "... and $what is not denied: the policy made the difference" \
		grep -q "\"$what\": \"ok\"" <<<"$out"
done
# The guest has no network device: the connect fails, but not by the policy (EPERM).
check "... nor is connect_out" bash -c "grep -q '\"connect_out\": \"E' <<<'$out' && ! grep -q '\"connect_out\": \"EPERM\"' <<<'$out'"

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
victim=$(pgrep -f 'fnguard\.env=env-' -n)
kill -KILL "$victim" 2>/dev/null
wait "$ipid"
check "QEMU killed with SIGKILL mid-invocation: outcome crash" grep -q "crash" "$tmp/rec-kill"
sleep 1
check "... an env event says the environment failed and why" \
	grep -Eq '"state": ?"(failed|recycled)".*"reason": ?"[^"]+' "$tmp/events"
check "... and the next invocation gets a fresh guest" sh -c "'$fng' invoke slow --payload '$tmp/p1' | grep -q done"

kill "$epid" 2>/dev/null
kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
check "SIGTERM: exit status 0 ($rc)" test "$rc" = 0
check "no QEMU of ours is left ($(qemus) now, $before before)" test "$(qemus)" = "$before"
check "no environment cgroup is left" sh -c "! ls -d /sys/fs/cgroup/*/fnguard/env-*-$daemon_pid /sys/fs/cgroup/fnguard/env-*-$daemon_pid 2>/dev/null | grep -q ."
check "no environment directory is left" sh -c "! ls '$tmp/state/envs/' 2>/dev/null | grep -q ."
