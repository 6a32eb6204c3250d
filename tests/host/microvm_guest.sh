#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The guest side of a microVM environment, on its own: the initramfs of tools/mkguest with a
# function appended (policy at /fnguard/policy.yaml, code at /var/task), booted with the
# cached Debian kernel under QEMU -M microvm (TCG, 128 MiB: the daemon's least RAM), driven
# over the fnguard.ctl virtio-serial port by microvm_client.py in the daemon's place:
#   hello    responses, logs and a warm second invocation; the guest powers off on shutdown
#   hostile  the guest kernel denies reading the handler, writing /tmp, a shell, a connect,
#            and each denial reaches the host as AgentDenial before the result; a reset and a
#            second invocation (the handler's own exec is allowed again)
#   kmod     the same kernel with BPF LSM off: the agent loads the fnguard module from the
#            image and the hostile handler's attempts are denied by it
#   nolsm    BPF LSM off and no module in the image: the agent refuses (AgentFailure naming
#            the sections) and powers off, running nothing
# Prints TAP lines; skips when the kernel cache of 'make deps' is missing.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CACHE:-/var/cache/fnguard}
agent=$top/build/guest/fnguard-agent
client=$top/tests/lib/microvm_client.py
tmp=$(mktemp -d)
qpid=
trap '[ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$tmp"' EXIT

# ok, nok, check (tests/lib/tap.sh); failed: a failure since the last serial log shown; a skip
# here is of everything that follows
. "$top/tests/lib/tap.sh"
TAP_PREFIX="microvm guest: "
failed=0
tap_on_failure() { failed=1; }
skip() { skip_all "$@"; }

[ -r "$cache/abi" ] || skip "all" "no cached kernel ($cache/abi is missing): run 'make deps'"
abi=$(cat "$cache/abi")
command -v qemu-system-x86_64 >/dev/null || skip "all" "qemu-system-x86_64 is not installed"
command -v python3 >/dev/null || skip "all" "python3 is not installed (the test client)"
[ -x "$agent" ] || skip "all" "$agent is not built (make)"
hostile=$top/build/demo/functions/hostile/handler
[ -x "$hostile" ] || skip "all" "$hostile is not built (make)"

# q FILE EXPR: EXPR (Python) over m, the messages the client printed; true or false.
q() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
EOF
}

# ---------------------------------------------------------------- the images
if ! "$top/tools/mkguest" --cache "$cache" --agent "$agent" --out "$tmp/base.cpio.gz" \
	>"$tmp/mkguest.log" 2>&1; then
	nok "tools/mkguest builds the initramfs"; cat "$tmp/mkguest.log"; exit 1
fi
ok "tools/mkguest builds the initramfs ($(du -k "$tmp/base.cpio.gz" | cut -f1) KiB)"

# image NAME EXAMPLE HANDLER: base + the example's policy (kind: microvm) and handler.
image() {
	local d=$tmp/$1
	mkdir -p "$d/fnguard" "$d/var/task"
	sed 's/^\(  kind:\) process/\1 microvm/' "$top/examples/functions/$2/function.yaml" \
		>"$d/fnguard/policy.yaml"
	install -m 0755 "$3" "$d/var/task/handler"
	(cd "$d" && printf '%s\n' fnguard/policy.yaml var/task/handler |
		cpio -o -H newc -R 0:0 --quiet | gzip) >"$tmp/$1.fn.cpio.gz"
	cat "$tmp/base.cpio.gz" "$tmp/$1.fn.cpio.gz" >"$tmp/$1.cpio.gz"
}

# boot NAME APPEND STEP...: QEMU in the background, the client in the foreground (its JSON
# lines in NAME.out); then QEMU must exit on its own (the guest powers off).
boot() {
	local name=$1 append=$2
	shift 2
	qemu-system-x86_64 -M microvm -accel tcg -cpu max -m 128 -smp 1 -nodefaults \
		-no-user-config -nographic -no-reboot -serial stdio \
		-kernel "$cache/$abi/vmlinuz" -initrd "$tmp/$name.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet tsc_early_khz=2000000 $append" \
		-device virtio-serial-device \
		-chardev "socket,path=$tmp/$name.sock,server=on,wait=off,id=c0" \
		-device virtserialport,chardev=c0,name=fnguard.ctl \
		</dev/null >"$tmp/$name.serial" 2>&1 &
	qpid=$!
	python3 "$client" "$tmp/$name.sock" --timeout 150 "$@" >"$tmp/$name.out" \
		2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
	for _ in $(seq 150); do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$qpid" 2>/dev/null; then
		echo "still running" >"$tmp/$name.qemu"
		kill "$qpid"
	else
		wait "$qpid"
		echo "exited $?" >"$tmp/$name.qemu"
	fi
	qpid=
	sed 's/^/# /' "$tmp/$name.out" "$tmp/$name.err"
}

show_serial() { sed 's/^/# serial: /' "$tmp/$1.serial"; failed=0; }

# ---------------------------------------------------------------- hello
image hello hello "$top/examples/functions/hello/handler"
boot hello "" invoke:inv-1:/var/task/handler:fnguard invoke:inv-2:/var/task/handler:again
out=$tmp/hello.out
t=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["t"])' \
	"$out" 2>/dev/null)
check "hello: AgentReady from PID 1 (${t:-?} s after QEMU opened the port)" q "$out" \
	'm[0]["type"] == "ready" and m[0]["agent_pid"] == 1'
check "hello: the response" q "$out" \
	'any(x["type"] == "result" and x["invocation"] == "inv-1" and x["exit_status"] == 0 and
	     x["response"] == "Hello, fnguard! (call 1 of this environment)\n" for x in m)'
