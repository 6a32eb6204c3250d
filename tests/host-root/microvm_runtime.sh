#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runtimes in microVM environments, end to end on this host (docs/runtime.md): the runtimes'
# root images ('make deps' builds them) as the guests' root, the code as a second drive, one
# runtime process per environment served through the Runtime API.
#  - python3: an answer with Lambda's context; warm invocations in the same process
#    (isolate_invocations: false keeps module state and /tmp; true restarts the runtime and
#    empties /tmp); its stderr as log events; the cold start's runtime init in the record;
#  - nodejs (an async handler) and provided (a shell loop over curl) answer;
#  - the Runtime API from inside the guest: 404, 405, 400 for a wrong id;
#  - errors: an exception (outcome error, errorType and errorMessage in the record); a module
#    that is not there (init error: outcome error with the runtime's message, no hang); a
#    runtime that exits mid-invocation (crash, recycled, the next invocation works); a
#    response over 6 MiB (error);
#  - register refuses a runtime that is not built (and says the command), and layers;
#  - nothing listens on the host's 127.0.0.1:9001 (the Runtime API is the guest's own);
#  - starting the 10th environment of a function writes less than 1 MiB to disk.
# Prints one TAP line per case and always exits 0.
set -u
. "$(dirname "$0")/microvm-lib.bash"
rt=/var/cache/fnguard/runtimes

for r in python3 nodejs provided; do
	if [ ! -f "$rt/$r/image.erofs" ]; then
		skip_all "runtime tests" "runtime $r is not built in $rt: run make deps"
	fi
done

# fn NAME RUNTIME HANDLER ISOLATE [EXTRA-YAML]: a function directory $tmp/NAME.
fn() {
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/function.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: $1, version: "1", code: ., runtime: $2, handler: $3}
environment: {kind: microvm, isolate_invocations: $4}
limits: {memory: 128Mi, timeout: 30s, pids: 32, tmp_size: 8Mi}
${5:-}
EOF
}

cat_app() {
	cat >"$tmp/$1/app.py" <<'EOF'
import json, os, sys, urllib.error, urllib.request
calls = 0

def handler(event, context):
    global calls
    calls += 1
    had = os.path.exists("/tmp/mark")
    open("/tmp/mark", "w").write("x")
    print("call %d" % calls, file=sys.stderr)
    what = event.get("do")
    if what == "fail":
        raise ValueError("asked to fail")
    if what == "exit":
        os._exit(3)
    if what == "alloc":
        b = bytearray(event["mib"] << 20)
        for i in range(0, len(b), 4096):
            b[i] = 1
        return {"allocated": event["mib"]}
    if what == "big":
        return "x" * (6 * 1024 * 1024 + 10)
    if what == "api":
        api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/"
        codes = {}
        for name, url, data in (("path", api + "nothing", None),
                                ("method", api + "invocation/next", b"x"),
                                ("id", api + "invocation/not-this-one/response", b"{}")):
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5)
                codes[name] = 200
            except urllib.error.HTTPError as e:
                codes[name] = e.code
        return codes
    return {"calls": calls, "tmp_had_mark": had, "fn": context.function_name,
            "greeting": os.environ.get("GREETING"), "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
            "id": context.aws_request_id, "mem": context.memory_limit_in_mb}
EOF
}

fn py python3 app.handler false
sed -i 's|runtime: python3,|runtime: python3, env: {GREETING: hola-s3cr3t, LOG_LEVEL: debug},|' "$tmp/py/function.yaml"
cat_app py
fn pyiso python3 app.handler true
cat_app pyiso
fn pymissing python3 nothere.handler false
fn js nodejs index.handler false
cat >"$tmp/js/index.js" <<'EOF'
exports.handler = async (event) => ({node: process.versions.node, got: event.v});
EOF
mkdir -p "$tmp/sh"
cp "$root/examples/functions/provided-curl/bootstrap" "$root/examples/functions/provided-curl/function.sh" "$tmp/sh/"
fn sh provided function.handler false "exec: {children: allow}"
chmod 755 "$tmp"; chmod -R a+rX "$tmp"/py "$tmp"/pyiso "$tmp"/pymissing "$tmp"/js "$tmp"/sh

