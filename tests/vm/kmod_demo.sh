#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): load the module, run the demo (daemon, process environments), unload.
insmod /fnguard/fnguard.ko || { echo "not ok - insmod /fnguard/fnguard.ko"; exit 1; }
/demo/demo.sh /demo process
rc=$?
# The daemon removed its environments' policies when it stopped: the module goes.
if rmmod fnguard; then
	echo "ok - kmod: the daemon left no policy installed (rmmod succeeds)"
else
	echo "not ok - kmod: the daemon left no policy installed (rmmod refused)"
	rc=1
fi
exit $rc
