# SPDX-License-Identifier: Apache-2.0
# Shared by the daemon bench tests (sourced): start/stop fnguardd, write functions; ok, nok,
# check (tests/lib/tap.sh, put into the guest by tools/vmtest); finish exits 1 after a failure.
PATH=$PATH:/fnguard
export FNGUARD_SOCKET=/run/fnguard/fnguard.sock
. /tests/lib/tap.sh
T=$(mktemp -d)
daemon_start() { # daemon_start STATE_DIR
	fnguardd --foreground --state-dir "$1" 2>>"$T/fnguardd.log" &
	dpid=$!
	for i in $(seq 100); do [ -S "$FNGUARD_SOCKET" ] && fnguard envs >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "# fnguardd did not start:"; sed 's/^/# /' "$T/fnguardd.log"
	return 1
}
daemon_stop() {
	kill -TERM "$dpid" && wait "$dpid"
}
# fn NAME HANDLER-BODY [TOP-LEVEL-YAML] [ENVIRONMENT-KEYS]: a function whose handler is a
# busybox sh script.
fn() {
	mkdir -p "$T/$1"
	printf '#!/bin/sh\n%s\n' "$2" >"$T/$1/handler"
	chmod 755 "$T/$1" "$T/$1/handler"
	cat >"$T/$1.yaml" <<EOY
apiVersion: fnguard/v1
function:
  name: $1
  version: "1"
  code: ./$1
  handler: /var/task/handler
environment:
  kind: process
$4
$3
files:
  default: allow
exec:
  default: allow
  children: allow
network:
  egress:
    default: deny
EOY
}
record() { # record FILE KEY: the value of "KEY" in a JSON line
	sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1" | head -n1
}
finish() {
	if [ "$tap_failed" != 0 ]; then
		echo "# fnguardd log:"
		sed 's/^/# /' "$T/fnguardd.log"
	fi
	rm -rf "$T"
	exit $tap_failed
}
