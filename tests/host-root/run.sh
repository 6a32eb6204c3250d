#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `fnguard run` and `fnguard status` on the kernel this runs on (as root). What is expected
# depends on what the kernel can enforce, which the test finds out itself: file and exec rules
# need BPF LSM, network rules need cgroup v2 sock_addr programs. Network traffic stays inside a
# network namespace made here with no route out (192.0.2.0/24 is a documentation range).
# Prints TAP lines; FNGUARD names the binary (default build/fnguard).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fng=${FNGUARD:-$top/build/fnguard}
op=${FNG_OP:-$top/build/guest/fng-op}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# ok, nok, check, skip (tests/lib/tap.sh); a failure makes the exit status 1
. "$top/tests/lib/tap.sh"
TAP_PREFIX="run: "
tap_on_failure() { fail=1; }

if [ "$(id -u)" -ne 0 ]; then
	skip "all run tests" "need root (cgroups, BPF)"
	exit 0
fi

cgroot=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n1)
leftover() { ls -d "$cgroot"/fnguard/run-* 2>/dev/null | head -n1; }

# What this kernel can do, read back from the JSON status.
"$fng" status --json >"$tmp/status.json" 2>"$tmp/status.err"
check "status --json exits 0" test $? -eq 0
avail() { grep -A3 "\"name\": \"$1\"" "$tmp/status.json" | grep -q '"available": true'; }
lsm=no; avail bpf-lsm && lsm=yes
net=no; avail cgroup-net && net=yes
echo "# bpf-lsm available: $lsm, cgroup-net available: $net"
"$fng" status >"$tmp/status.txt"
check "status names every backend" grep -q 'bpf-lsm' "$tmp/status.txt"
if [ "$lsm" = no ]; then
	check "status says why bpf-lsm is unavailable" \
		grep -qA1 '^bpf-lsm *unavailable' "$tmp/status.txt"
fi

cat >"$tmp/files.yaml" <<'EOF'
apiVersion: fnguard/v1
exec:
  default: allow
  children: allow
files:
  default: allow
  rules:
    - path: /etc/shadow
      access: []
EOF
cat >"$tmp/net.yaml" <<'EOF'
apiVersion: fnguard/v1
files:
  default: allow
exec:
  default: allow
  children: allow
network:
  egress:
    default: deny
    allow:
      - to: 198.51.100.0/24
        ports: [443]
        protocol: tcp
  loopback: allow
EOF

# Exit statuses, with a policy every kernel here enforces (the built-in syscall list).
"$fng" run -- sh -c 'exit 7' 2>"$tmp/err"
check "CMD's exit status is passed through (7)" test $? -eq 7
"$fng" run -- /nonexistent/cmd 2>"$tmp/err"
check "CMD not found exits 127" test $? -eq 127
printf 'not a program\n' >"$tmp/noexec" && chmod 644 "$tmp/noexec"
"$fng" run -- "$tmp/noexec" 2>"$tmp/err"
check "CMD not executable exits 126" test $? -eq 126
"$fng" run --policy "$tmp/missing.yaml" -- true 2>"$tmp/err"
check "a missing policy file exits 125" test $? -eq 125
"$fng" run 2>"$tmp/err"
check "no command exits 125" test $? -eq 125

if [ "$lsm" = no ]; then
	"$fng" run --policy "$tmp/files.yaml" -- cat /etc/hostname >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "file rules without BPF LSM: refused with 125" test $rc -eq 125
	check "the refusal names the files section" grep -q '^  files ' "$tmp/err"
	check "the refusal gives the reason" grep -qi 'LSM' "$tmp/err"
	check "the refused command did not run" test ! -s "$tmp/out"
	"$fng" run --allow-partial --policy "$tmp/files.yaml" -- cat /etc/hostname >"$tmp/out" \
		2>"$tmp/err"
	check "--allow-partial runs the command" test $? -eq 0 -a -s "$tmp/out"
	check "--allow-partial says what is NOT enforced" grep -q 'NOT enforced' "$tmp/err"
else
	skip "file rules refused without BPF LSM" "this kernel has BPF LSM (tested in the bench)"
fi

