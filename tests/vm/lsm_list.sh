#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bench: the guest's active LSM list does (expect-bpf) or does not (expect-no-bpf) contain 'bpf'.
want=$1
lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
echo "# active LSMs: ${lsm:-<unreadable>}"
case ",$lsm," in
*,bpf,*) has=yes ;;
*) has=no ;;
esac
case "$want" in
expect-bpf) [ "$has" = yes ] && echo "ok - 'bpf' is an active LSM" || { echo "not ok - 'bpf' is an active LSM"; exit 1; } ;;
expect-no-bpf) [ "$has" = no ] && echo "ok - 'bpf' is not an active LSM" || { echo "not ok - 'bpf' is not an active LSM"; exit 1; } ;;
*) echo "not ok - lsm_list.sh: unknown expectation '$want'"; exit 1 ;;
esac
