#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon clients of the CLI (function, invoke, events, envs) without a daemon: help and
# usage errors, "cannot reach the daemon" (exit 3) for --socket, $FNGUARD_SOCKET and the
# default, the checks made before connecting (payload size, event types, the policy file);
# then against a fake daemon, a few lines of Python that answers with canned Responses made by
# `protoc --encode` (the python protobuf module is not needed), which checks what the CLI
# prints and exits with for each kind of answer, and what it sent (`protoc --decode`).
#   tests/host/client.sh [FNGUARD] > results.tap
# FNGUARD is the binary to test: the argument, else $FNGUARD, else build/fnguard.
# Prints one TAP line per case and always exits 0; failures are "not ok" lines.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${FNGUARD:-$root/build/fnguard}}
tmp=$(mktemp -d)
fake_pid=
trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

if [ ! -x "$bin" ]; then
	echo "not ok - client: $bin is not an executable (build it with 'make build/fnguard')"
	exit 0
fi

# run ARGS...: sets $rc, $out (stdout) and $err (stderr); stdin from $stdin, else /dev/null
run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err" <"${stdin:-/dev/null}"
	rc=$?
	out=$(tr -d '\000' <"$tmp/out") # compare binary output with od, not here
	err=$(cat "$tmp/err")
}

# check NAME CONDITION...: one TAP line (tests/lib/tap.sh); on failure, what was seen
. "$root/tests/lib/tap.sh"
TAP_PREFIX="client: "
# A failed check shows the last run's exit status and the start of its output.
tap_on_failure() {
	echo "# exit status $rc"
	sed 's/^/# stdout: /' "$tmp/out" | head -n 5
	sed 's/^/# stderr: /' "$tmp/err" | head -n 5
}

has() { grep -qF -- "$1" "$tmp/$2"; } # has TEXT out|err

none=$tmp/none.sock
unreachable="fnguard: cannot reach the daemon at $none: No such file or directory (is fnguardd running?)"

mkdir -p "$tmp/fn/code"
cat >"$tmp/fn/policy.yaml" <<'EOF'
apiVersion: fnguard/v1
function:
  name: thumbnailer
  version: "3"
  code: ./code
  handler: /var/task/handler.py
EOF
cat >"$tmp/nofunction.yaml" <<'EOF'
apiVersion: fnguard/v1
EOF
cat >"$tmp/bad.yaml" <<'EOF'
apiVersion: fnguard/v1
mode: x
EOF

# --- help: exit 0, usage and examples on stdout, every option named
help_check() { # help_check "ARGS" OPTION...
	local args=$1 o missing=
	shift
	# shellcheck disable=SC2086 # split on purpose
	run $args
	for o in "$@"; do has "$o" out || missing="$missing $o"; done
	check "fnguard $args: exit 0, usage, examples and options${missing:+ (missing:$missing)}" \
		test "$rc" -eq 0 -a -z "$err" -a -z "$missing" \
		-a -n "$(grep -x 'Examples:' "$tmp/out")" -a -n "$(grep '^Usage: fnguard' "$tmp/out")"
}
help_check "function --help" register list remove
help_check "function register --help" --socket FILE
help_check "function list --help" --json --socket
help_check "function remove --help" --socket "NAME[:VERSION]"
help_check "invoke --help" --payload --async -v --socket "6 MiB"
help_check "events --help" --follow --json --type --socket "denial, invocation, env, log, api_call, loss"
help_check "envs --help" --json --socket "ID FUNCTION VERSION KIND STATE AGE INVOCATIONS"
run --help
check "fnguard --help lists function, invoke, events and envs" \
	test "$rc" -eq 0 -a -n "$(grep -E '^  function ' "$tmp/out")" \
	-a -n "$(grep -E '^  invoke ' "$tmp/out")" -a -n "$(grep -E '^  events ' "$tmp/out")" \
	-a -n "$(grep -E '^  envs ' "$tmp/out")"

