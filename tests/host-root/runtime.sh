#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `fnguard runtime` as an operator sees it: the runtimes 'make deps' built (in CACHE/runtimes,
# default /var/cache/fnguard/runtimes) are listed with their packages, their images are valid
# EROFS holding the runtime, a second build is "up to date", and bad input is refused with the
# command that fixes it. Building from nothing is what 'make deps' does; here it is done once
# more only for the up-to-date check (which must not rebuild). Prints TAP lines.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fng=${FNGUARD:-$top/build/fnguard}
cache=${CACHE:-/var/cache/fnguard}/runtimes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$top/tests/lib/tap.sh"
TAP_PREFIX="runtime: "
run() {
	"$fng" runtime "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}
tap_on_failure() {
	echo "# exit status $rc"
	sed 's/^/# stdout: /' "$tmp/out" | head -n 5
	sed 's/^/# stderr: /' "$tmp/err" | head -n 5
}

if [ "$(id -u)" -ne 0 ]; then
	skip_all "all runtime tests" "building and reading runtimes needs root"
fi

# ---------------------------------------------------------------- bad input
run
check "no command: usage, exit 2" test "$rc" -eq 2
run build ruby --cache "$tmp/empty"
check "unknown runtime: exit 1" test "$rc" -eq 1
check "unknown runtime: names the runtimes" grep -q "unknown runtime 'ruby': the runtimes are: provided python3 nodejs" "$tmp/err"
run build stdio --cache "$tmp/empty"
check "stdio has no image: said so" grep -q "stdio needs no image" "$tmp/err"
run path python3 --cache "$tmp/empty"
check "path of a runtime not built: exit 1" test "$rc" -eq 1
check "path of a runtime not built: says the command that builds it" \
	grep -q "run 'fnguard runtime build python3'" "$tmp/err"
run list --cache "$tmp/empty"
check "list of an empty cache: exit 0" test "$rc" -eq 0
check "list of an empty cache: each runtime not built, with the command" \
	test "$(grep -c '(not built: fnguard runtime build' "$tmp/out")" -eq 3
run frobnicate
check "unknown command: exit 1, says which" grep -q "unknown command 'frobnicate'" "$tmp/err"
run list --bogus
check "unknown option: says which" grep -q "unknown option '--bogus'" "$tmp/err"

# ---------------------------------------------------------------- the built runtimes
for r in provided python3 nodejs; do
	if [ ! -f "$cache/$r/image.erofs" ]; then
		nok "$r is built in $cache (run 'make deps')"
		continue
	fi
	run path "$r" --cache "$cache"
	check "$r: path prints its directory" test "$(cat "$tmp/out")" = "$cache/$r"
	d=$cache/$r
	check "$r: the image is a valid EROFS (fsck.erofs)" fsck.erofs "$d/image.erofs"
	check "$r: the image is not world-writable, the tree's /tmp is 1777" \
		test "$(stat -c %a "$d/image.erofs")" = 644 -a "$(stat -c %a "$d/root/tmp")" = 1777
	for m in var/task opt proc dev sys var/runtime; do
		[ -d "$d/root/$m" ] || nok "$r: /$m exists as a mount point"
	done
	check "$r: no documentation or manuals" test -z "$(find "$d/root/usr/share/doc" "$d/root/usr/share/man" -mindepth 1 -not -type d 2>/dev/null | head -n1)"
	check "$r: no apt lists or caches kept" test -z "$(find "$d/root/var/lib/apt/lists" "$d/root/var/cache/apt" -mindepth 1 2>/dev/null | head -n1)"
	check "$r: packages lists libc6" grep -q '^libc6 ' "$d/packages"
done
[ -x "$cache/python3/root/usr/bin/python3.11" ] && ok "python3: holds Debian's python3.11" || nok "python3: holds Debian's python3.11"
grep -q '^nodejs 18\.' "$cache/nodejs/packages" 2>/dev/null && ok "nodejs: Debian's nodejs 18" || nok "nodejs: Debian's nodejs 18"
for b in curl busybox; do
	[ -x "$cache/provided/root/usr/bin/$b" ] || [ -x "$cache/provided/root/bin/$b" ] &&
		ok "provided: holds $b" || nok "provided: holds $b"
done
# Nothing of another runtime: provided has no python, python3 no node.
check "provided: no python3" test ! -e "$cache/provided/root/usr/bin/python3"
check "python3: no node" test ! -e "$cache/python3/root/usr/bin/node"

run list --cache "$cache" --json
check "list --json: exit 0" test "$rc" -eq 0
check "list --json: every built runtime with its main package and sizes" /usr/bin/python3 -c '
import json, sys
rts = {r["runtime"]: r for r in json.load(open(sys.argv[1]))}
assert set(rts) == {"provided", "python3", "nodejs"}, rts
for r in rts.values():
    assert r["built"] is True, r
    assert r["image_bytes"] > 1 << 20 and r["root_bytes"] > r["image_bytes"] // 4, r
    assert r["packages"] > 10, r
assert rts["python3"]["main"].startswith("python3 3.11"), rts["python3"]
assert rts["nodejs"]["main"].startswith("nodejs 18."), rts["nodejs"]
' "$tmp/out"
run list --cache "$cache"
check "list: a row per runtime with its size in MiB" test "$(grep -cE '^(provided|python3|nodejs) .*M ' "$tmp/out")" -eq 3

# The same inputs: nothing is rebuilt (the image keeps its inode and time).
before=$(stat -c '%i %Y' "$cache/python3/image.erofs" 2>/dev/null)
run build python3 --cache "$cache"
check "build of an up-to-date runtime: exit 0, says up to date" grep -q "python3 is up to date" "$tmp/out"
check "build of an up-to-date runtime: the image is untouched" \
	test "$(stat -c '%i %Y' "$cache/python3/image.erofs" 2>/dev/null)" = "$before"
exit 0
