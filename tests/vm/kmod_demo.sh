#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): load the module, run the demo (daemon, process environments), unload.
insmod /fnguard/fnguard.ko || { echo "not ok - insmod /fnguard/fnguard.ko"; exit 1; }
rc=0
# The denials below can only be the module's: no BPF LSM in this kernel.
if /fnguard/fnguard status --json | grep -q '"active_backend": "kmod"'; then
	echo "ok - kmod: fnguard status names kmod as the active backend"
else
	echo "not ok - kmod: fnguard status names kmod as the active backend"
	rc=1
fi
/demo/demo.sh /demo process || rc=1
# The daemon removed its environments' policies when it stopped: the module goes.
if rmmod fnguard; then
	echo "ok - kmod: the daemon left no policy installed (rmmod succeeds)"
else
	echo "not ok - kmod: the daemon left no policy installed (rmmod refused)"
	rc=1
fi
exit $rc
