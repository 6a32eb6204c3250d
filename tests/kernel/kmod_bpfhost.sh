#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (BPF LSM active), the fnguard module installed but not loaded: status and auto runs
# leave it unloaded (bpf-lsm is used); --backend kmod loads it and enforces with it.
fng=/fnguard/fnguard
. /tests/lib/tap.sh # ok, nok (tools/vmtest puts tests/lib into the guest)
r=$(uname -r)
mkdir -p "/lib/modules/$r/extra" && cp /fnguard/fnguard.ko "/lib/modules/$r/extra/" && depmod -a
# This initramfs has busybox's modprobe in /bin, not where the kernel looks by default.
echo /bin/modprobe >/proc/sys/kernel/modprobe
mkdir -p /srv/kbh && echo secret >/srv/kbh/f
pol=/tmp/kbh.yaml
printf 'apiVersion: fnguard/v1\nfiles:\n  default: allow\n  rules:\n    - path: /srv/kbh\n      access: []\nexec:\n  default: allow\n  children: allow\n' >"$pol"

"$fng" status | grep -q '^file/exec enforcement: bpf-lsm' && ok "status names bpf-lsm active" ||
	nok "status names bpf-lsm active"
"$fng" run --policy "$pol" -- cat /srv/kbh/f >/dev/null 2>/tmp/kbh.err
[ $? = 1 ] && ok "run (auto) denies, with bpf-lsm" || nok "run (auto) denies, with bpf-lsm"
[ ! -d /sys/module/fnguard ] && ok "status and auto runs did not load the module" ||
	nok "status and auto runs did not load the module"
"$fng" run --backend kmod --policy "$pol" -- cat /srv/kbh/f >/dev/null 2>/tmp/kbh.err
rc=$?
[ $rc = 1 ] && grep -q '"class":"file"' /tmp/kbh.err && ok "run --backend kmod loads the module and denies" ||
	{ sed 's/^/# /' /tmp/kbh.err; nok "run --backend kmod loads the module and denies (rc $rc)"; }
[ -d /sys/module/fnguard ] && ok "the module is loaded now" || nok "the module is loaded now"
rmmod fnguard && ok "rmmod: no policy left" || nok "rmmod: no policy left"
rm -rf "/lib/modules/$r/extra"
exit $tap_failed
