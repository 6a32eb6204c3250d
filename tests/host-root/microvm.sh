#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# microVM environments, end to end on this host (1 of 2): fnguardd starts QEMU -M microvm guests
# (KVM when a probe guest runs under it, else TCG, and it says which) and the guest's own kernel
# enforces the policy.
#  - register + cold invoke + warm invoke of the hello example (a shell script);
#  - the hostile example: its four attempts are denied inside the guest (EACCES, EACCES,
#    EACCES, EPERM) and the guest kernel's denials arrive as denial events (file, exec, network);
#  - the same hostile code with a policy that allows it: the attempts succeed (the guest's
#    policy, not the test, made the difference), also with both running at once;
#  - SIGTERM: no QEMU, cgroup or environment directory left.
# Prints one TAP line per case and always exits 0. microvm_life.sh has the rest.
set -u
. "$(dirname "$0")/microvm-lib.bash"


# The example functions, as microVMs.
mkdir -p "$tmp/hello" "$tmp/hostile"
cp "$root/examples/functions/hello/handler" "$tmp/hello/"
cp "$root/examples/functions/hello/function.yaml" "$tmp/hello/"
cp "$root/build/demo/functions/hostile/handler" "$tmp/hostile/"
cp "$root/examples/functions/hostile/function.yaml" "$tmp/hostile/"
# The hostile code again, under a policy that lets it do all four things.
mkdir -p "$tmp/open"
cp "$tmp/hostile/handler" "$tmp/open/"
cat >"$tmp/open/function.yaml" <<'EOF'
apiVersion: fnguard/v1
function: {name: hostile-open, version: "1", code: ., handler: /var/task/handler}
environment: {kind: microvm}
limits: {memory: 128Mi, timeout: 10s}
files: {default: allow}
exec: {default: allow, children: allow}
network: {egress: {default: allow}}
EOF
chmod 755 "$tmp" "$tmp"/* "$tmp"/*/handler

check "a microvm function registers" "$fng" function register "$tmp/hello/function.yaml"
printf 'microvm' >"$tmp/payload"
out=$("$fng" invoke hello --payload "$tmp/payload" -v 2>"$tmp/rec1")
check "cold invoke answers ($out)" test "$out" = "Hello, microvm! (call 1 of this environment)"
check "... as a cold start" grep -q "cold" "$tmp/rec1"
out=$("$fng" invoke hello --payload "$tmp/payload" -v 2>"$tmp/rec2")
check "warm invoke reuses the guest ($out)" test "$out" = "Hello, microvm! (call 2 of this environment)"
# The VMM's jail, as the host sees it (Firecracker's jailer: each of these is a step).
qpid=$(pgrep -n -f "fnguard\\.env=env-[0-9]+-$daemon_pid( |\$)")
# uid_range's default: 2000000000:65536, the last id being every VMM's real gid.
check "the VMM runs as a uid of its own from uid_range" \
	grep -Eq '^Uid:[[:space:]]+(20[0-9]{8})[[:space:]]+\1[[:space:]]+\1[[:space:]]+\1$' "/proc/$qpid/status"
check "... and is not dumpable (real gid $(awk '/^Gid:/{print $2}' "/proc/$qpid/status") is not its effective gid)" \
	sh -c "awk '/^Gid:/{exit !(\$2 == 2000065535 && \$3 != \$2)}' /proc/$qpid/status && [ \"\$(stat -c %u /proc/$qpid/mem)\" = 0 ]"
check "... with no_new_privs and a seccomp filter" \
	sh -c "grep -Eq '^NoNewPrivs:[[:space:]]+1' /proc/$qpid/status && grep -Eq '^Seccomp:[[:space:]]+2' /proc/$qpid/status"
check "... in pid, mount, net, ipc and uts namespaces of its own" sh -c \
	"for ns in pid mnt net ipc uts; do [ \"\$(readlink /proc/$qpid/ns/\$ns)\" != \"\$(readlink /proc/self/ns/\$ns)\" ] || exit 1; done"
