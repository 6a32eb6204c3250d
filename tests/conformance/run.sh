#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The conformance suite: runs every case of tests/conformance/cases against one backend, inside
# the kernel test bench (busybox sh, as root). For each case it checks, under the policy, the
# errno (fng-op's exit code) and the denial event; then, without any policy, that the same
# operation gives the "bare" result — so a case can only pass if the policy made the difference.
#
#   run.sh BACKEND [CASE-NAME-SUBSTRING]      BACKEND: bpf-lsm | kmod
set -u
backend=${1:?usage: run.sh BACKEND [FILTER]}
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
fng=/fnguard/fnguard
op=/fnguard/fng-op
work=/tmp/conformance
fail=0

errno_num() {
	case "$1" in
	EPERM) echo 1 ;; EACCES) echo 13 ;; EXDEV) echo 18 ;; EAGAIN) echo 11 ;;
	ENETUNREACH) echo 101 ;; ECONNREFUSED) echo 111 ;; ENOSYS) echo 38 ;; *) echo "$1" ;;
	esac
}

. "$here/tree.sh"
reset_tree() { conformance_tree /tmp; }

trim() { echo "$1" | sed 's/^ *//; s/ *$//'; }

mkdir -p "$work"
n=0
while IFS='|' read -r name policy setup args expect bare event; do
	name=$(trim "$name")
	case "$name" in "" | "#"*) continue ;; esac
	[ -n "$filter" ] && case "$name" in *"$filter"*) ;; *) continue ;; esac
	policy=$(trim "$policy"); setup=$(trim "$setup"); args=$(trim "$args")
	expect=$(errno_num "$(trim "$expect")"); bare=$(errno_num "$(trim "$bare")")
	event=$(trim "$event")
	n=$((n + 1))
	label="$backend: $name"
	if [ "$args" != "${args#exec /lib64/}" ] && [ ! -e /lib64/ld-linux-x86-64.so.2 ]; then
		echo "ok - $label # SKIP no dynamic loader in this initramfs"
		continue
	fi

	# Under the policy.
	reset_tree
	[ "$setup" = - ] || sh -c "$setup" || { echo "not ok - $label: setup failed: $setup"; fail=1; continue; }
	ev="$work/events.$n"
	: >"$ev"
	# shellcheck disable=SC2086
	timeout 30 "$fng" run --backend "$backend" --policy "$here/policies/$policy.yaml" \
		--events "$ev" -- "$op" $args >"$work/out.$n" 2>&1
	got=$?
	# The event: class and op, and verdict blocked (or audited with '~').
	evok=yes
	want_verdict=blocked
	case "$event" in "~"*) want_verdict=audited; event=${event#\~} ;; esac
	if [ "$event" != - ]; then
		class=${event%%:*}
		evop=
		[ "$class" != "$event" ] && evop=${event#*:}
		pat="\"class\":\"$class\""
		[ -n "$evop" ] && pat="$pat,\"op\":\"$evop\""
		grep "$pat" "$ev" | grep -q "\"verdict\":\"$want_verdict\"" || evok=no
	elif grep -q '"type":"denial"' "$ev"; then
		evok=unexpected
	fi

	# Without any policy.
	reset_tree
	[ "$setup" = - ] || sh -c "$setup"
	# shellcheck disable=SC2086
	timeout 30 "$op" $args >/dev/null 2>&1
	gotbare=$?

	if [ "$got" = "$expect" ] && [ "$gotbare" = "$bare" ] && [ "$evok" = yes ]; then
		echo "ok - $label"
	else
		echo "not ok - $label"
		echo "#   under the policy: got $got, want $expect; without: got $gotbare, want $bare; event $event: $evok"
		sed 's/^/#   run: /' "$work/out.$n" | head -n 5
		sed 's/^/#   event: /' "$ev" | head -n 3
		fail=1
	fi
done <"$here/cases"
[ "$n" -gt 0 ] || { echo "not ok - $backend: no case selected"; fail=1; }
# Every environment's cgroup is gone.
left=$(ls -d /sys/fs/cgroup/fnguard/run-* 2>/dev/null | head -n1)
if [ -z "$left" ]; then echo "ok - $backend: no cgroup left behind"; else echo "not ok - $backend: cgroup left behind: $left"; fail=1; fi
exit $fail
