#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fnguardd on this host (not in the bench kernel): what a host without BPF LSM can and cannot
# do, and the daemon's stream as Google's protoc reads it.
#  - a function with file or exec rules is refused, naming the rules and the reason, when this
#    kernel cannot enforce them (where it can, the refusal check is skipped, saying so);
#  - a function with only network and syscall rules is registered and invoked;
#  - a raw Subscribe over the socket: every frame of the answer decodes with `protoc --decode`;
#  - SIGTERM leaves no environment cgroup and no pinned object.
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/host-root/daemon-lib.bash"
pin=/sys/fs/bpf/fnguardd-test-$$
TAP_PREFIX="daemon: "
if [ "$(id -u)" != 0 ]; then
	skip_all "host tests" "they need root (cgroups, namespaces, BPF)"
fi
printf 'pin_dir: %s\n' "$pin" >"$tmp/fnguardd.conf"
check "fnguardd -n checks the configuration" sh -c "'$fngd' -n --config '$tmp/fnguardd.conf' | grep -qx 'configuration OK'"
printf 'bogus: 1\n' >"$tmp/bad.conf"
check "a bad configuration is refused, naming the line" sh -c "! '$fngd' -n --config '$tmp/bad.conf' 2>&1 | grep -q OK && '$fngd' -n --config '$tmp/bad.conf' 2>&1 | grep -q 'bad.conf:1:1: unknown key'"
daemon_start

mkdir -p "$tmp/fn"
printf '#!/bin/sh\ncat\necho " ok"\n' >"$tmp/fn/handler"
chmod 755 "$tmp" "$tmp/fn" "$tmp/fn/handler"
common='function:
  name: NAME
  version: "1"
  code: ./fn
  handler: /var/task/handler
environment:
  kind: process'
echo "apiVersion: fnguard/v1
${common/NAME/files}
files:
  default: deny" >"$tmp/files.yaml"
echo "apiVersion: fnguard/v1
${common/NAME/netonly}
files:
  default: allow
exec:
  default: allow
  children: allow
network:
  egress:
    default: deny" >"$tmp/netonly.yaml"

if "$fng" status --json | grep -q '"active_backend": null'; then
	"$fng" function register "$tmp/files.yaml" 2>"$tmp/err"
	check "file rules on a kernel without BPF LSM: register exits 1" test $? = 1
	check "... naming what cannot be enforced and why" grep -q "cannot enforce the policy:.*files" "$tmp/err"
else
	echo "ok - daemon: refusal of file rules # SKIP this kernel enforces file rules"
fi
check "a network-only function registers" "$fng" function register "$tmp/netonly.yaml"
printf 'hi' >"$tmp/payload"
out=$("$fng" invoke netonly --payload "$tmp/payload")
check "... and runs ($out)" test "$out" = "hi ok"

# A raw subscription: the Request made by protoc, the frames cut by a few lines of Python.
if command -v protoc >/dev/null && command -v python3 >/dev/null; then
	echo 'id: 7 subscribe { }' | protoc --encode=fnguard.v1.Request -I "$root/proto" \
		fnguard/v1/api.proto >"$tmp/req.bin"
	python3 - "$FNGUARD_SOCKET" "$tmp/req.bin" "$tmp/frames" <<'PY'
import os, socket, sys
def varint(b):
    out = bytearray()
    while True:
        x = b & 0x7f
        b >>= 7
        out.append(x | (0x80 if b else 0))
        if not b:
            return bytes(out)
req = open(sys.argv[2], 'rb').read()
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(varint(len(req)) + req)
data = b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    # stop after the frame without "more" (field 3): parse what we have
    i, frames = 0, []
    while i < len(data):
        n, shift, j = 0, 0, i
        while j < len(data):
            n |= (data[j] & 0x7f) << shift
            shift += 7
            j += 1
            if not data[j - 1] & 0x80:
                break
        if j + n > len(data):
            break
        frames.append(data[j:j + n])
        i = j + n
    if frames and b'\x18\x01' not in frames[-1][:4]:
        break
os.makedirs(sys.argv[3], exist_ok=True)
for k, f in enumerate(frames):
    open(os.path.join(sys.argv[3], '%04d.bin' % k), 'wb').write(f)
PY
	n=0 bad=0
	for f in "$tmp"/frames/*.bin; do
		n=$((n + 1))
		protoc --decode=fnguard.v1.Response -I "$root/proto" fnguard/v1/api.proto \
			<"$f" >>"$tmp/decoded" 2>>"$tmp/decode.err" || bad=$((bad + 1))
	done
	check "protoc --decode reads every frame of the stream ($n frames, $bad failed)" test "$n" -gt 3 -a "$bad" = 0
	check "... which holds the invocation record" grep -q "invocation_record" "$tmp/decoded"
	check "... and the api_call of the register" grep -q 'method: "register_function"' "$tmp/decoded"
	check "... all answering request 7" test "$(grep -c '^id: 7' "$tmp/decoded")" = "$n"
else
	echo "ok - daemon: protoc decodes the stream # SKIP protoc or python3 is not installed"
fi

daemon_stop
no_env_cgroup_left
check "no pinned object is left" test ! -e "$pin"
