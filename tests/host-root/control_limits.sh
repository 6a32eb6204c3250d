#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The API socket under attack (fnguardd on this host, no function environment needed):
#  - the socket path: a regular file, a symlink, a symlinked or world-writable directory are
#    refused; a stale socket is replaced; the socket is created 0660;
#  - a client that pipelines 400k requests and never reads, clients that announce 16 MiB
#    frames and stall, 256 idle connections of one user: the daemon's memory stays bounded,
#    root still gets in, idle connections are closed (FNGUARD_TEST_IDLE_S shortens the timeout);
#  - admin rights per request from the group database: a supplementary member of group fnguard
#    is admin, a user whose gid is fnguard's only by setregid (sg) is not, nor a process that
#    was passed a connection root opened;
#  - read-only requests are coalesced in the api_call records, admin ones are not.
# Creates a user in group fnguard for the admin cases (and the group when it does not exist),
# and removes them at the end. Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
fng=${FNGUARD:-$root/build/fnguard}
fngd=${FNGUARDD:-$root/build/fnguardd}
py="python3 $root/tests/lib/control_limits.py"
tmp=$(mktemp -d)
pin=/sys/fs/bpf/fnguardd-test-$$
user=fngt$$
made_group= made_user= dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$made_user" ] && userdel "$user" 2>/dev/null
	[ -n "$made_group" ] && groupdel fnguard 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$root/tests/lib/tap.sh"
TAP_PREFIX="control: "
if [ "$(id -u)" != 0 ]; then
	skip_all "host tests" "they need root (setuid, users, groups)"
fi
chmod 755 "$tmp"
printf 'pin_dir: %s\n' "$pin" >"$tmp/fnguardd.conf"

# Starts the daemon on socket $1 (log in $tmp/log); 0 when it listens within 10 s.
start() {
	FNGUARD_TEST_IDLE_S=${idle:-60} "$fngd" --foreground --config "$tmp/fnguardd.conf" \
		--socket "$1" --state-dir "$tmp/state" 2>"$tmp/log" &
	dpid=$!
	for _ in $(seq 100); do
		[ -S "$1" ] && grep -q "listening on" "$tmp/log" && return 0
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	dpid=
}
# The daemon must refuse socket $1 within 10 s, its log matching $2.
refused() {
	start "$1" && { stop; return 1; }
	for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	stop
	grep -q "$2" "$tmp/log" || { sed 's/^/# /' "$tmp/log" | tail -3; return 1; }
}

# --- the socket path
printf 'keep' >"$tmp/file"
check "a socket path that is a regular file is refused" refused "$tmp/file" 'not a socket'
check "... and the file is kept" test "$(cat "$tmp/file")" = keep
ln -s "$tmp/file" "$tmp/link"
check "a socket path that is a symlink is refused" refused "$tmp/link" 'not a socket'
check "... and the link is kept" test -L "$tmp/link"
mkdir -p "$tmp/realdir" && ln -s "$tmp/realdir" "$tmp/dirlink"
check "a socket directory that is a symlink is refused" refused "$tmp/dirlink/s" 'symlink'
check "... and nothing is created through it" test ! -e "$tmp/realdir/s"
mkdir -p "$tmp/open" && chmod 777 "$tmp/open"
check "a world-writable socket directory without the sticky bit is refused" refused "$tmp/open/s" 'writable'
mkdir -p "$tmp/sticky" && chmod 1777 "$tmp/sticky"
if start "$tmp/sticky/s"; then ok=true; else ok=false; fi
stop
check "a world-writable sticky socket directory is accepted" $ok
python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('$tmp/stale')"
if start "$tmp/stale"; then ok=true; else ok=false; fi
check "a stale socket is replaced" sh -c "$ok && '$fng' status --socket '$tmp/stale' >/dev/null"
check "... with mode 0660" test "$(stat -c %a "$tmp/stale" 2>/dev/null)" = 660
stop
mask=$(umask)
umask 077
if start "$tmp/newdir/s"; then ok=true; else ok=false; fi
umask "$mask"
stop
check "a missing socket directory is created, 0755 (whatever the umask)" sh -c "$ok && test \"\$(stat -c %a '$tmp/newdir')\" = 755"

# Group fnguard (made unless it exists) and a user in it as a supplementary group, before the
# daemon starts: it gives the socket to the group when it opens it.
getent group fnguard >/dev/null || { groupadd fnguard && made_group=1; }
useradd -M -N -g nogroup -G fnguard -s /usr/sbin/nologin "$user" && made_user=1

# --- exhaustion
export FNGUARD_SOCKET=$tmp/s
idle=3
start "$FNGUARD_SOCKET" || echo "not ok - control: fnguardd listens"
chmod 666 "$FNGUARD_SOCKET" # everyone may connect (and read) in these cases
$py flood "$FNGUARD_SOCKET" "$dpid" 400000
$py stall "$FNGUARD_SOCKET" "$dpid" 10 status
$py stall "$FNGUARD_SOCKET" "$dpid" 10 invoke
$py budget "$FNGUARD_SOCKET" "$dpid" 16
$py idle "$FNGUARD_SOCKET" 300 65534 "$idle"
grep -q "connection refused\|connections" "$tmp/log" && echo "ok - control: refused connections are logged" ||
	echo "not ok - control: refused connections are logged"

# --- admin rights
if [ -z "$made_user" ]; then
	echo "not ok - control: admin cases: could not create a user in group fnguard"
else
	gid=$(getent group fnguard | cut -d: -f3)
	mkdir -p "$tmp/fn"
	printf '#!/bin/sh\ncat\n' >"$tmp/fn/handler"
	chmod 755 "$tmp/fn" "$tmp/fn/handler"
	printf 'apiVersion: fnguard/v1\nfunction:\n  name: sup\n  version: "1"\n  code: ./fn\n  handler: /var/task/handler\nenvironment:\n  kind: process\nfiles:\n  default: allow\nexec:\n  default: allow\n  children: allow\nnetwork:\n  egress:\n    default: deny\n' >"$tmp/sup.yaml"
	as_user="setpriv --reuid=$user --regid=nogroup --init-groups"
	$as_user "$fng" function register "$tmp/sup.yaml" 2>"$tmp/err"
	check "a supplementary member of group fnguard may register a function" test $? = 0
	$as_user "$fng" function remove sup:1 2>>"$tmp/err"
	check "... and remove it" test $? = 0
	out=$($py sg "$FNGUARD_SOCKET" "$gid")
	echo "$out"
	$py passed "$FNGUARD_SOCKET"
	as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	check "fnguard status works for anyone who can connect" sh -c "$as_nobody '$fng' status >/dev/null"
	check "fnguard function list works for anyone who can connect" sh -c "$as_nobody '$fng' function list >/dev/null"
	$as_nobody "$fng" function remove nothing 2>"$tmp/err"
	check "an admin command of anyone else is refused" grep -q "may not do this" "$tmp/err"
fi

# --- api_call records
$py coalesce "$FNGUARD_SOCKET" "$fng" 1000
kill -0 "$dpid" 2>/dev/null
check "the daemon survived all of it" test $? = 0
exit 0