check "hello: the handler's stderr line arrives as AgentLog" q "$out" \
	'any(x["type"] == "log" and x["line"].startswith("hello: invocation inv-1") for x in m)'
check "hello: a second invocation runs warm (/tmp kept)" q "$out" \
	'any(x["type"] == "result" and x["response"].startswith("Hello, again! (call 2") for x in m)'
check "hello: no denial" q "$out" 'not any(x["type"] == "denial" for x in m)'
check "hello: the guest powers off after AgentShutdown" grep -qx "exited 0" "$tmp/hello.qemu"
[ "$failed" = 0 ] || show_serial hello

# ---------------------------------------------------------------- hostile
image hostile hostile "$hostile"
boot hostile "" invoke:inv-1:/var/task/handler:x reset invoke:inv-2:/var/task/handler:y
out=$tmp/hostile.out
check "hostile: reading /var/task/handler fails with EACCES in the guest" q "$out" \
	'any(x["type"] == "result" and x["invocation"] == "inv-1" and
	     "\"read_handler\": \"EACCES\"" in x["response"] for x in m)'
check "hostile: writing /tmp, a shell and a connect are refused too" q "$out" \
	'any(x["type"] == "result" and x["invocation"] == "inv-1" and
	     "\"write_tmp\": \"EACCES\"" in x["response"] and
	     "\"start_shell\": \"EACCES\"" in x["response"] and
	     "\"connect_out\": \"EPERM\"" in x["response"] for x in m)'
check "hostile: AgentDenial open /var/task/handler, for inv-1" q "$out" \
	'any(x["type"] == "denial" and x["invocation"] == "inv-1" and
	     x["event"]["op"] == "open" and x["event"]["path"] == "/var/task/handler" for x in m)'
check "hostile: AgentDenial for the /tmp write, the exec and the connect" q "$out" \
	'{(x["event"]["op"]) for x in m if x["type"] == "denial" and x["invocation"] == "inv-1"}
	 >= {"create", "exec", "connect"}'
check "hostile: every denial of inv-1 comes before its result" q "$out" \
	'max(i for i, x in enumerate(m) if x["type"] == "denial" and x["invocation"] == "inv-1") <
	 min(i for i, x in enumerate(m) if x["type"] == "result")'
check "hostile: AgentReset is answered by AgentReady" q "$out" \
	'[x["type"] for x in m if x["type"] in ("ready", "result")][:3] == ["ready", "result", "ready"]'
check "hostile: after the reset the handler runs again (exec count reset)" q "$out" \
	'any(x["type"] == "result" and x["invocation"] == "inv-2" and x["exit_status"] == 0 and
	     "\"read_handler\": \"EACCES\"" in x["response"] for x in m)'
check "hostile: the guest powers off after AgentShutdown" grep -qx "exited 0" "$tmp/hostile.qemu"
[ "$failed" = 0 ] || show_serial hostile

# ---------------------------------------------------------------- the kmod backend
if [ -f "$top/build/kmod/kmod/fnguard.ko" ]; then
	cp "$tmp/hostile.cpio.gz" "$tmp/kmod.cpio.gz"
	boot kmod "lsm=landlock,lockdown,yama" invoke:inv-1:/var/task/handler:x reset \
		invoke:inv-2:/var/task/handler:y
	out=$tmp/kmod.out
	check "kmod: without BPF LSM the module denies reading the handler and writing /tmp, a shell and a connect" q "$out" \
		'any(x["type"] == "result" and x["invocation"] == "inv-1" and
		     "\"read_handler\": \"EACCES\"" in x["response"] and
		     "\"write_tmp\": \"EACCES\"" in x["response"] and
		     "\"start_shell\": \"EACCES\"" in x["response"] and
		     "\"connect_out\": \"EPERM\"" in x["response"] for x in m)'
	check "kmod: AgentDenial open /var/task/handler, create, exec and connect" q "$out" \
		'{(x["event"]["op"]) for x in m if x["type"] == "denial" and x["invocation"] == "inv-1"}
		 >= {"open", "create", "exec", "connect"}'
	check "kmod: after the reset the handler runs again (the module's exec count reset)" q "$out" \
		'any(x["type"] == "result" and x["invocation"] == "inv-2" and x["exit_status"] == 0 and
		     "\"read_handler\": \"EACCES\"" in x["response"] for x in m)'
	check "kmod: the guest powers off" grep -qx "exited 0" "$tmp/kmod.qemu"
	[ "$failed" = 0 ] || show_serial kmod
else
	echo "ok - microvm guest: kmod # SKIP the fnguard module is not built (make module needs the headers of 'make deps')"
fi

# ---------------------------------------------------------------- fail closed
if ! "$top/tools/mkguest" --cache "$cache" --agent "$agent" --out "$tmp/base-nokmod.cpio.gz" \
	--no-kmod >"$tmp/mkguest.log" 2>&1; then
	nok "tools/mkguest --no-kmod"; cat "$tmp/mkguest.log"; exit 1
fi
cat "$tmp/base-nokmod.cpio.gz" "$tmp/hello.fn.cpio.gz" >"$tmp/nolsm.cpio.gz"
boot nolsm "lsm=landlock,lockdown,yama" invoke:inv-1:/var/task/handler:x
out=$tmp/nolsm.out
check "nolsm: without BPF LSM the agent sends AgentFailure naming files and exec" q "$out" \
	'm[0]["type"] == "failure" and m[0]["step"] == "checking what the guest kernel can enforce"
	 and "files (" in m[0]["error"] and "exec (" in m[0]["error"]'
check "nolsm: no handler ran" q "$out" 'not any(x["type"] == "result" for x in m)'
check "nolsm: the guest powers off" grep -qx "exited 0" "$tmp/nolsm.qemu"
[ "$failed" = 0 ] || show_serial nolsm
exit 0
