#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# fnguardd's configuration file as its administrator sees it (no root needed: a check exits
# before the daemon would start):
#  - `fnguardd --check-config FILE` prints "configuration OK" and exits 0 for a valid file,
#    YAML comments after values and quoted strings included; `-n --config FILE` does the same;
#  - for an invalid file it prints every problem as FILE:LINE:COLUMN: message on stderr,
#    nothing on stdout, and exits 1; a syntax error adds a note where the construct began;
#  - `fnguardd --help` lists every setting with its type and default.
# Prints one TAP line per case and always exits 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
fngd=${FNGUARDD:-$root/build/fnguardd}
[ -n "${FNGUARD:-}" ] && [ -z "${FNGUARDD:-}" ] && fngd=$(dirname "$FNGUARD")/fnguardd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$fngd" ]; then
	echo "not ok - config: $fngd is not an executable (build it with 'make build/fnguardd')"
	exit 0
fi

# run ARGS...: sets $rc, $out (stdout) and $err (stderr)
run() {
	"$fngd" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok - config: $name"
	else
		echo "not ok - config: $name"
		echo "# exit status $rc"
		sed 's/^/# stdout: /' "$tmp/out" | head -n 8
		sed 's/^/# stderr: /' "$tmp/err" | head -n 8
	fi
}

cat >"$tmp/good.conf" <<'EOF'
# fnguardd settings
queue_max: 64 # per function
export_path: "/var/log/fnguard/events # not a comment.jsonl"
microvm_accel: auto
uid_range: 2000000000:65536
EOF
run --check-config "$tmp/good.conf"
check "--check-config: a valid file (comments after values, a quoted string) is OK, exit 0" \
	test "$rc" -eq 0 -a "$out" = "configuration OK" -a -z "$err"
run -n --config "$tmp/good.conf"
check "-n --config checks the same way" \
	test "$rc" -eq 0 -a "$out" = "configuration OK" -a -z "$err"
: >"$tmp/empty.conf"
run --check-config "$tmp/empty.conf"
check "--check-config: an empty file is the defaults, OK" \
	test "$rc" -eq 0 -a "$out" = "configuration OK" -a -z "$err"

cat >"$tmp/bad.conf" <<'EOF'
queue_mx: 64
queue_max: 0
microvm_accel: fast
run_as: nobody
pin_dir: /sys/fs/bpf/a
pin_dir: /sys/fs/bpf/b
EOF
run --check-config "$tmp/bad.conf"
check "--check-config: every problem as FILE:LINE:COLUMN: message, exit 1, nothing on stdout" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "$tmp/bad.conf:1:1: unknown key 'queue_mx' (did you mean 'queue_max'?)
$tmp/bad.conf:2:12: queue_max: 0 is out of range (1-999999)
$tmp/bad.conf:3:16: microvm_accel: bad value 'fast' (expected 'auto', 'kvm' or 'tcg')
$tmp/bad.conf:4:1: run_as is no longer used: every environment runs as a uid and gid of its own from uid_range (default 2000000000:65536); remove the line
$tmp/bad.conf:6:1: duplicate key 'pin_dir' (first at line 5)"

printf 'queue_max: 8\nexport_keep: {a: 1,\npin_dir: /x\n' >"$tmp/syntax.conf"
run --check-config "$tmp/syntax.conf"
check "--check-config: a syntax error, then a note where the flow mapping began" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "$tmp/syntax.conf:2:14: export_keep: expected a single value, not a mapping
$tmp/syntax.conf:4:1: YAML syntax error: did not find expected ',' or '}'
$tmp/syntax.conf:2:14: note: this flow mapping began here"

run --check-config "$tmp/none.conf"
check "--check-config: a missing file says so, exit 1" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "$tmp/none.conf: cannot open: No such file or directory"

run --help
keys="export_path export_rotate_bytes export_keep max_envs_per_function queue_max uid_range
	pin_dir qemu microvm_kernel microvm_initrd microvm_accel microvm_boot_timeout"
missing=
for k in $keys; do
	# "  KEY: TYPE", then its help, then "      default: ..."
	grep -A4 -E "^  $k: [A-Za-z|]" "$tmp/out" | grep -qE '^      default: .' || missing="$missing $k"
done
check "--help lists every setting with its type and default${missing:+ (missing:$missing)}" \
	test "$rc" -eq 0 -a -z "$missing" -a -z "$err"
check "--help: run_as is not offered" test -z "$(grep -E '^  run_as' "$tmp/out")"
check "--help: the check options" \
	test -n "$(grep -E '^  --check-config FILE' "$tmp/out")" -a -n "$(grep -E '^  -n ' "$tmp/out")"
exit 0