# --- usage errors: exit 2, one line on stderr in the "fnguard: ..." form, nothing on stdout
usage_check() { # usage_check "ARGS" [EXPECTED-STDERR]
	# shellcheck disable=SC2086 # split on purpose
	run $1 --socket "$none"
	check "fnguard $1: usage error, exit 2" \
		test "$rc" -eq 2 -a -z "$out" -a "$(wc -l <"$tmp/err")" -le 2 \
		-a -n "$(grep '^fnguard: ' "$tmp/err")" -a "${2:-$err}" = "$err"
}
run function
check "fnguard function without a subcommand: usage on stderr, exit 2" \
	test "$rc" -eq 2 -a -z "$out" -a -n "$(grep '^Usage: fnguard function' "$tmp/err")"
usage_check "function frobnicate" \
	"fnguard: function frobnicate: no such command (see 'fnguard function --help')"
usage_check "function register" \
	"fnguard: function register: no FILE given (see 'fnguard function register --help')"
usage_check "function register $tmp/fn/policy.yaml $tmp/fn/policy.yaml"
usage_check "function register --json $tmp/fn/policy.yaml" \
	"fnguard: function register: unknown option '--json' (see 'fnguard function register --help')"
usage_check "function list extra"
usage_check "function remove"
usage_check "function remove Thumb_Nailer" \
	"fnguard: function remove: bad function name 'Thumb_Nailer' (1-63 characters a-z, 0-9 and '-', starting with a letter or digit)"
usage_check "function remove thumbnailer:" 
usage_check "invoke"
usage_check "invoke a b"
usage_check "invoke --bogus thumbnailer" \
	"fnguard: invoke: unknown option '--bogus' (see 'fnguard invoke --help')"
usage_check "invoke -x thumbnailer" \
	"fnguard: invoke: unknown option '-x' (see 'fnguard invoke --help')"
usage_check "invoke thumbnailer --payload $tmp/no-such-payload" \
	"fnguard: invoke: cannot open the payload $tmp/no-such-payload: No such file or directory"
usage_check "events extra"
usage_check "envs extra"
usage_check "envs --all"
run invoke thumbnailer --payload
check "fnguard invoke --payload without FILE: exit 2" \
	test "$rc" -eq 2 -a "$err" = "fnguard: invoke: option '--payload' needs an argument (see 'fnguard invoke --help')"

# --- event types are checked before connecting
usage_check "events --type frobs" \
	"fnguard: events: unknown event type 'frobs' (the types are: denial, invocation, env, log, api_call, loss)"
usage_check "events --type denial,frobs" \
	"fnguard: events: unknown event type 'frobs' (the types are: denial, invocation, env, log, api_call, loss)"
usage_check "events --type denial --type ,"
run events --type denial,loss -t log --type invocation --socket "$none"
check "events: known types (repeated, comma-separated) pass the check (then exit 3)" \
	test "$rc" -eq 3 -a "$err" = "$unreachable"

# --- the daemon is unreachable: exit 3, one line naming the socket
for args in "function register $tmp/fn/policy.yaml" "function list" "function list --json" \
	"function remove thumbnailer:3" "invoke thumbnailer" "invoke --async thumbnailer:3" \
	"events" "events --follow --json" "envs" "envs --json"; do
	# shellcheck disable=SC2086 # split on purpose
	run $args --socket "$none"
	check "fnguard $args --socket NONEXISTENT: exit 3, cannot reach the daemon" \
		test "$rc" -eq 3 -a -z "$out" -a "$err" = "$unreachable"
done
FNGUARD_SOCKET=$tmp/env.sock run envs
check "FNGUARD_SOCKET names the socket" \
	test "$rc" -eq 3 -a "$err" = "fnguard: cannot reach the daemon at $tmp/env.sock: No such file or directory (is fnguardd running?)"