check "... in its environment's cgroup" grep -q "fnguard/env-[0-9]*-$daemon_pid" "/proc/$qpid/cgroup"
check "... whose root holds no host file it does not need (/etc, /home, /var)" \
	sh -c "! ls -d /proc/$qpid/root/etc /proc/$qpid/root/home /proc/$qpid/root/var 2>/dev/null | grep -q ."
check "... but QEMU, its firmware and the guest's kernel" \
	sh -c "test -x /proc/$qpid/root/usr/bin/qemu-system-x86_64 && test -r /proc/$qpid/root/usr/share/qemu/bios-microvm.bin && test -r /proc/$qpid/root/env/vmlinuz"
n=$(ls "/proc/$qpid/fd" | wc -l)
check "... and no fd of the daemon's: $n open (control channel, console, QEMU's own)" test "$n" -lt 16
check "... its stdin and stdout are /dev/null, its stderr the console's socket, not the daemon's" \
	sh -c "[ \"\$(stat -L -c %t:%T /proc/$qpid/fd/0 /proc/$qpid/fd/1 | sort -u)\" = 1:3 ] && [ \"\$(readlink /proc/$qpid/fd/2)\" = \"\$(readlink /proc/$qpid/fd/4)\" ] && readlink /proc/$qpid/fd/2 | grep -q '^socket:' && [ \"\$(readlink /proc/$qpid/fd/2)\" != \"\$(readlink /proc/$daemon_pid/fd/2)\" ]"
check "... and it has no file of the host open (no console file)" \
	sh -c "! stat -L -c %F /proc/$qpid/fd/* | grep -q 'regular'"
check "fnguard envs lists a microvm environment" sh -c "'$fng' envs | grep -q 'hello.*microvm'"
sleep 0.5
check "the env events say which accelerator runs the guest, and why not KVM" \
	grep -Eq '"kind": ?"microvm".*"reason": ?"microvm on (kvm|tcg: .+)"' "$tmp/events"

check "the hostile function registers" "$fng" function register "$tmp/hostile/function.yaml"
out=$("$fng" invoke hostile 2>&1 </dev/null)
check "its four attempts are denied inside the guest ($out)" test "$out" = \
	'{"read_handler": "EACCES", "write_tmp": "EACCES", "start_shell": "EACCES", "connect_out": "EPERM"}'
sleep 1
for c in file exec network; do
	check "... and the guest kernel's $c denial is a denial event" \
		grep -Eq "\"type\": ?\"denial\".*\"function\": ?\"hostile\".*\"class\": ?\"$c\"|\"function\": ?\"hostile\".*\"class\": ?\"$c\".*\"verdict\": ?\"blocked\"" "$tmp/events"
done
check "... which names the handler it tried to read" grep -q '"target": \?"/var/task/handler"' "$tmp/events"
check "the same code under an open policy registers" "$fng" function register "$tmp/open/function.yaml"
out=$("$fng" invoke hostile-open 2>&1 </dev/null)
for what in read_handler write_tmp start_shell; do
	check "... and $what is not denied: the policy made the difference" \
		grep -q "\"$what\": \"ok\"" <<<"$out"
done
# The guest has no network device: the connect fails, but not by the policy (EPERM).
check "... nor is connect_out" bash -c "grep -q '\"connect_out\": \"E' <<<'$out' && ! grep -q '\"connect_out\": \"EPERM\"' <<<'$out'"

# Two functions with different policies at once: the same code, each under its own policy.
"$fng" invoke hostile </dev/null >"$tmp/par-hostile" 2>&1 &
p1=$!
"$fng" invoke hostile-open </dev/null >"$tmp/par-open" 2>&1 &
p2=$!
wait "$p1" "$p2"
check "at once, hostile is still denied everything" grep -q '"read_handler": "EACCES", "write_tmp": "EACCES", "start_shell": "EACCES", "connect_out": "EPERM"' "$tmp/par-hostile"
check "... and hostile-open beside it is not" grep -q '"read_handler": "ok", "write_tmp": "ok"' "$tmp/par-open"

stop_daemon
