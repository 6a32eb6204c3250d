#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The daemon benchmark, inside the kernel test bench: what an invocation costs through
# fnguardd (process environment: cgroup, namespaces, BPF LSM policy, seccomp, agent) against
# the same static handler run bare in fresh namespaces (unshare + exec), measured side by side
# and interleaved by fng-invoke-bench:
#   warm  p50/p99 of Invoke round trips on one warm environment, against bare runs
#   cold  p50 of Invokes that each start an environment (reuse: false), with the record's
#         init_ns, against single bare runs taken next to them
# Timings are reported, never asserted: the ok lines say only that every run worked.
#   daemon.sh [ROUNDS] [PER_ROUND]
set -u
echo "# clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
rounds=${1:-40}
per_round=${2:-10}
PATH=$PATH:/fnguard
export FNGUARD_SOCKET=/run/fnguard/fnguard.sock
dir=$(mktemp -d /tmp/dbench.XXXXXX)
fail=0

check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then
		echo "ok - daemon bench: $d"
	else
		echo "not ok - daemon bench: $d"
		fail=1
	fi
}

# function NAME REUSE: the policy of a benchmark function. The rules are few but real, so
# that the BPF LSM and seccomp are engaged as for any function.
function_yaml() {
	cat <<EOY
apiVersion: fnguard/v1
function:
  name: $1
  version: "1"
  code: .
  handler: /var/task/handler
environment:
  kind: process
  reuse: $2
  isolate_invocations: false
limits:
  memory: 64Mi
  timeout: 30s
  pids: 16
  tmp_size: 1Mi
files:
  default: deny
  rules:
    - path: /var/task
      access: [read]
    - path: /tmp
      access: [read, write]
    - path: /etc
      access: [read]
    - path: /dev/null
      access: [read, write]
exec:
  default: deny
  allow: [/var/task/handler]
  children: deny
network:
  egress:
    default: deny
EOY
}

# The code directory: the handler, readable by the handlers' user (the daemon runs them as
# nobody), and both policies next to it.
mkdir -p "$dir/fn" "$dir/state"
cp /fnguard/fng-echo "$dir/fn/handler"
chmod 755 "$dir" "$dir/fn" "$dir/fn/handler"
function_yaml bench-warm true >"$dir/fn/warm.yaml"
function_yaml bench-cold false >"$dir/fn/cold.yaml"

fnguardd --foreground --state-dir "$dir/state" 2>"$dir/fnguardd.log" &
dpid=$!
i=0
while [ $i -lt 100 ] && ! { [ -S "$FNGUARD_SOCKET" ] && fnguard envs >/dev/null 2>&1; }; do
	sleep 0.1; i=$((i + 1))
done
check "fnguardd is listening on $FNGUARD_SOCKET" test -S "$FNGUARD_SOCKET"
check "both benchmark functions are registered" sh -c "fnguard function register \
	'$dir/fn/warm.yaml' && fnguard function register '$dir/fn/cold.yaml'"

if [ $fail = 0 ]; then
	timeout 240 fng-invoke-bench -s "$FNGUARD_SOCKET" -w bench-warm -c bench-cold \
		-x "$dir/fn/handler" -r "$rounds" -n "$per_round" | tee "$dir/bench.out"
	grep -q '^not ok' "$dir/bench.out" && fail=1
	grep -q '^daemon: cold start' "$dir/bench.out" || {
		echo "not ok - daemon bench: fng-invoke-bench reported no result"
		fail=1
	}

	# The init_ns reported is the invocation record's, as the telemetry stream carries it.
	last=$(sed -n 's/^# last cold invocation \([^ ]*\) init_ns \([0-9]*\)$/\1 \2/p' \
		"$dir/bench.out")
	if [ -n "$last" ]; then
		inv=${last% *}
		init=${last#* }
		fnguard events --type invocation --json >"$dir/events.json"
		check "the invocation event of $inv has init_ns $init" grep -q \
			"\"invocation\":\"$inv\".*\"init_ns\":\"\{0,1\}$init\b" "$dir/events.json"
		fnguard events --type invocation | tail -n 3 | sed 's/^/# /'
	fi
	echo "# environments at the end:"
	fnguard envs | sed 's/^/# /'
fi

kill -TERM $dpid
wait $dpid
check "fnguardd stopped cleanly" test $? = 0
check "no environment cgroup is left" sh -c '! ls -d /sys/fs/cgroup/fnguard/env-* 2>/dev/null'
if [ $fail != 0 ] || grep -q . "$dir/fnguardd.log"; then
	echo "# fnguardd's log:"
	sed 's/^/# /' "$dir/fnguardd.log"
fi
rm -rf "$dir"
exit $fail
