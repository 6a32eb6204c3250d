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
		cp -pR "$(dirname "$f")"/. "$state/functions/$fn/"
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

# four_denied NAME FILE: the hostile handler's four attempts (its response in FILE) were denied.
four_denied() {
	_out=$(cat "$2")
	for what in read_handler write_tmp start_shell connect_out; do
		case "$_out" in
		*"\"$what\": \"ok\""*) echo "not ok - demo: $1: $what was NOT denied" ;;
		*"\"$what\": \"E"*) echo "ok - demo: $1: $what denied" ;;
		*) echo "not ok - demo: $1: no result for $what" ;;
		esac
	done
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
# A runtime's function needs its root image (fnguard runtime build, done by make deps): where
# it is not there (the kernel test bench has none), the demo says so and leaves it out.
runtimes=
for f in "$dir"/functions/*/function.yaml; do
	rt=$(sed -n 's/^  runtime: *\([a-z0-9]*\).*/\1/p' "$f")
	if [ -n "$rt" ] && ! fnguard runtime path "$rt" >/dev/null 2>&1; then
		echo "ok - demo: $(basename "$(dirname "$f")") left out # SKIP runtime $rt is not built here (fnguard runtime build $rt)"
		continue
	fi
	[ -n "$rt" ] && runtimes="$runtimes $rt"
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
four_denied hostile "$state/hostile.out"

case "$runtimes" in *python3*)
	say "invoking python-hello (Python, as for Lambda), twice: one runtime process serves both"
	printf '{"name": "fnguard"}' >"$state/py.json"
	timeout 120 fnguard invoke python-hello --payload "$state/py.json" -v >"$state/py1.out" 2>"$state/py1.rec"
	timeout 60 fnguard invoke python-hello --payload "$state/py.json" -v >"$state/py2.out" 2>"$state/py2.rec"
	cat "$state/py1.out" "$state/py1.rec" "$state/py2.out" "$state/py2.rec"
	check "python-hello answered" grep -q '"greeting": "Hello, fnguard!"' "$state/py1.out"
	check "python-hello's second call was warm, in the same runtime process (calls: 2)" \
		grep -q '"calls": 2' "$state/py2.out"
	check "python-hello's cold start has its runtime init" grep -q '"runtime_init_ns"' "$state/py1.rec"

	say "invoking hostile-python: it tries to read its handler, write /tmp, start a shell, connect out"
	timeout 120 fnguard invoke hostile-python --payload "$state/py.json" -v >"$state/hpy.out" 2>"$state/hpy.rec"
	cat "$state/hpy.out" "$state/hpy.rec"
	four_denied hostile-python "$state/hpy.out"
	fnguard events --type denial --json >"$state/hpy-denials.json"
	for op in open create exec connect; do
		check "hostile-python: a '$op' denial event was reported" \
			grep -q "\"function\":\"hostile-python\".*\"op\":\"$op\"" "$state/hpy-denials.json"
	done
	;;
esac
case "$runtimes" in *nodejs*)
	say "invoking nodejs-hello (Node.js, an async handler)"
	timeout 120 fnguard invoke nodejs-hello --payload "$state/py.json" -v >"$state/js.out" 2>"$state/js.rec"
	cat "$state/js.out" "$state/js.rec"
	check "nodejs-hello answered" grep -q '"greeting":"Hello, fnguard!"' "$state/js.out"
	;;
esac
case "$runtimes" in *provided*)
	say "invoking provided-curl (a custom runtime: a shell loop over curl, as AWS's tutorial writes it)"
	timeout 120 fnguard invoke provided-curl --payload "$state/py.json" -v >"$state/sh.out" 2>"$state/sh.rec"
	cat "$state/sh.out" "$state/sh.rec"
	check "provided-curl answered" grep -q '"runtime": "provided"' "$state/sh.out"
	;;
esac

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