FNGUARD_SOCKET=$tmp/env.sock run envs --socket "$none"
check "--socket wins over FNGUARD_SOCKET" test "$rc" -eq 3 -a "$err" = "$unreachable"
if [ -e /run/fnguard/fnguard.sock ]; then
	skip "without --socket nor FNGUARD_SOCKET: /run/fnguard/fnguard.sock" "a daemon may be running"
else
	(unset FNGUARD_SOCKET; run function list; check "without --socket nor FNGUARD_SOCKET: /run/fnguard/fnguard.sock" \
		test "$rc" -eq 3 -a "$err" = "fnguard: cannot reach the daemon at /run/fnguard/fnguard.sock: No such file or directory (is fnguardd running?)")
fi
: >"$tmp/plain"
run envs --socket "$tmp/plain"
check "a socket path that is not a socket: exit 3" \
	test "$rc" -eq 3 -a "$err" = "fnguard: cannot reach the daemon at $tmp/plain: Connection refused (is fnguardd running?)"
long=$tmp/$(printf '%0120d' 0).sock
run envs --socket "$long"
check "a socket path too long for sun_path: exit 3" \
	test "$rc" -eq 3 -a "$err" = "fnguard: cannot reach the daemon at $long: File name too long (is fnguardd running?)"

# --- checks made before connecting
head -c $((6 * 1024 * 1024 + 1)) /dev/zero >"$tmp/big"
run invoke thumbnailer --payload "$tmp/big" --socket "$none"
check "invoke: a payload file over 6 MiB is a usage error, found before connecting" \
	test "$rc" -eq 2 -a "$err" = "fnguard: invoke: the payload $tmp/big is over 6 MiB (6291456 bytes at most)"
stdin=$tmp/big run invoke thumbnailer --payload - --socket "$none"
check "invoke: over 6 MiB on standard input is a usage error, found before connecting" \
	test "$rc" -eq 2 -a "$err" = "fnguard: invoke: the payload on standard input is over 6 MiB (6291456 bytes at most)"
head -c $((6 * 1024 * 1024 + 1)) /dev/zero | "$bin" invoke thumbnailer --payload - --socket "$none" >/dev/null 2>"$tmp/err"
rc=$?
check "invoke: over 6 MiB from a pipe is a usage error" test "$rc" -eq 2
head -c $((6 * 1024 * 1024)) /dev/zero >"$tmp/six"
run invoke thumbnailer --payload "$tmp/six" --socket "$none"
check "invoke: exactly 6 MiB is accepted (then exit 3)" test "$rc" -eq 3 -a "$err" = "$unreachable"
run invoke thumbnailer --payload "$tmp" --socket "$none"
check "invoke: a directory as payload is a usage error" \
	test "$rc" -eq 2 -a "$err" = "fnguard: invoke: cannot read the payload $tmp: Is a directory"
run function register "$tmp/bad.yaml" --socket "$none"
check "function register: an invalid policy is shown with line and column, exit 1, not sent" \
	test "$rc" -eq 1 -a -n "$(grep -F "$tmp/bad.yaml:2:7: mode: bad value 'x'" "$tmp/err")" \
	-a -z "$(grep -F 'cannot reach' "$tmp/err")"
run function register "$tmp/nofunction.yaml" --socket "$none"
check "function register: a policy without function: section, exit 1, not sent" \
	test "$rc" -eq 1 -a -n "$(grep -F 'no function: section' "$tmp/err")" \
	-a -z "$(grep -F 'cannot reach' "$tmp/err")"
run function register "$tmp/missing.yaml" --socket "$none"
check "function register: a missing file, exit 1" \
	test "$rc" -eq 1 -a "$err" = "fnguard: function register $tmp/missing.yaml: cannot open: No such file or directory"

# --------------------------------------------------------------------------- fake daemon
if ! command -v protoc >/dev/null || ! command -v python3 >/dev/null; then
	skip "answers of a fake daemon" "needs protoc and python3"
	exit 0
fi

