#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The runtime benchmark, on this host (as root): one Python function, the same handler, run
# four ways in microVM environments through fnguardd, side by side in one run:
#   python3       runtime python3, isolate_invocations: false: one runtime process serves
#                 every warm invocation through the Runtime API;
#   python3-iso   runtime python3, isolate_invocations: true: the runtime is restarted (and
#                 /tmp emptied) between invocations;
#   stdio         runtime stdio, isolate_invocations: false: a script that starts the same
#                 Python (Debian's python3.11 from the python3 runtime's root, given as a layer
#                 at /opt/py: the stdio guest has no Python of its own) once per invocation;
#   stdio-iso     the same with isolate_invocations: true.
# The stdlib and the code are precompiled (unchecked-hash .pyc) for both kinds, so that no
# start compiles anything. Per round (ROUNDS, default 5): one cold start of python3 and one of
# stdio (functions with reuse: false; order alternating), then WARM_N (default 10) warm
# invocations of each warm function, round-robin, the order rotated each round. Measured:
# `fnguard invoke` wall time (CLI start included) and the record's duration_ns; for cold
# starts the record's init_ns and runtime_init_ns too. After the rounds, each warm function's
# idle VMM: RSS and PSS. Timings are reported, never asserted: the ok lines say only that the
# runs worked; the bench lines give the ratios.
#   runtime.sh [ROUNDS]   (WARM_N in the environment)
set -u
rounds=${1:-5}
warm_n=${WARM_N:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
fng=$root/build/fnguard
fngd=$root/build/fnguardd
rt=/var/cache/fnguard/runtimes
py_root=$rt/python3/root
tmp=$(mktemp -d /tmp/rtbench.XXXXXX)
pin=/sys/fs/bpf/fnguardd-rtbench-$$
dpid=
fail=0

cleanup() {
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	[ -d "$pin" ] && rm -rf "$pin"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then
		echo "ok - runtime bench: $d"
	else
		echo "not ok - runtime bench: $d"
		fail=1
	fi
}
die() {
	echo "not ok - runtime bench: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "it needs root (cgroups, namespaces, BPF)"
[ -r /var/cache/fnguard/abi ] || die "no guest kernel: run make deps"
[ -f "$rt/python3/image.erofs" ] && [ -x "$py_root/usr/bin/python3.11" ] ||
	die "runtime python3 is not built in $rt: run make deps"
case $rounds in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number, not '$rounds'" ;; esac
case $warm_n in '' | *[!0-9]* | 0) die "WARM_N must be a positive number, not '$warm_n'" ;; esac
echo "# $(nproc) CPUs; $(qemu-system-x86_64 --version | head -n 1); accel tcg; $rounds rounds, $warm_n warm invocations of each per round"

# The handler, the same for every way it runs.
mkdir -p "$tmp/code"
cat >"$tmp/code/app.py" <<'EOF'
import json
calls = 0

def handler(event, context):
    global calls
    calls += 1
    return {"n": event["n"] * 2, "calls": calls}
EOF
# stdio: a script that starts Python each time, reads the event, prints the result.
cat >"$tmp/code/stdio_main.py" <<'EOF'
import json, sys
sys.path.insert(0, "/var/task")
import app
json.dump(app.handler(json.load(sys.stdin), None), sys.stdout)
EOF
cat >"$tmp/code/run.sh" <<'EOF'
#!/bin/sh
PYTHONHOME=/opt/py exec /opt/py/lib/ld-linux-x86-64.so.2 --library-path /opt/py/lib \
	/opt/py/bin/python3.11 -S -B /var/task/stdio_main.py
EOF
chmod 755 "$tmp/code/run.sh"

# The stdio function's layer: Debian's python3.11 and the libraries and modules the handler
# imports (python3 -S), as the python3 runtime's root has them.
lay=$tmp/layer/py
mkdir -p "$lay/bin" "$lay/lib"
cp "$py_root/usr/bin/python3.11" "$lay/bin/"
for l in $(chroot "$py_root" ldd /usr/bin/python3.11 | awk '/=>/ {print $3} /ld-linux/ && !/=>/ {print $1}'); do
	cp -L "$py_root$l" "$lay/lib/"
done
chroot "$py_root" /usr/bin/python3.11 -S -c '
import json, sys
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f: print(f)
print("/usr/lib/python3.11/os.py")' >"$tmp/modules" || die "listing the modules python3 -S imports failed"
while read -r f; do
	rel=${f#/usr/lib/}
	mkdir -p "$lay/lib/$(dirname "$rel")"
	cp "$py_root$f" "$lay/lib/$rel"
done <"$tmp/modules"
chroot "$py_root" /usr/bin/python3.11 -c 'import sys' ||
	die "the python3 runtime's python does not run on this host"
for d in "$lay/lib/python3.11" "$tmp/code"; do
	python3 -m compileall -q --invalidation-mode unchecked-hash "$d" >/dev/null ||
		die "compiling $d failed"
done
check "the stdio function's Python layer is made ($(du -sk "$tmp/layer" | cut -f1) KiB, $(wc -l <"$tmp/modules") modules)" \
	test -x "$lay/bin/python3.11" -a -f "$lay/lib/ld-linux-x86-64.so.2"
cp -r "$tmp/code" "$tmp/code-stdio"
chmod -R a+rX "$tmp"

function_yaml() { # NAME RUNTIME REUSE ISOLATE
	if [ "$2" = python3 ]; then
		cat <<EOY
apiVersion: fnguard/v1
function: {name: $1, version: "1", code: ./code, runtime: python3, handler: app.handler}
environment: {kind: microvm, reuse: $3, isolate_invocations: $4}
limits: {memory: 128Mi, timeout: 120s, pids: 32, tmp_size: 1Mi}
EOY
	else
		cat <<EOY
apiVersion: fnguard/v1
function: {name: $1, version: "1", code: ./code-stdio, handler: /var/task/run.sh, layers: [./layer]}
environment: {kind: microvm, reuse: $3, isolate_invocations: $4}
limits: {memory: 128Mi, timeout: 120s, pids: 32, tmp_size: 1Mi}
files:
  default: deny
  rules:
    - {path: /var/task, access: [read]}
    - {path: /opt, access: [read]}
    - {path: /tmp, access: [read, write]}
    - {path: /bin, access: [read]}
    - {path: /lib, access: [read]}
    - {path: /etc, access: [read]}
    - {path: /dev/null, access: [read, write]}
exec: {default: deny, allow: [/var/task/run.sh, /bin, /opt/py], children: allow}
network: {egress: {default: deny}}
EOY
	fi
}
warm="python3 python3-iso stdio stdio-iso"
function_yaml rb-python3 python3 true false >"$tmp/rb-python3.yaml"
function_yaml rb-python3-iso python3 true true >"$tmp/rb-python3-iso.yaml"
function_yaml rb-stdio stdio true false >"$tmp/rb-stdio.yaml"
function_yaml rb-stdio-iso stdio true true >"$tmp/rb-stdio-iso.yaml"
function_yaml rb-python3-cold python3 false false >"$tmp/rb-python3-cold.yaml"
function_yaml rb-stdio-cold stdio false false >"$tmp/rb-stdio-cold.yaml"

export FNGUARD_SOCKET=$tmp/fnguard.sock
printf 'pin_dir: %s\nmicrovm_accel: tcg\n' "$pin" >"$tmp/fnguardd.conf"
"$fngd" --foreground --config "$tmp/fnguardd.conf" --state-dir "$tmp/state" 2>"$tmp/log" &
dpid=$!
for _ in $(seq 100); do
	[ -S "$FNGUARD_SOCKET" ] && "$fng" envs >/dev/null 2>&1 && break
	sleep 0.1
done
check "fnguardd is listening" test -S "$FNGUARD_SOCKET"
regs=0
for f in "$tmp"/rb-*.yaml; do
	"$fng" function register "$f" >/dev/null 2>>"$tmp/reg.err" && regs=$((regs + 1))
done
check "the six benchmark functions are registered ($regs)" test "$regs" = 6
[ $fail = 0 ] || { sed 's/^/# /' "$tmp/reg.err" "$tmp/log" | tail -n 20; exit 1; }

json_num() { sed -n "s/.*\"$2\": *\"\{0,1\}\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1; }
now_ns() { echo $((${EPOCHREALTIME/./} * 1000)); }
ms() { awk -v n="$1" 'BEGIN { printf "%.3f\n", n / 1e6 }'; }
n=0
# one WAY COLD: one invocation of rb-WAY; its wall time and duration appended to $tmp/WAY.*;
# a wrong answer or a cold start where none was asked for (or none where one was) is counted.
one() {
	local way=$1 cold=$2 t0 t1 out
	n=$((n + 1))
	printf '{"n": %d}' "$n" >"$tmp/payload"
	t0=$(now_ns)
	"$fng" invoke "rb-$way" --payload "$tmp/payload" -v >"$tmp/out" 2>"$tmp/rec" </dev/null
	t1=$(now_ns)
	out=$(tr -d ' ' <"$tmp/out")
	case $out in
	"{\"n\":$((n * 2)),"*) ;;
	*)
		echo "# $way: wrong answer '$(head -c 200 "$tmp/out")', record: $(head -c 400 "$tmp/rec")"
		echo x >>"$tmp/$way.fail"
		return
		;;
	esac
	if ! grep -q "\"cold_start\": *$cold" "$tmp/rec"; then
		echo "# $way: cold_start is not $cold: $(head -c 400 "$tmp/rec")"
		echo x >>"$tmp/$way.fail"
		return
	fi
	ms $((t1 - t0)) >>"$tmp/$way.wall"
	ms "$(json_num "$tmp/rec" duration_ns)" >>"$tmp/$way.dur"
	if [ "$cold" = true ]; then
		ms "$(json_num "$tmp/rec" init_ns)" >>"$tmp/$way.init"
		ms "$(json_num "$tmp/rec" runtime_init_ns || echo 0)" >>"$tmp/$way.rtinit"
	fi
}
for w in $warm python3-cold stdio-cold; do : >"$tmp/$w.wall"; : >"$tmp/$w.dur"; : >"$tmp/$w.fail"; done
: >"$tmp/python3-cold.init" ; : >"$tmp/python3-cold.rtinit" ; : >"$tmp/stdio-cold.init" ; : >"$tmp/stdio-cold.rtinit"
# The warm functions' first invocations start their environments; not counted.
for w in $warm; do
	"$fng" invoke "rb-$w" --payload <(echo '{"n": 0}') >/dev/null 2>>"$tmp/warmup.err" </dev/null ||
		echo x >>"$tmp/$w.fail"
done
check "each warm function's environment started" sh -c "! cat '$tmp'/*.fail | grep -q ."
[ $fail = 0 ] || { sed 's/^/# /' "$tmp/warmup.err"; tail -n 20 "$tmp/log" | sed 's/^/# /'; exit 1; }

set -- $warm
for r in $(seq "$rounds"); do
	if [ $((r % 2)) = 1 ]; then one python3-cold true; one stdio-cold true
	else one stdio-cold true; one python3-cold true; fi
	echo "# round $r: cold python3 $(tail -n 1 "$tmp/python3-cold.wall") ms, stdio $(tail -n 1 "$tmp/stdio-cold.wall") ms (invoke wall)"
	for _ in $(seq "$warm_n"); do
		for w in "$@"; do one "$w" false; done
	done
	set -- "${@:2}" "$1"
done
for w in $warm python3-cold stdio-cold; do
	check "every $w invocation answered ($(grep -c . "$tmp/$w.fail") failed, $(grep -c . "$tmp/$w.wall") measured)" \
		test ! -s "$tmp/$w.fail"
done

# Idle memory of each warm function's VMM.
sleep 3
vmm_of() { # vmm_of FUNCTION: the QEMU pid of that function's environment
	local id
	id=$("$fng" envs --json | python3 -c "import json,sys; print([e['id'] for e in map(json.loads, sys.stdin) if e['function']=='$1'][0])" 2>/dev/null)
	[ -n "$id" ] && pgrep -f "fnguard\\.env=$id( |\$)" | head -n 1
}
mem_of() { # mem_of PID: "RSS PSS" in KiB
	awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} END {print r, p}' "/proc/$1/smaps_rollup"
}
for w in $warm; do
	p=$(vmm_of "rb-$w")
	if [ -n "$p" ]; then mem_of "$p" >"$tmp/$w.mem"; else : >"$tmp/$w.mem"; fi
