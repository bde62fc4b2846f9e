#!/usr/bin/env bash
# Failures on the lab fail cleanly: a wrong parameter runs nothing; an unreachable backup
# site stops the switchover before anything changed; a dead backup service stops it before
# customers are sent there; the journal says why each time.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
out=$(ctl run site-switchover -p reason="e2e" -p max_lag_bytes=lots 2>&1) && rc=0 || rc=$?
assert_eq "wrong parameter: exit 2" 2 "$rc"
assert_contains "wrong parameter: named" "$out" "max_lag_bytes"
assert_eq "wrong parameter: nothing journaled" 0 "$(jsql "select count(*) from runs" 2>/dev/null || echo 0)"
assert_eq "wrong parameter: gateway untouched" primary "$(gateway_active)"

"$LABSH" fault partition backup >/dev/null
out=$(ctl run site-switchover -p reason="e2e: backup unreachable" 2>&1) && rc=0 || rc=$?
echo "$out"
"$LABSH" fault clear partition backup >/dev/null
assert_eq "unreachable backup: exit 1" 1 "$rc"
assert_contains "unreachable backup: the journal names the step" "$(jsql "select error from runs where id=1")" "standby-lag"
assert_contains "unreachable backup: the journal says why" "$(jsql "select error from step_attempts where run_id=1")" "10.213.0.12"
assert_eq "unreachable backup: gateway untouched" primary "$(gateway_active)"
assert_eq "unreachable backup: backup still a standby" t "$(pg backup "select pg_is_in_recovery()")"
assert_contains "customers still served by the primary" "$(transfer still-primary)" '"site": "primary"'

# The backup's e-bank service is dead: the switchover stops at the health check, before
# customers are sent there. The primary stays fenced at the gateway (the operator decides
# what next: a promoted standby cannot be un-promoted), and the journal says why.
"$LABSH" fault kill-service backup >/dev/null
out=$(ctl run site-switchover -p reason="e2e: broken backup app" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "broken backup app: exit 1" 1 "$rc"
assert_contains "broken backup app: the journal names the step" "$(jsql "select error from runs where id=2")" "backup-app-healthy"
assert_eq "broken backup app: customers not sent to the broken site" none "$(gateway_active)"
lab_done
