#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Our frames as Google's protoc reads them, and protoc's messages as we read them:
#  - build/tests/unit/test_proto_frames writes delimited streams of every Event type and of
#    daemon Requests and Responses; this script splits them at the varint length prefixes
#    (its own reading of the framing, in awk) and decodes every frame with
#    `protoc --decode`, comparing the text with what the samples hold;
#  - it encodes Events with `protoc --encode`, frames them, and checks the JSON lines that
#    test_proto_frames prints for them.
# Prints one TAP line per case and always exits 0; failures are "not ok" lines.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
gen=$root/build/tests/unit/test_proto_frames
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v protoc >/dev/null; then
	echo "ok - frames decode with Google's protoc # SKIP protoc is not installed"
	exit 0
fi
if [ ! -x "$gen" ]; then
	echo "not ok - $gen is not built (make build/tests/unit/test_proto_frames)"
	exit 0
fi

# check NAME CONDITION...: one TAP line (tests/lib/tap.sh)
. "$root/tests/lib/tap.sh"

# same NAME WANT GOT: compares two texts, shows the difference when they differ
same() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/# /' | head -n 20
	fi
}

# frames FILE: "OFFSET LENGTH" of each frame of a delimited stream, then "end", or "bad ..."
frames() {
	od -An -v -tu1 "$1" | awk '
		{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END {
			p = 0
			while (p < n) {
				v = 0; m = 1; k = 0
				do {
					if (p >= n) { print "bad: truncated length prefix"; exit }
					if (k == 10) { print "bad: length prefix over 10 bytes"; exit }
					c = b[p++]; v += (c % 128) * m; m *= 128; k++
				} while (c >= 128)
				if (p + v > n) { print "bad: truncated frame"; exit }
				print p, v
				p += v
			}
			print "end"
		}'
}

# split FILE PREFIX: writes each frame's body to PREFIX.0, PREFIX.1, ...; prints the count
split_frames() {
	local i=0 off len
	frames "$1" >"$2.index"
	while read -r off len; do
		case $off in
		end) echo "$i"; return ;;
		bad*) echo "$off $len"; return ;;
		esac
		tail -c +$((off + 1)) "$1" | head -c "$len" >"$2.$i"
		i=$((i + 1))
	done <"$2.index"
	echo "no end"
}

# decode TYPE FILE: protoc's text for one message
decode() {
	protoc --decode="fnguard.v1.$1" --proto_path="$root/proto" fnguard/v1/api.proto <"$2" 2>&1
}

FNGUARD_FRAMES_OUT=$tmp "$gen" >"$tmp/gen.log" 2>&1
check "test_proto_frames writes the sample streams" \
	test -s "$tmp/events.bin" -a -s "$tmp/requests.bin" -a -s "$tmp/responses.bin"

# ---------------------------------------------------------------- events
n=$(split_frames "$tmp/events.bin" "$tmp/ev")
same "events.bin is 8 whole frames" 8 "$n"

want=()
want[0]='time_unix_nano: 1700000000000000005
seq: 1
host: "worker-1"
function: "thumbnailer"
version: "3"
env: "env-7"
invocation: "inv-9"
denial {
  pid: 42
  comm: "python3"
  class: DENIAL_CLASS_FILE
  op: "open"
  syscall: "openat"
  target: "/etc/pass\357\277\275wd"
  verdict: VERDICT_BLOCKED
  rule: "files.default"
}'
want[1]='time_unix_nano: 1700000000000000001
seq: 2
host: "worker-1"
function: "thumbnailer"
version: "3"
env: "env-7"
invocation: "inv-9"
invocation_record {
  cold_start: true
  init_ns: 5000000
  duration_ns: 1200
  memory_peak_bytes: 4096
  cpu_user_ns: 300
  cpu_system_ns: 200
  outcome: OUTCOME_TIMEOUT
  exit_status: 137
  denials: 2
  events_lost: 1
}'
want[2]='time_unix_nano: 1700000000000000002
seq: 3
host: "worker-1"
env: "env-7"
env_state {
  state: ENV_PHASE_RECYCLED
  kind: ENV_KIND_MICROVM
  reason: "max_invocations reached"
}'
want[3]='time_unix_nano: 1700000000000000003
seq: 4
host: "worker-1"
function: "thumbnailer"
version: "3"
env: "env-7"
invocation: "inv-9"
log {
  stream: "stderr"
  line: "said \"hi\"\tto caf\303\251"
}'
want[4]='time_unix_nano: 1700000000000000004
seq: 5
host: "worker-1"
api_call {
  uid: 1000
  gid: 998
  pid: 4242
  method: "invoke"
  target: "thumbnailer:3"
  result: "ok"
}'
want[5]='time_unix_nano: 1700000000000000005
seq: 6
host: "worker-1"
loss {
  events_lost: 17
  where: "kernel ring buffer"
}'
want[6]=''
names=(denial invocation env log api_call loss "empty frame")
for i in 0 1 2 3 4 5 6; do
	if [ -f "$tmp/ev.$i" ]; then
		same "protoc decodes event $i (${names[$i]})" "${want[$i]}" "$(decode Event "$tmp/ev.$i")"
	else
		echo "not ok - event $i (${names[$i]}) is missing"
	fi
