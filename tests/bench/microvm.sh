#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The microVM benchmark, on this host (as root, not in the kernel test bench): what a microvm
# environment costs through fnguardd, next to the same QEMU command line started by hand.
#   cold   a function with environment {reuse: false} and a trivial /bin/sh handler, so that
#          every invocation starts a guest: the record's init_ns (env event "starting" to
#          "ready": guest image, cgroup, jail, QEMU, guest kernel boot, the agent putting the
#          policy in force and sending AgentReady) and the whole `fnguard invoke` wall time;
#   hand   the same QEMU argv (same kernel, an initrd made the same way: the common guest image
#          plus a newc cpio of fnguard/policy.yaml and var/task) started by hand, no jail, no
#          cgroup, its control port on a unix socket: from just before QEMU is started until
#          the AgentReady frame is read from that socket (the same ready point as init_ns);
#          one cold and one hand start per round, their order alternating, QEMU killed after;
#   warm   WARM_N (20) invocations of a reuse: true function on one warm guest, after the
#          rounds: `fnguard invoke` wall time (CLI start-up included) and the record's
#          duration_ns, p50 and p99;
#   idle   that warm guest idle: the VMM's RSS and PSS, the guest RAM size (-m), the RSS of
#          the guest RAM mapping (what the guest touched), and what is left beyond it.
# One guest at a time (the daemon's cold guest is gone before the hand-started one starts), and
# none of anyone else's: before each round and the warm phase, other QEMUs on the host are
# waited for (QUIET_WAIT, 120 s); rounds one ran in anyway are counted as disturbed, and then a
# second cold start line gives the undisturbed rounds alone.
# Timings are reported, never asserted: the ok lines say only that the runs worked.
#   microvm.sh [ROUNDS]   (ROUNDS default 5; WARM_N, QUIET_WAIT in the environment)
set -u
rounds=${1:-5}
warm_n=${WARM_N:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
fng=$root/build/fnguard
fngd=$root/build/fnguardd
image=$root/build/guest/microvm-initrd.cpio.gz
qemu=$(command -v qemu-system-x86_64)
tmp=$(mktemp -d /tmp/mvbench.XXXXXX)
pin=/sys/fs/bpf/fnguardd-mvbench-$$
dpid=
child=
fail=0

cleanup() {
	local p
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null
	if [ -s "$tmp/hand.pid" ]; then
		p=$(cat "$tmp/hand.pid")
		kill -KILL "$p" 2>/dev/null
	fi
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		dpid=
	fi
	[ -d "$pin" ] && rm -rf "$pin"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# run OUT ERR COMMAND...: COMMAND in the background, waited for, so that a signal to this
# script is handled at once (bash runs traps only between foreground commands).
run() {
	local out=$1 err=$2 rc
	shift 2
	"$@" >"$out" 2>"$err" </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	return $rc
}
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then
		echo "ok - microvm bench: $d"
	else
		echo "not ok - microvm bench: $d"
		fail=1
	fi
}
die() {
	echo "not ok - microvm bench: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "it needs root (cgroups, namespaces, BPF)"
[ -r /var/cache/fnguard/abi ] || die "no guest kernel: run make deps"
kernel=/var/cache/fnguard/$(cat /var/cache/fnguard/abi)/vmlinuz
[ -r "$kernel" ] && [ -r "$image" ] || die "no guest kernel or image: make deps guest-initrd"
[ -n "$qemu" ] || die "no qemu-system-x86_64 in PATH"
case $rounds in '' | *[!0-9]* | 0) die "ROUNDS must be a positive number, not '$rounds'" ;; esac

echo "# clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "# $(nproc) CPUs; $("$qemu" --version | head -n 1); kernel $kernel; accel tcg"
echo "# other QEMU processes on the host at the start: $(pgrep -c qemu-system || true)"

# Two functions with the same policy and the same trivial handler, one per environment mode.
function_yaml() { # NAME REUSE
	cat <<EOY
apiVersion: fnguard/v1
function: {name: $1, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm, reuse: $2, isolate_invocations: false}
limits: {memory: 128Mi, timeout: 120s, pids: 32, tmp_size: 1Mi}
files:
  default: deny
  rules:
    - {path: /var/task, access: [read]}
    - {path: /tmp, access: [read, write]}
    - {path: /bin, access: [read]}
    - {path: /lib, access: [read]}
    - {path: /etc, access: [read]}
    - {path: /dev/null, access: [read, write]}
exec: {default: deny, allow: [/var/task/handler, /bin], children: allow}
network: {egress: {default: deny}}
EOY
}
for f in cold warm; do
	mkdir -p "$tmp/$f"
	printf '#!/bin/sh\necho ok\n' >"$tmp/$f/handler"
done
function_yaml mvbench-cold false >"$tmp/cold/function.yaml"
function_yaml mvbench-warm true >"$tmp/warm/function.yaml"
chmod 755 "$tmp" "$tmp/cold" "$tmp/warm" "$tmp/cold/handler" "$tmp/warm/handler"

# The hand-started guest's initrd, made as the daemon makes it (image_build): the common image,
# zero padding to 4 bytes, then newc entries fnguard, fnguard/policy.yaml, var, var/task/...
mkdir -p "$tmp/stage/fnguard" "$tmp/stage/var/task"
cp "$tmp/cold/function.yaml" "$tmp/stage/fnguard/policy.yaml"
cp -p "$tmp/cold/handler" "$tmp/cold/function.yaml" "$tmp/stage/var/task/"
cp "$image" "$tmp/hand-initrd"
size=$(stat -c %s "$tmp/hand-initrd")
head -c $(((4 - size % 4) % 4)) /dev/zero >>"$tmp/hand-initrd"
(cd "$tmp/stage" && find fnguard var | cpio -o -H newc -R 0:0 --quiet) >>"$tmp/hand-initrd"
check "the hand-started guest's initrd is built ($(stat -c %s "$tmp/hand-initrd") bytes)" \
	test -s "$tmp/hand-initrd"

# The hand-started QEMU: env_microvm_start's argv under TCG, without the jail's paths.
ram_mib=128
hand_argv=("$qemu" -M microvm -accel tcg,tb-size=64 -cpu max -m "$ram_mib" -smp 1
	-nodefaults -no-user-config -nographic -no-reboot
	-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny
	-serial "file:$tmp/hand-console" -kernel "$kernel" -initrd "$tmp/hand-initrd"
	-append "console=ttyS0 panic=-1 quiet tsc_early_khz=2000000 fnguard.env=hand-$$"
	-device virtio-serial-device -chardev "socket,id=ctl,path=$tmp/hand.sock,server=on,wait=off"
	-device virtserialport,chardev=ctl,name=fnguard.ctl)

# hand.py SOCK PIDFILE ARGV...: starts QEMU, connects to its control socket (retrying every
# 2 ms: the agent waits for the host end), reads frames until AgentReady, kills QEMU.
# Prints "MS_TO_READY MS_TO_CONNECT".
cat >"$tmp/hand.py" <<'EOP'
import os, socket, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import microvm_client as mc
sock, pidfile, argv = sys.argv[2], sys.argv[3], sys.argv[4:]
if os.path.exists(sock):
    os.unlink(sock)
t0 = time.monotonic()
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=open(pidfile + ".err", "w"))
with open(pidfile, "w") as f:
    f.write("%d\n" % p.pid)