# The fake daemon: accepts one connection, reads one Request (saved for protoc --decode),
# answers with the canned Responses given, each with the Request's id put in front (protobuf
# merges fields, so the canned bytes need no id), then closes; --hold keeps the connection open
# until the client closes it. A file named raw:FILE is sent as it is, with its own id. It gives
# up after 10 s without a client, so that a failing case cannot hang the script.
cat >"$tmp/fake.py" <<'EOF'
import socket, sys

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return n, i

def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            sys.exit("fake daemon: client went away")
        buf += chunk
    return buf

def request_id(body):
    i = 0
    while i < len(body):
        tag, i = read_varint(body, i)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = read_varint(body, i)
            if field == 1:
                return value
        elif wire == 2:
            length, i = read_varint(body, i)
            i += length
        else:
            sys.exit("fake daemon: unexpected wire type %d" % wire)
    return 0

args = sys.argv[1:]
hold = args[0] == "--hold"
if hold:
    args = args[1:]
path, saved, canned = args[0], args[1], args[2:]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(10)  # a client that never comes must not hang the test
conn, _ = srv.accept()
conn.settimeout(10)
prefix = b""
while not prefix or prefix[-1] & 0x80:
    prefix += recv_exact(conn, 1)
length, _ = read_varint(prefix, 0)
body = recv_exact(conn, length)
open(saved, "wb").write(body)
rid = request_id(body)
for name in canned:
    raw = name.startswith("raw:")
    data = open(name[4:] if raw else name, "rb").read()
    msg = data if raw else b"\x08" + varint(rid) + data
    conn.sendall(varint(len(msg)) + msg)
if hold:
    while conn.recv(4096):
        pass
conn.close()
EOF

# encode NAME 'TEXT': a canned Response (without its id) in $tmp/NAME.bin
encode() {
	printf '%s\n' "$2" | protoc --encode=fnguard.v1.Response -I "$root/proto" \
		fnguard/v1/api.proto >"$tmp/$1.bin"
}
# decode: the Request the fake daemon received, as protoc prints it
decode() {
	protoc --decode=fnguard.v1.Request -I "$root/proto" fnguard/v1/api.proto <"$tmp/request.bin"
}
# fake [--hold] CANNED...: starts the fake daemon on $tmp/fake.sock, waits for the socket
fake() {
	local hold="" _
	if [ "${1:-}" = --hold ]; then hold=--hold; shift; fi
	rm -f "$tmp/fake.sock" "$tmp/request.bin"
	python3 "$tmp/fake.py" $hold "$tmp/fake.sock" "$tmp/request.bin" "$@" 2>"$tmp/fake.err" &
	fake_pid=$!
	for _ in $(seq 100); do
		[ -S "$tmp/fake.sock" ] && return 0
		sleep 0.05
	done
	echo "# fake daemon did not start: $(cat "$tmp/fake.err")"
}
# fake_done: waits for the fake daemon (it exits after one connection)
fake_done() {
	[ -n "$fake_pid" ] && wait "$fake_pid" 2>/dev/null
	fake_pid=
}

if ! encode probe 'id: 1' 2>"$tmp/err"; then
	skip "answers of a fake daemon" "protoc cannot encode fnguard.v1.Response: $(head -n1 "$tmp/err")"
	exit 0
fi
sock=$tmp/fake.sock

# invoke, outcome ok: the response bytes exactly, exit 0; what was sent
encode ok 'invoke { invocation: "inv-1" response: "thumb\000nail" exit_status: 0 outcome: OUTCOME_OK
  record { cold_start: true init_ns: 85000000 duration_ns: 12300000 memory_peak_bytes: 13107200
           outcome: OUTCOME_OK exit_status: 0 denials: 2 } }'
printf 'photo' >"$tmp/payload"
fake "$tmp/ok.bin"
run invoke thumbnailer:3 --payload "$tmp/payload" --socket "$sock"
fake_done
printf 'thumb\000nail' >"$tmp/want"
check "invoke, outcome ok: the response on stdout byte for byte, nothing on stderr, exit 0" \
	test "$rc" -eq 0 -a -z "$err" -a "$(od -An -c "$tmp/out")" = "$(od -An -c "$tmp/want")"