for f in py pyiso pymissing js sh; do
	check "$f registers" "$fng" function register "$tmp/$f/function.yaml"
done

# invoke NAME PAYLOAD: $out (response), $rec (record), $rc.
invoke() {
	printf '%s' "$2" >"$tmp/payload"
	out=$(timeout 120 "$fng" invoke "$1" --payload "$tmp/payload" -v 2>"$tmp/rec")
	rc=$?
	rec=$(cat "$tmp/rec")
}
field() { /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2], ""))' "$1" "$2" 2>/dev/null; }
record() { grep '^{' "$tmp/rec" | tail -n1; }

# ---------------------------------------------------------------- python3, warm
invoke py '{}'
check "python3: cold invoke answers with Lambda's context" \
	test "$(field "$out" calls)" = 1 -a "$(field "$out" fn)" = py -a "$(field "$out" mem)" = 128
check "python3: the cold record has runtime_init_ns and init_ns" \
	sh -c 'echo "$1" | grep -q "\"cold_start\":true" && echo "$1" | grep -q "\"runtime_init_ns\":[1-9]" && echo "$1" | grep -q "\"init_ns\":[1-9]"' sh "$(record)"
echo "# python3 cold: $(record | grep -o '"init_ns":[0-9]*'), $(record | grep -o '"runtime_init_ns":[0-9]*')"
check "python3: function.env is the runtime's environment, with Lambda's variables" \
	test "$(field "$out" greeting)/$(field "$out" runtime_api)" = hola-s3cr3t/127.0.0.1:9001
invoke py '{}'
check "python3: warm invoke, the same runtime process (calls 2)" test "$(field "$out" calls)" = 2
check "python3: isolate_invocations false keeps /tmp" test "$(field "$out" tmp_had_mark)" = True
check "python3: the warm record is not a cold start" sh -c 'echo "$1" | grep -q "\"cold_start\":false"' sh "$(record)"
sleep 1
check "python3: the runtime's stderr lines are log events" grep -q '"function":"py".*"line":"call 2"' "$tmp/events"

# ---------------------------------------------------------------- isolate_invocations: true
invoke pyiso '{}'
invoke pyiso '{}'
check "python3, isolate_invocations true: a new runtime process (calls 1 again)" test "$(field "$out" calls)" = 1
check "python3, isolate_invocations true: /tmp was emptied" test "$(field "$out" tmp_had_mark)" = False

# ---------------------------------------------------------------- the Runtime API, from inside
invoke py '{"do": "api"}'
check "Runtime API in the guest: unknown path 404, wrong method 405, wrong id 400" \
	test "$(field "$out" path)/$(field "$out" method)/$(field "$out" id)" = 404/405/400
check "Runtime API: nothing listens on the host's 127.0.0.1:9001" \
	sh -c '! (exec 3<>/dev/tcp/127.0.0.1/9001) 2>/dev/null'

# ---------------------------------------------------------------- errors
invoke py '{"do": "fail"}'
check "python3: an exception is outcome error" sh -c 'echo "$1" | grep -q "\"outcome\":\"error\""' sh "$(record)"
check "python3: ... with errorType and errorMessage in the record" \
	sh -c 'echo "$1" | grep -q "\"error_type\":\"ValueError\"" && echo "$1" | grep -q "\"error_message\":\"asked to fail\""' sh "$(record)"
check "python3: ... and the error body as the response" sh -c 'echo "$1" | grep -q "asked to fail"' sh "$out"
invoke py '{"do": "big"}'
check "python3: a response over 6 MiB is outcome error" sh -c 'echo "$1" | grep -q "\"outcome\":\"error\""' sh "$(record)"
invoke py '{}'
check "python3: after those, the same environment still serves" test "$(field "$out" calls)" -ge 5
invoke py '{"do": "exit"}'
check "python3: a runtime that exits mid-invocation is a crash" sh -c 'echo "$1" | grep -q "\"outcome\":\"crash\""' sh "$(record)"
invoke py '{}'
check "python3: ... its environment was recycled: the next invocation is a cold start that works" \
	test "$(field "$out" calls)" = 1
