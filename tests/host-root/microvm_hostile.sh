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
#  - nothing at all: a guest that never reports ready is stopped at the boot timeout;
#  - a flood of forged denials before it reports ready: refused, and past 1000 the guest is
#    stopped as misbehaving;
#  - forged denials while ready (no invocation runs): refused, not published, counted in a
#    loss event; a flood of them while busy: published up to the rate limit, the rest counted
#    in a loss event and the invocation's events_lost.
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$root/build/guest/microvm-initrd.cpio.gz
if [ ! -r "$base" ] || ! command -v cpio >/dev/null || ! command -v python3 >/dev/null; then
	echo "ok - microvm: hostile guests # SKIP no guest image (make guest-initrd), cpio or python3"
	exit 0
fi
# The image: the real one, then an archive whose /init replaces the agent (later entries win).
. "$(dirname "$0")/microvm-image.bash"
stage=$(mktemp -d)
{ guest_init_head; cat <<'EOS'; } >"$stage/init"
case "$(cat /var/task/mode)" in
garbage) printf '\005\377\377\377\377\377' >"$port" ;;
# AgentReady, then an AgentResult{invocation: "bogus"} nobody asked for.
result) printf '\003\202\001\000' >"$port"; sleep 2; printf '\012\222\001\007\012\005bogus' >"$port" ;;
# A length prefix of 1 GiB.
huge) printf '\200\200\200\200\004' >"$port" ;;
# Nothing at all: the boot timeout ends it.
silent) ;;
# Forged denials (AgentDenial frames made by the test) before ever being ready.
idleflood) cat /flood.bin >"$port" ;;
# Forged denials while starting and while ready, then, once the invoke arrives, a flood.
denials)
	cat /idle.bin >"$port"
	printf '\003\202\001\000' >"$port"
	sleep 1
	cat /idle.bin >"$port"
	/bin/busybox dd if="$port" of=/dev/null bs=1 count=1 2>/dev/null
	cat /busy.bin >"$port"
	;;
esac
sleep 60
/bin/busybox poweroff -f
EOS
chmod 755 "$stage/init"
# AgentMessage{denial: AgentDenial{event: struct fng_event}} frames, N of them, each a file
# open denial of PATH as the guest's agent relays them (bpf/fnguard_abi.h: 320 bytes).
denial_frames() {
	python3 - "$1" "$2" <<'EOP'
import struct, sys
path, n = sys.argv[1].encode(), int(sys.argv[2])
ev = struct.pack("<QQIIIiHHBBBBI16s256s", 0, 0, 0, 4242, 4242, 257, 1, 1, 1, 1, 0, 0, 0,
                 b"forger", path) + bytes(4)
def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7f | 0x80]); v >>= 7
    return out + bytes([v])
def field(tag, body):
    return varint(tag << 3 | 2) + varint(len(body)) + body
body = field(19, field(2, ev))
sys.stdout.buffer.write((varint(len(body)) + body) * n)
EOP
}
denial_frames /forged-idle 200 >"$stage/idle.bin"
denial_frames /forged-idle 1500 >"$stage/flood.bin"
denial_frames /forged-busy 3000 >"$stage/busy.bin"
test_image "$stage"
# Long enough for a TCG guest on a busy 2-core host to boot and speak, short for the silent one.
export FNGUARD_MICROVM_BOOT_TIMEOUT=40
. "$(dirname "$0")/microvm-lib.bash"

for mode in garbage result huge silent idleflood; do
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
check "idleflood: the environment is stopped for its flood of out-of-place denials" \
	grep -Eq '"function":"idleflood".*"state":"failed".*"reason":"agent: over 1000 denials while no invocation runs' "$tmp/events"

# Forged denials while ready: provisioned, so the guest is ready with no invocation waiting.
mkdir -p "$tmp/denials"
echo denials >"$tmp/denials/mode"
printf '#!/bin/sh\necho never\n' >"$tmp/denials/handler"
cat >"$tmp/denials/function.yaml" <<EOY
apiVersion: fnguard/v1
function: {name: denials, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm, provisioned: 1}
limits: {memory: 128Mi, timeout: 10s}
files: {default: allow}
exec: {default: allow, children: allow}
EOY
chmod 755 "$tmp/denials" "$tmp/denials/handler"
check "denials: registers" "$fng" function register "$tmp/denials/function.yaml"
# The 400 refused ones (200 while starting, 200 while ready) are told by loss events.
refused() {
	grep '"function":"denials"' "$tmp/events" | grep '"type":"loss"' | grep 'agent messages refused' |
		sed -E 's/.*"events_lost":([0-9]+).*/\1/' | awk '{ s += $1 } END { print s + 0 }'
}
for i in $(seq 120); do [ "$(refused)" -ge 400 ] && break; sleep 1; done
check "denials: the forged denials of a guest not running an invocation are counted ($(refused))" \
	test "$(refused)" = 400
"$fng" invoke denials </dev/null >"$tmp/denials.out" 2>"$tmp/denials.err"
check "denials: the invocation ends at its timeout ($(head -c 200 "$tmp/denials.err"))" \
	grep -q timeout "$tmp/denials.err"
sleep 1
"$fng" function remove denials >/dev/null 2>&1
sleep 1
python3 - "$tmp/events" <<'EOP'
import json, sys
ev = []
for l in open(sys.argv[1], encoding="utf-8"):
    try:
        ev.append(json.loads(l))
    except ValueError:
        pass
mine = [e for e in ev if e.get("function") in ("denials", "idleflood")]
idle = [e for e in mine if e["type"] == "denial" and e.get("target") == "/forged-idle"]
rec = [e for e in mine if e["type"] == "invocation" and e.get("function") == "denials"]
inv = rec[0]["invocation"] if rec else None
busy = [e for e in mine if e["type"] == "denial" and e.get("target") == "/forged-busy"
        and e.get("invocation") == inv]
loss = [e for e in mine if e["type"] == "loss" and e.get("invocation") == inv
        and "denials" in e.get("where", "")]
dropped = sum(e.get("events_lost", 0) for e in loss)
lost = rec[0].get("events_lost", 0) if rec else -1
def check(name, cond):
    print(("ok" if cond else "not ok") + " - microvm: " + name)
check("denials: none of the out-of-place ones is published (%d)" % len(idle), not idle)
check("denials: the flood while busy is published up to the rate limit (%d of 3000)" % len(busy),
      1000 <= len(busy) < 3000)
check("denials: published + dropped = sent (%d + %d)" % (len(busy), dropped),
      len(busy) + dropped == 3000)
check("denials: the record's events_lost counts them (%d)" % lost, lost >= dropped > 0)
EOP
check "the daemon goes on serving" "$fng" function list
stop_daemon
