# SPDX-License-Identifier: Apache-2.0
#
# The TAP helpers of the shell tests. Source it, then say what goes before every test name:
#
#   . "$root/tests/lib/tap.sh"
#   TAP_PREFIX="client: "
#
#   ok NAME...            "ok - PREFIX NAME..."
#   nok NAME...           "not ok - PREFIX NAME...", sets tap_failed=1, then runs the script's
#                         tap_on_failure, if it defines one (to print diagnostics as "# ..."
#                         lines, or to set a flag of its own)
#   check NAME CMD...     runs CMD in this shell: ok NAME when it exits 0, else nok NAME
#   skip NAME WHY         "ok - PREFIX NAME # SKIP WHY": a skip always says why
#   skip_all NAME WHY     the same, then exit 0: the script cannot run here at all
#
# Lines are written with printf, never echo, so that a backslash in a name is printed as it
# is whatever the shell. It is plain sh (bash, dash, busybox ash), with one extension all
# three have: `local`, so that check's NAME does not clobber a caller's variable.
TAP_PREFIX=${TAP_PREFIX-}
tap_failed=0

ok() { printf 'ok - %s%s\n' "$TAP_PREFIX" "$*"; }

nok() {
	printf 'not ok - %s%s\n' "$TAP_PREFIX" "$*"
	tap_failed=1
	if command -v tap_on_failure >/dev/null 2>&1; then
		tap_on_failure
	fi
}

check() { # check NAME CMD...
	local name="$1"
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

skip() { printf 'ok - %s%s # SKIP %s\n' "$TAP_PREFIX" "$1" "$2"; }

skip_all() {
	skip "$1" "$2"
	exit 0
}