check "invoke: the request names the function and version and carries the payload" \
	test "$(decode | tr -s ' \n' ' ')" = 'id: 1 invoke { name: "thumbnailer" version: "3" payload: "photo" } '

fake "$tmp/ok.bin"
stdin=$tmp/payload run invoke -v thumbnailer --payload - --socket "$sock"
fake_done
line=$(cat "$tmp/err")
check "invoke -v: the invocation record on stderr as one JSON line" \
	test "$rc" -eq 0 -a "$(wc -l <"$tmp/err")" -eq 1 \
	-a -n "$(printf '%s' "$line" | grep -E '^\{"type":"invocation","time":"[0-9T:.-]+Z","seq":0,"host":"[^"]*","function":"thumbnailer","invocation":"inv-1","cold_start":true,"init_ns":85000000,"duration_ns":12300000,"memory_peak_bytes":13107200,"cpu_user_ns":0,"cpu_system_ns":0,"outcome":"ok","exit_status":0,"denials":2,"events_lost":0\}$')"
check "invoke --payload -: the payload from standard input, no version: the latest" \
	test "$(decode | tr -s ' \n' ' ')" = 'id: 1 invoke { name: "thumbnailer" payload: "photo" } '

fake "$tmp/ok.bin"
run invoke thumbnailer --socket "$sock"
fake_done
check "invoke without --payload: an empty payload" \
	test "$rc" -eq 0 -a "$(decode | tr -s ' \n' ' ')" = 'id: 1 invoke { name: "thumbnailer" } '

encode timeout 'invoke { invocation: "inv-2" response: "partial" exit_status: 137 outcome: OUTCOME_TIMEOUT
  record { duration_ns: 3000000000 outcome: OUTCOME_TIMEOUT exit_status: 137 } }'
fake "$tmp/timeout.bin"
run invoke thumbnailer:3 --socket "$sock"
fake_done
check "invoke, outcome timeout: exit 1, the response still on stdout, why on stderr" \
	test "$rc" -eq 1 -a "$out" = partial \
	-a "$err" = "fnguard: invoke thumbnailer:3: timeout: killed at the policy's time limit (limits.timeout) (exit status 137, invocation inv-2)"

encode crash 'invoke { invocation: "inv-3" exit_status: 139 outcome: OUTCOME_CRASH }'
fake "$tmp/crash.bin"
run invoke -v thumbnailer --socket "$sock"
fake_done
check "invoke -v, outcome crash without a record: exit 1, the record from the result" \
	test "$rc" -eq 1 -a -n "$(grep -F '"outcome":"crash","exit_status":139' "$tmp/err")"

encode notfound 'error { code: ERROR_CODE_NOT_FOUND message: "invoke nosuch: no such function" }'
fake "$tmp/notfound.bin"
run invoke nosuch --socket "$sock"
fake_done
check "invoke: a daemon error is printed as the daemon says it, exit 1" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "fnguard: invoke nosuch: no such function"

encode denied 'error { code: ERROR_CODE_PERMISSION_DENIED }'
fake "$tmp/denied.bin"
run invoke thumbnailer --socket "$sock"
fake_done
check "invoke: a daemon error without a message: the code in words, exit 1" \
	test "$rc" -eq 1 -a "$err" = "fnguard: invoke thumbnailer: permission denied"

encode async 'invoke { invocation: "inv-42" }'
fake "$tmp/async.bin"
run invoke --async thumbnailer:3 --socket "$sock"
fake_done
check "invoke --async: prints the invocation id, exit 0, the request says async" \
	test "$rc" -eq 0 -a "$out" = inv-42 -a -n "$(decode | grep -x '  async: true')"