done
# The last one has a 3-byte length prefix and a 16 KiB line.
if [ -f "$tmp/ev.7" ]; then
	got=$(decode Event "$tmp/ev.7")
	line=$(printf '%s\n' "$got" | sed -n 's/^  line: "\(x*\)"$/\1/p')
	check "protoc decodes event 7 (a 16384-byte log line)" \
		test "${#line}" -eq 16384 -a "$(printf '%s\n' "$got" | sed -n 2p)" = "seq: 7"
else
	echo "not ok - event 7 (a 16384-byte log line) is missing"
fi

# ---------------------------------------------------------------- requests
n=$(split_frames "$tmp/requests.bin" "$tmp/rq")
same "requests.bin is 5 whole frames" 5 "$n"
want=()
want[0]='id: 1
register_function {
  policy_yaml: "apiVersion: fnguard/v1\n"
  policy_name: "thumbnailer.yaml"
  code_dir: "/srv/functions"
}'
want[1]='id: 2
invoke {
  name: "thumbnailer"
  version: "3"
  payload: "\000\377{}"
  async: true
}'
want[2]='id: 3
subscribe {
  types: "denial"
  types: "loss"
  follow: true
}'
want[3]='id: 4
remove_function {
  name: "thumbnailer"
}'
want[4]='id: 5
list_envs {
}'
names=(register_function invoke subscribe remove_function list_envs)
for i in 0 1 2 3 4; do
	same "protoc decodes request $i (${names[$i]})" "${want[$i]}" \
		"$(decode Request "$tmp/rq.$i" 2>&1)"
done

# ---------------------------------------------------------------- responses
n=$(split_frames "$tmp/responses.bin" "$tmp/rs")
same "responses.bin is 5 whole frames" 5 "$n"
want=()
want[0]='id: 4
error {
  code: ERROR_CODE_NOT_FOUND
  message: "remove thumbnailer: no such function"
}'
want[1]='id: 2
invoke {
  invocation: "inv-9"
  response: "{\"ok\":true}"
  outcome: OUTCOME_OK
  record {
    duration_ns: 1200
    outcome: OUTCOME_OK
  }
}'
want[2]='id: 5
envs {
  envs {
    id: "env-7"
    function: "thumbnailer"
    version: "3"
    kind: ENV_KIND_PROCESS
    state: ENV_PHASE_READY
    age_ns: 60000000000
    invocations: 12
  }
}'
want[3]='id: 6
status {
  backends {
    name: "bpf-lsm"
    available: true
  }
  backends {
    name: "kmod"
    reason: "the kernel has no module support"
  }
}'
want[4]='id: 3
more: true
event {
  time_unix_nano: 1700000000000000000
  seq: 9
  host: "worker-1"
  loss {
    events_lost: 3
    where: "subscriber"
  }
}'
names=(error invoke envs status "subscription event")
for i in 0 1 2 3 4; do
	same "protoc decodes response $i (${names[$i]})" "${want[$i]}" \
		"$(decode Response "$tmp/rs.$i" 2>&1)"
