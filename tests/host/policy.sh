#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `fnguard policy` as a user sees it: exit statuses 0/1/2, what goes to stdout and stderr, and
# the FILE:LINE:COLUMN: message format. Prints one TAP line per case:
#   tests/host/policy.sh [FNGUARD] > results.tap
# FNGUARD is the binary to test: the argument, else $FNGUARD (as tools/run-cli sets it), else
# build/fnguard.
# Always exits 0; failures are "not ok" lines.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${FNGUARD:-$root/build/fnguard}}
examples=$root/examples/policies
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$bin" ]; then
	echo "not ok - cli: $bin is not an executable (build it with 'make build/fnguard')"
	exit 0
fi

# run ARGS...: sets $rc, $out (stdout) and $err (stderr)
run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# check NAME CONDITION...: one TAP line (tests/lib/tap.sh); on failure, what was seen
. "$root/tests/lib/tap.sh"
TAP_PREFIX="cli: "
# A failed check shows the last run's exit status and the start of its output.
tap_on_failure() {
	echo "# exit status $rc"
	sed 's/^/# stdout: /' "$tmp/out" | head -n 5
	sed 's/^/# stderr: /' "$tmp/err" | head -n 5
}

cat >"$tmp/bad.yaml" <<'EOF'
apiVersion: fnguard/v1
mode: x
files:
  rules:
    - path: tmp/
      acess: [read]
EOF
cat >"$tmp/good.yaml" <<'EOF'
apiVersion: fnguard/v1
EOF
bad_errors="$tmp/bad.yaml:2:7: mode: bad value 'x' (expected 'enforce' or 'audit')
$tmp/bad.yaml:5:7: files.rules[0]: missing required key 'access'
$tmp/bad.yaml:5:13: files.rules[0].path: 'tmp/' is not an absolute path
$tmp/bad.yaml:6:7: files.rules[0]: unknown key 'acess' (did you mean 'access'?)"

