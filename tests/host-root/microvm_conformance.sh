#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The file and exec cases of the conformance table (tests/conformance/cases: policies files,
# files-default-deny, exec, children, audit) run through microVM environments: each case is a
# function of its own, whose guest boots with the case's tree, runs the operation as the
# function's handler under the case's policy, enforced by the guest's kernel through the
# agent, and must give the case's errno and denial event.
#
# The guest image is the real one plus a test archive: fng-op and hello-dyn in /fnguard, and an
# /init that builds the case's tree (run.sh's reset_tree, then the case's set-up) as root before
# it executes the real agent. Differences from the bench run (tests/conformance/run.sh):
#  - the handler is nobody, not root: the tree is made writable by everyone, so that only the
#    policy decides; cases that need root's capabilities are skipped, saying so;
#  - /tmp is the environment's own tmpfs, mounted after the tree is built: the table's /tmp
#    paths become /srv/tmp;
#  - the "bare" result (the same operation without a policy) is checked by the bench run.
# Prints one TAP line per case and always exits 0.
#   microvm_conformance.sh [CASE-NAME-SUBSTRING]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$root/build/guest/microvm-initrd.cpio.gz
filter=${1:-}
conf=$root/tests/conformance
if [ ! -r "$base" ] || ! command -v cpio >/dev/null || [ ! -x "$root/build/guest/fng-op" ]; then
	echo "ok - microvm: conformance # SKIP no guest image (make guest-initrd), fng-op or cpio"
	exit 0
fi

# The test image.
. "$(dirname "$0")/microvm-image.bash"
stage=$(mktemp -d)
mkdir -p "$stage/fnguard" "$stage/bin"
cp "$root/build/guest/fng-op" "$root/build/guest/hello-dyn" "$stage/fnguard/"
cp "$root/build/guest/fnguard-agent" "$stage/fnguard/agent"
cp "$conf/tree.sh" "$stage/fnguard/"
for a in $(busybox --list); do [ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"; done
rm -f "$stage/bin/busybox"
cat >"$stage/init" <<'EOS'
#!/bin/busybox sh
# The case's tree (tests/conformance/tree.sh, /tmp as /srv/tmp), its set-up, then the
# agent: as root, before anything of the function exists.
export PATH=/bin
. /fnguard/tree.sh
conformance_tree /srv/tmp
setup=$(cat /var/task/setup)
[ "$setup" = - ] || sh -c "$setup" || echo "conformance: set-up failed: $setup"
# The handler is nobody: file modes must not decide, the policy must.
chmod -R a+rwX /srv/conf /srv/tmp
exec /fnguard/agent
EOS
chmod 755 "$stage/init"
test_image "$stage"
. "$(dirname "$0")/microvm-lib.bash"

errno_num() {
	case "$1" in
	EPERM) echo 1 ;; EACCES) echo 13 ;; EXDEV) echo 18 ;; EAGAIN) echo 11 ;;
	ENETUNREACH) echo 101 ;; ECONNREFUSED) echo 111 ;; *) echo "$1" ;;
	esac
}
trim() { echo "$1" | sed 's/^ *//; s/ *$//'; }
# Cases that need root in the function (its handler is nobody here), with the reason.
needs_root() {
	case "$1" in
	"chroot, then open a denied file") echo "chroot needs CAP_SYS_CHROOT, which a handler never has" ;;
	"O_PATH then linkat into an allowed tree")
		echo "linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH (ENOENT without it), which a handler never has" ;;
	*) return 1 ;;
	esac
}

# One case: register its function, invoke it, check the exit status, remove it.
run_case() { # n name policy setup args expect event
	local n=$1 name=$2 policy=$3 setup=$4 args=$5 expect=$6 fn=c$1 dir=$tmp/c$1 rc
	mkdir -p "$dir"
	printf '%s\n' "$setup" >"$dir/setup"
	printf '%s' "$args" >"$dir/payload"
	{
		grep -v '^ *#' "$conf/policies/$policy.yaml"
		echo "function: {name: $fn, version: \"1\", code: ., handler: /fnguard/fng-op}"
		echo "environment: {kind: microvm, reuse: false}"
		echo "limits: {memory: 128Mi, timeout: 30s}"
	} >"$dir/function.yaml"
	chmod 755 "$dir"
	"$fng" function register "$dir/function.yaml" >/dev/null 2>"$dir/err" || {
		echo "register failed: $(cat "$dir/err")" >"$dir/got"
		return
	}
	"$fng" invoke "$fn" --payload "$dir/payload" -v >"$dir/out" 2>"$dir/rec"
	rc=$(grep -o '"exit_status":-\?[0-9]*' "$dir/rec" | head -n1 | cut -d: -f2)
	echo "${rc:-none}" >"$dir/got"
	"$fng" function remove "$fn" >/dev/null 2>&1
}