deadline = t0 + 300
rc = 1
try:
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
            break
        except OSError:
            s.close()
            if p.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("hand.py: no control socket (QEMU status %s)" % p.poll())
            time.sleep(0.002)
    t_conn = time.monotonic()
    buf = b""
    while True:
        try:
            n, i = mc.read_varint(buf, 0)
            if len(buf) >= i + n:
                body, buf = buf[i:i + n], buf[i + n:]
                if 16 in mc.decode(body):
                    t1 = time.monotonic()
                    break
                continue
        except IndexError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit("hand.py: no AgentReady in time")
        s.settimeout(left)
        data = s.recv(65536)
        if not data:
            raise SystemExit("hand.py: end of file before AgentReady")
        buf += data
    print("%.3f %.3f" % ((t1 - t0) * 1e3, (t_conn - t0) * 1e3))
    rc = 0
finally:
    p.kill()
    p.wait()
    os.unlink(pidfile)
sys.exit(rc)
EOP

# stats FILE: "p50 p99 min max n" of the numbers in FILE (nearest rank).
stats() {
	python3 - "$1" <<'EOP'
import math, sys
v = sorted(float(x) for x in open(sys.argv[1]).read().split())
if not v:
    print("nan nan nan nan 0"); sys.exit()
r = lambda q: v[max(0, math.ceil(q * len(v)) - 1)]
print("%.1f %.1f %.1f %.1f %d" % (r(0.5), r(0.99), v[0], v[-1], len(v)))
EOP
}
# json_num FILE KEY: the number KEY of the JSON line in FILE (string or number), else empty.
json_num() {
	sed -n "s/.*\"$2\": *\"\{0,1\}\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1
}
now_ns() { echo $((${EPOCHREALTIME/./} * 1000)); }
# Our daemon's QEMUs: its clone children whose command line names an environment.
our_qemus() { pgrep -P "$dpid" -f 'fnguard\.env=env-'; }
wait_no_guest() {
	local i
	for i in $(seq 300); do
		our_qemus >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

export FNGUARD_SOCKET=$tmp/fnguard.sock
printf 'pin_dir: %s\nmicrovm_accel: tcg\n' "$pin" >"$tmp/fnguardd.conf"
"$fngd" --foreground --config "$tmp/fnguardd.conf" --state-dir "$tmp/state" 2>"$tmp/log" &
dpid=$!
for i in $(seq 100); do
	[ -S "$FNGUARD_SOCKET" ] && "$fng" envs >/dev/null 2>&1 && break
	sleep 0.1
done
check "fnguardd is listening on $FNGUARD_SOCKET" test -S "$FNGUARD_SOCKET"
check "both benchmark functions are registered" sh -c "'$fng' function register \
	'$tmp/cold/function.yaml' >/dev/null && '$fng' function register '$tmp/warm/function.yaml' >/dev/null"
[ $fail = 0 ] || { sed 's/^/# fnguardd: /' "$tmp/log"; exit 1; }

# ---------------------------------------------------------------- cold: fnguardd vs by hand
: >"$tmp/cold.init" ; : >"$tmp/cold.wall" ; : >"$tmp/hand.ready" ; : >"$tmp/quiet.cold" ; : >"$tmp/quiet.hand"
cold_fail=0 hand_fail=0
run_cold() {
	local t0 t1 out init
	t0=$(now_ns)
	run "$tmp/out" "$tmp/rec" "$fng" invoke mvbench-cold -v
	t1=$(now_ns)
	out=$(cat "$tmp/out")
	init=$(json_num "$tmp/rec" init_ns)
	if [ "$out" = ok ] && grep -q '"cold_start": *true' "$tmp/rec" && [ -n "$init" ]; then
		echo "$init" | awk '{printf "%.3f\n", $1 / 1e6}' >>"$tmp/cold.init"
		echo $((t1 - t0)) | awk '{printf "%.3f\n", $1 / 1e6}' >>"$tmp/cold.wall"
		echo "# round $r fnguardd: init $(tail -n 1 "$tmp/cold.init") ms, invoke wall $(tail -n 1 "$tmp/cold.wall") ms"
	else
		cold_fail=$((cold_fail + 1))
		echo "# round $r fnguardd cold invoke failed: out '$out', record: $(head -c 400 "$tmp/rec")"
	fi
	wait_no_guest || echo "# round $r: the cold guest outlived its invocation by 30 s"
}
run_hand() {
	local res
	if run "$tmp/hand.out" "$tmp/hand.err" python3 "$tmp/hand.py" "$root/tests/lib" \
		"$tmp/hand.sock" "$tmp/hand.pid" "${hand_argv[@]}"; then
		res=$(cat "$tmp/hand.out")
		echo "${res% *}" >>"$tmp/hand.ready"
		echo "# round $r hand-started QEMU: ready ${res% *} ms (socket connected at ${res#* } ms)"
	else
		res=
		hand_fail=$((hand_fail + 1))
		echo "# round $r hand-started QEMU failed: $(tail -n 3 "$tmp/hand.err" "$tmp/hand.pid.err" 2>/dev/null | tr '\n' ' ')"
		tail -n 5 "$tmp/hand-console" 2>/dev/null | sed 's/^/#   console: /'
	fi
}
# Other QEMUs on the host (another test's guests): not ours, that is neither our daemon's
# children nor hand.py's. quiet: wait up to QUIET_WAIT (120) s for none; 0 if none.
others() {
	local p pp n=0
	for p in $(pgrep qemu-system); do
		pp=$(ps -o ppid= -p "$p" | tr -d ' ')
		[ "$pp" = "$dpid" ] || [ "$pp" = "$child" ] || n=$((n + 1))
	done
	echo $n
}
quiet() { # quiet WHAT
	local i n
	for i in $(seq $((${QUIET_WAIT:-120} * 2))); do
		n=$(others)
		[ "$n" = 0 ] && { [ "$i" -gt 1 ] && echo "# $1: waited $((i / 2)) s for other QEMUs to end"; return 0; }
		sleep 0.5
	done
	echo "# $1: $n other QEMU(s) still running after ${QUIET_WAIT:-120} s: measuring anyway"
	return 1
}
disturbed=0
image_id() { stat -c '%s bytes, modified %y' "$image"; }
image_at_start=$(image_id)
for r in $(seq "$rounds"); do
	quiet "round $r"
	n0=$(others)
	c0=$(wc -l <"$tmp/cold.init") h0=$(wc -l <"$tmp/hand.ready")
	if [ $((r % 2)) = 1 ]; then run_cold; run_hand; else run_hand; run_cold; fi
	n1=$(others)
	if [ "$n0" != 0 ] || [ "$n1" != 0 ]; then
		disturbed=$((disturbed + 1))
		echo "# round $r: other QEMUs on the host: $n0 at its start, $n1 at its end (disturbed)"
	elif [ "$(wc -l <"$tmp/cold.init")" != "$c0" ] && [ "$(wc -l <"$tmp/hand.ready")" != "$h0" ]; then
		tail -n 1 "$tmp/cold.init" >>"$tmp/quiet.cold"
		tail -n 1 "$tmp/hand.ready" >>"$tmp/quiet.hand"
	fi
done
check "every cold invoke through fnguardd answered from a new guest ($cold_fail failed of $rounds)" \
	test $cold_fail = 0
[ "$(image_id)" = "$image_at_start" ] ||
	echo "# warning: the guest image changed during the rounds ($image_at_start, now $(image_id)): the hand-made initrd has the old one"
check "every hand-started QEMU sent AgentReady ($hand_fail failed of $rounds)" test $hand_fail = 0

# ---------------------------------------------------------------- warm, then idle
: >"$tmp/warm.wall" ; : >"$tmp/warm.dur"
warm_fail=0
quiet "warm"
wn=0
run "$tmp/out" "$tmp/rec" "$fng" invoke mvbench-warm -v
out=$(cat "$tmp/out")
check "the warm function's first invoke answers ($out) from a new guest" \
	sh -c "[ '$out' = ok ] && grep -q '\"cold_start\": *true' '$tmp/rec'"
for i in $(seq "$warm_n"); do
	[ "$(others)" = 0 ] || wn=$((wn + 1))
	t0=$(now_ns)
	"$fng" invoke mvbench-warm -v >"$tmp/out" 2>"$tmp/rec" </dev/null
	t1=$(now_ns)
	out=$(cat "$tmp/out")
	if [ "$out" = ok ] && grep -q '"cold_start": *false' "$tmp/rec"; then
		echo $((t1 - t0)) | awk '{printf "%.3f\n", $1 / 1e6}' >>"$tmp/warm.wall"
		json_num "$tmp/rec" duration_ns | awk '{printf "%.3f\n", $1 / 1e6}' >>"$tmp/warm.dur"
	else
		warm_fail=$((warm_fail + 1))
		echo "# warm invoke $i failed: out '$out', record: $(head -c 400 "$tmp/rec")"
	fi
done
check "every warm invoke answered from the same guest ($warm_fail failed of $warm_n)" \
	test $warm_fail = 0
check "one guest of ours runs ($(our_qemus | wc -l))" test "$(our_qemus | wc -l)" = 1
# What fnguardd appended to the common image, next to what this script appended (GNU cpio pads
# its archive with zeros to 512 bytes, which the kernel's unpacker skips).
appended() { # appended INITRD: the names in the archive after the common image
	local base
	base=$(stat -c %s "$image")
	tail -c +$(((base + 3) / 4 * 4 + 1)) "$1" | cpio -it --quiet 2>/dev/null | tr '\n' ' '
}
for f in "$tmp"/state/envs/*/initrd; do
	[ -f "$f" ] || continue
	echo "# the warm guest's initrd, made by fnguardd: $(stat -c %s "$f") bytes, appended: $(appended "$f")"
	echo "# the hand-made initrd: $(stat -c %s "$tmp/hand-initrd") bytes, appended: $(appended "$tmp/hand-initrd")"
done

# The idle guest's VMM: let it settle, then RSS, PSS and the guest RAM mapping's RSS (QEMU's
# guest RAM is one anonymous mapping of at least -m MiB: the largest such mapping).
sleep 3
vmm=$(our_qemus | head -n 1)
mem=
if [ -n "$vmm" ]; then
	mem=$(python3 - "$vmm" "$ram_mib" <<'EOP'
import re, sys
pid, ram_kb = sys.argv[1], int(sys.argv[2]) * 1024
rss = int(re.search(r"^VmRSS:\s+(\d+)", open("/proc/%s/status" % pid).read(), re.M).group(1))
pss = int(re.search(r"^Pss:\s+(\d+)", open("/proc/%s/smaps_rollup" % pid).read(), re.M).group(1))
best = (0, 0)  # (size, rss) of the largest mapping of at least the guest RAM size
size = None
for line in open("/proc/%s/smaps" % pid):
    f = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+$", f[0]):
        size = None
    elif f[0] == "Size:":
        size = int(f[1])
    elif f[0] == "Rss:" and size is not None and size >= ram_kb and size > best[0]:
        best = (size, int(f[1]))
print(rss, pss, best[0], best[1])
EOP
)
fi
check "the idle VMM's memory is read (pid ${vmm:-none}: $mem)" test -n "$mem"

# ---------------------------------------------------------------- the results
read -r c50 c99 cmin cmax cn <<<"$(stats "$tmp/cold.init")"
read -r w50 w99 wmin wmax wn <<<"$(stats "$tmp/cold.wall")"
read -r h50 h99 hmin hmax hn <<<"$(stats "$tmp/hand.ready")"
read -r i50 i99 imin imax in_ <<<"$(stats "$tmp/warm.wall")"
read -r d50 d99 dmin dmax dn <<<"$(stats "$tmp/warm.dur")"
ratio() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else print "nan" }'; }
echo "bench: microvm cold start fnguard p50 $c50 ms (min $cmin, max $cmax) vs hand-started QEMU p50 $h50 ms (min $hmin, max $hmax): ratio $(ratio "$c50" "$h50") ($cn/$hn of $rounds rounds, $disturbed with another QEMU on the host, TCG)"
if [ "$disturbed" != 0 ]; then
	read -r q50 _ _ _ qn <<<"$(stats "$tmp/quiet.cold")"
	read -r p50 _ _ _ pn <<<"$(stats "$tmp/quiet.hand")"
	echo "bench: microvm cold start, undisturbed rounds only: fnguard p50 $q50 ms vs hand-started QEMU p50 $p50 ms: ratio $(ratio "$q50" "$p50") ($qn rounds)"
fi
echo "bench: microvm cold invoke wall time through fnguardd p50 $w50 ms (min $wmin, max $wmax); wall / hand-started ready = $(ratio "$w50" "$h50")"
echo "bench: warm invoke p50 $i50 ms p99 $i99 ms (fnguard invoke wall time, $in_ invokes, $wn with another QEMU on the host); record duration_ns p50 $d50 ms p99 $d99 ms; warm p50 / cold p50 = $(ratio "$i50" "$w50" %.4f) (cold: invoke wall time)"
if [ -n "$mem" ]; then
	read -r rss pss mapsize maprss <<<"$mem"
	echo "bench: idle environment: VMM RSS $((rss / 1024)) MiB PSS $((pss / 1024)) MiB guest RAM $ram_mib MiB (-m; its mapping: $((maprss / 1024)) MiB touched); overhead <= RSS $((rss / 1024)) MiB; RSS - guest RAM = $(((rss - ram_mib * 1024) / 1024)) MiB; RSS outside the guest RAM mapping = $(((rss - maprss) / 1024)) MiB"
fi
echo "# cold: init_ns is the daemon's env 'starting' to 'ready' (image build, cgroup, jail, QEMU, boot, policy, AgentReady); hand-started: Popen of QEMU to the AgentReady frame read, prebuilt initrd, no jail, no cgroup (the daemon's has cpu.max of 1 CPU)"
echo "# idle memory: RSS counts only the guest RAM the guest touched, so RSS - guest RAM is a lower bound of the VMM's own memory and RSS an upper bound; RSS outside the guest RAM mapping is QEMU's own (code, heap, TCG translation cache of up to 64 MiB)"

kill -TERM "$dpid"
wait "$dpid"
rc=$?
dpid=
check "fnguardd stopped cleanly ($rc)" test "$rc" = 0
if [ $fail != 0 ] || grep -q . "$tmp/log"; then
	echo "# fnguardd's log:"
	tail -n 30 "$tmp/log" | sed 's/^/# /'
fi
exit $fail
