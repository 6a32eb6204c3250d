#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Starting an environment copies no image (docs/runtime.md): the runtime's root image is shared
# by every environment, the code image is made once per function version at registration. Nine
# environments of one python3 function are busy (each invocation sleeps); the state directory's
# size and the bytes the daemon has written are taken; a tenth invocation starts the tenth
# environment, and they are taken again: less than 1 MiB more. Stopping the daemon ends the
# sleeping invocations. Prints one TAP line per case and always exits 0.
set -u
FNGUARD_TEST_CONF_EXTRA="max_envs_per_function: 10"
. "$(dirname "$0")/microvm-lib.bash"
rt=/var/cache/fnguard/runtimes
if [ ! -f "$rt/python3/image.erofs" ]; then
	skip_all "the 10th environment" "runtime python3 is not built in $rt: run make deps"
fi

mkdir -p "$tmp/many"
cat >"$tmp/many/function.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: many, version: "1", code: ., runtime: python3, handler: app.handler}
environment: {kind: microvm, isolate_invocations: false}
limits: {memory: 64Mi, timeout: 900s, pids: 16, tmp_size: 1Mi}
EOF
cat >"$tmp/many/app.py" <<'EOF'
import time

def handler(event, context):
    time.sleep(event["s"])
    return {"slept": event["s"]}
EOF
"$fng" function register "$tmp/many/function.yaml" >/dev/null

busy() { "$fng" envs --json 2>/dev/null | grep '"function":"many"' | grep -c '"state":"busy"'; }
wait_busy() { # wait_busy N: until N environments are busy (at most 8 minutes)
	for _ in $(seq 480); do [ "$(busy)" -ge "$1" ] && return 0; sleep 1; done
	return 1
}
daemon_writes() { awk '/^write_bytes/{print $2}' "/proc/$daemon_pid/io"; }
printf '{"s": 900}' >"$tmp/sleep"
pids=
for _ in $(seq 9); do
	"$fng" invoke many --payload "$tmp/sleep" >/dev/null 2>&1 &
	pids="$pids $!"
done
check "nine environments of one function are busy at once" wait_busy 9
du_9=$(du -sk "$tmp/state" | cut -f1)
w_9=$(daemon_writes)
"$fng" invoke many --payload "$tmp/sleep" >/dev/null 2>&1 &
pids="$pids $!"
check "a tenth starts beside the nine" wait_busy 10
du_10=$(du -sk "$tmp/state" | cut -f1)
w_10=$(daemon_writes)
echo "# the 10th environment: state directory $du_9 -> $du_10 KiB, the daemon wrote $((w_10 - w_9)) bytes"
check "starting the 10th environment writes less than 1 MiB (state +$((du_10 - du_9)) KiB, daemon $((w_10 - w_9)) B)" \
	test $((du_10 - du_9)) -lt 1024 -a $((w_10 - w_9)) -lt 1048576
stop_daemon
# shellcheck disable=SC2086
wait $pids 2>/dev/null
exit 0
