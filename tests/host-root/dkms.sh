#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# dkms.conf: DKMS builds fnguard.ko from the repository's module sources (Kbuild, kmod/,
# dkms.conf: what a host's /usr/src/fnguard-VERSION holds) for the kernel 'make deps' cached,
# in a DKMS tree of its own (nothing is installed on this host).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CACHE:-/var/cache/fnguard}
. "$top/tests/lib/tap.sh"
TAP_PREFIX="dkms: "
failed=0
tap_on_failure() { failed=1; }
command -v dkms >/dev/null || { echo "ok - dkms: all # SKIP dkms is not installed (make deps installs it)"; exit 0; }
abi=$(cat "$cache/abi" 2>/dev/null) || { echo "ok - dkms: all # SKIP no cached kernel: run 'make deps'"; exit 0; }
kver=$abi-amd64
[ -d "/lib/modules/$kver/build" ] || { echo "ok - dkms: all # SKIP no headers for $kver: run 'make deps'"; exit 0; }
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$ver" ] && ok "dkms.conf names a version ($ver)" || nok "dkms.conf names a version"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src/fnguard-$ver
mkdir -p "$src" "$tmp/tree"
cp -a "$top/Kbuild" "$top/dkms.conf" "$top/kmod" "$src/"
if dkms --dkmstree "$tmp/tree" --sourcetree "$tmp/src" build -m fnguard -v "$ver" -k "$kver" \
	>"$tmp/log" 2>&1; then
	ok "dkms build -m fnguard -v $ver -k $kver"
else
	sed 's/^/# /' "$tmp/log"; nok "dkms build -m fnguard -v $ver -k $kver"
fi
ko=$(find "$tmp/tree" -name 'fnguard.ko*' -path "*/$kver/*" | head -n1)
[ -n "$ko" ] && ok "the module is where DKMS installs from" || nok "the module is where DKMS installs from"
if [ -n "$ko" ]; then
	modinfo -F vermagic "$ko" | grep -q "^$kver " && ok "built for $kver (vermagic)" ||
		nok "built for $kver (vermagic: $(modinfo -F vermagic "$ko"))"
	modinfo -F alias "$ko" | grep -qx 'net-pf-16-proto-16-family-fnguard' &&
		ok "it carries the generic netlink family alias (loaded on first use)" ||
		nok "it carries the generic netlink family alias (loaded on first use)"
fi
exit $failed
