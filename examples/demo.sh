#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The fnguard demo: start fnguardd, register the example functions, invoke them (one of them
# hostile), show responses, denials and invocation records, stop the daemon. `make demo` runs it
# inside the kernel test bench (Debian's kernel, BPF LSM active), so every denial shown is the
# kernel's. Lines "ok - ..." / "not ok - ..." are the demo checking its own claims.
#
# Usage: demo.sh [DIR]   (DIR holds functions/*/function.yaml; default: this script's dir)
dir=${1:-$(dirname "$0")}
sock=/run/fnguard/fnguard.sock
state=$(mktemp -d)
PATH=$PATH:/fnguard
export FNGUARD_SOCKET=$sock

say() { printf '\n==> %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...
	_desc=$1
	shift
	if "$@"; then echo "ok - demo: $_desc"; else echo "not ok - demo: $_desc"; fi
}

say "fnguard status: what this kernel can enforce"
fnguard status

say "starting fnguardd"
fnguardd --foreground --state-dir "$state" 2>"$state/fnguardd.log" &
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

say "invocation records"
fnguard events --type invocation

say "environments"
fnguard envs

say "stopping fnguardd"
kill -TERM $dpid
wait $dpid
check "fnguardd stopped cleanly" test $? = 0
check "no environment cgroup is left" sh -c '! ls -d /sys/fs/cgroup/fnguard/env-* 2>/dev/null'
if grep -q . "$state/fnguardd.log"; then
	say "fnguardd's log"
	cat "$state/fnguardd.log"
fi
rm -rf "$state"