done
check "the idle VMMs' memory is read ($(for w in $warm; do printf '%s: %s; ' "$w" "$(cat "$tmp/$w.mem")"; done))" \
	sh -c "for w in $warm; do test -s '$tmp'/\$w.mem || exit 1; done"

stats() { # stats FILE: p50 p99 min max count
	python3 - "$1" <<'EOP'
import math, sys
v = sorted(float(x) for x in open(sys.argv[1]).read().split())
if not v:
    print("nan nan nan nan 0"); sys.exit()
r = lambda q: v[max(0, math.ceil(q * len(v)) - 1)]
print("%.1f %.1f %.1f %.1f %d" % (r(0.5), r(0.99), v[0], v[-1], len(v)))
EOP
}
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN { if (b > 0) printf f, a / b; else print "nan" }'; }
for w in $warm python3-cold stdio-cold; do
	read -r "${w//-/_}_w50" "${w//-/_}_w99" _ _ "${w//-/_}_wn" <<<"$(stats "$tmp/$w.wall")"
	read -r "${w//-/_}_d50" "${w//-/_}_d99" _ _ _ <<<"$(stats "$tmp/$w.dur")"
done
read -r pi50 _ _ _ _ <<<"$(stats "$tmp/python3-cold.init")"
read -r pr50 _ _ _ _ <<<"$(stats "$tmp/python3-cold.rtinit")"
read -r si50 _ _ _ _ <<<"$(stats "$tmp/stdio-cold.init")"
echo "bench: cold start (invoke wall p50, $python3_cold_wn rounds): python3 $python3_cold_w50 ms (init_ns p50 $pi50 ms, runtime_init_ns p50 $pr50 ms), stdio $stdio_cold_w50 ms (init_ns p50 $si50 ms); python3 / stdio = $(ratio "$python3_cold_w50" "$stdio_cold_w50")"
for w in $warm; do
	v=${w//-/_}
	eval "echo \"bench: warm $w (invoke wall, \$${v}_wn invocations): p50 \$${v}_w50 ms p99 \$${v}_w99 ms; record duration_ns p50 \$${v}_d50 ms p99 \$${v}_d99 ms\""
done
echo "bench: warm p50 python3 / stdio = $(ratio "$python3_w50" "$stdio_w50") (invoke wall; duration_ns: $(ratio "$python3_d50" "$stdio_d50")); python3-iso / stdio-iso = $(ratio "$python3_iso_w50" "$stdio_iso_w50"); python3 / python3-iso = $(ratio "$python3_w50" "$python3_iso_w50")"
echo "bench: warm python3 p50 / python3 cold start p50 = $(ratio "$python3_w50" "$python3_cold_w50" %.4f) (invoke wall)"
read -r prss ppss <"$tmp/python3.mem"
read -r srss spss <"$tmp/stdio.mem"
echo "bench: idle environment PSS: python3 $((ppss / 1024)) MiB (RSS $((prss / 1024))), stdio $((spss / 1024)) MiB (RSS $((srss / 1024))); python3 - stdio = $(((ppss - spss) / 1024)) MiB; isolate true: python3-iso $(($(cut -d' ' -f2 "$tmp/python3-iso.mem") / 1024)) MiB, stdio-iso $(($(cut -d' ' -f2 "$tmp/stdio-iso.mem") / 1024)) MiB"
echo "# wall time includes the fnguard CLI's start and its socket round trip; duration_ns is the daemon's from dispatch to the response"
echo "# the stdio guest holds its Python layer ($(du -sk "$tmp/layer" | cut -f1) KiB) in its initramfs (guest RAM); the python3 guest reads the runtime's EROFS image through virtio-blk (host page cache, shared)"

kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
check "fnguardd stopped cleanly ($rc)" test "$rc" = 0
if [ $fail != 0 ]; then
	echo "# fnguardd's log:"
	tail -n 30 "$tmp/log" | sed 's/^/# /'
fi
exit $fail