done

# ---------------------------------------------------------------- protoc -> us
# varint N: N as a varint, in bytes
varint() {
	local n=$1 out=
	while [ "$n" -ge 128 ]; do
		out+=$(printf '\\0%03o' $(((n & 127) | 128)))
		n=$((n >> 7))
	done
	out+=$(printf '\\0%03o' "$n")
	printf '%b' "$out"
}

# encode TEXT: appends TEXT, encoded as an Event by protoc, as one frame to $tmp/in.bin
encode() {
	printf '%s\n' "$1" | protoc --encode=fnguard.v1.Event --proto_path="$root/proto" \
		fnguard/v1/telemetry.proto >"$tmp/in.body" || return 1
	varint "$(stat -c %s "$tmp/in.body")" >>"$tmp/in.bin"
	cat "$tmp/in.body" >>"$tmp/in.bin"
}

: >"$tmp/in.bin"
encode 'time_unix_nano: 1700000000123456789 seq: 41 host: "edge-2" function: "resize"
version: "7" env: "env-1" invocation: "inv-3"
denial { pid: 99 comm: "node" class: DENIAL_CLASS_NETWORK op: "connect" syscall: "connect"
target: "[2001:db8::1]:53/udp" verdict: VERDICT_AUDITED rule: "network.egress.deny[0] (line 21)" }' &&
	encode 'time_unix_nano: -1 seq: 42 host: "edge-2"
invocation_record { duration_ns: 31 outcome: OUTCOME_CRASH exit_status: -1 }' &&
	encode 'seq: 43 host: "edge-2" env_state { state: 9 kind: ENV_KIND_PROCESS reason: "x" }' &&
	encode 'seq: 44 host: "edge-2" log { stream: "stderr" line: "caf\303\251 \"q\"\\" }' &&
	encode 'seq: 45 host: "edge-2" api_call { uid: 0 gid: 0 pid: 1 method: "status" result: "ok" }' &&
	encode 'seq: 46 host: "edge-2" loss { events_lost: 18446744073709551615 where: "subscriber" }' &&
	encode ''
check "protoc encodes the sample Events" test $? -eq 0

FNGUARD_FRAMES_IN=$tmp/in.bin "$gen" >"$tmp/in.log" 2>&1
check "test_proto_frames reads protoc's frames" test $? -eq 0 -a -f "$tmp/in.bin.json"
# shellcheck disable=SC2016
same "protoc's events as JSON lines" \
	'{"type":"denial","time":"2023-11-14T22:13:20.123456789Z","seq":41,"host":"edge-2","function":"resize","version":"7","env":"env-1","invocation":"inv-3","pid":99,"comm":"node","class":"network","op":"connect","syscall":"connect","target":"[2001:db8::1]:53/udp","verdict":"audited","rule":"network.egress.deny[0] (line 21)"}
{"type":"invocation","time":"1969-12-31T23:59:59.999999999Z","seq":42,"host":"edge-2","cold_start":false,"duration_ns":31,"memory_peak_bytes":0,"cpu_user_ns":0,"cpu_system_ns":0,"outcome":"crash","exit_status":-1,"denials":0,"events_lost":0}
{"type":"env","time":"1970-01-01T00:00:00.000000000Z","seq":43,"host":"edge-2","state":"unknown","kind":"process","reason":"x"}
{"type":"log","time":"1970-01-01T00:00:00.000000000Z","seq":44,"host":"edge-2","stream":"stderr","line":"café \"q\"\\"}
{"type":"api_call","time":"1970-01-01T00:00:00.000000000Z","seq":45,"host":"edge-2","uid":0,"gid":0,"pid":1,"method":"status","target":"","result":"ok"}
{"type":"loss","time":"1970-01-01T00:00:00.000000000Z","seq":46,"host":"edge-2","events_lost":18446744073709551615,"where":"subscriber"}
{"type":"unknown","time":"1970-01-01T00:00:00.000000000Z","seq":0,"host":""}' \
	"$(cat "$tmp/in.bin.json" 2>/dev/null)"
exit 0
