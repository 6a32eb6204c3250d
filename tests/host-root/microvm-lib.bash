# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the microVM host tests (microvm.sh, microvm_life.sh): skips without root or the
# guest kernel and image, starts fnguardd (accel auto: the KVM probe runs for real) with its
# event stream in $tmp/events, and cleans up on exit (the test's own guest image of
# microvm-image.bash too). Defines qemus, $fng, $tmp, $root, and check, skip, ok, nok
# (tests/lib/tap.sh, prefix "microvm: ").
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/host-root/daemon-lib.bash"
image=$root/build/guest/microvm-initrd.cpio.gz
pin=/sys/fs/bpf/fnguardd-vmtest-$$
epid=
cleanup_more() {
	[ -n "$epid" ] && kill "$epid" 2>/dev/null
	[ -z "${test_image_file:-}" ] || rm -f "$test_image_file"
}
TAP_PREFIX="microvm: "
if [ "$(id -u)" != 0 ]; then
	skip_all "host tests" "they need root (cgroups, namespaces)"
fi
if [ ! -r /var/cache/fnguard/abi ] || [ ! -r "$image" ]; then
	skip_all "host tests" "no guest kernel or image: run make deps && make guest-initrd"
fi
# QEMUs of this test's daemon (environment ids end with the daemon's pid).
qemus() { pgrep -f "fnguard\\.env=env-[0-9]+-$daemon_pid( |\$)" | wc -l; }
printf 'pin_dir: %s\nmicrovm_accel: auto\n' "$pin" >"$tmp/fnguardd.conf"
# A test's own guest image (microvm-image.bash).
[ -n "${FNGUARD_MICROVM_TEST_IMAGE:-}" ] &&
	printf 'microvm_initrd: %s\n' "$FNGUARD_MICROVM_TEST_IMAGE" >>"$tmp/fnguardd.conf"
[ -n "${FNGUARD_MICROVM_BOOT_TIMEOUT:-}" ] &&
	printf 'microvm_boot_timeout: %s\n' "$FNGUARD_MICROVM_BOOT_TIMEOUT" >>"$tmp/fnguardd.conf"
# A test's own settings.
[ -n "${FNGUARD_TEST_CONF_EXTRA:-}" ] && printf '%s\n' "$FNGUARD_TEST_CONF_EXTRA" >>"$tmp/fnguardd.conf"
daemon_start -v
"$fng" events --follow --json >"$tmp/events" 2>/dev/null &
epid=$!

# stop_daemon: SIGTERM, then nothing of ours may be left.
stop_daemon() {
	kill "$epid" 2>/dev/null
	epid=
	daemon_stop
	check "no QEMU of ours is left ($(qemus))" test "$(qemus)" = 0
	no_env_cgroup_left
	check "no environment directory is left" sh -c "! ls '$tmp/state/envs/' 2>/dev/null | grep -q ."
}
