#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# One tenant cannot reach another, nor make the daemon read for it (issue: an attacker's review):
#  - two microVM environments run as uids of their own; as A's uid, B's VMM memory
#    (/proc/PID/mem), its control channel (pidfd_getfd of fd 3), its guest image through
#    /proc/PID/root and on the host are all refused; B's own uid cannot read its memory or take
#    its fds either (the VMM is not dumpable);
#  - a member of group fnguard registers /etc/shadow, a FIFO, and a code directory below
#    root's 0700 directory: refused, no byte of the file quoted, the daemon still answers;
#  - the symlink swap race: while the code directory's owner swaps a file and a symlink to a
#    root-only secret 10,000 times (renameat2 RENAME_EXCHANGE), functions are registered from
#    it (by the member and by root) and one is started: the secret reaches no copy and no guest.
# Needs root (it creates two users and, if missing, the group fnguard, and removes them).
# Prints one TAP line per case and always exits 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	echo "ok - microvm: tenants # SKIP needs root, useradd and setpriv"
	exit 0
fi
made_group=
getent group fnguard >/dev/null || { groupadd fnguard && made_group=1; }
adm=fngt-adm$$
groupadd "$adm"
useradd -M -N -g fnguard -s /usr/sbin/nologin "$adm"
# The KVM probe runs jailed: it can only use a /dev/kvm open to group kvm (Debian's udev
# default). Where this host has it root's alone, the test makes it so, and puts it back.
kvm_was=
if [ -c /dev/kvm ] && [ "$(stat -c %g /dev/kvm)" = 0 ]; then
	kvm_was=$(stat -c '%a %g' /dev/kvm)
	getent group kvm >/dev/null || { groupadd -r kvm && made_kvm=1; }
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
fi
users_cleanup() {
	userdel "$adm" 2>/dev/null
	groupdel "$adm" 2>/dev/null
	[ -n "$made_group" ] && groupdel fnguard 2>/dev/null
	if [ -n "$kvm_was" ]; then
		chmod "${kvm_was% *}" /dev/kvm
		chgrp "${kvm_was#* }" /dev/kvm
		[ -n "${made_kvm:-}" ] && groupdel kvm 2>/dev/null
	fi
}
# as_adm CMD...: as the member of group fnguard (its primary group), no other group.
as_adm() { setpriv --reuid="$adm" --regid=fnguard --init-groups "$@"; }

. "$here/microvm-lib.bash"
trap 'cleanup; users_cleanup; [ -n "${racer:-}" ] && kill "$racer" 2>/dev/null' EXIT
# ---------------------------------------------------------------- the KVM probe
# It starts with the daemon; a host whose KVM hangs guests (like a nested one) keeps it up for
# its 10 s, and meanwhile the daemon answers: the probe is off the loop, and jailed.
t0=$(date +%s%N)
st=$(timeout 5 "$fng" status 2>&1)
t1=$(date +%s%N)
check "the daemon answers while the KVM probe runs ($(((t1 - t0) / 1000000)) ms)" \
	test $(((t1 - t0) / 1000000)) -lt 3000 -a -n "$st"
# The probe's QEMU: pgrep may come before the jailed child has exec'd it.
probe_qemu() { # probe_qemu DAEMON_PID: the pid of its probe's QEMU, waiting up to 3 s
	local q
	for _ in $(seq 30); do
		q=$(pgrep -P "$1" -f "qemu-system.* -accel kvm .*-serial none" | head -n1)
		[ -n "$q" ] && break
		sleep 0.1
	done
	echo "$q"
}
pq=$(probe_qemu "$daemon_pid")
if [ -n "$pq" ]; then
	check "the probe's QEMU runs as a uid of its own ($(awk '/^Uid:/{print $2}' "/proc/$pq/status"))" \
		awk '/^Uid:/{exit !($2 >= 2000000000)}' "/proc/$pq/status"
	check "... in namespaces of its own, with a seccomp filter" sh -c \
		"[ \"\$(readlink /proc/$pq/ns/pid)\" != \"\$(readlink /proc/self/ns/pid)\" ] && grep -Eq '^Seccomp:[[:space:]]+2' /proc/$pq/status"
else
	echo "ok - microvm: the probe runs jailed # SKIP the probe had ended already (KVM answered at once?)"
fi

# The member must reach the socket (0660, group fnguard) through the test's directory.
chmod 755 "$tmp"
api() { as_adm /usr/bin/python3 "$here/../lib/api_call.py" "$FNGUARD_SOCKET" "$@"; }
responsive() { timeout 10 "$fng" status >/dev/null 2>&1; }

# ---------------------------------------------------------------- what the daemon reads
out=$(api register-path /etc/shadow /)
check "registering /etc/shadow as a member of fnguard is refused ($out)" \
	grep -q "^error .*/etc/shadow, read as uid $(id -u "$adm"): Permission denied" <<<"$out"
