#!/usr/bin/env bash
# The README's first command (tools/demo.sh): lab up, customers, primary lost, switchover
# with live progress, measured RTO and RPO printed, lab left up to explore.
source "$(dirname "$0")/lab-test-lib.sh"
out=$(bash "$DROVER_SOURCE_ROOT/tools/demo.sh" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "tools/demo.sh exits 0" 0 "$rc"
assert_contains "live progress of the switchover" "$out" "[6/9] verify-transfer"
check "prints the measured RTO" grep -qE '^  RTO  [0-9]+\.[0-9]+ s' <<<"$out"
check "prints RPO 0 with every acknowledged transfer found" grep -qE '^  RPO  0 s .* \(0 lost\)' <<<"$out"
assert_contains "prints how to tear down" "$out" "drills/lab/lab.sh down"
assert_eq "leaves the lab up, serving from the backup site" backup "$(gateway_active)"
lab_done
