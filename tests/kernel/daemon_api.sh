#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: fnguardd's API through the CLI: register, list, invoke (sync, async), errors, events,
# api_call records, remove, and functions kept across a restart.
. /tests/daemon_lib.sh

check "fnguardd starts" daemon_start "$T/state"
check "fnguard status reports the daemon running" sh -c 'fnguard status | grep -q "daemon:.*running"'
fn echo 'cat; echo " from $FNGUARD_FUNCTION:$FNGUARD_VERSION"' 'limits:
  timeout: 5s'
check "register a function" fnguard function register "$T/echo.yaml"
fnguard function register "$T/echo.yaml" 2>"$T/err"
check "registering the same version again fails (exit 1)" test $? = 1
check "... saying it is already registered" grep -q "already registered" "$T/err"
printf 'apiVersion: fnguard/v1\n' >"$T/nofn.yaml"
fnguard function register "$T/nofn.yaml" 2>"$T/err"
check "a policy without function: is refused" test $? = 1
check "function list shows it" sh -c 'fnguard function list | grep -q "^echo  *1  *process"'

printf 'payload-42' >"$T/payload"
out=$(fnguard invoke echo --payload "$T/payload" -v 2>"$T/rec")
check "invoke returns the handler's stdout" test "$out" = "payload-42 from echo:1"
check "the record says outcome ok" test "$(record "$T/rec" outcome)" = ok
# The code that runs is the daemon's copy, made at registration: changing the directory
# afterwards changes nothing of the registered version.
printf '#!/bin/sh\necho changed\n' >"$T/echo/handler"
out=$(fnguard invoke echo --payload "$T/payload")
check "the registered code runs, not what the directory holds now ($out)" test "$out" = "payload-42 from echo:1"
# Every environment's handlers run as a uid and gid of their own (uid_range).
fn uida 'echo "$(id -u) $(id -g)"'
fn uidb 'echo "$(id -u) $(id -g)"'
fnguard function register "$T/uida.yaml" >/dev/null
fnguard function register "$T/uidb.yaml" >/dev/null
ua=$(fnguard invoke uida </dev/null)
ub=$(fnguard invoke uidb </dev/null)
check "two functions' handlers run as different uids from uid_range ($ua / $ub)" sh -c \
	"[ '${ua% *}' -ge 2000000000 ] && [ '${ub% *}' -ge 2000000000 ] && [ '${ua% *}' != '${ub% *}' ] && [ '${ua% *}' = '${ua#* }' ]"
fnguard function remove uida >/dev/null
fnguard function remove uidb >/dev/null
fnguard invoke nosuch 2>"$T/err"
check "invoking an unknown function exits 1" test $? = 1
check "... saying it is not registered" grep -q "not registered" "$T/err"

id=$(fnguard invoke echo --payload "$T/payload" --async)
check "an async invoke answers with an invocation id" sh -c "echo '$id' | grep -q '^inv-'"
for i in $(seq 50); do
	fnguard events --type invocation --json | grep -q "\"invocation\":\"$id\"" && break
	sleep 0.1
done
check "the async invocation ran and was recorded" sh -c "fnguard events --type invocation --json | grep \"$id\" | grep -q '\"outcome\":\"ok\"'"
check "stderr of the handler... (none here), api_call events record who did what" \
	sh -c 'fnguard events --type api_call --json | grep "\"method\":\"register_function\"" | grep -q "\"uid\":0"'
check "a failed call is recorded with its error" \
	sh -c 'fnguard events --type api_call --json | grep "\"method\":\"invoke\"" | grep -q "not registered"'

# Restart: functions are kept in the state directory.
check "SIGTERM stops the daemon with status 0" daemon_stop
check "a restarted daemon starts" daemon_start "$T/state"
check "... and still has the function" sh -c 'fnguard function list | grep -q "^echo "'
out=$(fnguard invoke echo --payload "$T/payload")
check "... which still runs" test "$out" = "payload-42 from echo:1"
check "remove the function" fnguard function remove echo
check "it is gone from the list" sh -c '! fnguard function list | grep -q "^echo "'
fnguard invoke echo 2>/dev/null
check "invoking it now fails" test $? = 1
check "no environment is left running" sh -c '! fnguard envs | grep -q "echo"'
check "SIGTERM stops the daemon" daemon_stop
check "no environment cgroup is left" sh -c '! ls -d /sys/fs/cgroup/fnguard/env-* 2>/dev/null'
check "no pinned BPF object is left" test ! -e /sys/fs/bpf/fnguardd
finish
