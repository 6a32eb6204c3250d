#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): load the module, run the conformance table with the kmod backend, then
# check that every run removed its policy (the module unloads only when none is installed).
. /tests/lib/tap.sh # ok, nok (tools/vmtest puts tests/lib into the guest)
ko=/fnguard/fnguard.ko
if ! insmod "$ko"; then
	nok "insmod $ko"
	exit 1
fi
/tests/conformance/run.sh kmod
rc=$?
TAP_PREFIX="kmod: "
tap_on_failure() { rc=1; }
if rmmod fnguard; then
	ok "no policy left installed after the suite (rmmod succeeds)"
else
	nok "no policy left installed after the suite (rmmod refused)"
fi
if dmesg | grep -qE 'Oops|BUG:|WARNING:|Call Trace'; then
	dmesg | grep -E -A20 'Oops|BUG:|WARNING:|Call Trace' | sed 's/^/# /'
	nok "no oops or warning in the kernel log"
else
	ok "no oops or warning in the kernel log"
fi
exit $rc
