#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: the fnguard module loads, registers its generic netlink family, and unloads cleanly.
ko=/fnguard/fnguard.ko
. /tests/lib/tap.sh # ok, nok, check (tools/vmtest puts tests/lib into the guest)
if [ ! -f "$ko" ]; then
	nok "fnguard.ko is in the initramfs (was it built? 'make deps' installs the headers)"
	exit 1
fi
dmesg -c >/dev/null
check "insmod fnguard.ko" insmod "$ko"
check "module is listed in /sys/module" test -d /sys/module/fnguard
check "module reports its generic netlink family registered" sh -c "dmesg | grep -q 'fnguard: loaded, interface version'"
check "rmmod fnguard" rmmod fnguard
check "module is gone from /sys/module" test ! -d /sys/module/fnguard
log=$(dmesg)
echo "$log" | sed 's/^/# /'
if echo "$log" | grep -qE 'Oops|BUG:|WARNING:|Call Trace'; then
	nok "no oops or warning in the kernel log"
else
	ok "no oops or warning in the kernel log"
fi
exit $tap_failed