encode other 'id: 999 error { code: ERROR_CODE_INTERNAL message: "not for you" }'
fake "raw:$tmp/other.bin" "$tmp/ok.bin"
run invoke thumbnailer --socket "$sock"
fake_done
check "invoke: a Response with another id is not taken for the answer" \
	test "$rc" -eq 0 -a -z "$err" -a "$(od -An -c "$tmp/out")" = "$(od -An -c "$tmp/want")"

encode wrongkind 'envs { }'
fake "$tmp/wrongkind.bin"
run invoke thumbnailer --socket "$sock"
fake_done
check "invoke: an answer of another kind, exit 1" \
	test "$rc" -eq 1 -a -n "$(grep -F 'fnguard: invoke thumbnailer: the daemon answered with something else' "$tmp/err")"

fake
run invoke thumbnailer --socket "$sock"
fake_done
check "invoke: the daemon hangs up before answering, exit 1" \
	test "$rc" -eq 1 -a "$err" = "fnguard: invoke thumbnailer: the daemon closed the connection before answering"

# function register / list / remove
encode empty ''
mkdir -p "$tmp/elsewhere"
ln -s "$tmp/fn/policy.yaml" "$tmp/elsewhere/link.yaml"
fake "$tmp/empty.bin"
(cd "$tmp/elsewhere" && exec "$bin" function register link.yaml --socket "$sock") \
	>"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
fake_done
check "function register: prints registered NAME:VERSION, exit 0" \
	test "$rc" -eq 0 -a -z "$err" -a "$out" = "registered thumbnailer:3"
real=$(cd "$tmp/fn" && pwd -P)
check "function register: policy_name is the path as given, code_dir the real file's directory" \
	test -n "$(decode | grep -xF '  policy_name: "link.yaml"')" \
	-a -n "$(decode | grep -xF "  code_dir: \"$real\"")" \
	-a -n "$(decode | grep -F '  policy_yaml: "apiVersion: fnguard/v1\nfunction:')"

encode exists 'error { code: ERROR_CODE_ALREADY_EXISTS message: "function register fn/policy.yaml: thumbnailer:3 is already registered" }'
fake "$tmp/exists.bin"
run function register "$tmp/fn/policy.yaml" --socket "$sock"
fake_done
check "function register: the daemon's refusal, exit 1" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "fnguard: function register fn/policy.yaml: thumbnailer:3 is already registered"

encode functions 'functions {
  functions { name: "thumbnailer" version: "3" code_dir: "/srv/fn/thumbnailer" handler: "/var/task/handler.py" kind: ENV_KIND_MICROVM registered_unix_nano: 1793697302123456789 }
  functions { name: "resize-a-very-long-name" version: "10.2.1" code_dir: "/srv/fn/r" handler: "/var/task/r" kind: ENV_KIND_PROCESS registered_unix_nano: 0 } }'
fake "$tmp/functions.bin"
run function list --socket "$sock"
fake_done
want="NAME                     VERSION  KIND     HANDLER               REGISTERED
thumbnailer              3        microvm  /var/task/handler.py  2026-11-03T09:15:02Z
resize-a-very-long-name  10.2.1   process  /var/task/r           1970-01-01T00:00:00Z"
check "function list: the table" test "$rc" -eq 0 -a -z "$err" -a "$out" = "$want"
check "function list: the request" test "$(decode | tr -s ' \n' ' ')" = 'id: 1 list_functions { } '
fake "$tmp/functions.bin"
run function list --json --socket "$sock"
fake_done
want='{"name":"thumbnailer","version":"3","kind":"microvm","handler":"/var/task/handler.py","code_dir":"/srv/fn/thumbnailer","registered":"2026-11-03T09:15:02.123456789Z"}
{"name":"resize-a-very-long-name","version":"10.2.1","kind":"process","handler":"/var/task/r","code_dir":"/srv/fn/r","registered":"1970-01-01T00:00:00.000000000Z"}'
check "function list --json: one object per line" test "$rc" -eq 0 -a "$out" = "$want"

