#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench (no BPF LSM): what `fnguard status` and `fnguard run` say with and without the module.
fng=/fnguard/fnguard
ko=/fnguard/fnguard.ko
. /tests/lib/tap.sh # ok, nok (tools/vmtest puts tests/lib into the guest)
pol=/tmp/kmod-status-policy.yaml
mkdir -p /srv/kmodst && echo secret >/srv/kmodst/f
printf 'apiVersion: fnguard/v1\nfiles:\n  default: allow\n  rules:\n    - path: /srv/kmodst\n      access: []\nexec:\n  default: allow\n  children: allow\n' >"$pol"

rmmod fnguard 2>/dev/null
out=$("$fng" status --json)
echo "$out" | grep -q '"active_backend": null' && ok "status without the module: no active backend" ||
	{ echo "$out" | sed 's/^/# /'; nok "status without the module: no active backend"; }
"$fng" run --policy "$pol" -- true 2>/tmp/kmod-status.err
rc=$?
[ $rc = 125 ] && ok "run refuses file rules without BPF LSM or the module (125)" ||
	nok "run refuses file rules without BPF LSM or the module (125, got $rc)"
grep -q 'BPF LSM: .*; kmod backend: the fnguard kernel module is not loaded' /tmp/kmod-status.err &&
	ok "the refusal names both backends and why" ||
	{ sed 's/^/# /' /tmp/kmod-status.err; nok "the refusal names both backends and why"; }

insmod "$ko" || nok "insmod"
out=$("$fng" status --json)
echo "$out" | grep -q '"active_backend": "kmod"' && ok "status with the module: kmod is the active backend" ||
	{ echo "$out" | sed 's/^/# /'; nok "status with the module: kmod is the active backend"; }
"$fng" status | grep -q '^file/exec enforcement: kmod' && ok "status (text) names kmod" ||
	nok "status (text) names kmod"
"$fng" run --policy "$pol" -- cat /srv/kmodst/f >/dev/null 2>/tmp/kmod-status.err
rc=$?
[ $rc = 1 ] && ok "run (auto) uses the module: cat of a denied file fails" ||
	{ sed 's/^/# /' /tmp/kmod-status.err; nok "run (auto) uses the module: cat of a denied file fails (got $rc)"; }
grep -q '"class":"file"' /tmp/kmod-status.err && ok "run (auto): the denial is reported" ||
	nok "run (auto): the denial is reported"
# Two runs at once: the module multicasts every environment's events; each run reports its own.
"$fng" run --policy "$pol" --events /tmp/kmod-a.json -- sleep 3 &
apid=$!
sleep 1
"$fng" run --policy "$pol" --events /tmp/kmod-b.json -- cat /srv/kmodst/f >/dev/null 2>&1
wait $apid
grep -q '"class":"file"' /tmp/kmod-b.json && ! grep -q '"type":"denial"' /tmp/kmod-a.json &&
	ok "two runs at once: the denial is reported by its own run only" ||
	{ sed 's/^/# a: /' /tmp/kmod-a.json; sed 's/^/# b: /' /tmp/kmod-b.json
	  nok "two runs at once: the denial is reported by its own run only"; }
# A denial just before the command exits is reported too (the run syncs with the module).
n=0
for i in 1 2 3 4 5; do
	"$fng" run --policy "$pol" --events /tmp/kmod-c.$i.json -- cat /srv/kmodst/f >/dev/null 2>&1
	grep -q '"class":"file"' /tmp/kmod-c.$i.json && n=$((n + 1))
done
[ $n = 5 ] && ok "a denial right before exit is in the events, 5 of 5 runs" ||
	nok "a denial right before exit is in the events ($n of 5 runs)"
# A run killed with SIGKILL cannot remove its policy: it lasts as long as its cgroup.
kmod_envs() { "$fng" status | sed -n 's/.*answers on generic netlink (\([0-9]*\) environment.*/\1/p'; }
"$fng" run --policy "$pol" -- sleep 60 &
rpid=$!
k=0
while [ $k -lt 100 ] && [ "$(kmod_envs)" != 1 ]; do sleep 0.1; k=$((k + 1)); done
kill -KILL $rpid; wait $rpid 2>/dev/null
sleep 0.5
[ "$(kmod_envs)" = 1 ] && ok "a killed run's policy stays while its cgroup exists" ||
	nok "a killed run's policy stays while its cgroup exists ($(kmod_envs))"
cg=/sys/fs/cgroup/fnguard/run-$rpid
k=0
while [ $k -lt 50 ] && ! rmdir "$cg" 2>/dev/null; do sleep 0.1; k=$((k + 1)); done
k=0
while [ $k -lt 150 ] && [ "$(kmod_envs)" != 0 ]; do sleep 0.1; k=$((k + 1)); done
[ "$(kmod_envs)" = 0 ] && ok "once its cgroup is removed the module drops it ($((k / 10)) s)" ||
	nok "once its cgroup is removed the module drops it ($(kmod_envs) left)"
cat /srv/kmodst/f >/dev/null && ok "the same read outside the environment works" ||
	nok "the same read outside the environment works"
"$fng" run --backend bpf-lsm --policy "$pol" -- true 2>/dev/null
rc=$?
[ $rc = 125 ] && ok "run --backend bpf-lsm still refuses (125)" || nok "run --backend bpf-lsm still refuses (125, got $rc)"
rmmod fnguard && ok "rmmod after the runs (nothing left installed)" || nok "rmmod after the runs"

# Installed but not loaded: looking for the family makes the kernel load it (its genl alias).
r=$(uname -r)
mkdir -p "/lib/modules/$r/extra" && cp "$ko" "/lib/modules/$r/extra/" && depmod -a
# This initramfs has busybox's modprobe in /bin, not where the kernel looks by default.
echo /bin/modprobe >/proc/sys/kernel/modprobe
[ ! -d /sys/module/fnguard ] || nok "the module is not loaded before status"
"$fng" status | grep -q '^file/exec enforcement: kmod' && [ -d /sys/module/fnguard ] &&
	ok "status loads the installed module by itself (genl family alias) and names kmod" ||
	nok "status loads the installed module by itself (genl family alias) and names kmod"
rmmod fnguard
rm -rf "/lib/modules/$r/extra"
exit $tap_failed
