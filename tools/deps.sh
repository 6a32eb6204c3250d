#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make deps: install the Debian packages the build and the tests need, and cache Debian's current
# kernel (image + modules) for the kernel test bench. Idempotent: a second run changes nothing and
# says so. The test kernel is unpacked into the cache, never installed into /boot.
#
#   tools/deps.sh [--cache DIR]      (default /var/cache/fnguard)
set -euo pipefail

cache=/var/cache/fnguard
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift 2 ;;
	-h|--help) sed -n '3,9p' "$0"; exit 0 ;;
	*) echo "deps: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

packages=(
	make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libseccomp-dev libyaml-dev libkmod-dev
	protobuf-c-compiler libprotobuf-c-dev protobuf-compiler libcmocka-dev
	libclang-rt-14-dev qemu-system-x86 busybox-static cpio kmod xz-utils iproute2 util-linux file
	dkms mmdebstrap erofs-utils libhttp-parser-dev curl nodejs
)

changed=0
updated=0
apt_update() {
	if [ "$updated" -eq 0 ]; then
		echo "deps: apt-get update"
		apt-get update -qq
		updated=1
	fi
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: $1 needs root: run 'sudo make deps'" >&2
		exit 1
	fi
}

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	need_root "installing ${missing[*]}"
	apt_update
	echo "deps: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	changed=1
fi

# The kernel ABI is whatever linux-image-amd64 depends on today, e.g. 6.1.0-56.
resolve_abi() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*\)-amd64$/\1/p' | grep -v unsigned | head -n1
}
abi=$(resolve_abi || true)
if [ -z "$abi" ]; then
	need_root "resolving the kernel ABI"
	apt_update
	abi=$(resolve_abi || true)
fi
if [ -z "$abi" ]; then
	echo "deps: cannot resolve the kernel ABI from linux-image-amd64 (is Debian's archive reachable?)" >&2
	exit 1
fi

kdir="$cache/$abi"
if [ ! -f "$kdir/.unpacked" ]; then
	need_root "caching kernel $abi"
	mkdir -p "$kdir"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	chmod 755 "$tmp"
	echo "deps: downloading linux-image-$abi-amd64"
	(cd "$tmp" && apt-get download -qq "linux-image-$abi-amd64" 2>/dev/null) || {
		apt_update
		(cd "$tmp" && apt-get download "linux-image-$abi-amd64")
	}
	echo "deps: unpacking kernel and modules into $kdir"
	dpkg-deb -x "$tmp"/linux-image-"$abi"-amd64_*.deb "$kdir/root"
	ln -sf "root/boot/vmlinuz-$abi-amd64" "$kdir/vmlinuz"
	ln -sf "root/lib/modules/$abi-amd64" "$kdir/modules"
	# The package ships no modules.dep (its postinst runs depmod): make it for the bench.
	depmod -b "$kdir/root" "$abi-amd64"
	touch "$kdir/.unpacked"
	changed=1
fi

# Headers for building the kernel module against the test kernel. They install under /usr/src
# (a normal Debian package); nothing goes into /boot.
if ! dpkg-query -W -f='${Status}' "linux-headers-$abi-amd64" 2>/dev/null | grep -q 'install ok installed'; then
	need_root "installing linux-headers-$abi-amd64"
	apt_update
	echo "deps: installing linux-headers-$abi-amd64"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "linux-headers-$abi-amd64" >/dev/null
	changed=1
fi

if [ "$(cat "$cache/abi" 2>/dev/null)" != "$abi" ]; then
	echo "$abi" >"$cache/abi"
	changed=1
fi

# The runtimes' root images (docs/runtime.md), from Debian's packages; each is rebuilt only when
# what it is made from changed.
runtimes=$(dirname "$0")/fnguard-runtime
for r in provided python3 nodejs; do
	out=$("$runtimes" build "$r" --cache "$cache/runtimes") || { echo "$out" >&2; exit 1; }
	case "$out" in *"up to date"*) ;; *) echo "$out"; changed=1 ;; esac
done

if [ "$changed" -eq 0 ]; then
	echo "deps: nothing to do (packages installed, kernel $abi and the runtimes cached in $cache)"
else
	echo "deps: done (kernel $abi cached in $cache)"
fi