fake "$tmp/empty.bin"
run function remove thumbnailer:3 --socket "$sock"
fake_done
check "function remove NAME:VERSION" \
	test "$rc" -eq 0 -a "$out" = "removed thumbnailer:3" \
	-a "$(decode | tr -s ' \n' ' ')" = 'id: 1 remove_function { name: "thumbnailer" version: "3" } '
fake "$tmp/empty.bin"
run function remove thumbnailer --socket "$sock"
fake_done
check "function remove NAME: every version" \
	test "$rc" -eq 0 -a "$out" = "removed thumbnailer (every version)" \
	-a "$(decode | tr -s ' \n' ' ')" = 'id: 1 remove_function { name: "thumbnailer" } '

# envs
encode envs 'envs {
  envs { id: "env-1" function: "thumbnailer" version: "3" kind: ENV_KIND_MICROVM state: ENV_PHASE_READY age_ns: 3210000000 invocations: 17 }
  envs { id: "env-22" function: "resize" version: "1" kind: ENV_KIND_PROCESS state: ENV_PHASE_BUSY age_ns: 310000000000 invocations: 1 } }'
fake "$tmp/envs.bin"
run envs --socket "$sock"
fake_done
want="ID      FUNCTION     VERSION  KIND     STATE    AGE  INVOCATIONS
env-1   thumbnailer  3        microvm  ready   3.2s  17
env-22  resize       1        process  busy   5m10s  1"
check "envs: the table, ages for people" test "$rc" -eq 0 -a -z "$err" -a "$out" = "$want"
fake "$tmp/envs.bin"
run envs --json --socket "$sock"
fake_done
want='{"id":"env-1","function":"thumbnailer","version":"3","kind":"microvm","state":"ready","age_ns":3210000000,"invocations":17}
{"id":"env-22","function":"resize","version":"1","kind":"process","state":"busy","age_ns":310000000000,"invocations":1}'
check "envs --json: one object per line" test "$rc" -eq 0 -a "$out" = "$want"

# events: three events, then the end of the stream
encode ev1 'more: true event { time_unix_nano: 1793697302123456789 seq: 7 host: "h" function: "thumbnailer" version: "3" env: "env-1" invocation: "inv-1"
  denial { pid: 42 comm: "python3" class: DENIAL_CLASS_FILE op: "open" syscall: "openat" target: "/var/task/handler.py" verdict: VERDICT_BLOCKED rule: "files.rules[0]" } }'
encode ev2 'more: true event { time_unix_nano: 1793697302500000000 seq: 8 host: "h" function: "thumbnailer" version: "3" env: "env-1"
  log { stream: "stderr" line: "evil \033[2J line" } }'
encode ev3 'more: true event { time_unix_nano: 1793697303000000000 seq: 9 host: "h" loss { events_lost: 12 where: "kernel ring buffer" } }'
fake "$tmp/ev1.bin" "$tmp/ev2.bin" "$tmp/ev3.bin" "$tmp/empty.bin"
run events --type denial,log --type loss --socket "$sock"
fake_done
want='2026-11-03T09:15:02.123Z denial     thumbnailer:3 env-1 blocked file open /var/task/handler.py (rule files.rules[0]) pid 42 comm python3 syscall openat
2026-11-03T09:15:02.500Z log        thumbnailer:3 env-1 stderr: evil \x1b[2J line
2026-11-03T09:15:03.000Z loss       - - 12 events lost (kernel ring buffer)'
check "events: one readable line per event, control characters escaped, exit 0" \
	test "$rc" -eq 0 -a -z "$err" -a "$out" = "$want"
check "events: Subscribe carries the types, no follow" \
	test "$(decode | tr -s ' \n' ' ')" = 'id: 1 subscribe { types: "denial" types: "log" types: "loss" } '
fake "$tmp/ev1.bin" "$tmp/ev3.bin" "$tmp/empty.bin"
run events --json --socket "$sock"
fake_done
want='{"type":"denial","time":"2026-11-03T09:15:02.123456789Z","seq":7,"host":"h","function":"thumbnailer","version":"3","env":"env-1","invocation":"inv-1","pid":42,"comm":"python3","class":"file","op":"open","syscall":"openat","target":"/var/task/handler.py","verdict":"blocked","rule":"files.rules[0]"}
{"type":"loss","time":"2026-11-03T09:15:03.000000000Z","seq":9,"host":"h","events_lost":12,"where":"kernel ring buffer"}'
check "events --json: JSON lines" test "$rc" -eq 0 -a "$out" = "$want"

encode ev4 'more: true event { time_unix_nano: 1793697303000000000 function: "thumbnailer" version: "3" env: "env-1" invocation: "inv-9"
  invocation_record { cold_start: true init_ns: 85000000 duration_ns: 12300000 memory_peak_bytes: 13107200 cpu_user_ns: 3100000 cpu_system_ns: 1000000 outcome: OUTCOME_OK denials: 2 } }'