# limits.memory is the function's: 100 MiB of its 128 fit beside the guest's own needs, 125
# (with Python's own) do not, and its own cgroup says so (outcome oom), not the guest's.
invoke py '{"do": "alloc", "mib": 100}'
check "limits.memory 128Mi: the function may use 100 MiB" test "$(field "$out" allocated)" = 100
invoke py '{"do": "alloc", "mib": 125}'
check "limits.memory 128Mi: 125 MiB (and Python's own) is outcome oom" \
	sh -c 'echo "$1" | grep -q "\"outcome\":\"oom\""' sh "$(record)"
echo "# 125 MiB record: $(record)"
start=$(date +%s)
invoke pymissing '{}'
check "python3: a module that is not there is outcome error, at once" \
	sh -c 'echo "$1" | grep -q "\"outcome\":\"error\"" && [ $(($(date +%s) - $2)) -lt 60 ]' sh "$(record)" "$start"
check "python3: ... and the invocation says why (the runtime's init error)" \
	grep -q "Runtime.ImportModuleError.*nothere" "$tmp/rec"

# ---------------------------------------------------------------- nodejs, provided
invoke js '{"v": 7}'
check "nodejs: an async handler answers, on Debian's Node 18" \
	sh -c 'echo "$1" | grep -q "\"got\":7" && echo "$1" | grep -q "\"node\":\"18\."' sh "$out"
invoke sh '{"v": 8}'
check "provided: a shell loop over curl answers" sh -c 'echo "$1" | grep -q "\"runtime\": \"provided\""' sh "$out"

# ---------------------------------------------------------------- register refuses
fn pylayer python3 app.handler false
sed -i 's|runtime: python3,|runtime: python3, layers: [.],|' "$tmp/pylayer/function.yaml"
"$fng" function register "$tmp/pylayer/function.yaml" >/dev/null 2>"$tmp/err"
check "register refuses layers, saying so" grep -q "layers are not supported" "$tmp/err"

# Starting more environments of one function copies no image: provisioned environments.
used_before=$(df -k --output=used "$tmp/state" | tail -n1)
du_before=$(du -sk "$tmp/state" | cut -f1)
fn many python3 app.handler false
cat_app many
sed -i 's|isolate_invocations: false|isolate_invocations: false, reuse: true|' "$tmp/many/function.yaml"
"$fng" function register "$tmp/many/function.yaml" >/dev/null
du_reg=$(du -sk "$tmp/state" | cut -f1)
invoke many '{}'
du_one=$(du -sk "$tmp/state" | cut -f1)
echo "# state: $du_before KiB before, $du_reg KiB after register, $du_one KiB with one environment"
check "an environment's start writes less than 1 MiB to the state directory ($((du_one - du_reg)) KiB)" \
	test $((du_one - du_reg)) -lt 1024

# A second daemon, with a runtime directory that has nothing built.
mkdir -p "$tmp/d2" "$tmp/nort"
printf 'runtime_dir: %s\npin_dir: %s-2\n' "$tmp/nort" "$pin" >"$tmp/d2/conf"
"$fngd" --foreground --config "$tmp/d2/conf" --state-dir "$tmp/d2/state" --socket "$tmp/d2/sock" 2>"$tmp/d2/log" &
d2=$!
for i in $(seq 50); do [ -S "$tmp/d2/sock" ] && break; sleep 0.1; done
"$fng" function register "$tmp/py/function.yaml" --socket "$tmp/d2/sock" >/dev/null 2>"$tmp/err"
check "register refuses a runtime that is not built, with the command that builds it" \
	grep -q "runtime python3 is not built.*run 'fnguard runtime build python3'" "$tmp/err"
kill "$d2"; wait "$d2" 2>/dev/null

check "function.env's values are in no event, log or function list" \
	sh -c '! grep -q hola-s3cr3t "$1/events" "$1/log" && ! "$2" function list | grep -q hola-s3cr3t' sh "$tmp" "$fng"
stop_daemon
exit 0