if [ "$net" = yes ]; then
	# A namespace with only loopback: without the policy a connect out fails with
	# ENETUNREACH (101); with it, EPERM (1). fng-op exits with the errno of its operation.
	ns() { unshare -n sh -c 'ip link set lo up; "$@"' sh "$@"; }
	ns "$op" connect 192.0.2.1 80 tcp
	check "without fnguard the connect fails as unreachable" test $? -eq 101
	ns "$fng" run --policy "$tmp/net.yaml" --events "$tmp/ev.jsonl" -- \
		"$op" connect 192.0.2.1 80 tcp 2>"$tmp/run.err"
	check "egress default deny: connect fails with EPERM" test $? -eq 1
	check "the denial is reported as a JSON event" \
		grep -q '"type":"denial".*"class":"network","op":"connect"' "$tmp/ev.jsonl"
	check "the event names the target and the rule" \
		grep -q '"target":"192.0.2.1:80/tcp","verdict":"blocked","rule":"network.egress.default"' \
		"$tmp/ev.jsonl"
	ns "$fng" run --policy "$tmp/net.yaml" -- "$op" connect 198.51.100.1 443 tcp 2>/dev/null
	check "an allowed destination is not refused (unreachable here)" test $? -eq 101
	ns "$fng" run --policy "$tmp/net.yaml" -- "$op" sendto 192.0.2.7 53 2>/dev/null
	check "UDP sendto a denied address fails with EPERM" test $? -eq 1
	ns "$fng" run --policy "$tmp/net.yaml" -- "$op" connect ::ffff:192.0.2.1 80 tcp 2>/dev/null
	check "an IPv4-mapped IPv6 destination is matched as IPv4" test $? -eq 1
	: >"$tmp/ev.jsonl"
	ns "$fng" run --audit --policy "$tmp/net.yaml" --events "$tmp/ev.jsonl" -- \
		"$op" connect 192.0.2.1 80 tcp 2>/dev/null
	check "--audit blocks nothing (the kernel says unreachable)" test $? -eq 101
	check "--audit reports the would-be denial as audited" \
		grep -q '"verdict":"audited"' "$tmp/ev.jsonl"
	# Loopback is allowed: a local listener is reachable from inside.
	ns sh -c 'busybox nc -l -p 7171 >/dev/null & sleep 0.3;
		"$0" run --policy "$1" -- "$2" connect 127.0.0.1 7171 tcp' "$fng" "$tmp/net.yaml" "$op" \
		2>/dev/null
	check "loopback: allow lets a local connect through" test $? -eq 0
	# Processes outside the environment are never affected.
	ns sh -c '"$0" run --policy "$1" -- sleep 2 & sleep 0.5;
		"$2" connect 192.0.2.1 80 tcp; rc=$?; wait; exit $rc' "$fng" "$tmp/net.yaml" "$op" \
		2>/dev/null
	check "a process outside the environment is not affected" test $? -eq 101
else
	skip "network enforcement" "cgroup sock_addr programs unavailable on this kernel"
fi

# Socket families and raw sockets: BPF LSM, or seccomp where it is not there.
: >"$tmp/ev.jsonl"
"$fng" run --policy "$tmp/net.yaml" --events "$tmp/ev.jsonl" -- "$op" socket netlink 2>/dev/null
check "a socket family the policy does not allow fails with EPERM" test $? -eq 1
check "the family denial is a network/socket event" \
	grep -q '"class":"network","op":"socket".*"target":"family=netlink' "$tmp/ev.jsonl"
"$fng" run --policy "$tmp/net.yaml" -- "$op" socket raw 2>/dev/null
check "a raw socket while egress is restricted fails with EPERM" test $? -eq 1
"$op" socket netlink
check "the same socket without fnguard is created" test $? -eq 0
if [ "$lsm" = no ]; then
	# io_uring creates sockets without socket(): seccomp can no longer refuse families.
	sed 's/^network:/syscalls:\n  allow: [io_uring_setup, io_uring_enter]\nnetwork:/' \
		"$tmp/net.yaml" >"$tmp/uring.yaml"
	"$fng" run --policy "$tmp/uring.yaml" -- true 2>"$tmp/err"
	check "io_uring allowed without BPF LSM: families refused with 125" test $? -eq 125
	check "the refusal names network.families and says why" \
		grep -q '^  network.families .*io_uring' "$tmp/err"
fi

# The built-in syscall deny list, reported by name.
"$fng" run --events "$tmp/sys.jsonl" -- unshare -U true 2>"$tmp/err"
check "a denied syscall (unshare) fails" test $? -ne 0
check "the syscall denial is reported by name" \
	grep -q '"class":"syscall","op":"unshare"' "$tmp/sys.jsonl"

check "no cgroup is left behind" test -z "$(leftover)"
exit $fail
