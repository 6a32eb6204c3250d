#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A guest that floods its serial console cannot fill the host's disk or memory, nor slow the
# daemon: the console is a socket the daemon reads at most 64 KiB a second of, into a 64 KiB
# ring (nothing is written to a file). The guest image is the real one with /init replaced by
# a script that says AgentReady and then writes to ttyS0 as fast as it can, for as long as the
# environment lives (a provisioned one: it stays up without an invocation).
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$root/build/guest/microvm-initrd.cpio.gz
if [ ! -r "$base" ] || ! command -v cpio >/dev/null; then
	echo "ok - microvm: console flood # SKIP no guest image (make guest-initrd) or no cpio"
	exit 0
fi
. "$(dirname "$0")/microvm-image.bash"
stage=$(mktemp -d)
{ guest_init_head; cat <<'EOS'; } >"$stage/init"
printf '\003\202\001\000' >"$port" # AgentReady
line=$(/bin/busybox printf 'console flood %0200d' 0)
/bin/busybox yes "$line" >/dev/ttyS0
EOS
chmod 755 "$stage/init"
test_image "$stage"
export FNGUARD_MICROVM_BOOT_TIMEOUT=60
. "$(dirname "$0")/microvm-lib.bash"

mkdir -p "$tmp/flood"
printf '#!/bin/sh\necho never\n' >"$tmp/flood/handler"
cat >"$tmp/flood/function.yaml" <<EOY
apiVersion: fnguard/v1
function: {name: flood, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm, provisioned: 1}
limits: {memory: 128Mi, timeout: 10s}
EOY
chmod 755 "$tmp" "$tmp/flood" "$tmp/flood/handler"
rss() { awk '/^VmRSS:/{print $2}' "/proc/$dpid/status"; }
rss0=$(rss)
check "the flooding function registers" "$fng" function register "$tmp/flood/function.yaml"
# Ready (the env event), then 30 s of flood.
for i in $(seq 120); do grep -q '"state": \?"ready"' "$tmp/events" && break; sleep 1; done
check "its environment is ready (provisioned)" grep -q '"state": \?"ready"' "$tmp/events"
t_ready=$(date +%s)
du0=$(du -sb "$tmp/state" | cut -f1)
sleep 30
t0=$(date +%s%N)
timeout 10 "$fng" status >/dev/null 2>&1
rc=$?
t1=$(date +%s%N)
check "during the flood the daemon answers at once ($(((t1 - t0) / 1000000)) ms)" \
	test "$rc" = 0 -a $(((t1 - t0) / 1000000)) -lt 3000
rss1=$(rss)
check "the daemon's memory stays bounded (RSS ${rss0} -> ${rss1} KiB)" test $((rss1 - rss0)) -lt 8192
du1=$(du -sb "$tmp/state" | cut -f1)
check "nothing the guest wrote landed on the host's disk (state: $du0 -> $du1 bytes)" \
	test $((du1 - du0)) -lt 65536
check "the environment is still there" sh -c "'$fng' envs | grep -q flood"
"$fng" function remove flood >/dev/null
t_end=$(date +%s)
sleep 2
line=$(grep -o 'console: [0-9]* bytes in all; the last 65536 were kept' "$tmp/log" | tail -n1)
n=$(awk '{print $2}' <<<"$line")
bound=$(((t_end - t_ready + 5) * 65536 + 65536))
check "the console was flooded: ${n:-0} bytes read in $((t_end - t_ready)) s, more than its ring" \
	test "${n:-0}" -gt 65536
check "... at most 64 KiB a second of it (${n:-0} <= $bound)" test "${n:-0}" -le "$bound"
check "... and its last lines are in the daemon's debug log" grep -q "console: console flood 0000" "$tmp/log"
stop_daemon