check "... and no byte of it is quoted" bash -c "! grep -q 'root:' <<<'$out'"
mkfifo "$tmp/fifo"
chmod 666 "$tmp/fifo"
out=$(as_adm timeout 20 /usr/bin/python3 "$here/../lib/api_call.py" "$FNGUARD_SOCKET" register-path "$tmp/fifo" /)
check "a FIFO as the policy file is refused at once ($out)" grep -q "not a regular file" <<<"$out"
check "... and the daemon still answers" responsive

# Root's 0700 directory, with a function's code in a 0755 directory below it.
mkdir -p "$tmp/private/code" "$tmp/adm"
chmod 700 "$tmp/private"
printf '#!/bin/sh\necho secret-code\n' >"$tmp/private/code/handler"
chmod 755 "$tmp/private/code" "$tmp/private/code/handler"
cat >"$tmp/adm/hidden.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: hidden, version: "1", code: $tmp/private/code, handler: /var/task/handler}
environment: {kind: microvm}
EOF
chown -R "$adm" "$tmp/adm"
out=$(as_adm "$fng" function register "$tmp/adm/hidden.yaml" 2>&1)
check "code below root's 0700 directory cannot be registered by a member ($out)" \
	grep -q "function.code $tmp/private/code, read as uid $(id -u "$adm"): Permission denied" <<<"$out"
check "... and the function is not there" sh -c "! '$fng' function list | grep -q hidden"

# ---------------------------------------------------------------- the symlink swap race
token=secret-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$token" >"$tmp/secret"
chmod 600 "$tmp/secret"
mkdir -p "$tmp/race/code"
printf '#!/bin/sh\necho "x: $(cat /var/task/x 2>&1)"\n' >"$tmp/race/code/handler"
echo harmless >"$tmp/race/code/x"
ln -s "$tmp/secret" "$tmp/race/code/y"
chmod 755 "$tmp/race/code" "$tmp/race/code/handler"
for v in $(seq 1 12); do
	cat >"$tmp/race/v$v.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: race, version: "$v", code: ./code, handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 20s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
done
chown -R "$adm" "$tmp/race"
# The owner of the code directory swaps x and y until told to stop (at least 10,000 times,
# at most 180 s), through the registrations and a start.
as_adm /usr/bin/python3 - "$tmp/race/code" "$tmp/race/stop" >"$tmp/racer.out" 2>&1 <<'EOF' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
d, stop = sys.argv[1], sys.argv[2]
x, y = (d + "/x").encode(), (d + "/y").encode()
n, end = 0, time.monotonic() + 180
while time.monotonic() < end and (n < 10000 or not os.path.exists(stop)):
    for _ in range(100):
        # renameat2(AT_FDCWD, x, AT_FDCWD, y, RENAME_EXCHANGE)
        if libc.syscall(316, -100, x, -100, y, 2) == 0:
            n += 1
print("swaps", n)
EOF
racer=$!
ok=0 refused=0
for v in $(seq 1 12); do
	if [ "$v" -le 8 ]; then reg=as_adm; else reg=; fi # 1-8 the member, 9-12 root
	if $reg "$fng" function register "$tmp/race/v$v.yaml" >/dev/null 2>"$tmp/reg.err"; then
		ok=$((ok + 1))
	else
		refused=$((refused + 1))
	fi
done
# A start during the race too: its guest image is made from the daemon's copy.
first=$("$fng" function list --json 2>/dev/null | python3 -c 'import json,sys; print(min(int(f["version"]) for f in map(json.loads, sys.stdin) if f["name"]=="race"))' 2>/dev/null)
out=$("$fng" invoke "race:$first" </dev/null 2>&1)
guest_has_secret=no
cat "$tmp"/state/envs/*/initrd "$tmp"/state/images/*/* 2>/dev/null | grep -qaF "$token" && guest_has_secret=yes
touch "$tmp/race/stop"
wait "$racer"
racer=
links=$(find "$tmp/state/code" -path '*/race@*/x' -type l | wc -l)
files=$(find "$tmp/state/code" -path '*/race@*/x' -type f | wc -l)
check "the racer swapped all along ($(cat "$tmp/racer.out"))" \
	awk '/^swaps/{exit !($2 >= 10000)}' "$tmp/racer.out"
check "registrations during the race: $ok registered, $refused refused (a swap between look and open)" \
	test $((ok + refused)) = 12 -a "$ok" -ge 1
check "... their copies hold x as a link $links time(s), as a file $files time(s)" \
	test $((links + files)) = "$ok"
check "the secret is in no copy of the code" sh -c "! grep -rqF '$token' '$tmp/state/code'"
check "... where x is a link or the harmless file, never the secret's contents" \
	sh -c "for d in '$tmp/state/code'/race@*; do [ -L \"\$d/x\" ] || grep -qx harmless \"\$d/x\" || exit 1; done"
