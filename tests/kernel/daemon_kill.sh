#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: fnguardd killed with SIGKILL leaves the policy of a running environment in force
# (pinned); a restarted daemon cleans up what it left. Then 200 invocations in a row on one
# warm environment leak no fd, cgroup, mount, process or BPF map entry.
#   daemon_kill.sh [kmod]   kmod: on a kernel without BPF LSM, the fnguard module enforcing
. /tests/daemon_lib.sh
backend=${1:-bpf-lsm}
if [ "$backend" = kmod ]; then
	insmod /fnguard/fnguard.ko || { nok "insmod fnguard.ko"; exit 1; }
fi
# Environments with a policy in the module ("... (N environment(s))" of fnguard status).
kmod_envs() { fnguard status | sed -n 's/.*answers on generic netlink (\([0-9]*\) environment.*/\1/p'; }

echo "top secret" >/tests/secret
mkdir -p "$T/guarded"
printf '#!/bin/sh\nsleep 3\necho finished\n' >"$T/guarded/handler"
chmod 755 "$T/guarded" "$T/guarded/handler"
cat >"$T/guarded.yaml" <<EOY
apiVersion: fnguard/v1
function:
  name: guarded
  version: "1"
  code: ./guarded
  handler: /var/task/handler
environment:
  kind: process
  isolate_invocations: false
limits:
  timeout: 20s
files:
  default: deny
  rules:
    - path: /var/task
      access: [read]
    - path: /bin
      access: [read]
    - path: /tmp
      access: [read, write]
exec:
  default: deny
  allow: [/var/task/handler, /bin]
  children: allow
network:
  egress:
    default: deny
EOY
check "fnguardd starts" daemon_start "$T/state"
fnguard function register "$T/guarded.yaml" >/dev/null
fnguard invoke guarded --async >/dev/null
for i in $(seq 50); do fnguard envs | grep -q busy && break; sleep 0.1; done
cg=$(ls -d /sys/fs/cgroup/fnguard/env-* | head -n1)
check "an environment is busy (cgroup $cg)" test -d "$cg"
[ -d "$cg" ] || finish
kill -KILL $dpid
wait $dpid 2>/dev/null
check "after SIGKILL of the daemon, its enforcement is still pinned" test -d /sys/fs/bpf/fnguardd/env-"$(stat -c %i "$cg")"
check "... the environment's cgroup is still there" test -d "$cg"
if [ "$backend" = kmod ]; then
	check "... and its policy is still in the module ($(kmod_envs) environment)" test "$(kmod_envs)" = 1
fi
check "cat /tests/secret works outside the environment" sh -c 'cat /tests/secret >/dev/null'
sh -c "echo \$\$ >$cg/cgroup.procs && exec cat /tests/secret" >/dev/null 2>"$T/err"
check "... and is denied inside it with the daemon dead (policy in force)" grep -q 'Permission denied' "$T/err"
sleep 4
check "the orphaned invocation finished and the agent left (no process in the cgroup)" \
	test -z "$(cat "$cg/cgroup.procs")"
check "a restarted daemon starts" daemon_start "$T/state"
check "... and removed the environment the killed one left" test ! -d "$cg"
check "... saying so in its log" grep -q "cleaned 1 environment" "$T/fnguardd.log"
if [ "$backend" = kmod ]; then
	check "... and removed its policy from the module" test "$(kmod_envs)" = 0
fi

# 200 invocations on one warm environment (isolate_invocations: true, so each one also
# resets /tmp and kills leftovers): nothing may grow.
fn leak 'cat >/dev/null; echo ok; sleep 1 &' 'limits:
  timeout: 5s'
fnguard function register "$T/leak.yaml" >/dev/null
for i in 1 2 3; do fnguard invoke leak >/dev/null; done
leakcg=$(grep -l . /sys/fs/cgroup/fnguard/env-*/cgroup.procs | head -n1)
snapshot() {
	agent=$(head -n1 "$leakcg")
	echo "fds $(ls /proc/$dpid/fd | wc -l)"
	echo "cgroups $(ls -d /sys/fs/cgroup/fnguard/*/ | wc -l)"
	echo "host-mounts $(wc -l </proc/self/mountinfo)"
	echo "env-mounts $(wc -l </proc/$agent/mountinfo)"
	echo "env-procs $(wc -l <"$leakcg")"
	echo "daemon-children $(grep -l "^PPid:.$dpid\$" /proc/[0-9]*/status 2>/dev/null | wc -l)"
	fng-mapcount /sys/fs/bpf/fnguardd/maps | sort | sed 's/^/map /'
	[ "$backend" = kmod ] && echo "kmod-envs $(kmod_envs)"
}
snapshot >"$T/before"
n=0
for i in $(seq 200); do
	[ "$(fnguard invoke leak)" = ok ] && n=$((n + 1))
done
snapshot >"$T/after"
check "200 invocations in a row succeeded ($n)" test "$n" = 200
check "they ran on one environment" test "$(fnguard envs | grep -c leak)" = 1
sed 's/^/# before: /' "$T/before"
if diff "$T/before" "$T/after" >"$T/diff"; then
	ok "no fd, cgroup, mount, process or map entry leaked over 200 invocations"
else
	nok "resources grew over 200 invocations:"
	sed 's/^/# /' "$T/diff"
fi
check "the map entries were counted" grep -q '^map fng_envs 1$' "$T/before"
check "SIGTERM stops the daemon" daemon_stop
if [ "$backend" = kmod ]; then
	check "the stopped daemon left no policy in the module (rmmod succeeds)" rmmod fnguard
fi
rm -f /tests/secret
finish
