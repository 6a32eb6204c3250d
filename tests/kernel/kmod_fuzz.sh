#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): kmod_fuzz against a freshly loaded module, then unload it.
# A fresh module: an earlier test may have left one loaded (with no policy).
rmmod fnguard 2>/dev/null
. /tests/lib/tap.sh # ok, nok, check (tools/vmtest puts tests/lib into the guest)
insmod /fnguard/fnguard.ko || { nok "insmod"; exit 1; }
/fnguard/kmod_fuzz "${1:-4000}"
rc=$?
check "rmmod after the fuzz run" rmmod fnguard
[ "$tap_failed" = 0 ] || rc=1
exit $rc
