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
#  - layers: two merged at /opt (python3), one (nodejs, through NODE_PATH), copied at
#    registration, read-only; register refuses one that is not a directory or not there;
#  - register refuses a runtime that is not built (and says the command);
#  - nothing listens on the host's 127.0.0.1:9001 (the Runtime API is the guest's own).
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
import json, os, sys, time, urllib.error, urllib.request
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
    if what == "sleep":
        time.sleep(event["s"])
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

# ---------------------------------------------------------------- layers
# Two layers for python3 (merged at registration, the later one's file wins), one for nodejs
# (found by require() through NODE_PATH), copied at registration: changing a layer's
# directory afterwards changes nothing.
mkdir -p "$tmp/layers/l1/python" "$tmp/layers/l2/python" "$tmp/layers/n1/nodejs/node_modules/greet"
echo 'VALUE = "from-l1"' >"$tmp/layers/l1/python/helper.py"
echo 'WHO = "l1"' >"$tmp/layers/l1/python/shared.py"
echo 'WHO = "l2"' >"$tmp/layers/l2/python/shared.py"
echo 'module.exports = (n) => `hi ${n} from a layer`;' >"$tmp/layers/n1/nodejs/node_modules/greet/index.js"
echo 'not a directory' >"$tmp/layers/afile"
fn pylayer python3 app.handler false
sed -i 's|runtime: python3,|runtime: python3, layers: [../layers/l1, ../layers/l2],|' "$tmp/pylayer/function.yaml"
cat >"$tmp/pylayer/app.py" <<'PY'
import os, helper, shared

def handler(event, context):
    try:
        open("/opt/python/new.txt", "w")
        wrote = "yes"
    except OSError:
        wrote = "no"
    return {"helper": helper.VALUE, "shared": shared.WHO, "wrote": wrote,
            "listing": ",".join(sorted(n for n in os.listdir("/opt/python") if not n.startswith("__")))}
PY
fn jslayer nodejs index.handler false
sed -i 's|runtime: nodejs,|runtime: nodejs, layers: [../layers/n1],|' "$tmp/jslayer/function.yaml"
cat >"$tmp/jslayer/index.js" <<'JS'
const greet = require('greet');
exports.handler = async (event) => ({msg: greet(event.n)});
JS
chmod -R a+rX "$tmp/layers" "$tmp/pylayer" "$tmp/jslayer"
check "a function with two layers registers" "$fng" function register "$tmp/pylayer/function.yaml"
check "a function with one layer registers" "$fng" function register "$tmp/jslayer/function.yaml"
echo 'WHO = "changed after registration"' >"$tmp/layers/l2/python/shared.py"
check "the layers are one image, merged at registration" \
	sh -c 'ls "$1"/state/images/pylayer@*/opt.erofs >/dev/null' sh "$tmp"
invoke pylayer '{}'
check "python3: the layers are at /opt, merged, the later layer's file over the earlier's ($out)" \
	test "$(field "$out" helper)/$(field "$out" shared)/$(field "$out" listing)" = "from-l1/l2/helper.py,shared.py"
check "python3: /opt is read-only" test "$(field "$out" wrote)" = no
invoke jslayer '{"n": 5}'
check "nodejs: require() finds a layer's package in /opt/nodejs/node_modules ($out)" \
	test "$(field "$out" msg)" = "hi 5 from a layer"

# A stdio function's layers are at /opt in its guest too (in its initrd).
mkdir -p "$tmp/layers/s1/bin" "$tmp/layers/s2" "$tmp/shlayer"
echo one >"$tmp/layers/s1/data.txt"
echo first >"$tmp/layers/s1/only-s1.txt"
echo two >"$tmp/layers/s2/data.txt"
printf '#!/bin/sh\ncat /opt/data.txt /opt/only-s1.txt\n' >"$tmp/shlayer/run.sh"
chmod 755 "$tmp/shlayer/run.sh"
cat >"$tmp/shlayer/function.yaml" <<EOF
apiVersion: fnguard/v1
function: {name: shlayer, version: "1", code: ., handler: /var/task/run.sh, layers: [../layers/s1, ../layers/s2]}
environment: {kind: microvm}
limits: {memory: 64Mi, timeout: 30s, pids: 16, tmp_size: 1Mi}
files:
  default: deny
  rules:
    - {path: /var/task, access: [read]}
    - {path: /opt, access: [read]}
    - {path: /bin, access: [read]}
    - {path: /lib, access: [read]}
    - {path: /usr, access: [read]}
exec: {default: deny, allow: [/var/task/run.sh, /bin], children: allow}
EOF
chmod -R a+rX "$tmp/layers" "$tmp/shlayer"
check "a stdio function with layers registers" "$fng" function register "$tmp/shlayer/function.yaml"
invoke shlayer ''
check "stdio: the layers are at /opt of its guest, the later one's file over the earlier's ($(echo $out))" \
	test "$(echo $out)" = "two first"

# ---------------------------------------------------------------- register refuses
fn badlayer python3 app.handler false
sed -i 's|runtime: python3,|runtime: python3, layers: [../layers/afile],|' "$tmp/badlayer/function.yaml"
"$fng" function register "$tmp/badlayer/function.yaml" >/dev/null 2>"$tmp/err"
check "register refuses a layer that is not a directory, naming it ($(cat "$tmp/err"))" \
	grep -q "function.layers\[0\] .*afile.*not a directory" "$tmp/err"
fn nolayer python3 app.handler false
sed -i 's|runtime: python3,|runtime: python3, layers: [../layers/nothere],|' "$tmp/nolayer/function.yaml"
"$fng" function register "$tmp/nolayer/function.yaml" >/dev/null 2>"$tmp/err"
check "register refuses a layer that is not there, naming it ($(cat "$tmp/err"))" \
	grep -q "function.layers\[0\] .*nothere" "$tmp/err"
check "... and leaves nothing behind" \
	sh -c '! ls -A "$1"/state/layers "$1"/state/images "$1"/state/code | grep -q "^\.new-\|^badlayer@\|^nolayer@"' sh "$tmp"
"$fng" function remove pylayer >/dev/null 2>&1
check "removing a function removes its layers" \
	sh -c 'for i in $(seq 100); do ls "$1"/state/layers | grep -q "^pylayer@" || exit 0; sleep 0.1; done; exit 1' sh "$tmp"

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
