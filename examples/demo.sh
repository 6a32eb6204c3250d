#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The fnguard demo: start fnguardd, register the example functions, invoke them (one of them
# hostile), show responses, denials and invocation records, stop the daemon. Lines "ok - ..." /
# "not ok - ..." are the demo checking its own claims.
#
# `make demo` runs it on this host with the example functions as they are: microVM
# environments, whose guest kernel (Debian's, BPF LSM active) enforces the policy, so every
# denial shown is a kernel's, even on a host whose own kernel cannot enforce file rules. The
# kernel test bench runs it with KIND process (the daemon and its process environments inside
# the test kernel).
#
# Usage: demo.sh [DIR [KIND [CONFIG]]]   DIR holds functions/*/function.yaml (default: this
#        script's directory); KIND process or microvm overrides environment.kind; CONFIG is
#        a fnguardd --config file
dir=${1:-$(dirname "$0")}
kind=${2:-}
config=${3:-}
state=$(mktemp -d)
sock=${FNGUARD_SOCKET:-/run/fnguard/fnguard.sock}
PATH=$PATH:/fnguard
export FNGUARD_SOCKET=$sock
if [ -n "$kind" ]; then
	for f in "$dir"/functions/*/function.yaml; do
		fn=$(basename "$(dirname "$f")")
		mkdir -p "$state/functions/$fn"
		cp -p "$(dirname "$f")"/* "$state/functions/$fn/"
		sed -i "s/^  kind: .*/  kind: $kind/" "$state/functions/$fn/function.yaml"
	done
	chmod 755 "$state" "$state/functions" "$state"/functions/*
	dir=$state
fi

say() { printf '\n==> %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...
	_desc=$1
	shift
	if "$@"; then echo "ok - demo: $_desc"; else echo "not ok - demo: $_desc"; fi
}

say "fnguard status: what this kernel can enforce"
fnguard status

say "starting fnguardd"
fnguardd --foreground --state-dir "$state/daemon" ${config:+--config "$config"} --socket "$sock" \
	2>"$state/fnguardd.log" &
dpid=$!
for i in $(seq 50); do [ -S $sock ] && break; sleep 0.1; done
check "fnguardd is listening on $sock" test -S $sock

say "registering the example functions"
for f in "$dir"/functions/*/function.yaml; do
	fnguard function register "$f"
done
fnguard function list

say "invoking hello (a well-behaved function), twice: the second call is warm"
echo -n "fnguard" >"$state/payload"
timeout 60 fnguard invoke hello --payload "$state/payload" -v 2>"$state/hello1.rec"
timeout 60 fnguard invoke hello --payload "$state/payload" -v 2>"$state/hello2.rec"
cat "$state/hello1.rec" "$state/hello2.rec"
check "hello's first call was a cold start" grep -q '"cold_start":true' "$state/hello1.rec"
check "hello's second call reused the warm environment" grep -q '"cold_start":false' "$state/hello2.rec"

say "invoking hostile: it tries to read its handler, write /tmp, start a shell, connect out"
timeout 60 fnguard invoke hostile --payload "$state/payload" -v >"$state/hostile.out" 2>"$state/hostile.rec"
cat "$state/hostile.out" "$state/hostile.rec"
out=$(cat "$state/hostile.out")
for what in read_handler write_tmp start_shell connect_out; do
	case "$out" in
	*"\"$what\": \"ok\""*) echo "not ok - demo: hostile: $what was NOT denied" ;;
	*"\"$what\": \"E"*) echo "ok - demo: hostile: $what denied" ;;
	*) echo "not ok - demo: hostile: no result for $what" ;;
	esac
done

say "the denials, as the telemetry stream reports them"
fnguard events --type denial
fnguard events --type denial --json >"$state/denials.json"
for op in open create exec connect; do
	check "a '$op' denial event was reported" grep -q "\"op\":\"$op\"" "$state/denials.json"
done

say "fnguard status: the backends, and what runs microVM guests (KVM, or TCG and why)"
fnguard status

say "invocation records"
fnguard events --type invocation

say "environments"
fnguard envs

say "stopping fnguardd"
kill -TERM $dpid
wait $dpid
check "fnguardd stopped cleanly" test $? = 0
check "no environment cgroup is left" sh -c "! ls -d /sys/fs/cgroup/fnguard/env-*-$dpid /sys/fs/cgroup/*/fnguard/env-*-$dpid 2>/dev/null | grep -q ."
if grep -q . "$state/fnguardd.log"; then
	say "fnguardd's log"
	cat "$state/fnguardd.log"
fi
rm -rf "$state"
