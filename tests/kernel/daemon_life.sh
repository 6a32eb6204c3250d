#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: environment lifecycle under fnguardd: timeout, oom, isolate_invocations, warm reuse
# and max_invocations, async retries, the handler's log lines.
. /tests/daemon_lib.sh

check "fnguardd starts" daemon_start "$T/state"

# Timeout: the whole environment is killed, the next invocation gets a fresh one.
fn slow 'sleep 30 & sleep 30' 'limits:
  timeout: 1s'
fnguard function register "$T/slow.yaml" >/dev/null
fnguard invoke slow -v 2>"$T/rec"
check "a handler past its timeout: invoke exits 1" test $? = 1
check "... outcome timeout" test "$(record "$T/rec" outcome)" = timeout
check "... and no process of it is left" sh -c '! ps | grep -v grep | grep -q "sleep 30"'
check "... the environment was recycled" sh -c 'fnguard events --type env --json | grep "\"function\":\"slow\"" | grep -q "\"state\":\"recycled\""'

# OOM: the memory limit is the cgroup's.
fn hog 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo done' 'limits:
  memory: 24Mi
  timeout: 20s'
fnguard function register "$T/hog.yaml" >/dev/null
fnguard invoke hog -v 2>"$T/rec" >/dev/null
check "a handler over its memory limit: outcome oom" test "$(record "$T/rec" outcome)" = oom
check "... with the memory peak recorded" test "$(record "$T/rec" memory_peak_bytes)" -gt 1000000

# Warm reuse, /tmp and processes kept between invocations (isolate_invocations: false).
fn keep 'n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n+1)) >/tmp/n; echo "n=$((n+1))"; echo "a log line" >&2' '' '  isolate_invocations: false
  max_invocations: 3'
fnguard function register "$T/keep.yaml" >/dev/null
a=$(fnguard invoke keep -v 2>"$T/r1"); b=$(fnguard invoke keep -v 2>"$T/r2")
c=$(fnguard invoke keep -v 2>"$T/r3"); d=$(fnguard invoke keep -v 2>"$T/r4")
check "warm: /tmp survives between invocations without isolate_invocations" test "$a $b $c" = "n=1 n=2 n=3"
check "warm: only the first of them was a cold start" \
	test "$(record "$T/r1" cold_start) $(record "$T/r2" cold_start) $(record "$T/r3" cold_start)" = "true false false"
check "max_invocations 3: the fourth gets a fresh environment (cold, empty /tmp)" \
	test "$d $(record "$T/r4" cold_start)" = "n=1 true"
check "stderr lines become log events" sh -c 'fnguard events --type log --json | grep "\"function\":\"keep\"" | grep -q "\"line\":\"a log line\""'

# isolate_invocations: true (the default): /tmp wiped and leftovers killed in between.
fn iso 'echo "files $(ls /tmp | wc -l) sleeps $(grep -l "^sleep" /proc/[0-9]*/comm 2>/dev/null | wc -l)"; touch /tmp/left-$$; sleep 300 >/dev/null 2>&1 &'
fnguard function register "$T/iso.yaml" >/dev/null
a=$(fnguard invoke iso); b=$(fnguard invoke iso)
check "isolate: the first invocation sees an empty /tmp, no sleep ($a)" test "$a" = "files 0 sleeps 0"
check "isolate: the second sees no file of the first and no process it left ($b)" test "$b" = "files 0 sleeps 0"
# The same without isolation shows what the check would see if the reset did nothing.
fn noiso 'echo "files $(ls /tmp | wc -l) sleeps $(grep -l "^sleep" /proc/[0-9]*/comm 2>/dev/null | wc -l)"; touch /tmp/left-$$; sleep 300 >/dev/null 2>&1 &' '' '  isolate_invocations: false'
fnguard function register "$T/noiso.yaml" >/dev/null
a=$(fnguard invoke noiso); b=$(fnguard invoke noiso)
check "control: without isolate_invocations the second invocation sees both ($b)" test "$b" = "files 1 sleeps 1"

# Async: a failing invocation is tried three times, and the failure recorded.
fn failing 'echo "attempt" >&2; exit 3'
fnguard function register "$T/failing.yaml" >/dev/null
id=$(fnguard invoke failing --async)
for i in $(seq 100); do
	[ "$(fnguard events --type invocation --json | grep -c "\"invocation\":\"$id\"")" -ge 3 ] && break
	sleep 0.1
done
check "async: a failing invocation is tried 3 times" \
	test "$(fnguard events --type invocation --json | grep "\"invocation\":\"$id\"" | grep -c '"outcome":"error"')" = 3

check "SIGTERM stops the daemon" daemon_stop
check "no environment cgroup is left" sh -c '! ls -d /sys/fs/cgroup/fnguard/env-* 2>/dev/null'
finish
