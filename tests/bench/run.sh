#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The enforcement benchmark, inside the kernel test bench: the same loop (open+close,
# connect+close, fork+exec) run, interleaved round by round,
#   A  unconfined, no fnguard program attached anywhere,
#   B  confined by a policy with 1,000 file rules and 1,000 egress rules,
#   C  unconfined while another environment keeps the programs attached,
#   D  unconfined in a cgroup with the same limits as B (memory.max, pids.max) and no policy:
#      B's cgroup charges every allocation (struct file, socket, task) to its memory cgroup,
#      which any container pays; B/D is what fnguard's enforcement itself costs,
# and reported as median ratios B/A, C/A and B/D (noisy machines: ratios, never bare times).
# With "kmod" the kernel-module backend is measured in the same rounds:
#   E  confined as B, by the kmod backend (fnguard run --backend kmod),
#   F  unconfined while the module is loaded and another environment holds a kmod policy
#      (the module's probes run for every task, confined or not),
# the module loaded for E and F only (A-D run without it), reported as E/A, F/A and E/B.
#   run.sh [ROUNDS] [kmod]
set -u
echo "# clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
rounds=${1:-5}
with_kmod=${2:-}
ko=/fnguard/fnguard.ko
fng=/fnguard/fnguard
bench=/fnguard/fng-bench
dir=/srv/bench
policy=/tmp/bench-policy.yaml

mkdir -p "$dir/target"
echo x >"$dir/target/f"
{
	echo "apiVersion: fnguard/v1"
	echo "files:"
	echo "  default: allow"
	echo "  rules:"
	i=0
	while [ $i -lt 999 ]; do
		mkdir -p "$dir/d$i"
		echo "    - path: $dir/d$i"
		echo "      access: [read]"
		i=$((i + 1))
	done
	echo "    - path: $dir/target"
	echo "      access: [read]"
	echo "exec:"
	echo "  default: allow"
	echo "  children: allow"
	echo "network:"
	echo "  loopback: allow"
	echo "  egress:"
	echo "    default: deny"
	echo "    allow:"
	i=0
	while [ $i -lt 1000 ]; do
		echo "      - to: 10.$((i / 250)).$((i % 250)).0/24"
		echo "        ports: [443]"
		i=$((i + 1))
	done
} >"$policy"
"$fng" policy check "$policy" >/dev/null || { echo "not ok - bench: the generated policy is invalid"; exit 1; }

# D's cgroup: the limits fnguard run sets for B's policy (its defaults: 128Mi, 64 pids).
echo "+memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/bench-limits
echo 134217728 >/sys/fs/cgroup/bench-limits/memory.max
echo 64 >/sys/fs/cgroup/bench-limits/pids.max
in_limits() { sh -c 'echo $$ >/sys/fs/cgroup/bench-limits/cgroup.procs && exec "$@"' sh "$@"; }

# op arg n
cases="open:$dir/target/f:40000 connect:7300:3000 forkexec:/bin/busybox:300"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# confined BACKEND FILE: the loop confined by BACKEND, its result appended to FILE.
confined() {
	"$fng" run --backend "$1" --policy "$policy" -- "$bench" "$op" "$arg" "$n" \
		>>"$2" 2>"$2.err" || { fail=1; cat "$2.err"; }
}
# attached BACKEND FILE: the loop unconfined while another environment holds a BACKEND policy.
attached() {
	"$fng" run --backend "$1" --policy "$policy" -- sleep 600 2>/dev/null &
	holder=$!
	# Wait until the holder's environment exists (the policy is in force then).
	k=0
	while [ $k -lt 200 ] && ! ls -d /sys/fs/cgroup/fnguard/run-* >/dev/null 2>&1; do
		sleep 0.1; k=$((k + 1))
	done
	sleep 0.5
	"$bench" "$op" "$arg" "$n" >>"$2" || fail=1
	kill "$holder"; wait "$holder" 2>/dev/null
}

fail=0
for c in $cases; do
	op=${c%%:*}; rest=${c#*:}; arg=${rest%%:*}; n=${rest#*:}
	: >/tmp/A; : >/tmp/B; : >/tmp/C; : >/tmp/D; : >/tmp/E; : >/tmp/F
	r=0
	while [ $r -lt "$rounds" ]; do
		"$bench" "$op" "$arg" "$n" >>/tmp/A || fail=1
		in_limits "$bench" "$op" "$arg" "$n" >>/tmp/D || fail=1
		confined bpf-lsm /tmp/B
		attached bpf-lsm /tmp/C
		if [ -n "$with_kmod" ]; then
			insmod "$ko" || { echo "not ok - bench: insmod $ko"; exit 1; }
			confined kmod /tmp/E
			attached kmod /tmp/F
			# Removed policies let it go; a refusal here is a leak, and a failure.
			rmmod fnguard || { echo "not ok - bench: rmmod fnguard (a policy left installed?)"; exit 1; }
		fi
		r=$((r + 1))
	done
	a=$(median </tmp/A); b=$(median </tmp/B); cc=$(median </tmp/C); d=$(median </tmp/D)
	echo "# $op: unconfined ${a} ns/op, confined ${b} ns/op, unconfined with programs attached ${cc} ns/op, unconfined in a limits-only cgroup ${d} ns/op ($rounds rounds, median)"
	echo "bench: $op confined/unconfined $(awk "BEGIN { printf \"%.3f\", $b / $a }")x, attached/unconfined $(awk "BEGIN { printf \"%.3f\", $cc / $a }")x, confined/limits-only $(awk "BEGIN { printf \"%.3f\", $b / $d }")x"
	if [ -n "$with_kmod" ]; then
		e=$(median </tmp/E); f=$(median </tmp/F)
		echo "# $op kmod: confined ${e} ns/op, unconfined with the module loaded ${f} ns/op"
		# kmod's cost over bpf-lsm's: (E - A) / (B - A), the target's measure; and E/B.
		echo "bench: $op kmod confined/unconfined $(awk "BEGIN { printf \"%.3f\", $e / $a }")x, kmod attached/unconfined $(awk "BEGIN { printf \"%.3f\", $f / $a }")x, kmod/bpf-lsm confined $(awk "BEGIN { printf \"%.3f\", $e / $b }")x, kmod/bpf-lsm cost $(awk "BEGIN { d = $b - $a; if (d <= 0) print \"n/a (bpf-lsm measured no cost)\"; else printf \"%.2fx\", ($e - $a) / d }")"
	fi
done
[ $fail = 0 ] && echo "ok - bench: every loop ran" || echo "not ok - bench: a loop failed"
exit $fail
