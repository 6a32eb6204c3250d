# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the microVM host tests (microvm.sh, microvm_life.sh): skips without root or the
# guest kernel and image, starts fnguardd (accel auto: the KVM probe runs for real) with its
# event stream in $tmp/events, and cleans up on exit. Defines qemus, $fng, $tmp, $root, and
# check, skip, ok, nok (tests/lib/tap.sh, prefix "microvm: ").
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fng=$root/build/fnguard
fngd=$root/build/fnguardd
image=$root/build/guest/microvm-initrd.cpio.gz
tmp=$(mktemp -d)
pin=/sys/fs/bpf/fnguardd-vmtest-$$
dpid=
epid=
cleanup() {
	[ -n "$epid" ] && kill "$epid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/lib/tap.sh"
TAP_PREFIX="microvm: "
if [ "$(id -u)" != 0 ]; then
	skip_all "host tests" "they need root (cgroups, namespaces)"
fi
if [ ! -r /var/cache/fnguard/abi ] || [ ! -r "$image" ]; then
	skip_all "host tests" "no guest kernel or image: run make deps && make guest-initrd"
fi
# QEMUs of this test's daemon (environment ids end with the daemon's pid).
qemus() { pgrep -f "fnguard\\.env=env-[0-9]+-$daemon_pid( |\$)" | wc -l; }
export FNGUARD_SOCKET=$tmp/fnguard.sock
printf 'pin_dir: %s\nmicrovm_accel: auto\n' "$pin" >"$tmp/fnguardd.conf"
# A test's own guest image (microvm_hostile.sh).
[ -n "${FNGUARD_MICROVM_TEST_IMAGE:-}" ] &&
	printf 'microvm_initrd: %s\n' "$FNGUARD_MICROVM_TEST_IMAGE" >>"$tmp/fnguardd.conf"
[ -n "${FNGUARD_MICROVM_BOOT_TIMEOUT:-}" ] &&
	printf 'microvm_boot_timeout: %s\n' "$FNGUARD_MICROVM_BOOT_TIMEOUT" >>"$tmp/fnguardd.conf"
"$fngd" --foreground -v --config "$tmp/fnguardd.conf" --state-dir "$tmp/state" 2>"$tmp/log" &
dpid=$!
daemon_pid=$dpid
for i in $(seq 50); do [ -S "$FNGUARD_SOCKET" ] && break; sleep 0.1; done
check "fnguardd listens" test -S "$FNGUARD_SOCKET"
"$fng" events --follow --json >"$tmp/events" 2>/dev/null &
epid=$!

# stop_daemon: SIGTERM, then nothing of ours may be left.
stop_daemon() {
	local rc
	kill "$epid" 2>/dev/null
	epid=
	kill -TERM "$dpid"
	wait "$dpid"
	rc=$?
	dpid=
	check "SIGTERM: exit status 0 ($rc)" test "$rc" = 0
	check "no QEMU of ours is left ($(qemus))" test "$(qemus)" = 0
	check "no environment cgroup is left" sh -c "! ls -d /sys/fs/cgroup/*/fnguard/env-*-$daemon_pid /sys/fs/cgroup/fnguard/env-*-$daemon_pid 2>/dev/null | grep -q ."
	check "no environment directory is left" sh -c "! ls '$tmp/state/envs/' 2>/dev/null | grep -q ."
}