n=0
declare -a names expects events
jobs_running=0
while IFS='|' read -r name policy setup args expect bare event; do
	name=$(trim "$name")
	case "$name" in "" | "#"*) continue ;; esac
	policy=$(trim "$policy")
	case "$policy" in files | files-default-deny | exec | children | audit) ;; *) continue ;; esac
	[ -n "$filter" ] && case "$name" in *"$filter"*) ;; *) continue ;; esac
	event=$(trim "$event")
	# Network and syscall cases of the audit policy belong to the bench run.
	case "$event" in *network* | *syscall*) continue ;; esac
	n=$((n + 1))
	if why=$(needs_root "$name"); then
		echo "ok - microvm: conformance: $name # SKIP $why"
		continue
	fi
	setup=$(trim "$setup" | sed 's#/tmp/#/srv/tmp/#g')
	args=$(trim "$args" | sed 's#/tmp/#/srv/tmp/#g')
	names[$n]=$name
	expects[$n]=$(errno_num "$(trim "$expect")")
	events[$n]=$event
	# Two guests at a time: each is a TCG guest on a 2-core machine.
	run_case "$n" "$name" "$policy" "$setup" "$args" "${expects[$n]}" "$event" &
	jobs_running=$((jobs_running + 1))
	if [ "$jobs_running" -ge 2 ]; then
		wait -n
		jobs_running=$((jobs_running - 1))
	fi
done <"$conf/cases"
while [ "$jobs_running" -gt 0 ]; do wait -n; jobs_running=$((jobs_running - 1)); done
sleep 1

ran=0
for i in "${!names[@]}"; do
	ran=$((ran + 1))
	got=$(cat "$tmp/c$i/got" 2>/dev/null || echo none)
	event=${events[$i]}
	evok=yes
	want_verdict=blocked
	case "$event" in "~"*) want_verdict=audited; event=${event#\~} ;; esac
	mine=$(grep "\"function\":\"c$i\"" "$tmp/events" | grep '"type":"denial"')
	if [ "$event" != - ]; then
		class=${event%%:*}
		pat="\"class\":\"$class\""
		[ "$class" != "$event" ] && pat="$pat,\"op\":\"${event#*:}\""
		grep "$pat" <<<"$mine" | grep -q "\"verdict\":\"$want_verdict\"" || evok=no
	elif [ -n "$mine" ]; then
		evok=unexpected
	fi
	if [ "$got" = "${expects[$i]}" ] && [ "$evok" = yes ]; then
		echo "ok - microvm: conformance: ${names[$i]}"
	else
		echo "not ok - microvm: conformance: ${names[$i]}"
		echo "#   got $got, want ${expects[$i]}; event ${events[$i]}: $evok"
		head -c 600 "$tmp/c$i/err" "$tmp/c$i/out" "$tmp/c$i/rec" 2>/dev/null | sed "s/^/#   /"
		env=$(grep -o "\"function\":\"c$i\",\"version\":\"1\",\"env\":\"[^\"]*" "$tmp/events" | head -n1 | sed 's/.*"env":"//')
		# Why a guest died, often: the kernel's own words (a panic, the OOM killer), then its last lines.
		[ -n "$env" ] && grep "env $env console" "$tmp/log" | grep -i "panic\|out of memory\|killed process\|oom" | head -n 8 | sed 's/^/#   /'
		[ -n "$env" ] && grep "env $env console" "$tmp/log" | tail -n 5 | sed 's/^/#   /'
	fi
done
[ -n "$filter" ] ||
	check "file and exec cases ran through microVM environments ($ran of $n)" test "$ran" -gt 40
stop_daemon