check "a function registered during the race runs ($out)" grep -q "^x: " <<<"$out"
check "... and the secret is not in its guest" \
	bash -c '! grep -qF "$1" <<<"$2" && [ "$3" = no ]' bash "$token" "$out" "$guest_has_secret"

# ---------------------------------------------------------------- tenant against tenant
mkdir -p "$tmp/ta" "$tmp/tb"
# A link planted where the old code wrote its temporary file (NAME@HEXVERSION.yaml.tmp, opened
# O_TRUNC): the state is written through unique names, so the link's target is never touched.
echo untouched >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/state/functions/tenant-a@31.yaml.tmp"
ln -s "$tmp/victim" "$tmp/state/functions/tenant-a@31.meta.tmp"
for t in a b; do
	printf '#!/bin/sh\necho tenant-%s\n' "$t" >"$tmp/t$t/handler"
	chmod 755 "$tmp/t$t" "$tmp/t$t/handler"
	cat >"$tmp/t$t/function.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: tenant-$t, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 20s}
files: {default: allow}
exec: {default: allow, children: allow}
EOF
	"$fng" function register "$tmp/t$t/function.yaml" >/dev/null
	out=$("$fng" invoke "tenant-$t" </dev/null 2>&1)
	check "tenant $t runs ($out)" test "$out" = "tenant-$t"
done
check "a link planted at the state's old temporary name is not written through" \
	test "$(cat "$tmp/victim")" = untouched
# Each VMM by its environment: fnguard envs --json names the function of each.
env_of() { "$fng" envs --json | python3 -c "import json,sys; print([e['id'] for e in map(json.loads, sys.stdin) if e['function']=='$1'][0])"; }
ea=$(env_of tenant-a)
eb=$(env_of tenant-b)
qa=$(pgrep -f "fnguard\\.env=$ea( |\$)")
qb=$(pgrep -f "fnguard\\.env=$eb( |\$)")
ua=$(awk '/^Uid:/{print $2}' "/proc/$qa/status")
ub=$(awk '/^Uid:/{print $2}' "/proc/$qb/status")
check "the two VMMs run as different uids ($ua, $ub), neither root" test "$ua" != "$ub" -a "$ua" != 0 -a "$ub" != 0
as() { setpriv --reuid="$1" --regid="$1" --clear-groups /usr/bin/python3 "$here/../lib/tenant_probe.py" "${@:2}"; }
r=$(as "$ua" mem "$qb")
check "as A's uid, B's VMM memory cannot be read ($r)" test "$r" = EACCES
r=$(as "$ua" getfd "$qb" 3)
check "as A's uid, B's control channel cannot be taken ($r)" test "$r" = EPERM
r=$(as "$ua" read "/proc/$qb/root/env/initrd")
check "as A's uid, B's guest image cannot be read through /proc ($r)" test "$r" = EACCES
r=$(as "$ua" read "$tmp/state/envs/$eb/initrd")
check "... nor on the host ($r)" test "$r" = EACCES
r=$(as "$ub" mem "$qb")
check "as B's own uid, its VMM memory cannot be read either: not dumpable ($r)" test "$r" = EACCES
r=$(as "$ub" getfd "$qb" 3)
check "... nor its control channel taken ($r)" test "$r" = EPERM
r=$(as "$ua" read "/proc/$qa/root/env/initrd")
check "A's uid cannot read A's own guest image through /proc either ($r)" test "$r" = EACCES

stop_daemon

# A daemon stopped while its probe runs kills the probe: no QEMU and no cgroup are left.
if [ -n "$pq" ]; then
	d2=$tmp/second
	mkdir -p "$d2"
	printf 'pin_dir: %s-2\nmicrovm_accel: auto\n' "$pin" >"$d2/conf"
	"$fngd" --foreground --socket "$d2/sock" --config "$d2/conf" --state-dir "$d2/state" 2>"$d2/log" &
	p2=$!
	q2=$(probe_qemu "$p2")
	kill -TERM "$p2"
	wait "$p2"
	rc=$?
	check "a daemon stopped during the KVM probe exits with status 0 ($rc)" test "$rc" = 0
	if [ -n "$q2" ]; then
		check "... and its probe's QEMU is gone" sh -c "! kill -0 $q2 2>/dev/null"
	else
		nok "... and its probe's QEMU is gone (it never saw one start: $(tail -n 3 "$d2/log" | tr '\n' ' '))"
	fi
	check "... and so is the probe's cgroup" sh -c "! ls -d /sys/fs/cgroup/*/fnguard/env-0-$p2 /sys/fs/cgroup/fnguard/env-0-$p2 2>/dev/null | grep -q ."
else
	skip "a daemon stopped during the KVM probe" "the probe had ended already (KVM answered at once?)"
fi