# --- policy check
for f in "$examples"/*.yaml; do
	run policy check "$f"
	check "policy check $(basename "$f") is valid" \
		test "$rc" -eq 0 -a "$out" = "$f: OK" -a -z "$err"
done

run policy check "$tmp/bad.yaml"
check "policy check: an invalid file exits 1" test "$rc" -eq 1
check "policy check: every error as FILE:LINE:COLUMN: message, on stderr" \
	test "$err" = "$bad_errors" -a -z "$out"

# A YAML syntax error names where it was found and, in a note, where the construct began.
printf 'apiVersion: fnguard/v1\nfiles: {default: deny,\n  rules: []\nmode: audit\n' >"$tmp/flow.yaml"
run policy check "$tmp/flow.yaml"
check "policy check: a syntax error, then a note where the flow mapping began" \
	test "$rc" -eq 1 -a -z "$out" -a "$err" = "$tmp/flow.yaml:4:1: YAML syntax error: did not find expected ',' or '}'
$tmp/flow.yaml:2:8: note: this flow mapping began here"

run policy check "$tmp/good.yaml" "$tmp/bad.yaml" "$tmp/good.yaml"
check "policy check: one invalid file among valid ones exits 1" test "$rc" -eq 1
check "policy check: valid files are confirmed, in order" \
	test "$out" = "$tmp/good.yaml: OK
$tmp/good.yaml: OK"

run policy check "$tmp/none.yaml"
check "policy check: a missing file exits 1 with 'cannot open'" \
	test "$rc" -eq 1 -a "$err" = "$tmp/none.yaml: cannot open: No such file or directory"

run policy check "$tmp"
check "policy check: a directory exits 1 with 'cannot read'" \
	test "$rc" -eq 1 -a "$err" = "$tmp: cannot read: Is a directory"

{
	echo "apiVersion: fnguard/v1"
	head -c 1100000 /dev/zero | tr '\0' '#'
	echo
} >"$tmp/big.yaml"
run policy check "$tmp/big.yaml"
check "policy check: a file over 1 MiB exits 1" \
	test "$rc" -eq 1 -a "$err" = "$tmp/big.yaml: file is too large (1100024 bytes; policy files are at most 1 MiB)"

run policy check -q "$tmp/good.yaml"
check "policy check -q: prints nothing for valid files" test "$rc" -eq 0 -a -z "$out$err"

"$bin" policy check - <"$tmp/good.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "policy check -: reads standard input" \
	test "$rc" -eq 0 -a "$(cat "$tmp/out")" = "<stdin>: OK" -a ! -s "$tmp/err"

run policy check
check "policy check without FILE exits 2" test "$rc" -eq 2 -a -z "$out"
check "policy check without FILE says so on stderr" \
	test "$err" = "fnguard: policy check: no FILE given (see 'fnguard policy check --help')"

run policy check --frobnicate "$tmp/good.yaml"
check "policy check: an unknown option exits 2" \
	test "$rc" -eq 2 -a "$err" = "fnguard: policy check: unknown option '--frobnicate' (see 'fnguard policy check --help')"

run policy check -- "$tmp/good.yaml"
check "policy check: -- ends the options" test "$rc" -eq 0

run policy check "$tmp/good.yaml" -q
check "policy check: options may follow the files" test "$rc" -eq 0 -a -z "$out$err"

run policy check -- "$tmp/good.yaml" -q
check "policy check: after --, -q is a file" \
	test "$rc" -eq 1 -a "$out" = "$tmp/good.yaml: OK" -a "$err" = "-q: cannot open: No such file or directory"

# --- policy show
run policy show "$examples/python-http-client.yaml"
check "policy show: a valid file exits 0, nothing on stderr" test "$rc" -eq 0 -a -z "$err"
check "policy show: prints the normalized policy" \
	grep -q '"to": "192.0.2.0/24"' "$tmp/out"
if command -v python3 >/dev/null; then
	check "policy show: the output is one JSON document" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["apiVersion"] == "fnguard/v1"' "$tmp/out"
else
	echo "ok - cli: policy show: the output is one JSON document # SKIP python3 is not installed"
fi

run policy show "$tmp/bad.yaml"
check "policy show: an invalid file exits 1, errors on stderr, nothing on stdout" \
	test "$rc" -eq 1 -a "$err" = "$bad_errors" -a -z "$out"

run policy show "$tmp/good.yaml" "$tmp/good.yaml"
check "policy show: two files is a usage error (2)" \
	test "$rc" -eq 2 -a "$err" = "fnguard: policy show: exactly one FILE, please (see 'fnguard policy show --help')"

run policy show
check "policy show without FILE exits 2" test "$rc" -eq 2

"$bin" policy show "$tmp/good.yaml" >/dev/full 2>"$tmp/err"
rc=$?
check "policy show: a failed write exits 1 and says so" \
	test "$rc" -eq 1 -a "$(cat "$tmp/err")" = "fnguard: policy show: cannot write the policy: Input/output error"

# --- help and dispatch
for args in "--help" "policy --help" "policy check --help" "policy show --help"; do
	# shellcheck disable=SC2086 # split on purpose
	run $args
	check "fnguard $args: usage and examples on stdout, exit 0" \
		test "$rc" -eq 0 -a -z "$err" -a -n "$(grep -x 'Examples:' "$tmp/out")" \
		-a -n "$(grep '^Usage: fnguard' "$tmp/out")"
done

run
check "fnguard without a command exits 2 with the usage on stderr" \
	test "$rc" -eq 2 -a -z "$out" -a -n "$(grep '^Usage: fnguard' "$tmp/err")"

run frobnicate
check "fnguard: an unknown command exits 2" \
	test "$rc" -eq 2 -a "$err" = "fnguard: frobnicate: no such command (see 'fnguard --help')"

run policy frobnicate
check "fnguard policy: an unknown subcommand exits 2" \
	test "$rc" -eq 2 -a "$err" = "fnguard: policy frobnicate: no such command (see 'fnguard policy --help')"
# A runtime's function (docs/runtime.md): the baseline is shown, marked; env values never are.
cat >"$tmp/rt.yaml" <<'EOF2'
apiVersion: fnguard/v1
function:
  name: rt
  version: "1"
  code: .
  runtime: python3
  handler: app.handler
  env:
    DB_PASSWORD: s3cr3t-value
files:
  rules:
    - path: /tmp
      access: [read]
EOF2
run policy show "$tmp/rt.yaml"
check "policy show: a python3 function is valid" test "$rc" -eq 0
check "policy show: function.env values are never printed" sh -c '! grep -q s3cr3t-value "$1" && grep -q DB_PASSWORD "$1"' sh "$tmp/out"
check "policy show: the runtime baseline's entries are marked" /usr/bin/python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
rules = {r["path"]: r for r in p["files"]["rules"]}
assert rules["/"]["source"] == "runtime" and rules["/var/task"]["source"] == "runtime", rules
assert "source" not in rules["/tmp"] and rules["/tmp"]["access"] == ["read"], rules["/tmp"]
assert p["exec"]["allow"][-1] == {"path": "/", "line": 0, "source": "runtime"}, p["exec"]
assert p["network"]["runtime_api_port"] == 9001
' "$tmp/out"
sed 's|handler: app.handler|handler: /var/task/app.py|' "$tmp/rt.yaml" >"$tmp/rt-bad.yaml"
run policy check "$tmp/rt-bad.yaml"
check "policy check: a handler that does not fit the runtime is FILE:LINE:COL" \
	test "$rc" -eq 1 -a -n "$(grep -F "rt-bad.yaml:7:12: function.handler: handler '/var/task/app.py' does not fit runtime python3" "$tmp/err")"
exit 0
