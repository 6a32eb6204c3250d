#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): load the module, run the conformance table with the kmod backend, then
# check that every run removed its policy (the module unloads only when none is installed).
ko=/fnguard/fnguard.ko
if ! insmod "$ko"; then
	echo "not ok - insmod $ko"
	exit 1
fi
/tests/conformance/run.sh kmod
rc=$?
if rmmod fnguard; then
	echo "ok - kmod: no policy left installed after the suite (rmmod succeeds)"
else
	echo "not ok - kmod: no policy left installed after the suite (rmmod refused)"
	rc=1
fi
if dmesg | grep -qE 'Oops|BUG:|WARNING:|Call Trace'; then
	dmesg | grep -E -A20 'Oops|BUG:|WARNING:|Call Trace' | sed 's/^/# /'
	echo "not ok - kmod: no oops or warning in the kernel log"
	rc=1
else
	echo "ok - kmod: no oops or warning in the kernel log"
fi
exit $rc
