#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The prober (src/monitor/prober.c) in a real sd-event loop against a real sshd, the test
# HTTP server and real sockets: tests/integration/test-prober.c does the asserting; this
# script builds the lab and turns cmocka's verdicts into ours.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_start_http
lab_start_blackhole

TEST_LAB=$LAB
FREE_PORT=$(lab_free_port)
export TEST_LAB SSHD_PORT HTTP_PORT FREE_PORT BLACKHOLE_PORT

out=$("$DROVER_BUILD_ROOT/tests/test-prober" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
summary=0
while IFS= read -r line; do
        case "$line" in
        "[       OK ] "*) ok "${line#\[       OK \] }" ;;
        "[  FAILED  ] "*" test(s), listed below:"*) summary=1 ;; # the same names again
        "[  FAILED  ] "*) [ "$summary" = 1 ] || not_ok "${line#\[  FAILED  \] }" ;;
        esac
done <<<"$out"
assert_eq "test-prober exit status" 0 "$rc"
lab_done
