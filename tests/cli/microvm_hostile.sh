#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A hostile guest: the daemon trusts nothing that comes over a microVM's control port. The
# guest image is the real one with /init replaced by a script (what a guest whose kernel was
# taken over could send), and for each message the daemon must reject it, say why, stop and
# clean up the guest, fail what waited for it, and go on serving:
#  - garbage: a frame that is not an AgentMessage;
#  - a result for an invocation that is not running (after a well-formed AgentReady);
#  - a frame longer than the channel allows;
#  - nothing at all: a guest that never reports ready is stopped at the boot timeout.
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$root/build/guest/microvm-initrd.cpio.gz
if [ ! -r "$base" ] || ! command -v cpio >/dev/null; then
	echo "ok - microvm: hostile guests # SKIP no guest image (make guest-initrd) or no cpio"
	exit 0
fi
# The image: the real one, then an archive whose /init replaces the agent (later entries win).
stage=$(mktemp -d)
cat >"$stage/init" <<'EOS'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $(cat /fnguard/modules); do /bin/busybox modprobe "$m"; done
port=
for i in $(/bin/busybox seq 100); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = fnguard.ctl ] && port=/dev/${p##*/}
	done
	[ -n "$port" ] && break
	sleep 0.1
done
case "$(cat /var/task/mode)" in
garbage) printf '\005\377\377\377\377\377' >"$port" ;;
# AgentReady, then an AgentResult{invocation: "bogus"} nobody asked for.
result) printf '\003\202\001\000' >"$port"; sleep 2; printf '\012\222\001\007\012\005bogus' >"$port" ;;
# A length prefix of 1 GiB.
huge) printf '\200\200\200\200\004' >"$port" ;;
# Nothing at all: the boot timeout ends it.
silent) ;;
esac
sleep 60
/bin/busybox poweroff -f
EOS
chmod 755 "$stage/init"
fake=$(mktemp)
cp "$base" "$fake"
# The kernel finds an uncompressed archive after a compressed one only at a 4-byte boundary.
head -c $(((4 - $(stat -c %s "$fake") % 4) % 4)) /dev/zero >>"$fake"
(cd "$stage" && echo init | cpio -o -H newc -R 0:0 2>/dev/null) >>"$fake"
rm -rf "$stage"
export FNGUARD_MICROVM_TEST_IMAGE=$fake
# Long enough for a TCG guest on a busy 2-core host to boot and speak, short for the silent one.
export FNGUARD_MICROVM_BOOT_TIMEOUT=40
. "$(dirname "$0")/microvm-lib.bash"
trap 'cleanup; rm -f "$fake"' EXIT

for mode in garbage result huge silent; do
	mkdir -p "$tmp/$mode"
	echo "$mode" >"$tmp/$mode/mode"
	printf '#!/bin/sh\necho never\n' >"$tmp/$mode/handler"
	cat >"$tmp/$mode/function.yaml" <<EOY
apiVersion: fnguard/v1
function: {name: $mode, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 10s}
files: {default: allow}
exec: {default: allow, children: allow}
EOY
	chmod 755 "$tmp" "$tmp/$mode" "$tmp/$mode/handler"
	check "$mode: registers" "$fng" function register "$tmp/$mode/function.yaml"
	"$fng" invoke "$mode" </dev/null >"$tmp/$mode.out" 2>"$tmp/$mode.err"
	rc=$?
	check "$mode: the invocation fails, saying the guest misbehaved (exit $rc: $(head -c 200 "$tmp/$mode.err"))" \
		grep -q "agent\|control channel\|crash" "$tmp/$mode.err"
	check "$mode: nothing of the handler's ran" test ! -s "$tmp/$mode.out"
done
sleep 1
check "garbage: the environment is stopped as malformed" \
	grep -Eq '"function":"garbage".*"state":"failed".*"reason":"agent: malformed message' "$tmp/events"
check "result: the environment is stopped for an answer nobody asked for" \
	grep -Eq '"function":"result".*"state":"failed".*"reason":"agent: result for an invocation that is not running' "$tmp/events"
check "huge: the environment is stopped for an oversized frame" \
	grep -Eq '"function":"huge".*"state":"failed".*"reason":"control channel: [^"]+' "$tmp/events"
grep '"state":"failed"' "$tmp/events" | sed 's/^/# /'
check "silent: the environment is stopped at the boot timeout" \
	grep -Eq '"function":"silent".*"state":"failed".*"reason":"the guest did not report ready within 40 s' "$tmp/events"
check "the daemon goes on serving" "$fng" function list
stop_daemon
