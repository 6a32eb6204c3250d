# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the host tests that run a fnguardd of their own (daemon.sh, env_channel.sh, and
# the microvm*.sh through microvm-lib.bash), once $root is set. Defines $fng and $fngd (the
# built programs), $tmp (a directory removed on exit, once the daemon is stopped and the
# script's cleanup_more, if it defines one, has run), FNGUARD_SOCKET ($tmp/fnguard.sock), and
# ok, nok, check, skip, skip_all (tests/lib/tap.sh):
#   daemon_start [ARG...]  fnguardd in the foreground with the configuration $tmp/fnguardd.conf,
#                          its state in $tmp/state, its log in $tmp/log, and ARGs; $dpid and
#                          $daemon_pid are its pid (environment ids end with it); checks that
#                          it listens within 5 s
#   daemon_stop            SIGTERM: checks that it exits with status 0
#   no_env_cgroup_left     checks that the daemon left no environment cgroup
fng=$root/build/fnguard
fngd=$root/build/fnguardd
tmp=$(mktemp -d)
dpid=
cleanup() {
	if command -v cleanup_more >/dev/null 2>&1; then
		cleanup_more
	fi
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/lib/tap.sh"
export FNGUARD_SOCKET=$tmp/fnguard.sock

daemon_start() { # daemon_start [ARG...]
	"$fngd" --foreground "$@" --config "$tmp/fnguardd.conf" --state-dir "$tmp/state" 2>"$tmp/log" &
	dpid=$!
	daemon_pid=$dpid
	for _ in $(seq 50); do [ -S "$FNGUARD_SOCKET" ] && break; sleep 0.1; done
	check "fnguardd listens" test -S "$FNGUARD_SOCKET"
}

daemon_stop() {
	local rc
	kill -TERM "$dpid"
	wait "$dpid"
	rc=$?
	dpid=
	check "SIGTERM: exit status 0 ($rc)" test "$rc" = 0
}

# Environment ids end with the daemon's pid: another daemon's environments are not ours.
no_env_cgroup_left() {
	check "no environment cgroup is left" sh -c "! ls -d /sys/fs/cgroup/*/fnguard/env-*-$daemon_pid /sys/fs/cgroup/fnguard/env-*-$daemon_pid 2>/dev/null | grep -q ."
}