encode ev5 'more: true event { time_unix_nano: 1793697303000000000 function: "thumbnailer" version: "3" env: "env-1"
  env_state { state: ENV_PHASE_RECYCLED kind: ENV_KIND_MICROVM reason: "max_invocations reached" } }'
encode ev6 'more: true event { time_unix_nano: 1793697303000000000
  api_call { uid: 1000 gid: 1000 pid: 4242 method: "invoke" target: "thumbnailer:3" result: "ok" } }'
encode endfail 'error { code: ERROR_CODE_RESOURCE_EXHAUSTED message: "events: subscriber too slow, dropped" }'
fake "$tmp/ev4.bin" "$tmp/ev5.bin" "$tmp/ev6.bin" "$tmp/endfail.bin"
run events --socket "$sock"
fake_done
want='2026-11-03T09:15:03.000Z invocation thumbnailer:3 env-1 ok exit 0 in 12.3ms (cold start, init 85.0ms) memory 12.5MiB cpu 3.1ms user 1.0ms system denials 2 invocation inv-9
2026-11-03T09:15:03.000Z env        thumbnailer:3 env-1 recycled microvm (max_invocations reached)
2026-11-03T09:15:03.000Z api_call   - - invoke thumbnailer:3: ok (uid 1000 gid 1000 pid 4242)'
check "events: invocation, env and api_call lines" test "$out" = "$want"
check "events: a stream that ends with an error, exit 1" \
	test "$rc" -eq 1 -a "$err" = "fnguard: events: subscriber too slow, dropped"

fake "$tmp/ev1.bin" "$tmp/ev2.bin"
run events --socket "$sock"
fake_done
check "events: the daemon hangs up mid-stream, exit 1" \
	test "$rc" -eq 1 -a "$err" = "fnguard: events: the daemon closed the connection before answering"

# --follow until interrupted; a reader that goes away
fake --hold "$tmp/ev1.bin"
"$bin" events --follow --socket "$sock" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 400); do [ -s "$tmp/out" ] && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"
rc=$?
fake_done
check "events --follow: the event at once, Ctrl-C ends it quietly with exit 0" \
	test "$rc" -eq 0 -a -z "$(cat "$tmp/err")" -a "$(wc -l <"$tmp/out")" -eq 1
check "events --follow: Subscribe says follow" test -n "$(decode | grep -x '  follow: true')"

args=()
for _ in $(seq 1000); do args+=("$tmp/ev1.bin"); done
fake "${args[@]}" "$tmp/empty.bin"
"$bin" events --socket "$sock" 2>"$tmp/err" | head -n 1 >"$tmp/out"
rc=${PIPESTATUS[0]}
fake_done
check "events | head -n 1: the reader going away is exit 0, quietly" \
	test "$rc" -eq 0 -a -z "$(cat "$tmp/err")" -a "$(wc -l <"$tmp/out")" -eq 1
exit 0
