#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): load the module, run the demo (daemon, process environments), unload.
. /tests/lib/tap.sh # ok, nok (tools/vmtest puts tests/lib into the guest)
insmod /fnguard/fnguard.ko || { nok "insmod /fnguard/fnguard.ko"; exit 1; }
TAP_PREFIX="kmod: "
rc=0
# The denials below can only be the module's: no BPF LSM in this kernel.
if /fnguard/fnguard status --json | grep -q '"active_backend": "kmod"'; then
	ok "fnguard status names kmod as the active backend"
else
	nok "fnguard status names kmod as the active backend"
fi
/demo/demo.sh /demo process || rc=1
# The daemon removed its environments' policies when it stopped: the module goes.
if rmmod fnguard; then
	ok "the daemon left no policy installed (rmmod succeeds)"
else
	nok "the daemon left no policy installed (rmmod refused)"
fi
[ "$tap_failed" = 0 ] || rc=1
exit $rc
