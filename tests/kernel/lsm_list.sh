#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: the guest's active LSM list does (expect-bpf) or does not (expect-no-bpf) contain 'bpf'.
. /tests/lib/tap.sh # ok, nok (tools/vmtest puts tests/lib into the guest)
want=$1
lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
echo "# active LSMs: ${lsm:-<unreadable>}"
case ",$lsm," in
*,bpf,*) has=yes ;;
*) has=no ;;
esac
case "$want" in
expect-bpf) check "'bpf' is an active LSM" test "$has" = yes ;;
expect-no-bpf) check "'bpf' is not an active LSM" test "$has" = no ;;
*) nok "lsm_list.sh: unknown expectation '$want'" ;;
esac
exit $tap_failed
