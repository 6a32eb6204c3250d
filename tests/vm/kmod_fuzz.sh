#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): kmod_fuzz against a freshly loaded module, then unload it.
insmod /fnguard/fnguard.ko || { echo "not ok - insmod"; exit 1; }
/fnguard/kmod_fuzz "${1:-4000}"
rc=$?
if rmmod fnguard; then echo "ok - rmmod after the fuzz run"; else echo "not ok - rmmod after the fuzz run"; rc=1; fi
exit $rc
