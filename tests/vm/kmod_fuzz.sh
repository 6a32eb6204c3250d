#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): kmod_fuzz against a freshly loaded module, then unload it.
# A fresh module: an earlier test may have left one loaded (with no policy).
rmmod fnguard 2>/dev/null
insmod /fnguard/fnguard.ko || { echo "not ok - insmod"; exit 1; }
/fnguard/kmod_fuzz "${1:-4000}"
rc=$?
if rmmod fnguard; then echo "ok - rmmod after the fuzz run"; else echo "not ok - rmmod after the fuzz run"; rc=1; fi
exit $rc
